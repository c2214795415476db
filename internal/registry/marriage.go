package registry

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// Legal ages of marriage (Law on Marriage and Family 52/2014/QH13 Art. 8.1a:
// "nam từ đủ 20 tuổi trở lên, nữ từ đủ 18 tuổi trở lên"): full years on the
// day of the marriage. The same law (Art. 8.2) does not recognise a marriage
// between persons of the same sex, and Art. 5.2d forbids it between persons
// of the same direct line of descent and between siblings.
const (
	MarriageAgeMen   = 20
	MarriageAgeWomen = 18
)

// MarriageInput is a marriage registration (đăng ký kết hôn) of two persons
// of the register.
type MarriageInput struct {
	PIN       string `json:"pin"`
	SpousePIN string `json:"spouse_pin"`
	Date      string `json:"date"`
	// JoinPIN, when set, is the spouse (PIN or SpousePIN) who moves into the
	// other's household: a change of permanent residence registered with
	// the marriage (person.moved), as relation RelationToHead — "Vợ" or
	// "Chồng" by default when the other spouse heads it.
	JoinPIN        string `json:"join_pin,omitempty"`
	RelationToHead string `json:"relation_to_head,omitempty"`
	// NewHeadPIN names the next head of the household the joining spouse
	// heads, when it has other members; empty follows the rule of nextHead.
	NewHeadPIN string `json:"new_head_pin,omitempty"`
	Reason     string `json:"reason"`
}

// DivorceInput records a divorce (ly hôn) recognised by a court's judgment
// or decision: the person's current marriage ends on Date.
type DivorceInput struct {
	PIN    string `json:"pin"`
	Date   string `json:"date"`
	Reason string `json:"reason"`
}

// Faults of marriage and divorce.
var (
	ErrMarriageSelf     = fault.New(fault.Invalid, "marriage.self", "Hai bên kết hôn phải là hai người khác nhau.", "The two parties must be two different persons.")
	ErrMarriageSex      = fault.New(fault.Invalid, "marriage.same_sex", "Luật Hôn nhân và gia đình không thừa nhận hôn nhân giữa những người cùng giới tính.", "The Law on Marriage and Family does not recognise a marriage between persons of the same sex.")
	ErrMarriageAge      = fault.New(fault.Invalid, "marriage.under_age", "Chưa đủ tuổi kết hôn (nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi).", "Under the legal age of marriage (20 full years for men, 18 for women).")
	ErrAlreadyMarried   = fault.New(fault.Conflict, "marriage.already_married", "Người này đang có vợ hoặc chồng.", "This person is already married.")
	ErrMarriageKin      = fault.New(fault.Invalid, "marriage.kin", "Không được kết hôn giữa cha, mẹ với con hoặc giữa anh chị em ruột, cùng cha hoặc cùng mẹ.", "A marriage between a parent and a child or between siblings is forbidden.")
	ErrNotMarried       = fault.New(fault.Conflict, "divorce.not_married", "Người này không có vợ hoặc chồng trong sổ.", "This person has no spouse in the register.")
	ErrBeforeMarriage   = fault.New(fault.Invalid, "divorce.before_marriage", "Ngày ly hôn không được trước ngày kết hôn.", "The divorce cannot be before the marriage.")
	ErrMarriageOverlap  = fault.New(fault.Invalid, "marriage.before_previous_end", "Ngày kết hôn phải sau ngày chấm dứt hôn nhân trước của mỗi bên.", "The marriage must be after the end of each party's previous marriage.")
	ErrJoinNotSpouse    = fault.New(fault.Invalid, "marriage.join_invalid", "Người nhập hộ phải là một trong hai bên kết hôn, có hộ khác với bên kia.", "The person joining must be one of the two parties, in another household than the other.")
	ErrJoinRelationNeed = fault.New(fault.Invalid, "marriage.relation_required", "Nhập quan hệ với chủ hộ của hộ nhập vào.", "Enter the relation to the head of the household joined.")
)

// Marriage end kinds (marriages.end_kind).
const (
	endByDivorce = "divorce"
	endByDeath   = "death"
)

// RegisterMarriage registers a marriage: each spouse's record names the
// other, each gets person.married, the marriage starts its history row,
// and, when asked, one spouse moves into the other's household. The actor
// must reach both persons (a couple living in two communes is registered by
// a registrar whose unit covers both, or after one has moved in); both are
// looked up under the scope rule before anything else.
func (s *Service) RegisterMarriage(ctx context.Context, a actor.Actor, in MarriageInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	in.PIN, in.SpousePIN, in.JoinPIN = strings.TrimSpace(in.PIN), strings.TrimSpace(in.SpousePIN), strings.TrimSpace(in.JoinPIN)
	if _, err := s.reach(ctx, a, in.PIN, "pin"); err != nil {
		return Person{}, err
	}
	if _, err := s.reach(ctx, a, in.SpousePIN, "spouse_pin"); err != nil {
		return Person{}, err
	}
	var problems fault.List
	date := pastDate(in.Date, "date", s.now(), &problems)
	if in.PIN == in.SpousePIN {
		problems.Add("spouse_pin", ErrMarriageSelf)
	}
	if in.JoinPIN != "" && in.JoinPIN != in.PIN && in.JoinPIN != in.SpousePIN {
		problems.Add("join_pin", ErrJoinNotSpouse)
	}
	reason := checkReason(in.Reason, &problems)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var out Person
	err := s.write(ctx, func(tx *sql.Tx) error {
		// Locked in PIN order, so two acts on the same couple never deadlock.
		first, second := in.PIN, in.SpousePIN
		if second < first {
			first, second = second, first
		}
		locked := map[string]Person{}
		for _, pinText := range []string{first, second} {
			field := "pin"
			if pinText == in.SpousePIN {
				field = "spouse_pin"
			}
			p, err := s.lockPerson(ctx, tx, a, pinText, field)
			if err != nil {
				return err
			}
			locked[pinText] = p
		}
		p, q := locked[in.PIN], locked[in.SpousePIN]
		if err := checkMarriage(p, q, date); err != nil {
			return err
		}
		if err := previousEnd(ctx, tx, date, p.PIN, q.PIN); err != nil {
			return err
		}
		husband, wife := p, q
		if p.Sex == "F" {
			husband, wife = q, p
		}
		id := storage.NewID()
		var evIDs []string
		updated := map[string]Person{}
		for _, pair := range [][2]Person{{p, q}, {q, p}} {
			me, other := pair[0], pair[1]
			np := me
			np.SpousePIN = other.PIN
			if err := s.save(ctx, tx, a, me, &np, reason); err != nil {
				return err
			}
			ev := LifeEvent{Kind: EventMarriage, Effective: date, Reason: reason, OtherPIN: other.PIN}
			if err := s.recordEvent(ctx, tx, a, &ev, &np); err != nil {
				return err
			}
			evIDs = append(evIDs, ev.ID)
			updated[me.PIN] = np
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO marriages (id, husband_pin, wife_pin, married_on, event_id) VALUES ($1, $2, $3, $4, $5)`,
			id, husband.PIN, wife.PIN, date.String(), evIDs[0]); err != nil {
			return fmt.Errorf("record marriage: %w", err)
		}
		out = updated[in.PIN]
		if in.JoinPIN == "" {
			return nil
		}
		joiner, host := updated[in.JoinPIN], updated[in.PIN]
		if host.PIN == joiner.PIN {
			host = updated[in.SpousePIN]
		}
		moved, err := s.joinSpouse(ctx, tx, a, joiner, host, in, date, reason)
		if err != nil {
			return err
		}
		if moved.PIN == in.PIN {
			out = moved
		}
		return nil
	})
	if err != nil {
		return Person{}, fmt.Errorf("register marriage: %w", err)
	}
	s.describe(&out)
	return out, nil
}

// checkMarriage applies the conditions of marriage (Law on Marriage and
// Family Art. 5 and 8) the register can see.
func checkMarriage(p, q Person, date civildate.Date) error {
	var problems fault.List
	for _, x := range []struct {
		field string
		p     Person
	}{{"pin", p}, {"spouse_pin", q}} {
		switch {
		case x.p.Status == Dead:
			problems.Add(x.field, ErrDead)
		case x.p.SpousePIN != "":
			problems.Add(x.field, ErrAlreadyMarried)
		case date.Earliest().Before(x.p.BirthDate.Earliest()):
			problems.Add("date", ErrBeforeBirth)
		case !ofAge(x.p, date):
			problems.Add(x.field, ErrMarriageAge)
		}
	}
	if p.Sex == q.Sex {
		problems.Add("spouse_pin", ErrMarriageSex)
	}
	if kin(p, q) {
		problems.Add("spouse_pin", ErrMarriageKin)
	}
	return problems.Err()
}

// previousEnd refuses a marriage dated before the end of an earlier
// marriage of either party.
func previousEnd(ctx context.Context, tx *sql.Tx, date civildate.Date, pins ...string) error {
	for _, id := range pins {
		var last sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT max(ended_on) FROM marriages WHERE husband_pin = $1 OR wife_pin = $1`, id).Scan(&last); err != nil {
			return fmt.Errorf("previous marriages: %w", err)
		}
		if last.Valid && last.String != "" && date.Earliest().Before(parseOptional(last.String).Earliest()) {
			return ErrMarriageOverlap.WithField("date")
		}
	}
	return nil
}

// ofAge reports whether p has the full legal age of marriage on date. A
// partial birth date counts from its latest possible day: the register
// cannot show the person is of age before then.
func ofAge(p Person, date civildate.Date) bool {
	age := MarriageAgeWomen
	if p.Sex == "M" {
		age = MarriageAgeMen
	}
	return !latest(p.BirthDate).AddDate(age, 0, 0).After(date.Earliest())
}

// latest is the last day a date can denote.
func latest(d civildate.Date) time.Time {
	switch {
	case d.Month == 0:
		return time.Date(d.Year, 12, 31, 0, 0, 0, 0, time.UTC)
	case d.Day == 0:
		return time.Date(d.Year, time.Month(d.Month)+1, 0, 0, 0, 0, 0, time.UTC)
	}
	return d.Earliest()
}

// kin reports a parent and child, or siblings sharing a recorded parent.
func kin(p, q Person) bool {
	if p.FatherPIN == q.PIN || p.MotherPIN == q.PIN || q.FatherPIN == p.PIN || q.MotherPIN == p.PIN {
		return true
	}
	return p.FatherPIN != "" && p.FatherPIN == q.FatherPIN || p.MotherPIN != "" && p.MotherPIN == q.MotherPIN
}

// joinSpouse moves joiner into host's household as part of a marriage.
func (s *Service) joinSpouse(ctx context.Context, tx *sql.Tx, a actor.Actor, joiner, host Person, in MarriageInput, date civildate.Date, reason string) (Person, error) {
	if host.HouseholdID == "" || host.HouseholdID == joiner.HouseholdID {
		return Person{}, ErrJoinNotSpouse.WithField("join_pin")
	}
	h, err := lockHousehold(ctx, tx, s.db.ForUpdate(), host.HouseholdID)
	if err != nil {
		return Person{}, err
	}
	// The household joined must be the actor's too: the host may be in
	// the unit through a temporary residence only.
	if !a.Covers(h.Address.ProvinceCode, h.Address.CommuneCode) {
		return Person{}, fault.ErrOutOfScope
	}
	relation := strings.TrimSpace(in.RelationToHead)
	if relation == "" {
		if h.HeadPIN != host.PIN {
			return Person{}, ErrJoinRelationNeed.WithField("relation_to_head")
		}
		relation = "Vợ"
		if joiner.Sex == "M" {
			relation = "Chồng"
		}
	}
	p := joiner
	p.Permanent = h.Address
	p.HouseholdID, p.Relation = h.ID, relation
	return s.relocate(ctx, tx, a, joiner, p, in.NewHeadPIN, date, reason, accepted{})
}

// RegisterDivorce records the end of the person's marriage by divorce: both
// records drop the spouse link, each gets person.divorced, and the
// marriage's history row is closed. Nobody's residence changes: leaving the
// household is a move of its own. The actor must reach both spouses.
func (s *Service) RegisterDivorce(ctx context.Context, a actor.Actor, in DivorceInput) (Person, error) {
	if !a.CanRegister() {
		return Person{}, fault.ErrForbidden
	}
	in.PIN = strings.TrimSpace(in.PIN)
	p, err := s.reach(ctx, a, in.PIN, "pin")
	if err != nil {
		return Person{}, err
	}
	if p.SpousePIN != "" {
		if _, err := s.reach(ctx, a, p.SpousePIN, "spouse_pin"); err != nil {
			return Person{}, err
		}
	}
	var problems fault.List
	date := pastDate(in.Date, "date", s.now(), &problems)
	reason := checkReason(in.Reason, &problems)
	if err := problems.Err(); err != nil {
		return Person{}, err
	}
	var out Person
	err = s.write(ctx, func(tx *sql.Tx) error {
		old, err := s.lockPerson(ctx, tx, a, in.PIN, "pin")
		if err != nil {
			return err
		}
		if old.Status == Dead {
			return ErrDead.WithField("pin")
		}
		if old.SpousePIN == "" {
			return ErrNotMarried.WithField("pin")
		}
		var married string
		err = tx.QueryRowContext(ctx, `SELECT married_on FROM marriages WHERE ended_on = '' AND ((husband_pin = $1 AND wife_pin = $2) OR (husband_pin = $2 AND wife_pin = $1))`,
			old.PIN, old.SpousePIN).Scan(&married)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("load marriage: %w", err)
		}
		if married != "" && date.Earliest().Before(parseOptional(married).Earliest()) {
			return ErrBeforeMarriage.WithField("date")
		}
		out = old
		out.SpousePIN = ""
		if err := s.save(ctx, tx, a, old, &out, reason); err != nil {
			return err
		}
		ev := LifeEvent{Kind: EventDivorce, Effective: date, Reason: reason, OtherPIN: old.SpousePIN}
		if err := s.recordEvent(ctx, tx, a, &ev, &out); err != nil {
			return err
		}
		return s.endMarriage(ctx, tx, a, old, date, endByDivorce, ev.ID, reason)
	})
	if err != nil {
		return Person{}, fmt.Errorf("register divorce: %w", err)
	}
	s.describe(&out)
	return out, nil
}

// endMarriage ends p's marriage on date in tx: the spouse's record drops
// its link to p (a new version), a divorce gives the spouse person.divorced
// too, and the marriage's history row is closed (written closed, with no
// start, for a marriage loaded without one).
func (s *Service) endMarriage(ctx context.Context, tx *sql.Tx, a actor.Actor, p Person, date civildate.Date, kind, eventID, reason string) error {
	if p.SpousePIN == "" {
		return nil
	}
	spouse, err := loadPerson(ctx, tx, p.SpousePIN, s.db.ForUpdate())
	if err == errNoPerson {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load spouse: %w", err)
	}
	if spouse.SpousePIN == p.PIN {
		ns := spouse
		ns.SpousePIN = ""
		if err := s.save(ctx, tx, a, spouse, &ns, reason); err != nil {
			return err
		}
		if kind == endByDivorce {
			ev := LifeEvent{Kind: EventDivorce, Effective: date, Reason: reason, OtherPIN: p.PIN}
			if err := s.recordEvent(ctx, tx, a, &ev, &ns); err != nil {
				return err
			}
		}
	}
	res, err := tx.ExecContext(ctx, `UPDATE marriages SET ended_on = $1, end_kind = $2, end_event_id = $3
		WHERE ended_on = '' AND ((husband_pin = $4 AND wife_pin = $5) OR (husband_pin = $5 AND wife_pin = $4))`,
		date.String(), kind, eventID, p.PIN, spouse.PIN)
	if err != nil {
		return fmt.Errorf("end marriage: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	husband, wife := p.PIN, spouse.PIN
	if p.Sex == "F" {
		husband, wife = wife, husband
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO marriages (id, husband_pin, wife_pin, ended_on, end_kind, end_event_id) VALUES ($1, $2, $3, $4, $5, $6)`,
		storage.NewID(), husband, wife, date.String(), kind, eventID); err != nil {
		return fmt.Errorf("end marriage: %w", err)
	}
	return nil
}

// Marriage is one marriage of a person's history.
type Marriage struct {
	SpousePIN string         `json:"spouse_pin"`
	Married   civildate.Date `json:"married_on,omitzero"`
	Ended     civildate.Date `json:"ended_on,omitzero"`
	// EndKind is "divorce" or "death" once ended.
	EndKind string `json:"end_kind,omitempty"`
}

// Marriages is a person's marriages, newest first, audited as a read.
func (s *Service) Marriages(ctx context.Context, a actor.Actor, pinText string) ([]Marriage, error) {
	p, err := s.read(ctx, a, pinText)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT husband_pin, wife_pin, married_on, ended_on, end_kind FROM marriages
		WHERE husband_pin = $1 OR wife_pin = $1 ORDER BY married_on DESC, ended_on DESC`, p.PIN)
	if err != nil {
		return nil, fmt.Errorf("marriages: %w", err)
	}
	defer rows.Close()
	out := []Marriage{}
	for rows.Next() {
		var h, w, from, to string
		var m Marriage
		if err := rows.Scan(&h, &w, &from, &to, &m.EndKind); err != nil {
			return nil, fmt.Errorf("marriages: %w", err)
		}
		m.SpousePIN = h
		if h == p.PIN {
			m.SpousePIN = w
		}
		m.Married, m.Ended = parseOptional(from), parseOptional(to)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("marriages: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: a.ID, Action: "marriages.read", Subject: "person:" + p.PIN, Purpose: "lookup"}); err != nil {
		return nil, fmt.Errorf("audit read: %w", err)
	}
	return out, nil
}
