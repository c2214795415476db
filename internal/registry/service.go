package registry

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
)

// Places is what the register needs from the administrative-unit catalogue.
type Places interface {
	// CommuneProvince returns the province of a commune in force on the day,
	// or an error when the code is unknown then.
	CommuneProvince(commune string, on time.Time) (string, error)
	// Path is the commune's full name for display.
	Path(commune string, on time.Time) string
}

// Recorder appends to the audit log and returns once the entry is durable
// (Record) or part of the act's transaction (RecordTx).
type Recorder interface {
	Record(ctx context.Context, e audit.Entry) error
	RecordAll(ctx context.Context, es []audit.Entry) error
	RecordTx(ctx context.Context, db *storage.DB, tx *sql.Tx, e audit.Entry) error
}

// Service is the register's API for the web layer and other modules.
type Service struct {
	db     *storage.DB
	places Places
	audit  Recorder
	now    func() time.Time
	cores  *cores
	cards  Cards
}

// NewService wires the register. Every read by someone else and every change
// is recorded through rec before it takes effect.
func NewService(db *storage.DB, places Places, rec Recorder, now func() time.Time) *Service {
	return &Service{db: db, places: places, audit: rec, now: now, cores: newCores(db, now)}
}

// Faults of the register. Their codes are part of the API.
var (
	ErrPersonNotFound    = fault.New(fault.NotFound, "person.not_found", "Không tìm thấy công dân có số định danh này.", "No person has this identification number.")
	ErrHouseholdNotFound = fault.New(fault.NotFound, "household.not_found", "Không tìm thấy hộ gia đình.", "No such household.")
	ErrAlreadyDead       = fault.New(fault.Conflict, "person.already_dead", "Công dân này đã được đăng ký khai tử.", "This person's death is already registered.")
	ErrDead              = fault.New(fault.Conflict, "person.dead", "Công dân này đã chết; không thể thực hiện thao tác.", "This person is dead; the change is not possible.")
	ErrHeadRequired      = fault.New(fault.Invalid, "household.head_required", "Người này là chủ hộ của hộ còn thành viên: phải chọn chủ hộ mới trong hộ.", "This person heads a household with other members: choose a new head among them.")
	ErrNewHeadInvalid    = fault.New(fault.Invalid, "household.new_head_invalid", "Chủ hộ mới phải là thành viên còn sống của hộ.", "The new head must be a living member of the household.")
	ErrUnknownCommune    = fault.New(fault.Invalid, "unit.unknown_commune", "Mã xã/phường không tồn tại trong danh mục đơn vị hành chính hiện hành.", "The commune code is not in the current administrative-unit catalogue.")
	ErrNameRequired      = fault.New(fault.Invalid, "name.required", "Vui lòng nhập họ và tên.", "Enter the full name.")
	ErrNameInvalid       = fault.New(fault.Invalid, "name.invalid", "Họ và tên chỉ gồm chữ cái, khoảng trắng, dấu gạch nối hoặc dấu nháy, tối đa 100 ký tự.", "A name has letters, spaces, hyphens or apostrophes only, at most 100 characters.")
	ErrSexInvalid        = fault.New(fault.Invalid, "sex.invalid", "Giới tính phải là Nam hoặc Nữ.", "Sex must be male or female.")
	ErrParentRequired    = fault.New(fault.Invalid, "birth.parent_required", "Phải có số định danh của cha hoặc mẹ.", "The father's or mother's identification number is required.")
	ErrParentSex         = fault.New(fault.Invalid, "birth.parent_sex", "Giới tính của cha/mẹ không khớp với sổ.", "The parent's sex in the register does not fit.")
	ErrParentAge         = fault.New(fault.Invalid, "birth.parent_age", "Cha/mẹ phải lớn hơn con ít nhất 12 tuổi.", "A parent must be at least 12 years older than the child.")
	ErrParentMismatch    = fault.New(fault.Invalid, "birth.parent_mismatch", "Số định danh của cha/mẹ không khớp với sổ: không có người này, hoặc giới tính, tuổi không phù hợp.", "The parent's identification number does not fit the register: no such person, or the sex or age does not fit.")
	ErrBirthDateFull     = fault.New(fault.Invalid, "birth.date_incomplete", "Ngày sinh khi đăng ký khai sinh phải đủ ngày, tháng, năm.", "A birth registration needs the full date of birth.")
	ErrBeforeBirth       = fault.New(fault.Invalid, "date.before_birth", "Ngày này không được trước ngày sinh.", "This date cannot be before the date of birth.")
	ErrReasonTooLong     = fault.New(fault.Invalid, "reason.too_long", "Lý do tối đa 500 ký tự.", "The reason has at most 500 characters.")
	ErrSameHousehold     = fault.New(fault.Conflict, "move.same_household", "Công dân đã ở hộ này.", "The person is already in this household.")
)

// Get returns a person's record and audits the read. purpose says why the
// actor reads it ("lookup", "birth-registration", a partner's purpose).
func (s *Service) Get(ctx context.Context, a actor.Actor, pinText, purpose string) (Person, error) {
	p, err := s.read(ctx, a, pinText)
	if err != nil {
		return p, err
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "person.read", Subject: "person:" + p.PIN, Purpose: purpose}); err != nil {
		return Person{}, fmt.Errorf("audit read: %w", err)
	}
	return p, nil
}

// read loads a person inside the actor's scope, unaudited.
func (s *Service) read(ctx context.Context, a actor.Actor, pinText string) (Person, error) {
	p, err := s.reach(ctx, a, pinText, "pin")
	if err != nil {
		return Person{}, err
	}
	s.describe(&p)
	return p, nil
}

// describe fills display text of addresses.
func (s *Service) describe(p *Person) {
	now := s.now()
	p.Permanent.Text = joinAddress(p.Permanent.Detail, s.places.Path(p.Permanent.CommuneCode, now))
	if p.Birthplace.CommuneCode != "" {
		p.Birthplace.Text = joinAddress(p.Birthplace.Detail, s.places.Path(p.Birthplace.CommuneCode, now))
	} else {
		p.Birthplace.Text = p.Birthplace.Detail
	}
	if p.Temporary != nil {
		p.Temporary.Text = joinAddress(p.Temporary.Detail, s.places.Path(p.Temporary.CommuneCode, now))
	}
}

func joinAddress(detail, path string) string {
	switch {
	case detail == "":
		return path
	case path == "":
		return detail
	}
	return detail + ", " + path
}

// Query is a register search. Text is a PIN or a name typed with or without
// diacritics; a single word searches given names.
type Query struct {
	Text      string
	BirthDate string // any form civildate.Parse accepts; a year alone matches the year
	Commune   string
	Cursor    string
	Limit     int
}

// Page is one page of search results.
type Page struct {
	Items      []Summary `json:"items"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// ErrEmptyQuery asks for at least one criterion.
var ErrEmptyQuery = fault.New(fault.Invalid, "search.empty", "Nhập số định danh, họ tên, ngày sinh hoặc xã/phường để tìm.", "Enter an identification number, a name, a date of birth or a commune to search.")

var errBadCursor = fault.New(fault.Invalid, "search.cursor", "Con trỏ phân trang không hợp lệ.", "The page cursor is not valid.")

// Search finds persons inside the actor's scope, ordered by folded name then
// PIN, with keyset pagination so deep pages stay fast.
func (s *Service) Search(ctx context.Context, a actor.Actor, q Query) (Page, error) {
	text := strings.TrimSpace(q.Text)
	if q.Limit <= 0 || q.Limit > 100 {
		q.Limit = 20
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	order := "name_folded, pin"
	var problems fault.List
	switch {
	case text == "":
	case isDigits(text):
		id, err := pin.Parse(text)
		if err != nil {
			return Page{}, err
		}
		where = append(where, "pin = "+arg(string(id)))
	default:
		folded := fold.String(text)
		if len(folded) > 100 {
			problems.Add("q", ErrNameInvalid)
			break
		}
		if !strings.Contains(folded, " ") {
			where = append(where, "given_folded = "+arg(folded))
			order = "given_folded, name_folded, pin"
		} else {
			where = append(where, "name_folded >= "+arg(folded), "name_folded < "+arg(folded+"\U0010FFFF"))
		}
	}
	if q.BirthDate != "" {
		d, err := civildate.Parse(q.BirthDate)
		if err != nil {
			problems.Add("birth_date", fault.As(err))
		} else if d.Month == 0 {
			where = append(where, "birth_date >= "+arg(d.String()), "birth_date < "+arg(fmt.Sprint(d.Year+1)))
		} else {
			where = append(where, "birth_date = "+arg(d.String()))
		}
	}
	if q.Commune != "" {
		where = append(where, "perm_commune = "+arg(q.Commune))
	}
	if err := problems.Err(); err != nil {
		return Page{}, err
	}
	if len(where) == 0 {
		return Page{}, ErrEmptyQuery
	}
	// The one scope rule, as SQL: every unit level, and nothing for a unit
	// of a shape that covers nobody.
	scope, err := scopeSQL(a, today(s.now()), arg)
	if err != nil {
		return Page{}, err
	}
	if scope != "" {
		where = append(where, scope)
	}
	if q.Cursor != "" {
		name, id, err := decodeCursor(q.Cursor)
		if err != nil {
			return Page{}, errBadCursor.WithField("cursor")
		}
		where = append(where, "(name_folded, pin) > ("+arg(name)+", "+arg(id)+")")
	}
	query := `SELECT pin, full_name, name_folded, birth_date, sex, perm_province, perm_commune, perm_detail, status
		FROM persons WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ` + arg(q.Limit+1)
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return Page{}, fmt.Errorf("search persons: %w", err)
	}
	defer rows.Close()
	var page Page
	var lastName string
	now := s.now()
	for rows.Next() {
		var r Summary
		var birth, folded string
		if err := rows.Scan(&r.PIN, &r.FullName, &folded, &birth, &r.Sex, &r.Permanent.ProvinceCode, &r.Permanent.CommuneCode, &r.Permanent.Detail, &r.Status); err != nil {
			return Page{}, fmt.Errorf("search persons: %w", err)
		}
		if len(page.Items) == q.Limit {
			last := page.Items[len(page.Items)-1]
			page.NextCursor = encodeCursor(lastName, last.PIN)
			break
		}
		r.BirthDate, _ = civildate.Parse(birth)
		r.Permanent.Text = joinAddress(r.Permanent.Detail, s.places.Path(r.Permanent.CommuneCode, now))
		page.Items = append(page.Items, r)
		lastName = folded
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("search persons: %w", err)
	}
	// Each person listed is disclosed (name, birth date, address), so each
	// gets an entry: their access log shows the search that listed them.
	entries := make([]audit.Entry, 0, len(page.Items)+1)
	entries = append(entries, audit.Entry{Actor: a.ID, Action: "person.search", Subject: "search", Purpose: "lookup",
		Detail: fmt.Sprintf("results=%d", len(page.Items))})
	for _, it := range page.Items {
		entries = append(entries, audit.Entry{Actor: a.ID, Action: "person.listed", Subject: "person:" + it.PIN, Purpose: "search"})
	}
	if err := s.audit.RecordAll(ctx, entries); err != nil {
		return Page{}, fmt.Errorf("audit search: %w", err)
	}
	return page, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func encodeCursor(name, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(name + "\x00" + id))
}

func decodeCursor(c string) (string, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", err
	}
	name, id, ok := strings.Cut(string(b), "\x00")
	if !ok || len(id) != 12 {
		return "", "", errors.New("malformed cursor")
	}
	return name, id, nil
}

// ActionHouseholdRead is the audit action of a household read: one entry
// for the household and one for each member shown.
const ActionHouseholdRead = "household.read"

// Household returns a household with its members, audited as a read of each
// member's record.
func (s *Service) Household(ctx context.Context, a actor.Actor, id string) (Household, error) {
	var h Household
	var created string
	err := s.db.R.QueryRowContext(ctx, `SELECT id, head_pin, province, commune, detail, created_at FROM households WHERE id = $1`, id).
		Scan(&h.ID, &h.HeadPIN, &h.Address.ProvinceCode, &h.Address.CommuneCode, &h.Address.Detail, &created)
	found := !errors.Is(err, sql.ErrNoRows)
	if err != nil && found {
		return h, fmt.Errorf("load household: %w", err)
	}
	// A household outside the unit and one that does not exist answer
	// alike to a scoped actor, as persons do (judge).
	if !found && a.Level() == actor.LevelNational {
		return h, ErrHouseholdNotFound.WithField("household_id")
	}
	if !found || !a.Covers(h.Address.ProvinceCode, h.Address.CommuneCode) {
		return Household{}, fault.ErrOutOfScope
	}
	h.Created, _ = time.Parse(time.RFC3339Nano, created)
	h.Address.Text = joinAddress(h.Address.Detail, s.places.Path(h.Address.CommuneCode, s.now()))
	members, err := householdMembers(ctx, s.db.R, id)
	if err != nil {
		return h, err
	}
	h.Members = members
	if h.Heads, err = householdHeads(ctx, s.db.R, id); err != nil {
		return h, err
	}
	// The page shows every member's name, birth date and relation: each
	// member's access log must say so, not only the household's.
	entries := make([]audit.Entry, 0, len(members)+1)
	entries = append(entries, audit.Entry{Actor: a.ID, Action: ActionHouseholdRead, Subject: "household:" + id, Purpose: "lookup"})
	for _, m := range members {
		entries = append(entries, audit.Entry{Actor: a.ID, Action: ActionHouseholdRead, Subject: "person:" + m.PIN, Purpose: "lookup", Detail: "household=" + id})
	}
	if err := s.audit.RecordAll(ctx, entries); err != nil {
		return Household{}, fmt.Errorf("audit read: %w", err)
	}
	return h, nil
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func householdMembers(ctx context.Context, q querier, id string) ([]Member, error) {
	rows, err := q.QueryContext(ctx, `SELECT pin, full_name, birth_date, sex, relation, status FROM persons WHERE household_id = $1 ORDER BY birth_date, pin`, id)
	if err != nil {
		return nil, fmt.Errorf("household members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		var birth string
		if err := rows.Scan(&m.PIN, &m.FullName, &birth, &m.Sex, &m.Relation, &m.Status); err != nil {
			return nil, fmt.Errorf("household members: %w", err)
		}
		m.BirthDate, _ = civildate.Parse(birth)
		out = append(out, m)
	}
	// The head first, then by age.
	for i, m := range out {
		if m.Relation == RelHead && i > 0 {
			copy(out[1:i+1], out[:i])
			out[0] = m
			break
		}
	}
	return out, rows.Err()
}

// Residences is a person's residence history, newest first.
func (s *Service) Residences(ctx context.Context, a actor.Actor, pinText string) ([]Residence, error) {
	p, err := s.read(ctx, a, pinText)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT kind, province, commune, detail, from_date, to_date, event_id FROM residences WHERE pin = $1 ORDER BY id DESC`, p.PIN)
	if err != nil {
		return nil, fmt.Errorf("residences: %w", err)
	}
	defer rows.Close()
	var out []Residence
	for rows.Next() {
		var r Residence
		var from, to string
		if err := rows.Scan(&r.Kind, &r.Address.ProvinceCode, &r.Address.CommuneCode, &r.Address.Detail, &from, &to, &r.EventID); err != nil {
			return nil, fmt.Errorf("residences: %w", err)
		}
		r.From, r.To = parseOptional(from), parseOptional(to)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("residences: %w", err)
	}
	out = append(s.rowPeriods(p, out), out...)
	// Newest first by start; a period whose start is unknown (loaded in
	// bulk) is the oldest.
	slices.SortStableFunc(out, func(x, y Residence) int {
		return y.From.Earliest().Compare(x.From.Earliest())
	})
	for i := range out {
		out[i].Address.Text = joinAddress(out[i].Address.Detail, s.pathAt(out[i].Address.CommuneCode, out[i].From))
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "residence.read", Subject: "person:" + p.PIN, Purpose: "lookup"}); err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	return out, nil
}

// rowPeriods are the periods p's row holds that the history rows do not:
// records loaded in bulk (and history loaded for the years before the 2025
// reform, Loader.Residence) carry their current residence on the row only.
// A permanent residence is added when no permanent row is open (closed on
// the day of death for a dead person with no permanent row at all), a
// temporary one when no row has its commune and start.
func (s *Service) rowPeriods(p Person, rows []Residence) []Residence {
	openPerm, anyPerm, temp := false, false, false
	for _, r := range rows {
		switch r.Kind {
		case Permanent:
			anyPerm = true
			openPerm = openPerm || r.To.IsZero()
		case Temporary:
			temp = temp || p.Temporary != nil && r.Address.CommuneCode == p.Temporary.CommuneCode && r.From == p.Temporary.From
		}
	}
	var out []Residence
	if p.Temporary != nil && !temp {
		out = append(out, Residence{Kind: Temporary, Address: p.Temporary.Address, From: p.Temporary.From, To: p.Temporary.To})
	}
	switch {
	case p.Status != Dead && !openPerm && p.Permanent.CommuneCode != "":
		out = append(out, Residence{Kind: Permanent, Address: p.Permanent, From: p.PermSince})
	case p.Status == Dead && !anyPerm && p.Permanent.CommuneCode != "":
		out = append(out, Residence{Kind: Permanent, Address: p.Permanent, From: p.PermSince, To: p.DeathDate})
	}
	return out
}

// pathAt names a commune on the map in force on the day a period started
// (a code of the old map reused on the new one, 00004 Trúc Bạch before
// 1 July 2025 and Ba Đình after, is named as it was then); a period with
// no start, or a code the map of its start does not hold, is named on
// today's map.
func (s *Service) pathAt(commune string, from civildate.Date) string {
	if !from.IsZero() {
		if path := s.places.Path(commune, from.Time()); path != "" {
			return path
		}
	}
	return s.places.Path(commune, s.now())
}

// Events is a person's life events, newest first.
func (s *Service) Events(ctx context.Context, a actor.Actor, pinText string) ([]LifeEvent, error) {
	p, err := s.read(ctx, a, pinText)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, kind, pin, effective_date, registrar, reason, recorded_at, from_province, from_commune, evidence, other_pin FROM life_events WHERE pin = $1 ORDER BY recorded_at DESC, id`, p.PIN)
	if err != nil {
		return nil, fmt.Errorf("life events: %w", err)
	}
	defer rows.Close()
	var out []LifeEvent
	for rows.Next() {
		var e LifeEvent
		var eff, rec string
		var from Address
		if err := rows.Scan(&e.ID, &e.Kind, &e.PIN, &eff, &e.Registrar, &e.Reason, &rec, &from.ProvinceCode, &from.CommuneCode, &e.Evidence, &e.OtherPIN); err != nil {
			return nil, fmt.Errorf("life events: %w", err)
		}
		if from.CommuneCode != "" {
			from.Text = s.places.Path(from.CommuneCode, s.now())
			e.From = &from
		}
		e.Effective = parseOptional(eff)
		e.Recorded, _ = time.Parse(time.RFC3339Nano, rec)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("life events: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "events.read", Subject: "person:" + p.PIN, Purpose: "lookup"}); err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	return out, nil
}

// History is every state of a person, newest first: the current record, then
// the snapshots taken before each change.
func (s *Service) History(ctx context.Context, a actor.Actor, pinText string) ([]Version, error) {
	p, err := s.read(ctx, a, pinText)
	if err != nil {
		return nil, err
	}
	out := []Version{{Version: p.Version, At: p.UpdatedAt, By: p.UpdatedBy, Reason: p.UpdateReason, Person: p}}
	rows, err := s.db.R.QueryContext(ctx, `SELECT snapshot FROM person_versions WHERE pin = $1 ORDER BY version DESC`, p.PIN)
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var snap string
		if err := rows.Scan(&snap); err != nil {
			return nil, fmt.Errorf("history: %w", err)
		}
		var old Person
		if err := jsonUnmarshal(snap, &old); err != nil {
			return nil, fmt.Errorf("history of %s: %w", p.PIN, err)
		}
		s.describe(&old)
		out = append(out, Version{Version: old.Version, At: old.UpdatedAt, By: old.UpdatedBy, Reason: old.UpdateReason, Person: old})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "history.read", Subject: "person:" + p.PIN, Purpose: "lookup"}); err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	return out, nil
}
