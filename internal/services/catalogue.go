// Package services is the online public services module: the procedure
// catalogue (thủ tục hành chính), dossiers filed online and pre-filled from
// the register, their life at the receiving unit (received → in progress →
// supplement requested → approved / rejected → result returned), fees paid
// through internal/payment, signed results issued through internal/document,
// public tracking by dossier code and check code, and the citizen's rating.
//
// The catalogue ships as data (data/procedures.json, with its sources);
// administrators override a procedure in the database (procedure_overrides),
// and the override wins. The module owns its tables (migrations/); other
// modules are reached through their Go APIs, declared here as small
// interfaces.
package services

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed data/procedures.json
var shippedJSON []byte

// Text is a string in Vietnamese and English.
type Text struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

// In is the text in language l ("en" or Vietnamese).
func (t Text) In(l string) string {
	if l == "en" && t.EN != "" {
		return t.EN
	}
	return t.VI
}

// Field types of a form.
const (
	TypeText    = "text"
	TypeDate    = "date"    // YYYY-MM-DD
	TypeSelect  = "select"  // one of Options
	TypePIN     = "pin"     // 12-digit personal identification number
	TypeCommune = "commune" // 5-digit commune code of the 2025 map
	TypePhone   = "phone"   // Vietnamese phone number
	TypeNumber  = "number"  // whole number between Min and Max
)

// Prefill sources: what the register or the e-ID asserts about the filer.
const (
	FromFullName  = "register.full_name"
	FromPIN       = "register.pin"
	FromBirthDate = "register.birth_date"
	FromSex       = "register.sex"
	FromPermanent = "register.permanent_address"
	FromTemporary = "register.temporary_address"
	FromNational  = "register.nationality"
	FromEthnicity = "register.ethnicity"
)

var prefillSources = []string{FromFullName, FromPIN, FromBirthDate, FromSex, FromPermanent, FromTemporary, FromNational, FromEthnicity,
	FromOrgName, FromOrgCode, FromOrgKind}

// DateSpan bounds a date field after another date field of the form.
type DateSpan struct {
	Field  string `json:"field"`
	Days   int    `json:"days,omitempty"`
	Months int    `json:"months,omitempty"`
}

// Field is one field of a procedure's form.
type Field struct {
	Name     string   `json:"name"`
	Label    Text     `json:"label"`
	Type     string   `json:"type"`
	Required bool     `json:"required,omitempty"`
	Options  []string `json:"options,omitempty"`
	MaxLen   int      `json:"max_len,omitempty"`
	Pattern  string   `json:"pattern,omitempty"`
	Min      int64    `json:"min,omitempty"`
	Max      int64    `json:"max,omitempty"`
	// Prefill names what fills the field (a From… source); Locked means the
	// filer cannot change it: the register asserts it.
	Prefill        string    `json:"prefill,omitempty"`
	Locked         bool      `json:"locked,omitempty"`
	MaxDaysAfter   *DateSpan `json:"max_days_after,omitempty"`
	MaxMonthsAfter *DateSpan `json:"max_months_after,omitempty"`
}

// Document is a paper a procedure requires. ProvenBy names what already
// proves it (the form itself, the register, the e-ID, an earlier result):
// such a document is never asked for.
type Document struct {
	Code     string `json:"code"`
	Name     Text   `json:"name"`
	Required bool   `json:"required,omitempty"`
	ProvenBy string `json:"proven_by,omitempty"`
}

// Asked reports whether the filer must supply the document.
func (d Document) Asked() bool { return d.ProvenBy == "" }

// ResultSpec says how a procedure's result is laid out: a document/result
// template kind and, for templates beyond the generic one, which form
// fields fill which template keys.
type ResultSpec struct {
	Kind     string            `json:"kind"`
	Decision Text              `json:"decision,omitzero"`
	Map      map[string]string `json:"map,omitempty"`
}

// Procedure is one administrative procedure of the catalogue.
type Procedure struct {
	Code      string `json:"code"`
	Service   int    `json:"service,omitempty"` // number among Decision 06's 25 essential services
	Name      Text   `json:"name"`
	Agency    Text   `json:"agency"`
	Level     string `json:"level"`  // "province" or "commune"
	Online    string `json:"online"` // "full" or "partial"
	Fee       int64  `json:"fee"`    // VND
	FeeNote   Text   `json:"fee_note,omitzero"`
	Refund    bool   `json:"refund_on_rejection,omitempty"`
	LegalDays int    `json:"legal_days"`
	EIDLevel  int    `json:"eid_level"`
	UnitField string `json:"unit_field,omitempty"` // a commune field naming the receiving unit; else the filer's permanent residence
	// Organisations says whether an organisation may file the procedure,
	// through its legal representative or a delegate (the e-ID's "org"
	// scope); a natural person always may.
	Organisations bool       `json:"organisations,omitempty"`
	Source        string     `json:"source,omitempty"`
	Fields        []Field    `json:"fields"`
	Documents     []Document `json:"documents"`
	Result        ResultSpec `json:"result"`
	Disabled      bool       `json:"disabled,omitempty"` // an administrator took it offline
	// Overridden is set on read when an administrator's version is in force.
	Overridden bool      `json:"overridden,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
	UpdatedBy  string    `json:"updated_by,omitempty"`
}

// Field returns the form field called name.
func (p Procedure) Field(name string) (Field, bool) {
	i := slices.IndexFunc(p.Fields, func(f Field) bool { return f.Name == name })
	if i < 0 {
		return Field{}, false
	}
	return p.Fields[i], true
}

// Listed is one of the 25 essential services not offered here yet.
type Listed struct {
	Service int  `json:"service"`
	Name    Text `json:"name"`
}

type catalogueFile struct {
	Sources    []string    `json:"sources"`
	Procedures []Procedure `json:"procedures"`
	Listed     []Listed    `json:"listed"`
}

// Faults of the catalogue. Their codes are part of the API.
var (
	ErrProcedureNotFound = fault.New(fault.NotFound, "procedure.not_found", "Không có thủ tục này.", "No such procedure.")
	ErrProcedureInvalid  = fault.New(fault.Invalid, "procedure.invalid", "Định nghĩa thủ tục không hợp lệ.", "The procedure definition is not valid.")
	ErrForbidden         = fault.New(fault.Forbidden, "services.forbidden", "Bạn không có quyền thực hiện thao tác này.", "You may not do this.")
)

var (
	codeRE      = regexp.MustCompile(`^[A-Z0-9]{1,8}(\.[A-Z0-9]{1,8}){0,3}$`)
	fieldNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
)

// CheckProcedure reports whether p is a well-formed procedure: every
// problem found, as field faults naming the offending part.
func CheckProcedure(p Procedure) error {
	var l fault.List
	bad := func(field, vi, en string) {
		l.Add(field, ferr(field, "procedure.invalid", vi, en))
	}
	if !codeRE.MatchString(p.Code) {
		bad("code", "Mã thủ tục không hợp lệ.", "The procedure code is not valid.")
	}
	if strings.TrimSpace(p.Name.VI) == "" || len(p.Name.VI) > 300 || len(p.Name.EN) > 300 {
		bad("name", "Tên thủ tục trống hoặc quá dài.", "The name is empty or too long.")
	}
	if p.Level != "province" && p.Level != "commune" {
		bad("level", "Cấp giải quyết phải là tỉnh hoặc xã.", "The level must be province or commune.")
	}
	if p.Online != "full" && p.Online != "partial" {
		bad("online", "Mức độ trực tuyến phải là toàn trình hoặc một phần.", "The online level must be full or partial.")
	}
	if p.Fee < 0 || p.Fee > 100_000_000 {
		bad("fee", "Lệ phí không hợp lệ.", "The fee is not valid.")
	}
	if p.LegalDays < 0 || p.LegalDays > 365 {
		bad("legal_days", "Thời hạn giải quyết phải từ 0 đến 365 ngày làm việc.", "The legal time must be 0 to 365 working days.")
	}
	if p.EIDLevel != 1 && p.EIDLevel != 2 {
		bad("eid_level", "Mức định danh điện tử phải là 1 hoặc 2.", "The e-ID level must be 1 or 2.")
	}
	if len(p.Fields) == 0 || len(p.Fields) > 60 {
		bad("fields", "Biểu mẫu phải có từ 1 đến 60 trường.", "The form must have 1 to 60 fields.")
	}
	seen := map[string]bool{}
	for i, f := range p.Fields {
		where := fmt.Sprintf("fields[%d]", i)
		if !fieldNameRE.MatchString(f.Name) || seen[f.Name] {
			bad(where+".name", "Tên trường không hợp lệ hoặc bị trùng.", "A field name is invalid or repeated.")
		}
		seen[f.Name] = true
		if strings.TrimSpace(f.Label.VI) == "" {
			bad(where+".label", "Trường thiếu nhãn tiếng Việt.", "A field has no Vietnamese label.")
		}
		switch f.Type {
		case TypeText, TypeDate, TypePIN, TypeCommune, TypePhone, TypeNumber:
		case TypeSelect:
			if len(f.Options) == 0 {
				bad(where+".options", "Trường lựa chọn thiếu các lựa chọn.", "A select field has no options.")
			}
		default:
			bad(where+".type", "Kiểu trường không hợp lệ.", "A field type is not valid.")
		}
		if f.MaxLen < 0 || f.MaxLen > 2000 {
			bad(where+".max_len", "Độ dài tối đa không hợp lệ.", "The maximum length is not valid.")
		}
		if f.Pattern != "" {
			if len(f.Pattern) > 200 {
				bad(where+".pattern", "Mẫu kiểm tra quá dài.", "The pattern is too long.")
			} else if _, err := regexp.Compile(f.Pattern); err != nil {
				bad(where+".pattern", "Mẫu kiểm tra không hợp lệ.", "The pattern does not compile.")
			}
		}
		if f.Prefill != "" && !slices.Contains(prefillSources, f.Prefill) {
			bad(where+".prefill", "Nguồn điền sẵn không hợp lệ.", "The prefill source is not known.")
		}
		if f.Locked && f.Prefill == "" {
			bad(where+".locked", "Chỉ trường điền sẵn mới được khóa.", "Only a pre-filled field may be locked.")
		}
		for _, s := range []*DateSpan{f.MaxDaysAfter, f.MaxMonthsAfter} {
			if s != nil && (f.Type != TypeDate || s.Days < 0 || s.Months < 0 || !slices.ContainsFunc(p.Fields, func(g Field) bool { return g.Name == s.Field && g.Type == TypeDate })) {
				bad(where, "Ràng buộc ngày tham chiếu một trường ngày không có.", "A date bound names no date field.")
			}
		}
	}
	if p.UnitField != "" {
		if f, ok := p.Field(p.UnitField); !ok || f.Type != TypeCommune || !f.Required {
			bad("unit_field", "Trường đơn vị tiếp nhận phải là trường xã, phường bắt buộc.", "The unit field must be a required commune field.")
		}
	}
	for i, d := range p.Documents {
		if !fieldNameRE.MatchString(strings.ToLower(d.Code)) || strings.TrimSpace(d.Name.VI) == "" {
			bad(fmt.Sprintf("documents[%d]", i), "Giấy tờ thiếu mã hoặc tên.", "A document has no code or name.")
		}
	}
	if p.Result.Kind == "" {
		bad("result.kind", "Thiếu mẫu kết quả.", "The result template is missing.")
	}
	return l.Err()
}

// Catalogue is the procedure catalogue: the shipped data and the
// administrators' overrides.
type Catalogue struct {
	mu       sync.Mutex
	cache    map[string]Procedure // the overrides, read at most every cacheTTL
	cachedAt time.Time

	db      *storage.DB
	audit   Recorder
	now     func() time.Time
	shipped map[string]Procedure
	order   []string
	listed  []Listed
	sources []string
}

// Recorder appends to the audit log (*audit.Log).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
}

// NewCatalogue loads the shipped catalogue; every shipped procedure must pass
// CheckProcedure.
func NewCatalogue(db *storage.DB, rec Recorder, now func() time.Time) (*Catalogue, error) {
	f, err := parseCatalogue(shippedJSON)
	if err != nil {
		return nil, fmt.Errorf("services: shipped catalogue: %w", err)
	}
	c := &Catalogue{db: db, audit: rec, now: now, shipped: map[string]Procedure{}, listed: f.Listed, sources: f.Sources}
	for _, p := range f.Procedures {
		if err := CheckProcedure(p); err != nil {
			return nil, fmt.Errorf("services: shipped procedure %s: %w", p.Code, err)
		}
		c.shipped[p.Code] = p
		c.order = append(c.order, p.Code)
	}
	return c, nil
}

func parseCatalogue(b []byte) (catalogueFile, error) {
	var f catalogueFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return f, err
	}
	return f, nil
}

// ParseProcedure reads one procedure as JSON (an administrator's override):
// unknown fields and trailing data are refused, and the result must pass
// CheckProcedure.
func ParseProcedure(b []byte) (Procedure, error) {
	var p Procedure
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return Procedure{}, ErrProcedureInvalid.Wrap(err)
	}
	if dec.More() {
		return Procedure{}, ErrProcedureInvalid
	}
	p.Overridden, p.UpdatedAt, p.UpdatedBy = false, time.Time{}, ""
	if err := CheckProcedure(p); err != nil {
		return Procedure{}, err
	}
	return p, nil
}

// Sources are where the shipped catalogue's facts come from.
func (c *Catalogue) Sources() []string { return c.sources }

// Listed are the essential services named but not offered online here.
func (c *Catalogue) Listed() []Listed { return c.listed }

// List returns the procedures in force, in the shipped order (new codes an
// administrator added come after), filtered by a query matched on code and
// names without diacritics. Disabled procedures are left out unless all.
func (c *Catalogue) List(ctx context.Context, query string, all bool) ([]Procedure, error) {
	over, err := c.overrides(ctx, "")
	if err != nil {
		return nil, err
	}
	order := slices.Clone(c.order)
	for code := range over {
		if _, ok := c.shipped[code]; !ok {
			order = append(order, code)
		}
	}
	slices.Sort(order[len(c.order):])
	q := fold.String(strings.TrimSpace(query))
	var out []Procedure
	for _, code := range order {
		p, ok := over[code]
		if !ok {
			p = c.shipped[code]
		}
		if p.Disabled && !all {
			continue
		}
		if q != "" && !strings.Contains(fold.String(p.Code+" "+p.Name.VI+" "+p.Name.EN+" "+p.Agency.VI), q) {
			continue
		}
		out = append(out, p)
	}
	return out, nil
}

// Get returns the procedure in force with code.
func (c *Catalogue) Get(ctx context.Context, code string) (Procedure, error) {
	if !codeRE.MatchString(code) {
		return Procedure{}, ErrProcedureNotFound
	}
	over, err := c.overrides(ctx, code)
	if err != nil {
		return Procedure{}, err
	}
	if p, ok := over[code]; ok {
		return p, nil
	}
	if p, ok := c.shipped[code]; ok {
		return p, nil
	}
	return Procedure{}, ErrProcedureNotFound
}

// Put stores an administrator's version of a procedure (new or overriding
// the shipped one). Only a national platform administrator may; it is
// audited.
func (c *Catalogue) Put(ctx context.Context, a actor.Actor, p Procedure) (Procedure, error) {
	if !a.Can(actor.ManagePlatform) {
		return Procedure{}, ErrForbidden
	}
	p.Overridden, p.UpdatedAt, p.UpdatedBy = false, time.Time{}, ""
	if err := CheckProcedure(p); err != nil {
		return Procedure{}, err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Procedure{}, fmt.Errorf("services: encode procedure: %w", err)
	}
	now := c.now().UTC()
	err = c.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO procedure_overrides (code, body, updated_at, updated_by) VALUES ($1, $2, $3, $4)
			ON CONFLICT (code) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			p.Code, string(body), now.Format(time.RFC3339Nano), a.ID)
		return err
	})
	c.forget()
	if err != nil {
		return Procedure{}, fmt.Errorf("services: store procedure %s: %w", p.Code, err)
	}
	if err := c.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "procedure.put", Subject: "procedure:" + p.Code, Purpose: "catalogue"}); err != nil {
		return Procedure{}, err
	}
	p.Overridden, p.UpdatedAt, p.UpdatedBy = true, now, a.ID
	return p, nil
}

// Reset drops an administrator's override, restoring the shipped version.
func (c *Catalogue) Reset(ctx context.Context, a actor.Actor, code string) error {
	if !a.Can(actor.ManagePlatform) {
		return ErrForbidden
	}
	res, err := c.db.W.ExecContext(ctx, `DELETE FROM procedure_overrides WHERE code = $1`, code)
	c.forget()
	if err != nil {
		return fmt.Errorf("services: reset procedure: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrProcedureNotFound
	}
	return c.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "procedure.reset", Subject: "procedure:" + code, Purpose: "catalogue"})
}

// cacheTTL bounds how long another instance's edit of the catalogue takes
// to be seen here; this instance's own edits are seen at once. Every
// submission reads its procedure, so the overrides are not read from the
// database each time.
const cacheTTL = 5 * time.Second

func (c *Catalogue) overrides(ctx context.Context, _ string) (map[string]Procedure, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cache != nil && c.now().Sub(c.cachedAt) < cacheTTL && c.now().After(c.cachedAt) {
		return c.cache, nil
	}
	m, err := c.readOverrides(ctx)
	if err != nil {
		return nil, err
	}
	c.cache, c.cachedAt = m, c.now()
	return m, nil
}

func (c *Catalogue) forget() {
	c.mu.Lock()
	c.cache = nil
	c.mu.Unlock()
}

func (c *Catalogue) readOverrides(ctx context.Context) (map[string]Procedure, error) {
	rows, err := c.db.R.QueryContext(ctx, `SELECT code, body, updated_at, updated_by FROM procedure_overrides`)
	if err != nil {
		return nil, fmt.Errorf("services: read overrides: %w", err)
	}
	defer rows.Close()
	out := map[string]Procedure{}
	for rows.Next() {
		var code, body, at, by string
		if err := rows.Scan(&code, &body, &at, &by); err != nil {
			return nil, fmt.Errorf("services: read overrides: %w", err)
		}
		var p Procedure
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, fmt.Errorf("services: override %s: %w", code, err)
		}
		p.Overridden, p.UpdatedBy = true, by
		p.UpdatedAt, _ = time.Parse(time.RFC3339Nano, at)
		out[code] = p
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("services: read overrides: %w", err)
	}
	return out, nil
}
