package bundle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/registry"
)

// Offer states.
const (
	OfferOpen       = "open"
	OfferConfirmed  = "confirmed"
	OfferSuperseded = "superseded" // another person concerned confirmed, or the event came from a bundle
)

// Offer is a follow-on bundle offered to a person concerned by a birth or
// a death the register recorded.
type Offer struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	SubjectPIN string            `json:"subject_pin"`
	Role       string            `json:"role"` // mother, father, spouse, head
	Prefill    map[string]string `json:"prefill"`
	Effective  string            `json:"effective_date"`
	Expires    string            `json:"expires_on"`
	Status     string            `json:"status"`
	Bundle     string            `json:"bundle_code,omitempty"`
}

// handleOffers makes the offers of a batch of births and deaths. The
// event's receipt, the offers and nothing else are written in one
// transaction per event.
func (s *Service) handleOffers(ctx context.Context, batch []events.Msg) error {
	for _, m := range batch {
		ev, ok := events.Decode(events.PersonBorn, m)
		kind := Birth
		if !ok {
			if ev, ok = events.Decode(events.PersonDied, m); !ok {
				continue
			}
			kind = Death
		}
		if err := s.offer(ctx, m.ID, kind, ev); err != nil {
			return fmt.Errorf("bundle offers %s: %w", ev.PIN, err)
		}
	}
	return nil
}

type concerned struct{ pin, role string }

func (s *Service) offer(ctx context.Context, msgID, kind string, ev events.LifeEvent) error {
	p, err := s.d.Register.Get(ctx, s.sys, ev.PIN, "bundle-offer")
	if err != nil {
		if _, refused := refusal(err); refused {
			return nil
		}
		return err
	}
	// A birth or death recorded by a bundle's own step is that bundle.
	if strings.HasPrefix(p.UpdateReason, "Hồ sơ liên thông ") {
		return nil
	}
	var people []concerned
	prefill := map[string]string{"subject_pin": p.PIN, "subject_name": p.FullName}
	windowDays := BirthWindowDays
	if kind == Birth {
		prefill["child_name"], prefill["child_birth_date"], prefill["child_sex"] = p.FullName, p.BirthDate.String(), p.Sex
		prefill["mother_pin"], prefill["father_pin"] = p.MotherPIN, p.FatherPIN
		prefill["province"], prefill["commune"] = p.Permanent.ProvinceCode, p.Permanent.CommuneCode
		if p.MotherPIN != "" {
			people = append(people, concerned{p.MotherPIN, "mother"})
		}
		if p.FatherPIN != "" {
			people = append(people, concerned{p.FatherPIN, "father"})
		}
	} else {
		windowDays = DeathWindowDays
		prefill["deceased_pin"], prefill["death_date"] = p.PIN, p.DeathDate.String()
		ms, err := s.d.Register.Marriages(ctx, s.sys, p.PIN)
		if err != nil {
			return err
		}
		for _, mr := range ms {
			if mr.EndKind == "death" || mr.Ended.IsZero() {
				people = append(people, concerned{mr.SpousePIN, "spouse"})
				break
			}
		}
		if hh, err := s.formerHousehold(ctx, p.PIN); err != nil {
			return err
		} else if hh != "" {
			h, err := s.d.Register.Household(ctx, s.sys, hh)
			if err == nil && h.HeadPIN != "" && h.HeadPIN != p.PIN {
				people = append(people, concerned{h.HeadPIN, "head"})
			}
			prefill["province"], prefill["commune"] = h.Address.ProvinceCode, h.Address.CommuneCode
		}
	}
	effective := ev.Effective
	d, err := civildate.Parse(effective)
	if err != nil || d.Partial() {
		return nil // a partial date of death opens no window we can count
	}
	expires := civildate.Of(d.Time().AddDate(0, 0, windowDays)).String()
	now := s.d.Now()
	body, _ := json.Marshal(prefill)
	return s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		first, err := events.FirstReceipt(ctx, tx, "bundle_receipts", "offer."+msgID, now)
		if err != nil || !first {
			return err
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM bundles WHERE subject_pin = $1 AND kind = $2`, p.PIN, kind).Scan(&taken); err != nil {
			return fmt.Errorf("bundle: offers: %w", err)
		}
		if taken > 0 {
			return nil
		}
		seen := map[string]bool{}
		for _, c := range people {
			if c.pin == "" || c.pin == p.PIN || seen[c.pin] {
				continue
			}
			seen[c.pin] = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO bundle_offers (id, kind, subject_pin, for_pin, role, prefill, effective, expires_on, status, created_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (kind, subject_pin, for_pin) DO NOTHING`,
				"DN-"+newCode(kind, now)[5:], kind, p.PIN, c.pin, c.role, string(body), effective, expires, OfferOpen, ts(now)); err != nil {
				return fmt.Errorf("bundle: offer: %w", err)
			}
		}
		return nil
	})
}

// Offers lists the open offers made to the citizen whose legal window has
// not passed.
func (s *Service) Offers(ctx context.Context, citizenPIN string) ([]Offer, error) {
	rows, err := s.d.DB.R.QueryContext(ctx, `SELECT id, kind, subject_pin, role, prefill, effective, expires_on, status, bundle_code FROM bundle_offers
		WHERE for_pin = $1 AND status = $2 AND expires_on >= $3 ORDER BY created_at DESC`, citizenPIN, OfferOpen, todayText(s.d.Now()))
	if err != nil {
		return nil, fmt.Errorf("bundle: offers: %w", err)
	}
	defer rows.Close()
	var out []Offer
	for rows.Next() {
		o, err := scanOffer(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func scanOffer(r scanner) (Offer, error) {
	var o Offer
	var prefill string
	if err := r.Scan(&o.ID, &o.Kind, &o.SubjectPIN, &o.Role, &prefill, &o.Effective, &o.Expires, &o.Status, &o.Bundle); err != nil {
		return o, fmt.Errorf("bundle: offer: %w", err)
	}
	return o, json.Unmarshal([]byte(prefill), &o.Prefill)
}

func todayText(now time.Time) string { return civildate.Today(now).String() }

// Confirm files the offered bundle in one step: the citizen's
// confirmation is the application the law asks for. Only the person the
// offer was made to, at level 2, before it expires; the other people
// offered the same bundle see theirs withdrawn. A second confirmation
// answers the bundle already filed.
func (s *Service) Confirm(ctx context.Context, f Filer, id string) (Bundle, error) {
	if f.Level < 2 {
		return Bundle{}, ErrLevel
	}
	o, err := scanOffer(s.d.DB.R.QueryRowContext(ctx, `SELECT id, kind, subject_pin, role, prefill, effective, expires_on, status, bundle_code FROM bundle_offers WHERE id = $1 AND for_pin = $2`, id, f.PIN))
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), sql.ErrNoRows.Error()) {
			return Bundle{}, ErrOffer
		}
		return Bundle{}, err
	}
	if o.Status == OfferConfirmed && o.Bundle != "" {
		return s.load(ctx, s.d.DB.R, o.Bundle)
	}
	now := s.d.Now()
	if o.Status != OfferOpen || o.Expires < todayText(now) {
		return Bundle{}, ErrOffer
	}
	form := map[string]string{}
	for k, v := range o.Prefill {
		form[k] = v
	}
	form["offer_role"], form["request_hash"] = o.Role, "offer:"+o.ID
	kind := o.Kind
	b := Bundle{Code: newCode(kind, now), Kind: kind, OwnerPIN: f.PIN, FiledBy: "citizen:" + f.PIN, SubjectPIN: o.SubjectPIN, Form: form, OfferID: o.ID, idemKey: "offer-" + o.ID}
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE bundle_offers SET status = $1, bundle_code = $2 WHERE id = $3 AND status = $4`, OfferConfirmed, b.Code, o.ID, OfferOpen)
		if err != nil {
			return fmt.Errorf("bundle: confirm: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrOfferTaken
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bundle_offers SET status = $1, bundle_code = $2 WHERE kind = $3 AND subject_pin = $4 AND status = $5`,
			OfferSuperseded, b.Code, o.Kind, o.SubjectPIN, OfferOpen); err != nil {
			return fmt.Errorf("bundle: confirm: %w", err)
		}
		return s.insert(ctx, tx, &b, now)
	})
	if errors.Is(err, ErrOfferTaken) {
		if again, lerr := s.Confirm(ctx, f, id); lerr == nil {
			return again, nil
		}
	}
	if err != nil {
		return Bundle{}, err
	}
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: "citizen:" + f.PIN, Action: "bundle.confirm", Subject: "person:" + o.SubjectPIN, Purpose: "bundle", Detail: "bundle=" + b.Code}); err != nil {
		return Bundle{}, err
	}
	return s.load(ctx, s.d.DB.R, b.Code)
}

var _ = registry.Person{}
