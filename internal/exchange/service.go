package exchange

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/match"
	"github.com/dancu-project/dancu/internal/pin"
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
	probes   *Probes
}

// NewService builds the service; Close stops its link writer.
func NewService(d Deps) *Service {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{store: d.Store, register: d.Register, audit: d.Audit, units: d.Units, log: d.Log, now: d.Now, links: newLinker(d.Store),
		probes: NewProbes(d.Store.db, d.Now)}
}

// Close releases the service. Links are written before each answer, so
// nothing is left to write.
func (s *Service) Close() {}

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

// scope is the first check of every call about a person, before the
// request's other parts are looked at: a person outside the partner's
// administrative scope is refused with the same answer whatever else the
// request holds (a malformed date, an undeclared purpose, a field the
// policy does not allow), so no refusal tells anything about the person.
// The refusal is in the person's log. A PIN of no one is outside the scope
// of a partner with one (the register's rule: otherwise the two answers
// would tell who exists elsewhere); to a national partner it passes (found
// false) and the operation answers it after checking the rest. A malformed
// PIN is the request's fault, about no one.
func (s *Service) scope(ctx context.Context, p Partner, pinText, purposeCode, op string) (c registry.Core, found bool, err error) {
	c, err = s.register.ReadCoreUnaudited(ctx, reader(p), pinText)
	switch {
	case err == nil:
		return c, true, nil
	case errors.Is(err, registry.ErrPersonNotFound):
		return c, false, nil
	case errors.Is(err, fault.ErrOutOfScope):
		// Only a declared purpose goes to the log: the rest is the
		// partner's free text.
		if _, ok := p.Policy.Purpose(purposeCode); !ok {
			purposeCode = ""
		}
		if aerr := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionRefused, Subject: "person:" + canonicalPIN(pinText), Purpose: purposeCode, Detail: op + " out_of_scope"}); aerr != nil {
			return c, false, fmt.Errorf("audit refusal: %w", aerr)
		}
		return c, false, ErrOutOfScope
	}
	return c, false, err
}

// canonicalPIN is the PIN as the register writes it, for a PIN that
// parsed.
func canonicalPIN(text string) string {
	id, err := pin.Parse(text)
	if err != nil {
		return text
	}
	return string(id)
}

// read loads the whole record of a person scope let through.
func (s *Service) read(ctx context.Context, p Partner, pinText string) (registry.Person, error) {
	person, err := s.register.ReadUnaudited(ctx, reader(p), pinText)
	if errors.Is(err, fault.ErrOutOfScope) {
		// Moved out of the scope since the check: refused all the same.
		return registry.Person{}, ErrOutOfScope
	}
	return person, err
}

// allowed reports whether the partner may learn field f for purpose pu:
// the field is in the policy and, when the purpose narrows the fields, in
// the purpose's. Lookup, verify and sector identifier resolution all ask
// it, so a field is released (or compared) under one rule.
func allowed(p Partner, pu Purpose, f string) bool {
	return slices.Contains(p.Policy.Fields, f) && (len(pu.Fields) == 0 || slices.Contains(pu.Fields, f))
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

// verifyFields maps the members of a verify request to the policy fields
// they reveal something about. The PIN and card number are not among them:
// the partner names the person by them, and the card number is compared
// with the PIN the partner gave, not with anything of the register's.
var verifyFields = []struct{ member, field string }{
	{"full_name", "full_name"},
	{"birth_date", "birth_date"},
	{"address", "permanent_address"},
}

// Errors of a verify request's birth date.
var (
	ErrBirthDateInvalid = fault.New(fault.Invalid, "exchange.birth_date_invalid",
		"Ngày sinh không phải là một ngày có thật (ví dụ hợp lệ: 05/09/1990, 1990-09-05).",
		"The birth date is not a real date (valid examples: 05/09/1990, 1990-09-05).")
	ErrPartialDate = fault.New(fault.Forbidden, "policy.partial_date_not_allowed",
		"Chính sách của đối tác không cho phép đối chiếu ngày sinh không đầy đủ (chỉ năm, hoặc tháng và năm).",
		"The partner's policy does not allow verifying a partial birth date (a year, or a month and year).")
)

// checkBirthDate reads a birth date as verify compares it and refuses what
// is no date at all ("garbage", 31/02/2000) rather than letting it compare
// as merely different. Day and month may be written the other way round
// (12/25/1990), which the comparison reports as a swap; a year alone or a
// month and year only when the policy allows partial dates.
func checkBirthDate(text string, pol Policy) (match.RawDate, error) {
	d, ok := match.ParseDate(text)
	if ok && d.Month > 12 {
		// Only a swap can read it: the day is the month.
		ok = civildate.Date{Year: d.Year, Month: d.Day, Day: d.Month}.Valid() == nil
	} else if ok {
		ok = civildate.Date{Year: d.Year, Month: d.Month, Day: d.Day}.Valid() == nil
	}
	if !ok {
		return d, ErrBirthDateInvalid.WithField("birth_date")
	}
	if d.Day == 0 && !pol.PartialDates {
		return d, ErrPartialDate
	}
	return d, nil
}

// probeDigest identifies the values a verify compares, written the way
// the comparison reads them, so that trying the same values again in
// another case or date format is not a new try. It runs on every verify:
// the date is written by hand (fmt cost as much as the rest together),
// byte for byte as "%04d-%02d-%02d", so the digests of values tried
// before stay the same.
func probeDigest(in VerifyInput, d match.RawDate) string {
	h := sha256.New()
	var buf [64]byte
	fold := func(s string) {
		h.Write([]byte(strings.Join(strings.Fields(strings.ToLower(s)), " ")))
		h.Write([]byte{0})
	}
	fold(in.FullName)
	b := appendPadded(buf[:0], d.Year, 4)
	b = append(b, '-')
	b = appendPadded(b, d.Month, 2)
	b = append(b, '-')
	b = appendPadded(b, d.Day, 2)
	h.Write(append(b, 0))
	fold(in.Address)
	h.Write([]byte(strings.TrimSpace(in.CardNumber)))
	h.Write([]byte{0})
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// appendPadded appends n in decimal with at least width digits, as
// fmt's %0<width>d does.
func appendPadded(b []byte, n, width int) []byte {
	if n < 0 {
		return fmt.Appendf(b, "%0*d", width, n)
	}
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// Verify compares what a partner holds with the register: only the fields
// its policy allows for the purpose, each a real value, and only so many
// different values per person and day. Only a match links the partner to
// the person (and so to the person's life events).
func (s *Service) Verify(ctx context.Context, p Partner, in VerifyInput) (VerifyResult, error) {
	if strings.TrimSpace(in.PIN) == "" {
		return VerifyResult{}, ErrVerifyInvalid.WithField("pin")
	}
	person, found, err := s.scope(ctx, p, in.PIN, in.Purpose, "verify")
	if err != nil {
		return VerifyResult{}, err
	}
	pu, err := purpose(p, in.Purpose)
	if err != nil {
		return VerifyResult{}, err
	}
	given := map[string]string{"full_name": in.FullName, "birth_date": in.BirthDate, "address": in.Address}
	named := 0
	for _, f := range verifyFields {
		if strings.TrimSpace(given[f.member]) == "" {
			continue
		}
		named++
		if !allowed(p, pu, f.field) {
			return VerifyResult{}, refuse(ErrField, f.field)
		}
	}
	if named == 0 {
		return VerifyResult{}, fault.Invalidf("full_name", ErrVerifyInvalid.Code, "Nêu ít nhất một thông tin để đối chiếu (họ tên, ngày sinh hoặc địa chỉ).",
			"Give at least one value to verify (full name, birth date or address).")
	}
	if len(in.FullName) > 200 || len(in.Address) > 500 || len(in.CardNumber) > 20 || len(in.BirthDate) > 20 {
		return VerifyResult{}, fault.Invalidf("", ErrVerifyInvalid.Code, "Dữ liệu quá dài.", "A value is too long.")
	}
	var date match.RawDate
	if strings.TrimSpace(in.BirthDate) != "" {
		if date, err = checkBirthDate(in.BirthDate, p.Policy); err != nil {
			return VerifyResult{}, err
		}
	}
	if !found {
		// Audited like a match: the partner asked about this PIN.
		if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionVerified, Subject: "person:" + canonicalPIN(in.PIN), Purpose: pu.Code, Detail: "result=" + VerifyNotFound}); err != nil {
			return VerifyResult{}, fmt.Errorf("audit verify: %w", err)
		}
		return VerifyResult{Result: VerifyNotFound, Differences: []match.Difference{}}, nil
	}
	if err := s.probes.Admit(ctx, p.ID, person.PIN, probeDigest(in, date), p.Policy.VerifyValues()); err != nil {
		if _, limited := RetryAfter(err); limited {
			if aerr := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionRefused, Subject: "person:" + person.PIN, Purpose: pu.Code, Detail: "verify verify_values_exhausted"}); aerr != nil {
				return VerifyResult{}, fmt.Errorf("audit refusal: %w", aerr)
			}
		}
		return VerifyResult{}, err
	}
	rec := match.Record{PIN: in.PIN, CardNumber: in.CardNumber, FullName: in.FullName, BirthDate: in.BirthDate, Address: in.Address}
	mp := match.Person{PIN: person.PIN, FullName: person.FullName, BirthDate: person.BirthDate, Sex: person.Sex,
		ProvinceCode: person.Permanent.ProvinceCode, CommuneCode: person.Permanent.CommuneCode, Dead: person.Status == registry.Dead}
	diffs := []match.Difference{}
	for _, d := range match.Compare(rec, mp, s.units, s.now()) {
		// A field the partner did not give is not compared: "missing"
		// would be no news, and the policy may not cover the field.
		if d.Kind != match.KindMissing {
			diffs = append(diffs, d)
		}
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
	if allowed(p, pu, "status") {
		dead := person.Status == registry.Dead
		res.Deceased = &dead
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionVerified, Subject: "person:" + person.PIN, Purpose: pu.Code, Detail: detail}); err != nil {
		return VerifyResult{}, fmt.Errorf("audit verify: %w", err)
	}
	if res.Match {
		// Only a partner that holds the person's right data deals with
		// the person: a deliberately wrong verify earns no life events.
		if err := s.links.add(ctx, Link{PIN: person.PIN, PartnerID: p.ID, Via: "verify"}); err != nil {
			return VerifyResult{}, err
		}
	}
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
	if _, _, err := s.scope(ctx, p, in.PIN, in.Purpose, "lookup"); err != nil {
		return LookupResult{}, err
	}
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
		if !knownField(f) || !allowed(p, pu, f) {
			return LookupResult{}, refuse(ErrField, f)
		}
	}
	if err := s.consented(ctx, p, pu, canonicalPIN(in.PIN), in.Consent, in.Fields); err != nil {
		return LookupResult{}, err
	}
	person, err := s.read(ctx, p, in.PIN)
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
	if err := s.links.add(ctx, Link{PIN: person.PIN, PartnerID: p.ID, Via: "lookup"}); err != nil {
		return LookupResult{}, err
	}
	return out, nil
}

// consented is the one consent rule of the exchange, for every operation
// that tells a partner something of a person (lookup, sector identifier
// resolution): under a consent-based purpose the request must carry the
// citizen's consent token, issued to a client of this partner for this
// citizen, whose scopes cover every field released. A law-based purpose
// needs none.
func (s *Service) consented(ctx context.Context, p Partner, pu Purpose, pin string, c *Consent, fields []string) error {
	if pu.Basis != BasisConsent {
		return nil
	}
	if c == nil {
		return ErrConsentRequired
	}
	if err := s.checkConsent(ctx, p, pin, *c); err != nil {
		return err
	}
	covered := consentFields(c.Scopes)
	for _, f := range fields {
		if !slices.Contains(covered, f) {
			return refuse(ErrConsentRequired, f)
		}
	}
	return nil
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
	if _, _, err := s.scope(ctx, p, in.PIN, in.Purpose, "sector_id.write"); err != nil {
		return SectorID{}, err
	}
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
	person, err := s.read(ctx, p, in.PIN)
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
	// Consent is the citizen's consent, nil when the request carries none;
	// a consent-based purpose needs it, as for a lookup.
	Consent *Consent `json:"-"`
}

// ResolveSectorID answers the PIN of a sector identifier or the identifier
// of a PIN. Other partners than the owner need the field
// "sector_id.<scheme>" in their policy; resolving a value to a PIN also
// needs the field "pin". Under a consent-based purpose the citizen's
// consent must cover what is released, as for a lookup (consented).
func (s *Service) ResolveSectorID(ctx context.Context, p Partner, scheme string, in ResolveInput) (SectorID, error) {
	byPIN := in.PIN != ""
	if byPIN {
		if _, _, err := s.scope(ctx, p, in.PIN, in.Purpose, "sector_id.resolve"); err != nil {
			return SectorID{}, err
		}
	}
	pu, sc, err := s.sectorScheme(ctx, p, scheme, in.Purpose)
	if err != nil {
		return SectorID{}, err
	}
	owner := sc.OwnerID == p.ID
	if !owner && !allowed(p, pu, SectorField(sc.Code)) {
		return SectorID{}, refuse(ErrField, SectorField(sc.Code))
	}
	var id SectorID
	switch {
	case byPIN == (in.Value != ""):
		return SectorID{}, ErrVerifyInvalid.WithField("pin")
	case byPIN:
		if err := s.consented(ctx, p, pu, canonicalPIN(in.PIN), in.Consent, []string{SectorField(sc.Code)}); err != nil {
			return SectorID{}, err
		}
		person, err := s.read(ctx, p, in.PIN)
		if err != nil {
			return SectorID{}, err
		}
		if id, err = s.store.sectorIDByPIN(ctx, sc.Code, person.PIN); err != nil {
			return SectorID{}, err
		}
	default:
		if !owner && !allowed(p, pu, "pin") {
			return SectorID{}, refuse(ErrField, "pin")
		}
		if id, err = s.store.sectorIDByValue(ctx, sc.Code, strings.TrimSpace(in.Value)); err != nil {
			return SectorID{}, err
		}
		// The person is known only now: scope, then consent, apply to
		// the person found.
		if _, _, err := s.scope(ctx, p, id.PIN, pu.Code, "sector_id.resolve"); err != nil {
			return SectorID{}, err
		}
		if err := s.consented(ctx, p, pu, id.PIN, in.Consent, []string{"pin"}); err != nil {
			return SectorID{}, err
		}
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: ActionResolved, Subject: "person:" + id.PIN, Purpose: pu.Code, Detail: "scheme=" + sc.Code}); err != nil {
		return SectorID{}, fmt.Errorf("audit resolve: %w", err)
	}
	if err := s.links.add(ctx, Link{PIN: id.PIN, PartnerID: p.ID, Via: "sector_id"}); err != nil {
		return SectorID{}, err
	}
	return SectorID{Scheme: id.Scheme, Value: id.Value, PIN: id.PIN}, nil
}
