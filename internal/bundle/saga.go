package bundle

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/events"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/services"
)

// handleSaga runs the due steps and applies the answers of a batch, one by
// one. Each is idempotent by the step's state, so a redelivery (or the
// same message on two nodes) changes nothing twice.
func (s *Service) handleSaga(ctx context.Context, batch []events.Msg) error {
	for _, m := range batch {
		if ev, ok := events.Decode(events.BundleStepDue, m); ok {
			if err := s.runStep(ctx, ev.Bundle, ev.Step); err != nil {
				return fmt.Errorf("bundle %s step %s: %w", ev.Bundle, ev.Step, err)
			}
			continue
		}
		if ev, ok := events.Decode(events.BundleAnswered, m); ok {
			if err := s.applyAnswer(ctx, ev.Bundle, ev.Step); err != nil {
				return fmt.Errorf("bundle %s answer %s: %w", ev.Bundle, ev.Step, err)
			}
		}
	}
	return nil
}

// refusal reports whether err is the register's (or the dossier's)
// refusal of the act, as opposed to a failure to retry.
func refusal(err error) (*fault.Error, bool) {
	var l fault.List
	if errors.As(err, &l) && len(l) > 0 {
		return l[0], true
	}
	f := fault.As(err)
	switch f.Kind {
	case fault.Invalid, fault.Conflict, fault.NotFound, fault.Forbidden:
		return f, true
	}
	return f, false
}

// runStep does one due step.
func (s *Service) runStep(ctx context.Context, code, step string) error {
	b, err := s.load(ctx, s.d.DB.R, code)
	if errors.Is(err, ErrNotFound) {
		s.d.Log.Warn("bundle step of no bundle", "code", "bundle.unknown", "bundle", code)
		return nil
	}
	if err != nil {
		return err
	}
	st, ok := b.Step(step)
	if !ok || final(st.Status) || st.Status == Review {
		return nil
	}
	now := s.d.Now()
	if _, err := s.d.DB.W.ExecContext(ctx, `UPDATE bundle_steps SET status = CASE WHEN status = $1 THEN $2 ELSE status END, attempts = attempts + 1, updated_at = $3 WHERE bundle_code = $4 AND step = $5`,
		Waiting, Running, ts(now), code, step); err != nil {
		return fmt.Errorf("bundle: start step: %w", err)
	}
	switch step {
	case StepBirth:
		return s.stepBirth(ctx, b)
	case StepDeath:
		return s.stepDeath(ctx, b)
	case StepResidence:
		if b.Kind == Birth {
			return s.stepBirthResidence(ctx, b)
		}
		return s.stepDeathResidence(ctx, b)
	case StepHousehold:
		return s.stepHousehold(ctx, b)
	case StepInsurance, StepFuneral:
		return s.send(ctx, b, st)
	}
	return nil
}

// done concludes a step as done (or refused) in its own transaction.
func (s *Service) conclude1(ctx context.Context, code, step, status, result, note string) error {
	return s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := s.conclude(ctx, tx, code, step, status, result, note, s.d.Now())
		return err
	})
}

// stepBirth registers the birth. The register's act is not in the
// bundle's transaction, so a crash between the two is met on the next
// delivery: the register refuses a second child of the same mother born
// the same day (birth.duplicate), and the child already registered with
// this bundle's code as the reason is taken as this step's.
func (s *Service) stepBirth(ctx context.Context, b Bundle) error {
	if b.SubjectPIN != "" {
		return s.birthDone(ctx, b, b.SubjectPIN) // an offer: the register recorded the birth
	}
	f := b.Form
	reason := "Hồ sơ liên thông " + b.Code
	in := registry.BirthInput{FullName: f["child_name"], Sex: f["child_sex"], BirthDate: f["child_birth_date"], Ethnicity: f["ethnicity"],
		BirthplaceDetail: f["birthplace"], FatherPIN: f["father_pin"], MotherPIN: f["mother_pin"], Reason: reason}
	child, err := s.d.Register.RegisterBirth(ctx, s.sys, in)
	if err != nil {
		f, refused := refusal(err)
		if !refused {
			return err
		}
		if f.Code == registry.ErrBirthDuplicate.Code {
			if pin, found, ferr := s.findChild(ctx, b, reason); ferr != nil {
				return ferr
			} else if found {
				return s.birthDone(ctx, b, pin)
			}
		}
		s.decideDossier(ctx, b, services.ActReject, f.Message)
		return s.conclude1(ctx, b.Code, StepBirth, Refused, "", f.Message)
	}
	return s.birthDone(ctx, b, child.PIN)
}

// findChild finds the child an earlier attempt of this step registered.
func (s *Service) findChild(ctx context.Context, b Bundle, reason string) (string, bool, error) {
	page, err := s.d.Register.Search(ctx, s.sys, registry.Query{Text: b.Form["child_name"], BirthDate: b.Form["child_birth_date"], Limit: 20})
	if err != nil {
		return "", false, err
	}
	for _, it := range page.Items {
		h, err := s.d.Register.History(ctx, s.sys, it.PIN)
		if err != nil {
			return "", false, err
		}
		if len(h) > 0 && h[0].Reason == reason {
			return it.PIN, true, nil
		}
		for _, v := range h {
			if v.Version == 1 && v.Reason == reason {
				return it.PIN, true, nil
			}
		}
	}
	return "", false, nil
}

func (s *Service) birthDone(ctx context.Context, b Bundle, childPIN string) error {
	s.decideDossier(ctx, b, services.ActApprove, "")
	s.decideDossier(ctx, b, services.ActReturn, "")
	now := s.d.Now()
	return s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE bundles SET subject_pin = $1, updated_at = $2 WHERE code = $3`, childPIN, ts(now), b.Code); err != nil {
			return fmt.Errorf("bundle: child: %w", err)
		}
		// An offer made from the birth's own event is this bundle.
		if _, err := tx.ExecContext(ctx, `UPDATE bundle_offers SET status = $1, bundle_code = $2 WHERE subject_pin = $3 AND kind = $4 AND status = $5`,
			OfferSuperseded, b.Code, childPIN, Birth, OfferOpen); err != nil {
			return fmt.Errorf("bundle: offers: %w", err)
		}
		_, err := s.conclude(ctx, tx, b.Code, StepBirth, Done, "Số định danh cá nhân của trẻ: "+childPIN, "", now)
		return err
	})
}

// decideDossier moves the civil status dossier filed with the bundle
// (approve, return the signed result, or reject). A dossier already past
// the action (a redelivery) answers dossier.state, which is what we want.
func (s *Service) decideDossier(ctx context.Context, b Bundle, action, reason string) {
	if b.Dossier == "" || s.d.Dossiers == nil {
		return
	}
	if _, err := s.d.Dossiers.Act(ctx, s.sys, b.Dossier, action, reason); err != nil && fault.As(err).Code != services.ErrState.Code {
		s.d.Log.Warn("bundle dossier not moved", "code", "bundle.dossier", "bundle", b.Code, "action", action, "err", err)
	}
}

// stepBirthResidence confirms the child's permanent residence and
// household as the birth act recorded them (with the parents). When the
// filer asked for another household, the commune police decide it
// (Decide): the step waits in review.
func (s *Service) stepBirthResidence(ctx context.Context, b Bundle) error {
	child, err := s.d.Register.Get(ctx, s.sys, b.SubjectPIN, "bundle-residence")
	if err != nil {
		if f, refused := refusal(err); refused {
			return s.conclude1(ctx, b.Code, StepResidence, Refused, "", f.Message)
		}
		return err
	}
	if b.Form["head_pin"] != "" {
		_, err := s.d.DB.W.ExecContext(ctx, `UPDATE bundle_steps SET status = $1, province = $2, commune = $3, note = $4, updated_at = $5 WHERE bundle_code = $6 AND step = $7 AND status = $8`,
			Review, child.Permanent.ProvinceCode, child.Permanent.CommuneCode, "Chờ Công an xã xem xét việc đăng ký thường trú vào hộ khác", ts(s.d.Now()), b.Code, StepResidence, Running)
		if err != nil {
			return fmt.Errorf("bundle: review: %w", err)
		}
		return nil
	}
	if child.HouseholdID == "" || child.Permanent.CommuneCode == "" {
		return s.conclude1(ctx, b.Code, StepResidence, Refused, "", "Không xác định được hộ gia đình của cha, mẹ")
	}
	return s.conclude1(ctx, b.Code, StepResidence, Done, residenceText(child), "")
}

func residenceText(p registry.Person) string {
	addr := p.Permanent.Text
	if addr == "" {
		addr = p.Permanent.Detail
	}
	return "Thường trú tại " + addr + "; hộ gia đình " + p.HouseholdID
}

// stepDeath registers the death (the card and the e-ID are revoked by
// their own consumers of dancu.person.died). A person already dead — an
// earlier attempt, or a death the register recorded first, from which
// the bundle was offered — is this step done.
func (s *Service) stepDeath(ctx context.Context, b Bundle) error {
	_, err := s.d.Register.RegisterDeath(ctx, s.sys, registry.DeathInput{PIN: b.SubjectPIN, DeathDate: b.Form["death_date"], Reason: "Hồ sơ liên thông " + b.Code})
	if err != nil {
		f, refused := refusal(err)
		if !refused {
			return err
		}
		if f.Code != registry.ErrAlreadyDead.Code {
			s.decideDossier(ctx, b, services.ActReject, f.Message)
			return s.conclude1(ctx, b.Code, StepDeath, Refused, "", f.Message)
		}
	}
	p, err := s.d.Register.Get(ctx, s.sys, b.SubjectPIN, "bundle-death")
	if err != nil {
		return err
	}
	s.decideDossier(ctx, b, services.ActApprove, "")
	s.decideDossier(ctx, b, services.ActReturn, "")
	return s.conclude1(ctx, b.Code, StepDeath, Done, "Đã đăng ký khai tử, ngày chết "+p.DeathDate.Display(), "")
}

// stepDeathResidence confirms the permanent residence was deleted with
// the death.
func (s *Service) stepDeathResidence(ctx context.Context, b Bundle) error {
	p, err := s.d.Register.Get(ctx, s.sys, b.SubjectPIN, "bundle-residence")
	if err != nil {
		return err
	}
	if p.Status != registry.Dead {
		return s.conclude1(ctx, b.Code, StepResidence, Refused, "", "Người này chưa được đăng ký khai tử")
	}
	return s.conclude1(ctx, b.Code, StepResidence, Done, "Đã xóa đăng ký thường trú từ ngày "+p.DeathDate.Display(), "")
}

// stepHousehold confirms the household no longer counts the deceased and
// names its head.
func (s *Service) stepHousehold(ctx context.Context, b Bundle) error {
	hh, err := s.formerHousehold(ctx, b.SubjectPIN)
	if err != nil {
		return err
	}
	if hh == "" {
		return s.conclude1(ctx, b.Code, StepHousehold, Done, "Người chết không thuộc hộ gia đình nào", "")
	}
	h, err := s.d.Register.Household(ctx, s.sys, hh)
	if err != nil {
		if f, refused := refusal(err); refused {
			return s.conclude1(ctx, b.Code, StepHousehold, Refused, "", f.Message)
		}
		return err
	}
	result := "Đã cập nhật hộ gia đình " + h.ID
	if h.HeadPIN != "" && h.HeadPIN != b.SubjectPIN {
		result += "; chủ hộ: " + h.HeadPIN
	}
	return s.conclude1(ctx, b.Code, StepHousehold, Done, result, "")
}

// formerHousehold is the household the person belonged to before the
// death closed the membership (the last version that names one).
func (s *Service) formerHousehold(ctx context.Context, pinText string) (string, error) {
	h, err := s.d.Register.History(ctx, s.sys, pinText)
	if err != nil {
		return "", err
	}
	best, bestV := "", -1
	for _, v := range h {
		if v.Person.HouseholdID != "" && v.Version > bestV {
			best, bestV = v.Person.HouseholdID, v.Version
		}
	}
	return best, nil
}

// Decide is a commune police officer's decision on a residence step in
// review: approve moves the child into the chosen household; refuse
// leaves the child with the parents (the birth stands) and tells the
// citizen what to do next. The officer's unit must cover the step's
// commune.
func (s *Service) Decide(ctx context.Context, ac actor.Actor, code, step string, approve bool, reason string) (Bundle, error) {
	b, err := s.load(ctx, s.d.DB.R, code)
	if err != nil {
		return Bundle{}, err
	}
	st, ok := b.Step(step)
	if !ok || !ac.Can(actor.DeskActs) || !ac.Covers(st.Province, st.Commune) {
		return Bundle{}, ErrNotFound
	}
	if st.Status != Review {
		return Bundle{}, ErrState
	}
	reason = strings.TrimSpace(reason)
	if !approve && (reason == "" || len(reason) > 1000) {
		return Bundle{}, fault.New(fault.Invalid, "bundle.reason", "Vui lòng nêu lý do (tối đa 1000 ký tự).", "Give a reason (at most 1000 characters).").WithField("reason")
	}
	if approve {
		head, err := s.d.Register.Get(ctx, s.sys, b.Form["head_pin"], "bundle-residence")
		if err != nil {
			return Bundle{}, err
		}
		rel := b.Form["relation_to_head"]
		if rel == "" {
			rel = "cháu"
		}
		moved, err := s.d.Register.RegisterMove(ctx, ac, registry.MoveInput{PIN: b.SubjectPIN, Date: todayText(s.d.Now()), Commune: head.Permanent.CommuneCode,
			Detail: head.Permanent.Detail, HouseholdID: head.HouseholdID, Relation: rel, Reason: "Hồ sơ liên thông " + b.Code})
		if err != nil {
			return Bundle{}, err
		}
		err = s.conclude1(ctx, code, step, Done, residenceText(moved), "")
		if err != nil {
			return Bundle{}, err
		}
	} else if err := s.conclude1(ctx, code, step, Refused, "", reason); err != nil {
		return Bundle{}, err
	}
	if err := s.d.Audit.Record(ctx, auditEntry(ac.ID, "bundle.decide", "person:"+b.SubjectPIN, "bundle:"+code)); err != nil {
		return Bundle{}, err
	}
	return s.load(ctx, s.d.DB.R, code)
}

var _ = exchange.Partner{}
