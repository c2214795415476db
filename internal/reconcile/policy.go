package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
)

// Partners finds a partner with its current policy (*exchange.Store).
type Partners interface {
	Partner(ctx context.Context, id string) (exchange.Partner, error)
}

// ErrPurposeConsent refuses a job whose declared purpose rests on the
// citizen's consent: a file of thousands of people carries no consent of
// each, so only a law-based purpose can justify what the report discloses.
var ErrPurposeConsent = fault.New(fault.Forbidden, "reconcile.purpose.consent",
	"Đối soát hàng loạt không có sự đồng ý của từng công dân; hãy chọn mục đích theo quy định của luật trong chính sách của đối tác.",
	"Bulk reconciliation carries no consent of each citizen; name a law-based purpose of the partner's policy.")

// ErrPartnerScope refuses a registrar's decision for a person the job's
// partner may not be told about (outside its policy's unit).
var ErrPartnerScope = fault.New(fault.Forbidden, "reconcile.review.partner_scope",
	"Công dân này nằm ngoài địa bàn đối tác được phép đối soát; chọn ứng viên khác hoặc “không ai”.",
	"This person is outside the partner's administrative scope; choose another candidate or none.")

// admit is the policy check of a job: the partner exists, is enabled, may
// reconcile, and declared the purpose for a law-based processing. Upload
// runs it before reading a byte of the file, the worker before each job
// run, the report before each download and a decision before it is kept,
// always with the partner's current policy.
func (s *Service) admit(ctx context.Context, partnerID, purpose string) (exchange.Partner, exchange.Purpose, error) {
	p, err := s.partners.Partner(ctx, partnerID)
	if errors.Is(err, exchange.ErrPartnerNotFound) {
		return p, exchange.Purpose{}, exchange.ErrOperation
	}
	if err != nil {
		return p, exchange.Purpose{}, fmt.Errorf("reconcile: partner policy: %w", err)
	}
	if p.Disabled {
		return p, exchange.Purpose{}, exchange.ErrPartnerDisabled
	}
	if !p.Policy.Allows(exchange.OpReconcile) {
		return p, exchange.Purpose{}, exchange.ErrOperation
	}
	pu, err := p.DeclaredPurpose(purpose)
	if err != nil {
		return p, pu, err
	}
	if pu.Basis != exchange.BasisLaw {
		return p, pu, ErrPurposeConsent
	}
	return p, pu, nil
}

// Linked is a register person a row names: matched by the worker or
// chosen by a registrar.
type Linked struct {
	PIN  string
	Dead bool
	// Place is where the person lives (the index's permanent residence).
	Place Place
	// Differences are the fields of the partner's row that disagree with
	// the register, encoded as in the report ("field:kind;...").
	Differences string
}

// Disclosure is what a partner may learn of a row that names a person.
type Disclosure struct {
	// InScope is false for a person outside the policy's unit: the row
	// reads exactly as a row that names nobody (not found, nothing else).
	InScope bool
	PIN     string // only with the field "pin"
	Dead    bool   // only with the field "status"
	// Differences only name fields the policy allows: which of the
	// partner's values disagree tells something of the register's.
	Differences string
	// Fields are the register fields the row discloses, for the citizen's
	// access log; empty when it tells only that the person exists.
	Fields []string
}

// diffField is the policy field a match difference tells about.
var diffField = map[string]string{
	match.FieldPIN:        "pin",
	match.FieldCardNumber: "pin",
	match.FieldFullName:   "full_name",
	match.FieldBirthDate:  "birth_date",
	match.FieldSex:        "sex",
	match.FieldAddress:    "permanent_address",
}

// Disclose is the one place a partner's policy is applied to a row of its
// job: the worker (scope of matches and of review candidates), the report
// (what each row shows) and a registrar's decision (whom it may name) all
// ask it. fields are the policy's fields for the job's purpose
// (exchange.Policy.FieldsFor).
func Disclose(p exchange.Partner, fields []string, l Linked) Disclosure {
	if l.PIN == "" || !p.Reader().Covers(l.Place.Province, l.Place.Commune) {
		return Disclosure{}
	}
	d := Disclosure{InScope: true}
	if slices.Contains(fields, "pin") {
		d.PIN = l.PIN
		d.Fields = append(d.Fields, "pin")
	}
	if slices.Contains(fields, "status") {
		d.Dead = l.Dead
		d.Fields = append(d.Fields, "status")
	}
	if l.Differences != "" {
		var kept []string
		for _, part := range strings.Split(l.Differences, ";") {
			name, _, _ := strings.Cut(part, ":")
			if f, ok := diffField[name]; ok && slices.Contains(fields, f) {
				kept = append(kept, part)
			}
		}
		d.Differences = strings.Join(kept, ";")
	}
	return d
}

// jobPolicy is a job's partner with the fields its purpose may disclose.
type jobPolicy struct {
	partner exchange.Partner
	purpose exchange.Purpose
	fields  []string
}

// policyOf admits a job's partner and purpose (see admit) and returns
// what Disclose needs.
func (s *Service) policyOf(ctx context.Context, partnerID, purpose string) (jobPolicy, error) {
	p, pu, err := s.admit(ctx, partnerID, purpose)
	if err != nil {
		return jobPolicy{}, err
	}
	return jobPolicy{partner: p, purpose: pu, fields: p.Policy.FieldsFor(pu)}, nil
}

// disclose is Disclose under the job's policy.
func (jp jobPolicy) disclose(l Linked) Disclosure { return Disclose(jp.partner, jp.fields, l) }

// firstPlace is a person's unit for the scope check: the index knows one
// (the permanent residence); none leaves the person out of every scoped
// partner's reach.
func firstPlace(ps []Place) Place {
	if len(ps) == 0 {
		return Place{}
	}
	return ps[0]
}

// Admit runs the policy check of a new job (see admit) on its own, for a
// caller that must refuse on policy before it reads anything else of the
// request; Upload and UploadFor run it again themselves.
func (s *Service) Admit(ctx context.Context, partnerID, purpose string) error {
	_, _, err := s.admit(ctx, partnerID, purpose)
	return err
}
