package exchange

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/registry"
)

// Register reads a person without auditing; the exchange audits each call
// itself with its own action and detail (*registry.Service).
type Register interface {
	ReadUnaudited(ctx context.Context, a actor.Actor, pin string) (registry.Person, error)
	ReadCoreUnaudited(ctx context.Context, a actor.Actor, pin string) (registry.Core, error)
}

// Recorder appends to the audit log and returns once the entry is durable
// (*audit.Log).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// Deps are what the service is built from.
type Deps struct {
	Store    *Store
	Register Register
	Audit    Recorder
	Units    *adminunit.Catalog
	Log      *slog.Logger
	Now      func() time.Time
}

// Service answers partners' requests: verify, lookup and sector
// identifiers, each checked against the partner's policy and audited in
// the citizen's access log before anything is answered.
type Service struct {
	store    *Store
	register Register
	audit    Recorder
	units    *adminunit.Catalog
	log      *slog.Logger
	now      func() time.Time
	links    *linker
}

// NewService builds the service; Close stops its link writer.
func NewService(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{store: d.Store, register: d.Register, audit: d.Audit, units: d.Units, log: d.Log, now: d.Now, links: newLinker(d.Store, d.Log)}
}

// Close writes the links still queued.
func (s *Service) Close() { s.links.close() }

// Store returns the partner store.
func (s *Service) Store() *Store { return s.store }

// Audit actions of the exchange.
const (
	ActionVerified  = "person.verified"          // a partner checked data it holds
	ActionDisclosed = "person.disclosed"         // a partner received fields (eKYC)
	ActionSectorPut = "person.sector_id.written" // a partner linked its identifier
	ActionResolved  = "person.sector_id.resolved"
	ActionRefused   = "person.partner_refused" // a call about the person was refused (scope)
)

// purpose returns the declared purpose a request names.
func purpose(p Partner, code string) (Purpose, error) {
	if strings.TrimSpace(code) == "" {
		return Purpose{}, ErrPurposeRequired
	}
	pu, ok := p.Policy.Purpose(code)
	if !ok {
		return Purpose{}, refuse(ErrPurpose, code)
	}
	return pu, nil
}

// refuse names what was refused in the messages, keeping the stable code
// at the top of the problem document.
func refuse(base *fault.Error, what string) *fault.Error {
	e := *base
	e.Message += " (" + what + ")"
	e.English += " (" + what + ")"
	return &e
}

// reader is the partner as a register reader, scoped to its policy's unit.
func reader(p Partner) actor.Actor {
	a := actor.Actor{ID: p.Actor(), Name: p.Name, Role: actor.System, Unit: p.Policy.Scope}
	if len(a.Unit) >= 2 {
		a.Province = a.Unit[:2]
	}
	return a
}

// read loads the person for a partner's call. A person outside the
// partner's scope is refused, and the refusal is in the person's log.
func (s *Service) read(ctx context.Context, p Partner, pinText, purposeCode, op string) (registry.Person, error) {
	person, err := s.register.ReadUnaudited(ctx, reader(p), pinText)
	return person, s.outOfScope(ctx, err, p, pinText, purposeCode, op)
}

// readCore is read for the Core of the person.
func (s *Service) readCore(ctx context.Context, p Partner, pinText, purposeCode, op string) (registry.Core, error) {
	c, err := s.register.ReadCoreUnaudited(ctx, reader(p), pinText)
	return c, s.outOfScope(ctx, err, p, pinText, purposeCode, op)
}

// outOfScope writes a refusal for a person outside the partner's scope to
// the person's log and returns the partner's error; other errors pass.
func (s *Service) outOfScope(ctx context.Context, err error, p Partner, pinText, purposeCode, op string) error {
	if !errors.Is(err, fault.ErrOutOfScope) {
		return err
	}
	if aerr := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionRefused, Subject: "person:" + pinText, Purpose: purposeCode, Detail: op + " out_of_scope"}); aerr != nil {
		return fmt.Errorf("audit refusal: %w", aerr)
	}
	return ErrOutOfScope
}

// VerifyInput is what a partner holds about a person.
type VerifyInput struct {
	PIN        string `json:"pin"`
	FullName   string `json:"full_name"`
	BirthDate  string `json:"birth_date"`
	CardNumber string `json:"card_number,omitempty"`
	Address    string `json:"address,omitempty"`
	Purpose    string `json:"purpose"`
}

// Verify outcomes.
const (
	VerifyMatch    = "match"     // every field given agrees with the register
	VerifyNoMatch  = "no_match"  // the person exists; some fields differ
	VerifyNotFound = "not_found" // no person has this PIN
)

// VerifyResult says whether the partner's data agrees with the register
// and which fields differ, never what the register holds.
type VerifyResult struct {
	Result      string             `json:"result"`
	Match       bool               `json:"match"`
	Differences []match.Difference `json:"differences"`
	// Deceased is set only for partners whose policy allows the "status"
	// field: a bank learns that an account holder has died.
	Deceased *bool `json:"deceased,omitempty"`
}

// Verify compares what a partner holds with the register.
func (s *Service) Verify(ctx context.Context, p Partner, in VerifyInput) (VerifyResult, error) {
	pu, err := purpose(p, in.Purpose)
	if err != nil {
		return VerifyResult{}, err
	}
	var errs faultList
	if strings.TrimSpace(in.PIN) == "" {
		errs.add("pin", ErrVerifyInvalid, "Nhập số định danh cá nhân.", "The PIN is required.")
	}
	if strings.TrimSpace(in.FullName) == "" {
		errs.add("full_name", ErrVerifyInvalid, "Nhập họ và tên.", "The full name is required.")
	}
	if strings.TrimSpace(in.BirthDate) == "" {
		errs.add("birth_date", ErrVerifyInvalid, "Nhập ngày sinh.", "The birth date is required.")
	}
	if len(in.FullName) > 200 || len(in.Address) > 500 || len(in.CardNumber) > 20 || len(in.BirthDate) > 20 {
		errs.add("", ErrVerifyInvalid, "Dữ liệu quá dài.", "A value is too long.")
	}
	if err := errs.err(); err != nil {
		return VerifyResult{}, err
	}
	person, err := s.readCore(ctx, p, in.PIN, pu.Code, "verify")
	if errors.Is(err, registry.ErrPersonNotFound) {
		// Audited like a match: the partner asked about this PIN.
		if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionVerified, Subject: "person:" + in.PIN, Purpose: pu.Code, Detail: "result=" + VerifyNotFound}); err != nil {
			return VerifyResult{}, fmt.Errorf("audit verify: %w", err)
		}
		return VerifyResult{Result: VerifyNotFound, Differences: []match.Difference{}}, nil
	}
	if err != nil {
		return VerifyResult{}, err
	}
	rec := match.Record{PIN: in.PIN, CardNumber: in.CardNumber, FullName: in.FullName, BirthDate: in.BirthDate, Address: in.Address}
	mp := match.Person{PIN: person.PIN, FullName: person.FullName, BirthDate: person.BirthDate, Sex: person.Sex,
		ProvinceCode: person.Permanent.ProvinceCode, CommuneCode: person.Permanent.CommuneCode, Dead: person.Status == registry.Dead}
	diffs := match.Compare(rec, mp, s.units, s.now())
	if diffs == nil {
		diffs = []match.Difference{}
	}
	res := VerifyResult{Result: VerifyMatch, Match: len(diffs) == 0, Differences: diffs}
	detail := "result=" + VerifyMatch
	if len(diffs) > 0 {
		res.Result = VerifyNoMatch
		names := make([]string, len(diffs))
		for i, d := range diffs {
			names[i] = d.Field
		}
		detail = "result=" + VerifyNoMatch + " differ=" + strings.Join(names, ",")
	}
	if slices.Contains(p.Policy.Fields, "status") {
		dead := person.Status == registry.Dead
		res.Deceased = &dead
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionVerified, Subject: "person:" + person.PIN, Purpose: pu.Code, Detail: detail}); err != nil {
		return VerifyResult{}, fmt.Errorf("audit verify: %w", err)
	}
	s.links.add(Link{PIN: person.PIN, PartnerID: p.ID, Via: "verify"})
	return res, nil
}

// ErrVerifyInvalid is a malformed verify or lookup request.
var ErrVerifyInvalid = fault.New(fault.Invalid, "exchange.request_invalid", "Yêu cầu không hợp lệ.", "The request is not valid.")

// Consent is a citizen's consent as a verified consent token carries it:
// an access token the e-ID provider issued to one of the partner's clients
// after the citizen signed in and agreed.
type Consent struct {
	ClientID string
	PIN      string
	Scopes   []string
}

// LookupInput asks for fields of a person for a declared purpose.
type LookupInput struct {
	PIN     string   `json:"pin"`
	Purpose string   `json:"purpose"`
	Fields  []string `json:"fields"`
	// Consent is the citizen's consent, nil when the request carries none.
	Consent *Consent `json:"-"`
}

// LookupResult holds exactly the fields disclosed.
type LookupResult struct {
	PIN    string         `json:"pin"`
	Basis  string         `json:"basis"` // consent or law
	Fields map[string]any `json:"fields"`
}

// Lookup discloses fields of a person (eKYC): only fields the policy
// allows for the purpose, and, for a consent-based purpose, only those the
// citizen's consent covers. The disclosure is in the citizen's access log
// before it is answered.
func (s *Service) Lookup(ctx context.Context, p Partner, in LookupInput) (LookupResult, error) {
	pu, err := purpose(p, in.Purpose)
	if err != nil {
		return LookupResult{}, err
	}
	if len(in.Fields) == 0 || len(in.Fields) > len(Fields)+20 {
		return LookupResult{}, ErrVerifyInvalid.WithField("fields")
	}
	seen := map[string]bool{}
	for _, f := range in.Fields {
		if seen[f] {
			return LookupResult{}, ErrVerifyInvalid.WithField("fields")
		}
		seen[f] = true
		if !knownField(f) || !slices.Contains(p.Policy.Fields, f) || (len(pu.Fields) > 0 && !slices.Contains(pu.Fields, f)) {
			return LookupResult{}, refuse(ErrField, f)
		}
	}
	if pu.Basis == BasisConsent {
		if in.Consent == nil {
			return LookupResult{}, ErrConsentRequired
		}
		if err := s.checkConsent(ctx, p, in.PIN, *in.Consent); err != nil {
			return LookupResult{}, err
		}
		allowed := consentFields(in.Consent.Scopes)
		for _, f := range in.Fields {
			if !slices.Contains(allowed, f) {
				return LookupResult{}, refuse(ErrConsentRequired, f)
			}
		}
	}
	person, err := s.read(ctx, p, in.PIN, pu.Code, "lookup")
	if err != nil {
		return LookupResult{}, err
	}
	out := LookupResult{PIN: person.PIN, Basis: pu.Basis, Fields: map[string]any{}}
	for _, f := range in.Fields {
		v, err := s.field(ctx, person, f)
		if err != nil {
			return LookupResult{}, err
		}
		out.Fields[f] = v
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionDisclosed, Subject: "person:" + person.PIN, Purpose: pu.Code,
		Detail: "fields=" + strings.Join(in.Fields, ",") + " basis=" + pu.Basis}); err != nil {
		return LookupResult{}, fmt.Errorf("audit lookup: %w", err)
	}
	s.links.add(Link{PIN: person.PIN, PartnerID: p.ID, Via: "lookup"})
	return out, nil
}

// checkConsent accepts a consent token issued to a client of this partner
// for this citizen.
func (s *Service) checkConsent(ctx context.Context, p Partner, pin string, c Consent) error {
	if c.PIN == "" || c.PIN != pin {
		return ErrConsentInvalid
	}
	sys, _, err := s.store.System(ctx, c.ClientID)
	if errors.Is(err, ErrSystemNotFound) || (err == nil && sys.PartnerID != p.ID) {
		return ErrConsentInvalid
	}
	return err
}

// field is one disclosed value.
func (s *Service) field(ctx context.Context, p registry.Person, name string) (any, error) {
	switch name {
	case "pin":
		return p.PIN, nil
	case "full_name":
		return p.FullName, nil
	case "birth_date":
		return p.BirthDate.String(), nil
	case "sex":
		return p.Sex, nil
	case "permanent_address":
		return p.Permanent, nil
	case "temporary_address":
		return p.Temporary, nil
	case "birthplace":
		return p.Birthplace, nil
	case "hometown":
		return p.Hometown, nil
	case "ethnicity":
		return p.Ethnicity, nil
	case "nationality":
		return p.Nationality, nil
	case "status":
		return p.Status, nil
	case "death_date":
		if p.DeathDate.IsZero() {
			return nil, nil
		}
		return p.DeathDate.String(), nil
	}
	if scheme, ok := strings.CutPrefix(name, "sector_id."); ok {
		id, err := s.store.sectorIDByPIN(ctx, scheme, p.PIN)
		if errors.Is(err, ErrSectorIDNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return id.Value, nil
	}
	return nil, refuse(ErrField, name)
}

// sectorScheme checks the purpose the partner names and loads the scheme
// of a sector identifier, the first two steps of writing or resolving one.
func (s *Service) sectorScheme(ctx context.Context, p Partner, scheme, purposeCode string) (Purpose, Scheme, error) {
	pu, err := purpose(p, purposeCode)
	if err != nil {
		return Purpose{}, Scheme{}, err
	}
	sc, err := s.store.Scheme(ctx, scheme)
	if err != nil {
		return Purpose{}, Scheme{}, err
	}
	return pu, sc, nil
}

// SectorInput writes a link between a PIN and the partner's identifier.
type SectorInput struct {
	PIN     string `json:"pin"`
	Value   string `json:"value"`
	Purpose string `json:"purpose"`
}

// WriteSectorID links a PIN to a value of a scheme the partner owns.
func (s *Service) WriteSectorID(ctx context.Context, p Partner, scheme string, in SectorInput) (SectorID, error) {
	pu, sc, err := s.sectorScheme(ctx, p, scheme, in.Purpose)
	if err != nil {
		return SectorID{}, err
	}
	if sc.OwnerID != p.ID {
		return SectorID{}, ErrSchemeNotOwner
	}
	in.Value = strings.TrimSpace(in.Value)
	if in.Value == "" || len(in.Value) > 64 || (sc.Pattern != "" && !regexp.MustCompile("^(?:"+sc.Pattern+")$").MatchString(in.Value)) {
		return SectorID{}, ErrSectorIDInvalid.WithField("value")
	}
	person, err := s.read(ctx, p, in.PIN, pu.Code, "sector_id.write")
	if err != nil {
		return SectorID{}, err
	}
	id := SectorID{Scheme: sc.Code, Value: in.Value, PIN: person.PIN, WrittenBy: p.ID, WrittenAt: s.now()}
	// The entry is written once the link can no longer be refused (409:
	// the value belongs to someone else): the citizen's access log must
	// not say a link was made that was not.
	entry := audit.Entry{Actor: p.Actor(), Action: ActionSectorPut, Subject: "person:" + person.PIN, Purpose: pu.Code, Detail: "scheme=" + sc.Code}
	err = s.store.putSectorID(ctx, id, func() error {
		if err := s.audit.Record(ctx, entry); err != nil {
			return fmt.Errorf("audit sector id: %w", err)
		}
		return nil
	})
	if err != nil {
		return SectorID{}, err
	}
	return id, nil
}

// ResolveInput finds a link from either side: the PIN or the value.
type ResolveInput struct {
	PIN     string `json:"pin,omitempty"`
	Value   string `json:"value,omitempty"`
	Purpose string `json:"purpose"`
}

// ResolveSectorID answers the PIN of a sector identifier or the identifier
// of a PIN. Other partners than the owner need the field
// "sector_id.<scheme>" in their policy; resolving a value to a PIN also
// needs the field "pin".
func (s *Service) ResolveSectorID(ctx context.Context, p Partner, scheme string, in ResolveInput) (SectorID, error) {
	pu, sc, err := s.sectorScheme(ctx, p, scheme, in.Purpose)
	if err != nil {
		return SectorID{}, err
	}
	owner := sc.OwnerID == p.ID
	if !owner && !slices.Contains(p.Policy.Fields, SectorField(sc.Code)) {
		return SectorID{}, refuse(ErrField, SectorField(sc.Code))
	}
	var id SectorID
	switch {
	case (in.PIN == "") == (in.Value == ""):
		return SectorID{}, ErrVerifyInvalid.WithField("pin")
	case in.PIN != "":
		person, err := s.read(ctx, p, in.PIN, pu.Code, "sector_id.resolve")
		if err != nil {
			return SectorID{}, err
		}
		if id, err = s.store.sectorIDByPIN(ctx, sc.Code, person.PIN); err != nil {
			return SectorID{}, err
		}
	default:
		if !owner && !slices.Contains(p.Policy.Fields, "pin") {
			return SectorID{}, refuse(ErrField, "pin")
		}
		if id, err = s.store.sectorIDByValue(ctx, sc.Code, strings.TrimSpace(in.Value)); err != nil {
			return SectorID{}, err
		}
		// The scope applies to the person found.
		if _, err := s.read(ctx, p, id.PIN, pu.Code, "sector_id.resolve"); err != nil {
			return SectorID{}, err
		}
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionResolved, Subject: "person:" + id.PIN, Purpose: pu.Code, Detail: "scheme=" + sc.Code}); err != nil {
		return SectorID{}, fmt.Errorf("audit resolve: %w", err)
	}
	s.links.add(Link{PIN: id.PIN, PartnerID: p.ID, Via: "sector_id"})
	return SectorID{Scheme: id.Scheme, Value: id.Value, PIN: id.PIN}, nil
}
