package registry

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/storage"
)

// Arrival is the evidence that a person arriving in the registrar's unit
// (a move or a temporary residence there) is there and asks for it. A
// registrar reaches a person from outside the unit only with one of:
//
//   - ApplicationID: an arrival application the citizen filed, signed in
//     with the e-ID (FileArrival), for this person, act and commune, not
//     used before and at most ArrivalValidity old; it is used up by the act;
//   - CardChip: the data groups and SOD read from the chip of the
//     citizen's identity card at the desk; passive authentication proves
//     them signed by the platform's document signer, and the card must be
//     handed over and still valid, with the person's PIN;
//   - CardQR: the QR payload of the citizen's identity card read at the
//     desk, which must be a card the card register issued and handed over,
//     still valid, whose PIN, date of birth, sex and name are the person's.
//     The printed QR is not signed: the chip is the stronger evidence.
type Arrival struct {
	ApplicationID string    `json:"application_id,omitempty"`
	CardChip      *ChipRead `json:"card_chip,omitempty"`
	CardQR        string    `json:"card_qr,omitempty"`
}

// ChipRead is what a desk reader takes from a card's chip.
type ChipRead struct {
	DataGroups map[int][]byte `json:"data_groups"`
	SOD        []byte         `json:"sod"`
}

// CardProof is what the card register vouches for about a card presented
// at the desk.
type CardProof struct {
	PIN   string
	Name  string
	Birth civildate.Date
	Sex   string // "M" or "F"
	Issue civildate.Date
	// Signed is set when the card's data was proven by its signature
	// (a chip read): the PIN alone then names the person.
	Signed bool
}

// Cards checks a card read at the desk against the card register. The
// card module implements it (registry/cardproof); the register cannot
// import it, as cards read the register.
type Cards interface {
	// CheckQR returns what a QR payload says when it is the payload of a
	// card the platform produced and handed over and that is neither lost
	// nor revoked, and an error otherwise.
	CheckQR(ctx context.Context, payload string) (CardProof, error)
	// CheckChip is CheckQR for a chip read, whose data groups must pass
	// passive authentication.
	CheckChip(ctx context.Context, chip ChipRead) (CardProof, error)
}

// SetCards lets the register accept a card read at the desk as arrival
// evidence; without it only filed applications are accepted.
func (s *Service) SetCards(c Cards) { s.cards = c }

// ArrivalValidity is how long a filed arrival application can be used.
const ArrivalValidity = 30 * 24 * time.Hour

// Arrival kinds: the act an application asks for.
const (
	ArrivalMove      = EventMove
	ArrivalTemporary = EventTemporary
)

// accepted is the evidence an arrival was registered on, recorded with the
// act (its life event and audit entry).
type accepted struct {
	kind string // "application" or "card_qr"; "" when none was needed
	ref  string // the application id, or the card's PIN and issue date
}

func (a accepted) String() string {
	if a.kind == "" {
		return ""
	}
	return a.kind + ":" + a.ref
}

// checkEvidence decides whether ev shows that p is arriving at dest for
// kind. Every way it can fail answers out_of_scope, like a person who was
// never there: evidence that does not fit tells nothing about the person.
func (s *Service) checkEvidence(ctx context.Context, p Person, dest Address, kind string, ev *Arrival) (accepted, error) {
	if ev == nil {
		return accepted{}, fault.ErrOutOfScope
	}
	switch {
	case ev.ApplicationID != "":
		app, err := s.arrivalApplication(ctx, s.db.R, ev.ApplicationID)
		if errors.Is(err, errNoApplication) {
			return accepted{}, fault.ErrOutOfScope
		}
		if err != nil {
			return accepted{}, err
		}
		if !app.fits(p.PIN, kind, dest.CommuneCode, s.now()) {
			return accepted{}, fault.ErrOutOfScope
		}
		return accepted{kind: "application", ref: app.ID}, nil
	case (ev.CardChip != nil || ev.CardQR != "") && s.cards != nil:
		var proof CardProof
		var err error
		kind := "card_qr"
		if ev.CardChip != nil {
			kind = "card_chip"
			proof, err = s.cards.CheckChip(ctx, *ev.CardChip)
		} else {
			proof, err = s.cards.CheckQR(ctx, ev.CardQR)
		}
		if err != nil {
			if fault.As(err).Kind == fault.Internal {
				return accepted{}, fmt.Errorf("check card: %w", err)
			}
			return accepted{}, fault.ErrOutOfScope
		}
		if !proof.names(p) {
			return accepted{}, fault.ErrOutOfScope
		}
		ref := proof.PIN
		if !proof.Issue.IsZero() {
			ref += "/" + proof.Issue.String()
		}
		return accepted{kind: kind, ref: ref}, nil
	}
	return accepted{}, fault.ErrOutOfScope
}

// names reports whether the card is the person's: same PIN, date of birth
// and sex, and a name the person bears or bore (a card issued before a
// change of name stays valid until it is replaced).
func (c CardProof) names(p Person) bool {
	if c.PIN != p.PIN {
		return false
	}
	if c.Signed {
		return true
	}
	if c.Sex != p.Sex || c.Birth != p.BirthDate {
		return false
	}
	name := fold.String(c.Name)
	if name == fold.String(p.FullName) {
		return true
	}
	for _, other := range strings.Split(p.OtherNames, ";") {
		if name == fold.String(strings.TrimSpace(other)) {
			return true
		}
	}
	return false
}

// ArrivalApplication is a citizen's own request to be registered as
// arriving in a commune (a move there, or a temporary residence there),
// filed signed in with the e-ID. A registrar of that commune registers the
// arrival on it.
type ArrivalApplication struct {
	ID      string    `json:"id"`
	PIN     string    `json:"pin"`
	Kind    string    `json:"kind"` // "move" or "temporary_residence"
	Commune string    `json:"commune_code"`
	FiledBy string    `json:"filed_by"`
	FiledAt time.Time `json:"filed_at"`
	UsedBy  string    `json:"used_by_event,omitempty"`
}

// ArrivalInput is what a citizen files.
type ArrivalInput struct {
	Kind    string `json:"kind"`
	Commune string `json:"commune_code"`
}

// Faults of arrival applications.
var (
	ErrArrivalKind    = fault.New(fault.Invalid, "arrival.kind", "Loại đề nghị phải là chuyển đến thường trú (move) hoặc tạm trú (temporary_residence).", "The kind must be move or temporary_residence.")
	ErrArrivalCitizen = fault.New(fault.Forbidden, "arrival.not_citizen", "Chỉ công dân đăng nhập bằng định danh điện tử mới nộp được đề nghị cho chính mình.", "Only a citizen signed in with the e-ID can file an application, for themselves.")
	errNoApplication  = errors.New("no such arrival application")
)

func (app ArrivalApplication) fits(pinText, kind, commune string, now time.Time) bool {
	return app.PIN == pinText && app.Kind == kind && app.Commune == commune && app.UsedBy == "" &&
		now.Sub(app.FiledAt) <= ArrivalValidity && !app.FiledAt.After(now)
}

// FileArrival records a citizen's arrival application. a must be the
// citizen, signed in with the e-ID (actor "citizen:<PIN>"): the
// application is the citizen's own statement that they are there. The
// citizen portal calls it; the registrar is given the returned id.
func (s *Service) FileArrival(ctx context.Context, a actor.Actor, in ArrivalInput) (ArrivalApplication, error) {
	pinText, ok := strings.CutPrefix(a.ID, "citizen:")
	if !ok {
		return ArrivalApplication{}, ErrArrivalCitizen
	}
	if _, err := parsePIN(pinText, "pin"); err != nil {
		return ArrivalApplication{}, ErrArrivalCitizen
	}
	var problems fault.List
	if in.Kind != ArrivalMove && in.Kind != ArrivalTemporary {
		problems.Add("kind", ErrArrivalKind)
	}
	if _, err := s.places.CommuneProvince(in.Commune, s.now()); err != nil {
		problems.Add("commune_code", ErrUnknownCommune)
	}
	if err := problems.Err(); err != nil {
		return ArrivalApplication{}, err
	}
	now := s.now().UTC()
	app := ArrivalApplication{ID: storage.NewID(), PIN: pinText, Kind: in.Kind, Commune: in.Commune, FiledBy: a.ID, FiledAt: now}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := loadPerson(ctx, tx, pinText, ""); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO arrival_applications (id, pin, kind, commune, filed_by, filed_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			app.ID, app.PIN, app.Kind, app.Commune, app.FiledBy, now.Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("insert arrival application: %w", err)
		}
		return s.audit.RecordTx(ctx, s.db, tx, audit.Entry{Actor: a.ID, Action: "arrival.filed", Subject: "person:" + app.PIN,
			Purpose: "registration", Detail: "application=" + app.ID + " kind=" + app.Kind + " commune=" + app.Commune, At: now})
	})
	if errors.Is(err, errNoPerson) {
		return ArrivalApplication{}, ErrArrivalCitizen
	}
	if err != nil {
		return ArrivalApplication{}, fmt.Errorf("file arrival: %w", err)
	}
	return app, nil
}

type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

func (s *Service) arrivalApplication(ctx context.Context, q rowQuerier, id string) (ArrivalApplication, error) {
	var app ArrivalApplication
	var filed string
	if len(id) > 64 {
		return app, errNoApplication
	}
	err := q.QueryRowContext(ctx, `SELECT id, pin, kind, commune, filed_by, filed_at, used_event_id FROM arrival_applications WHERE id = $1`, id).
		Scan(&app.ID, &app.PIN, &app.Kind, &app.Commune, &app.FiledBy, &filed, &app.UsedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return app, errNoApplication
	}
	if err != nil {
		return app, fmt.Errorf("load arrival application: %w", err)
	}
	app.FiledAt, _ = time.Parse(time.RFC3339Nano, filed)
	return app, nil
}

// useEvidence records in tx that the act eventID was registered on acc: a
// filed application is used up (a second act on it, even a concurrent one,
// is out of scope).
func (s *Service) useEvidence(ctx context.Context, tx *sql.Tx, acc accepted, eventID string) error {
	if acc.kind != "application" {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE arrival_applications SET used_event_id = $1, used_at = $2 WHERE id = $3 AND used_event_id = ''`,
		eventID, s.now().UTC().Format(time.RFC3339Nano), acc.ref)
	if err != nil {
		return fmt.Errorf("use arrival application: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fault.ErrOutOfScope
	}
	return nil
}

// Departure is a move out of a unit, as the unit left sees it: who left,
// when, and where to. After the move the person is the destination's: the
// unit of origin reads no more of them than this.
type Departure struct {
	EventID   string         `json:"event_id"`
	PIN       string         `json:"pin"`
	FullName  string         `json:"full_name"`
	Effective civildate.Date `json:"effective_date"`
	From      Address        `json:"from"`
	To        Address        `json:"to"`
	Recorded  time.Time      `json:"recorded_at"`
}

// Departures lists the latest moves out of the actor's unit (newest first,
// at most limit), so the unit a person leaves sees the change the unit of
// arrival registered. Each person listed is audited, as a search's are.
func (s *Service) Departures(ctx context.Context, a actor.Actor, limit int) ([]Departure, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var where string
	var args []any
	switch a.Level() {
	case actor.LevelNational:
	case actor.LevelProvince:
		where, args = " AND e.from_province = $1", []any{a.Unit}
	case actor.LevelCommune:
		where, args = " AND e.from_commune = $1", []any{a.Unit}
	default:
		return []Departure{}, nil
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT e.id, e.pin, p.full_name, e.effective_date, e.from_province, e.from_commune, r.province, r.commune, e.recorded_at
		FROM life_events e JOIN persons p ON p.pin = e.pin JOIN residences r ON r.pin = e.pin AND r.event_id = e.id
		WHERE e.kind = 'move' AND e.from_commune <> ''`+where+` ORDER BY e.recorded_at DESC, e.id LIMIT `+fmt.Sprint(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("departures: %w", err)
	}
	defer rows.Close()
	out := []Departure{}
	now := s.now()
	for rows.Next() {
		var d Departure
		var eff, rec string
		if err := rows.Scan(&d.EventID, &d.PIN, &d.FullName, &eff, &d.From.ProvinceCode, &d.From.CommuneCode, &d.To.ProvinceCode, &d.To.CommuneCode, &rec); err != nil {
			return nil, fmt.Errorf("departures: %w", err)
		}
		d.Effective = parseOptional(eff)
		d.Recorded, _ = time.Parse(time.RFC3339Nano, rec)
		d.From.Text = s.places.Path(d.From.CommuneCode, now)
		d.To.Text = s.places.Path(d.To.CommuneCode, now)
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("departures: %w", err)
	}
	entries := []audit.Entry{{Actor: a.ID, Action: "departures.read", Subject: "departures", Purpose: "lookup", Detail: fmt.Sprintf("results=%d", len(out))}}
	for _, d := range out {
		entries = append(entries, audit.Entry{Actor: a.ID, Action: "person.listed", Subject: "person:" + d.PIN, Purpose: "departures", Detail: "event=" + d.EventID})
	}
	if err := s.audit.RecordAll(ctx, entries); err != nil {
		return nil, fmt.Errorf("audit departures: %w", err)
	}
	return out, nil
}
