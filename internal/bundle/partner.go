package bundle

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/delivery"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
)

// StepMessage is what a partner agency receives for a step, as a signed
// webhook (delivery.Sign: Dancu-Event-Id is ID, the same on every
// resend, so the partner deduplicates on it). Person fields are those
// its policy lists, nothing else.
type StepMessage struct {
	ID        string `json:"id"`   // "<bundle>.<step>"
	Type      string `json:"type"` // "bundle.birth.insurance", "bundle.death.funeral"
	Bundle    string `json:"bundle"`
	Step      string `json:"step"`
	Purpose   string `json:"purpose"`
	Due       string `json:"due_date"`
	AnswerURL string `json:"answer_url"`
	// The person the step is about: the child, or the deceased.
	PIN              string `json:"pin"`
	FullName         string `json:"full_name,omitempty"`
	BirthDate        string `json:"birth_date,omitempty"`
	Sex              string `json:"sex,omitempty"`
	PermanentAddress string `json:"permanent_address,omitempty"`
	DeathDate        string `json:"death_date,omitempty"`
	// The parents of a child; the relative who claims a funeral allowance.
	MotherPIN   string `json:"mother_pin,omitempty"`
	FatherPIN   string `json:"father_pin,omitempty"`
	ClaimantPIN string `json:"claimant_pin,omitempty"`
}

// Answer is a partner's answer to a step.
type Answer struct {
	// Outcome is "accepted" with Value (the health-insurance card number;
	// the funeral allowance's decision number) or "refused" with Reason.
	Outcome string `json:"outcome"`
	Value   string `json:"value,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Answer outcomes.
const (
	Accepted       = "accepted"
	AnswerRefused  = "refused"
	AnswerRecorded = "recorded"  // the first answer of the step
	AnswerRepeated = "duplicate" // the step was answered before: nothing changes
)

// Endpoint is where a partner takes its steps.
type Endpoint struct {
	Partner string `json:"partner_id"`
	URL     string `json:"url"`
	// Secret signs the webhooks; shown when set, never again.
	Secret string `json:"secret,omitempty"`
}

var (
	insuranceCard = regexp.MustCompile(`^[A-Z]{2}[0-9]{13}$`)
	decisionNo    = regexp.MustCompile(`^[A-Za-z0-9/.\-]{1,40}$`)
)

// purposeOf is the purpose a partner's step is sent under.
func purposeOf(step string) string {
	if step == StepFuneral {
		return PurposeFuneral
	}
	return PurposeInsurance
}

// SetEndpoint sets where the partner receives its steps and returns the
// new signing secret. Steps already waiting for the partner are sent
// again (their events written with the endpoint).
func (s *Service) SetEndpoint(ctx context.Context, p exchange.Partner, rawURL string) (Endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || len(rawURL) > 500 || u.Host == "" || u.User != nil || (u.Scheme != "https" && (s.d.Production || u.Scheme != "http")) {
		return Endpoint{}, ErrEndpoint.WithField("url")
	}
	e := Endpoint{Partner: p.ID, URL: u.String(), Secret: delivery.NewSecret()}
	now := s.d.Now()
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bundle_endpoints (partner_id, url, secret, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (partner_id) DO UPDATE SET url = excluded.url, secret = excluded.secret, updated_at = excluded.updated_at`, e.Partner, e.URL, e.Secret, ts(now)); err != nil {
			return fmt.Errorf("bundle: endpoint: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT bundle_code, step FROM bundle_steps WHERE partner_id = $1 AND status = $2`, p.ID, Running)
		if err != nil {
			return fmt.Errorf("bundle: pending steps: %w", err)
		}
		var pending []events.BundleStep
		for rows.Next() {
			var ev events.BundleStep
			if err := rows.Scan(&ev.Bundle, &ev.Step); err != nil {
				rows.Close()
				return err
			}
			ev.At = now.UTC()
			pending = append(pending, ev)
		}
		rows.Close()
		for _, ev := range pending {
			if _, err := events.Enqueue(ctx, tx, Events, events.BundleStepDue, ev, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Endpoint{}, err
	}
	return e, s.d.Audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: "bundle.endpoint", Subject: "partner:" + p.ID, Purpose: "bundle"})
}

// send sends a step to its partner agency, signed, and marks it sent. A
// partner without an endpoint leaves the step running until it sets one
// (SetEndpoint sends it then); an answer other than 2xx, or no answer, is
// an error and the step's event is redelivered with a backoff.
func (s *Service) send(ctx context.Context, b Bundle, st Step) error {
	var endpoint, secret string
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT url, secret FROM bundle_endpoints WHERE partner_id = $1`, st.Partner).Scan(&endpoint, &secret)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = s.d.DB.W.ExecContext(ctx, `UPDATE bundle_steps SET note = $1 WHERE bundle_code = $2 AND step = $3 AND status = $4`,
			"Đang chờ kết nối với cơ quan tiếp nhận", b.Code, st.Step, Running)
		return err
	}
	if err != nil {
		return fmt.Errorf("bundle: endpoint: %w", err)
	}
	p, err := s.d.Partners.Partner(ctx, st.Partner)
	if err != nil {
		return err
	}
	person, err := s.d.Register.Get(ctx, s.sys, b.SubjectPIN, "bundle-"+st.Step)
	if err != nil {
		return err
	}
	msg := s.message(b, st, p.Policy, person)
	body, _ := json.Marshal(msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("bundle: request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	delivery.Sign(req.Header, secret, msg.ID, msg.Type, st.Attempts+1, body, s.d.Now())
	resp, err := s.d.Client.Do(req)
	if err != nil {
		return fmt.Errorf("bundle: send to %s: %w", st.Partner, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bundle: %s answered %d", st.Partner, resp.StatusCode)
	}
	// The person's data went to the partner under its purpose.
	if err := s.d.Audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: "bundle.step_sent", Subject: "person:" + b.SubjectPIN, Purpose: msg.Purpose, Detail: "bundle=" + b.Code}); err != nil {
		return err
	}
	_, err = s.d.DB.W.ExecContext(ctx, `UPDATE bundle_steps SET status = $1, note = '', updated_at = $2 WHERE bundle_code = $3 AND step = $4 AND status = $5`,
		Sent, ts(s.d.Now()), b.Code, st.Step, Running)
	if err != nil {
		return fmt.Errorf("bundle: sent: %w", err)
	}
	return nil
}

// message is the step as the partner sees it: the fields its policy
// allows.
func (s *Service) message(b Bundle, st Step, pol exchange.Policy, p registry.Person) StepMessage {
	m := StepMessage{ID: b.Code + "." + st.Step, Type: "bundle." + b.Kind + "." + st.Step, Bundle: b.Code, Step: st.Step, Purpose: purposeOf(st.Step),
		Due: st.Due, AnswerURL: strings.TrimSuffix(s.d.AnswerURL, "/") + "/bundles/" + b.Code + "/steps/" + st.Step + "/answer", PIN: p.PIN}
	has := func(f string) bool { return slices.Contains(pol.Fields, f) }
	if has("full_name") {
		m.FullName = p.FullName
	}
	if has("birth_date") {
		m.BirthDate = p.BirthDate.String()
	}
	if has("sex") {
		m.Sex = p.Sex
	}
	if has("permanent_address") {
		m.PermanentAddress = p.Permanent.Text
	}
	if has("death_date") && !p.DeathDate.IsZero() {
		m.DeathDate = p.DeathDate.String()
	}
	if b.Kind == Birth {
		m.MotherPIN, m.FatherPIN = b.Form["mother_pin"], b.Form["father_pin"]
	} else {
		m.ClaimantPIN = b.OwnerPIN
	}
	return m
}

// CheckStep is the scope rule of a partner's answer: the step exists and
// was sent to the partner; anything else is bundle.step_not_found alike.
func (s *Service) CheckStep(ctx context.Context, p exchange.Partner, code, step string) error {
	var partner, status string
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT partner_id, status FROM bundle_steps WHERE bundle_code = $1 AND step = $2`, code, step).Scan(&partner, &status)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (partner != p.ID || status == Waiting)) {
		return ErrStep
	}
	if err != nil {
		return fmt.Errorf("bundle: step: %w", err)
	}
	return nil
}

// Answer takes a partner's answer to one of its steps. The scope rule
// comes first: the step must exist and have been sent to this partner
// (anything else is bundle.step_not_found alike). The first answer is
// recorded with its event in one transaction; a later one (a duplicate)
// is counted and changes nothing.
func (s *Service) Answer(ctx context.Context, p exchange.Partner, code, step string, in Answer) (string, error) {
	var partner, status, subject string
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT st.partner_id, st.status, b.subject_pin FROM bundle_steps st JOIN bundles b ON b.code = st.bundle_code
		WHERE st.bundle_code = $1 AND st.step = $2`, code, step).Scan(&partner, &status, &subject)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (partner != p.ID || status == Waiting)) {
		return "", ErrStep
	}
	if err != nil {
		return "", fmt.Errorf("bundle: answer: %w", err)
	}
	in.Value, in.Reason = strings.TrimSpace(in.Value), strings.TrimSpace(in.Reason)
	switch {
	case in.Outcome == Accepted && step == StepInsurance && insuranceCard.MatchString(in.Value):
	case in.Outcome == Accepted && step == StepFuneral && decisionNo.MatchString(in.Value):
	case in.Outcome == AnswerRefused && in.Reason != "" && utf8.ValidString(in.Reason) && utf8.RuneCountInString(in.Reason) <= 500 && !strings.ContainsAny(in.Reason, "\x00<>"):
	default:
		return "", ErrAnswer
	}
	now := s.d.Now()
	outcome := AnswerRecorded
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO bundle_answers (bundle_code, step, partner_id, outcome, value, reason, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (bundle_code, step) DO NOTHING`, code, step, p.ID, in.Outcome, in.Value, in.Reason, ts(now))
		if err != nil {
			return fmt.Errorf("bundle: record answer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			outcome = AnswerRepeated
			_, err := tx.ExecContext(ctx, `UPDATE bundle_answers SET duplicates = duplicates + 1 WHERE bundle_code = $1 AND step = $2`, code, step)
			return err
		}
		_, err = events.Enqueue(ctx, tx, Events, events.BundleAnswered, events.BundleStep{Bundle: code, Step: step, At: now.UTC()}, now)
		return err
	})
	if err != nil {
		return "", err
	}
	if outcome == AnswerRecorded {
		err = s.d.Audit.Record(ctx, audit.Entry{Actor: p.Actor(), Action: "bundle.answer", Subject: "person:" + subject, Purpose: purposeOf(step), Detail: "bundle=" + code + " outcome=" + in.Outcome})
	}
	return outcome, err
}

// applyAnswer applies the recorded answer of a step: an accepted card
// number becomes the child's sector identifier of the partner's scheme
// (through the exchange module, under the partner's policy and audited
// there); a refusal ends the step refused, with the citizen told what to
// do. The step's state makes a second delivery change nothing.
func (s *Service) applyAnswer(ctx context.Context, code, step string) error {
	var a Answer
	var partner string
	err := s.d.DB.R.QueryRowContext(ctx, `SELECT partner_id, outcome, value, reason FROM bundle_answers WHERE bundle_code = $1 AND step = $2`, code, step).
		Scan(&partner, &a.Outcome, &a.Value, &a.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bundle: load answer: %w", err)
	}
	b, err := s.load(ctx, s.d.DB.R, code)
	if err != nil {
		return err
	}
	st, ok := b.Step(step)
	if !ok || final(st.Status) {
		return nil
	}
	if a.Outcome == AnswerRefused {
		return s.conclude1(ctx, code, step, Refused, "", a.Reason)
	}
	if step == StepInsurance {
		p, err := s.d.Partners.Partner(ctx, partner)
		if err != nil {
			return err
		}
		if _, err := s.d.Sectors.WriteSectorID(ctx, p, SchemeInsurance, exchange.SectorInput{PIN: b.SubjectPIN, Value: a.Value, Purpose: PurposeInsurance}); err != nil {
			if f, refused := refusal(err); refused {
				return s.conclude1(ctx, code, step, Refused, "", "Mã thẻ bảo hiểm y tế không lưu được: "+f.Message)
			}
			return err
		}
		return s.conclude1(ctx, code, step, Done, "Mã thẻ bảo hiểm y tế: "+a.Value, "")
	}
	return s.conclude1(ctx, code, step, Done, "Quyết định trợ cấp mai táng số "+a.Value, "")
}

var _ = fault.Invalid
