// Package stay is the stay notification (thông báo lưu trú, Luật Cư trú
// 68/2020 Art. 30; Circular 55/2021 Art. 15): hosts — a household (its head
// signed in with the e-ID) or a partner's property (hotel, hospital,
// dormitory) — report the guests they lodge; the commune police of the
// host's unit read them.
//
// Rules kept here, once for every path (web form, partner JSON, CSV):
//   - a guest is a citizen named by PIN (or by the card's QR text), checked
//     against the register with the name given, or a foreigner by passport
//     number, nationality, name and birth date;
//   - the deadline: before 23:00 (Vietnam time) of the arrival day, or by
//     08:00 the next day for an arrival at or after 23:00; a later report
//     is stored and flagged late;
//   - the host's own reference per guest makes a submission idempotent: the
//     same guest again is a duplicate, a different guest under a used
//     reference is refused;
//   - a citizen staying 30 days or more outside the commune of permanent
//     residence is offered temporary-residence registration (Art. 27), for
//     at most 2 years.
package stay

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations are the stay tables (module "stay").
func Migrations() storage.Migrations {
	return storage.Migrations{Module: "stay", FS: storage.Sub(migrationFS, "migrations")}
}

// Kinds of host.
const (
	Household = "household"
	Hotel     = "hotel"
	Hospital  = "hospital"
	Dormitory = "dormitory"
)

// Host is who lodges guests: a household or a partner's property.
type Host struct {
	ID        string
	Kind      string
	Name      string
	PartnerID string // the exchange partner owning a property; "" for a household
	HeadPIN   string // the household head; "" for a property
	Province  string
	Commune   string
	Address   string
}

// Guest is one guest as a host reports them. Exactly one way of naming the
// guest is used: PIN, QR (the card's QR text), or Passport with
// Nationality.
type Guest struct {
	Ref         string    `json:"ref"`
	PIN         string    `json:"pin,omitempty"`
	QR          string    `json:"qr,omitempty"`
	Passport    string    `json:"passport,omitempty"`
	Nationality string    `json:"nationality,omitempty"` // ISO 3166-1 alpha-2 or alpha-3
	FullName    string    `json:"full_name,omitempty"`
	BirthDate   string    `json:"birth_date,omitempty"` // yyyy-mm-dd or dd/mm/yyyy
	Arrival     time.Time `json:"arrival"`
	Until       string    `json:"until,omitempty"` // expected last day, yyyy-mm-dd or dd/mm/yyyy
	Reason      string    `json:"reason,omitempty"`
}

// Departure records that a guest left.
type Departure struct {
	Ref string    `json:"ref"`
	At  time.Time `json:"departed_at"`
}

// Statuses of an Outcome.
const (
	Accepted  = "accepted"
	Duplicate = "duplicate"
	Refused   = "refused"
)

// Outcome is what became of one guest or departure of a submission.
type Outcome struct {
	Ref    string         `json:"ref"`
	Status string         `json:"status"`
	Late   bool           `json:"late,omitempty"`
	Due    *time.Time     `json:"due,omitempty"`
	Offer  bool           `json:"temporary_residence_offered,omitempty"`
	Errors []*fault.Error `json:"-"`
}

// Limits of a submission.
const (
	MaxBatch = 500     // guests or departures in one JSON call
	MaxRows  = 200_000 // rows of one CSV file
)

// Faults. Their codes are part of the partner API.
var (
	ErrRef          = fault.New(fault.Invalid, "stay.ref", "Thiếu mã tham chiếu của cơ sở lưu trú (1–64 ký tự).", "The host's reference is missing or longer than 64 characters.")
	ErrRefRepeated  = fault.New(fault.Invalid, "stay.ref_repeated", "Mã tham chiếu bị lặp lại trong cùng một lần gửi.", "The reference appears twice in one submission.")
	ErrRefReused    = fault.New(fault.Conflict, "stay.ref_reused", "Mã tham chiếu đã dùng cho một khách khác.", "The reference was already used for a different guest.")
	ErrIdentity     = fault.New(fault.Invalid, "stay.identity", "Cần đúng một cách xác định khách: số định danh, mã QR trên thẻ, hoặc hộ chiếu và quốc tịch.", "Give exactly one identification: PIN, the card's QR text, or passport and nationality.")
	ErrPIN          = fault.New(fault.Invalid, "stay.pin", "Số định danh cá nhân không hợp lệ.", "The personal identification number is not valid.")
	ErrNotRegister  = fault.New(fault.Invalid, "stay.not_in_register", "Số định danh và họ tên không khớp với Cơ sở dữ liệu quốc gia về dân cư.", "The PIN and name do not match the register.")
	ErrName         = fault.New(fault.Invalid, "stay.full_name", "Thiếu họ và tên khách (tối đa 100 ký tự).", "The guest's full name is missing or longer than 100 characters.")
	ErrPassport     = fault.New(fault.Invalid, "stay.passport", "Số hộ chiếu không hợp lệ (5–20 chữ cái và chữ số).", "The passport number is not valid (5–20 letters and digits).")
	ErrNationality  = fault.New(fault.Invalid, "stay.nationality", "Quốc tịch không hợp lệ (mã ISO 2 hoặc 3 chữ cái).", "The nationality is not valid (ISO 2- or 3-letter code).")
	ErrBirth        = fault.New(fault.Invalid, "stay.birth_date", "Ngày sinh không hợp lệ.", "The birth date is not valid.")
	ErrArrival      = fault.New(fault.Invalid, "stay.arrival", "Thời điểm đến không hợp lệ (thiếu, ở tương lai hoặc quá 1 năm trước).", "The arrival time is missing, in the future or over a year ago.")
	ErrUntil        = fault.New(fault.Invalid, "stay.until", "Ngày dự kiến đi không hợp lệ (trước ngày đến hoặc quá 2 năm).", "The expected departure date is not valid (before arrival or over 2 years).")
	ErrReason       = fault.New(fault.Invalid, "stay.reason", "Lý do lưu trú quá dài (tối đa 200 ký tự).", "The reason is longer than 200 characters.")
	ErrDeparture    = fault.New(fault.Invalid, "stay.departed_at", "Thời điểm đi không hợp lệ (trước khi đến hoặc ở tương lai).", "The departure time is before the arrival or in the future.")
	ErrUnknownGuest = fault.New(fault.NotFound, "stay.unknown_guest", "Không có khách với mã tham chiếu này.", "No guest with this reference.")
	ErrBatch        = fault.New(fault.TooLarge, "stay.batch", "Mỗi lần gửi từ 1 đến 500 khách.", "Send between 1 and 500 guests at a time.")
	ErrHost         = fault.New(fault.Forbidden, "stay.host", "Cơ sở lưu trú không thuộc quyền của bạn.", "This host is not yours.")
	ErrHostInvalid  = fault.New(fault.Invalid, "stay.host_invalid", "Thông tin cơ sở lưu trú không hợp lệ.", "The host's details are not valid.")
	ErrScope        = fault.New(fault.Forbidden, "stay.scope", "Bạn không được xem khách lưu trú của đơn vị này.", "You may not read the guests of this unit.")
)

// Register checks a PIN against the register (*registry.Service).
type Register interface {
	ReadCoreUnaudited(ctx context.Context, a actor.Actor, pinText string) (registry.Core, error)
	ReadUnaudited(ctx context.Context, a actor.Actor, pinText string) (registry.Person, error)
}

// Auditor records entries (*audit.Log).
type Auditor interface {
	RecordAll(ctx context.Context, es []audit.Entry) error
}

// Events declares what the stay module publishes.
var Events = events.Publishes("stay", events.StayArrived, events.StayLate, events.StayDeparted)

// Service keeps hosts and their guests.
type Service struct {
	db      *storage.DB
	auditDB *storage.DB // where aud writes: db itself on PostgreSQL
	reg     Register
	audit   Auditor
	now     func() time.Time
}

// New is the stay service.
func New(db *storage.DB, reg Register, aud Auditor, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, reg: reg, audit: aud, now: now}
}

// WithAuditDB tells the service which database aud writes to. When it is
// the stay tables' own (PostgreSQL), a report's audit entries join the
// report's transaction; otherwise (a separate SQLite file, or not told)
// they are written through aud once the rows are in, before the commit.
func (s *Service) WithAuditDB(db *storage.DB) *Service {
	s.auditDB = db
	return s
}

// lookup is the register check of a guest: the whole country, since a
// guest comes from anywhere; it discloses nothing but match or no match.
var lookup = actor.SystemActor("stay")

// AddHost registers a host (a partner's property, or a household).
func (s *Service) AddHost(ctx context.Context, h Host) error {
	ok := h.ID != "" && len(h.ID) <= 64 && h.Name != "" && len(h.Commune) == 5 && len(h.Province) == 2 &&
		(h.Kind == Household) == (h.HeadPIN != "") && (h.Kind == Household) == (h.PartnerID == "")
	switch h.Kind {
	case Household, Hotel, Hospital, Dormitory:
	default:
		ok = false
	}
	if !ok {
		return ErrHostInvalid
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO stay_hosts (id, kind, name, partner_id, head_pin, province, commune, address) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, partner_id = excluded.partner_id, head_pin = excluded.head_pin,
		province = excluded.province, commune = excluded.commune, address = excluded.address`,
		h.ID, h.Kind, h.Name, h.PartnerID, h.HeadPIN, h.Province, h.Commune, h.Address)
	if err != nil {
		return fmt.Errorf("add stay host: %w", err)
	}
	return nil
}

// PartnerHost returns the property id of partner, refusing alike a
// property that does not exist, one of another partner, and one outside the
// partner's policy scope ("" the country, a province or a commune code).
// It is the one scope rule of the partner paths, checked before anything
// in the request is read.
func (s *Service) PartnerHost(ctx context.Context, partnerID, scope, id string) (Host, error) {
	h, err := s.host(ctx, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Host{}, ErrHost
	}
	if err != nil {
		return Host{}, err
	}
	if h.PartnerID == "" || h.PartnerID != partnerID || !(scope == "" || scope == h.Province || scope == h.Commune) {
		return Host{}, ErrHost
	}
	return h, nil
}

// ErrNotHead refuses a household's report by someone who is not its head.
var ErrNotHead = fault.New(fault.Forbidden, "stay.not_head", "Chỉ chủ hộ mới thông báo lưu trú cho hộ gia đình.", "Only the head of a household reports its guests.")

// HouseholdHost returns the household host of the signed-in citizen
// headPIN, who must be the head of a household (the register says so);
// it is created on first use at the household's permanent residence. The
// citizen reads their own record: no audit entry.
func (s *Service) HouseholdHost(ctx context.Context, headPIN string) (Host, error) {
	p, err := s.reg.ReadUnaudited(ctx, lookup, headPIN)
	if err != nil {
		return Host{}, err
	}
	if p.HouseholdID == "" || p.Relation != registry.RelHead || p.Status == "dead" {
		return Host{}, ErrNotHead
	}
	h := Host{ID: "hh-" + p.HouseholdID, Kind: Household, Name: "Hộ " + p.FullName, HeadPIN: p.PIN, Province: p.Permanent.ProvinceCode, Commune: p.Permanent.CommuneCode}
	if err := s.AddHost(ctx, h); err != nil {
		return Host{}, err
	}
	return h, nil
}

func (s *Service) host(ctx context.Context, id string) (Host, error) {
	var h Host
	err := s.db.R.QueryRowContext(ctx, `SELECT id, kind, name, partner_id, head_pin, province, commune, address FROM stay_hosts WHERE id = $1`, id).
		Scan(&h.ID, &h.Kind, &h.Name, &h.PartnerID, &h.HeadPIN, &h.Province, &h.Commune, &h.Address)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, fmt.Errorf("stay host: %w", err)
	}
	return h, err
}

// Due is the legal deadline of the report of a guest arriving at t: 23:00
// of the arrival day (Vietnam time), or 08:00 of the next day for an
// arrival at or after 23:00.
func Due(t time.Time) time.Time {
	v := t.In(civildate.Location())
	y, m, d := v.Date()
	if v.Hour() >= 23 {
		return time.Date(y, m, d+1, 8, 0, 0, 0, civildate.Location())
	}
	return time.Date(y, m, d, 23, 0, 0, 0, civildate.Location())
}

// OfferDays is how long a stay lasts before temporary residence is due.
const OfferDays = 30

// row is a checked guest ready to store.
type row struct {
	g                         Guest
	pin, name, birth, digest  string
	arrival, due              time.Time
	late, offer               bool
	permProvince, permCommune string
	until                     civildate.Date
}

// check validates g for host h as reported at now; every field rule is
// here, the register check last.
func (s *Service) check(ctx context.Context, h Host, g Guest, now time.Time) (row, []*fault.Error) {
	var errs []*fault.Error
	add := func(f *fault.Error, field string) { errs = append(errs, f.WithField(field)) }
	r := row{g: g}
	if g.Ref == "" || len(g.Ref) > 64 || !utf8.ValidString(g.Ref) {
		add(ErrRef, "ref")
	}
	ways := 0
	for _, w := range []string{g.PIN, g.QR, g.Passport + g.Nationality} {
		if w != "" {
			ways++
		}
	}
	r.name = strings.Join(strings.Fields(g.FullName), " ")
	if ways != 1 {
		add(ErrIdentity, "pin")
	} else if g.QR != "" {
		p, err := qr.Parse(g.QR)
		if err != nil {
			errs = append(errs, fault.As(err).WithField("qr"))
		} else {
			r.pin, r.birth = string(p.PIN), p.Birth.String()
			if r.name == "" {
				r.name = p.Name
			}
		}
	}
	if ways == 1 && g.PIN != "" {
		if id, err := pin.Parse(g.PIN); err != nil {
			add(ErrPIN, "pin")
		} else {
			r.pin = string(id)
		}
	}
	if r.name == "" || utf8.RuneCountInString(r.name) > 100 || !utf8.ValidString(r.name) {
		add(ErrName, "full_name")
	}
	if ways == 1 && (g.Passport != "" || g.Nationality != "") {
		if !alnum(g.Passport, 5, 20) {
			add(ErrPassport, "passport")
		}
		if !letters(g.Nationality, 2, 3) {
			add(ErrNationality, "nationality")
		}
		b, err := civildate.Parse(g.BirthDate)
		if err != nil || b.Partial() || b.NotFuture(now) != nil {
			add(ErrBirth, "birth_date")
		} else {
			r.birth = b.String()
		}
	} else if g.BirthDate != "" && g.QR == "" {
		if b, err := civildate.Parse(g.BirthDate); err != nil || b.NotFuture(now) != nil {
			add(ErrBirth, "birth_date")
		}
	}
	if g.Arrival.IsZero() || g.Arrival.After(now.Add(5*time.Minute)) || g.Arrival.Before(now.AddDate(-1, 0, 0)) {
		add(ErrArrival, "arrival")
	}
	if g.Until != "" {
		u, err := civildate.Parse(g.Until)
		a := civildate.Of(g.Arrival)
		if err != nil || u.Partial() || u.Time().Before(a.Time()) || u.Time().After(a.Time().AddDate(2, 0, 0)) {
			add(ErrUntil, "until")
		} else {
			r.until = u
		}
	}
	if utf8.RuneCountInString(g.Reason) > 200 || !utf8.ValidString(g.Reason) {
		add(ErrReason, "reason")
	}
	if len(errs) > 0 {
		return r, errs
	}
	if r.pin != "" {
		c, err := s.reg.ReadCoreUnaudited(ctx, lookup, r.pin)
		if err != nil || c.Status == "dead" || fold.String(c.FullName) != fold.String(r.name) {
			if f := fault.As(err); err != nil && f.Kind == fault.Internal {
				return r, []*fault.Error{f}
			}
			return r, []*fault.Error{ErrNotRegister.WithField("pin")}
		}
		r.name, r.birth = c.FullName, c.BirthDate.String()
		r.permProvince, r.permCommune = c.Permanent.ProvinceCode, c.Permanent.CommuneCode
	}
	r.arrival = g.Arrival.UTC().Truncate(time.Second)
	r.due = Due(r.arrival)
	r.late = now.After(r.due)
	// A citizen planning 30 days or more away from the commune of
	// permanent residence is offered temporary residence at once.
	r.offer = r.pin != "" && r.permCommune != h.Commune && !r.until.IsZero() &&
		r.until.Time().Sub(civildate.Of(r.arrival).Time()) >= (OfferDays-1)*24*time.Hour
	sum := sha256.Sum256([]byte(strings.Join([]string{r.pin, strings.ToUpper(g.Passport), strings.ToUpper(g.Nationality), r.name, r.birth,
		r.arrival.Format(time.RFC3339), r.until.String(), g.Reason}, "\x00")))
	r.digest = hex.EncodeToString(sum[:16])
	return r, nil
}

func alnum(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
			return false
		}
	}
	return true
}

func letters(s string, lo, hi int) bool {
	if len(s) < lo || len(s) > hi {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}
