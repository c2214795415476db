package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/storage"
)

// MaxAmount bounds an amount: no administrative fee comes near a thousand
// billion đồng, and the bound keeps every sum inside int64.
const MaxAmount = 1_000_000_000_000

// Request asks for a dossier's fee to be paid.
type Request struct {
	Dossier     string // the dossier code (Circular 01/2018/TT-VPCP Art. 19)
	Amount      int64  // VND
	Payer       string // the paying account, e.g. "citizen:<pin>" or "org:<code>"
	Description string // shown on the gateway's page, e.g. "Lệ phí đăng ký tạm trú"
	ReturnURL   string // where the gateway sends the browser back
}

func (r Request) check() error {
	var l fault.List
	if r.Amount <= 0 || r.Amount > MaxAmount {
		l.Add("amount", ErrAmount)
	}
	if !code(r.Dossier) {
		l.Add("dossier", ErrDossier)
	}
	if r.Payer == "" {
		l.Add("payer", ErrPayer)
	} else if !line(r.Payer, 128) {
		l.Add("payer", ErrText)
	}
	if !line(r.Description, 200) {
		l.Add("description", ErrText)
	}
	if !line(r.ReturnURL, 2000) {
		l.Add("return_url", ErrText)
	}
	return l.Err()
}

// code accepts dossier codes: letters, digits, '.', '-' and '_', 1–64 long.
func code(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func line(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// Create opens the dossier's payment at the gateway and returns the intent,
// pending, with the page to send the payer to. Asking again while it is
// pending returns the same intent (a double submit pays once); a paid
// dossier is refused with payment.already_paid; an expired or failed
// intent gives way to a new one. When the gateway does not answer the
// intent stays created and a retry asks the gateway again, with the same
// intent id as its idempotency key.
func (s *Service) Create(ctx context.Context, r Request) (Intent, error) {
	if err := r.check(); err != nil {
		return Intent{}, err
	}
	now := s.now()
	var in Intent
	var err error
	for range 2 { // a concurrent create wins the unique index: read what it made
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			live, ok, err := s.liveTx(ctx, tx, r.Dossier)
			if err != nil {
				return err
			}
			if ok {
				switch live.State {
				case Paid, Refunded:
					return ErrAlreadyPaid
				case Created, Pending:
					if now.Before(live.ExpiresAt) {
						if live.Amount != r.Amount {
							return ErrAmountChanged
						}
						in = live
						return nil
					}
					live.State, live.UpdatedAt = Expired, now
					if err := s.update(ctx, tx, live); err != nil {
						return err
					}
				}
			}
			in = Intent{ID: storage.NewID(), Dossier: r.Dossier, Amount: r.Amount, Payer: r.Payer, Description: r.Description,
				State: Created, Gateway: s.gw.Name(), CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.ttl)}
			_, err = tx.ExecContext(ctx, `INSERT INTO payment_intents (id, dossier, amount, payer, description, state, gateway, created_at, updated_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)`,
				in.ID, in.Dossier, in.Amount, in.Payer, in.Description, string(in.State), in.Gateway, stamp(now), stamp(in.ExpiresAt))
			return err
		})
		if !storage.IsUniqueViolation(err) {
			break
		}
	}
	if err != nil {
		if _, ok := errors.AsType[*fault.Error](err); ok {
			return Intent{}, err
		}
		return Intent{}, fmt.Errorf("payment: create: %w", err)
	}
	if in.State != Created {
		return in, nil
	}
	gp, err := s.gw.Create(ctx, CreateRequest{IntentID: in.ID, Amount: in.Amount, Description: in.Description,
		ReturnURL: r.ReturnURL, CallbackURL: s.callbackURL, ExpiresAt: in.ExpiresAt})
	if err != nil {
		return in, ErrGateway.Wrap(err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.intentTx(ctx, tx, in.ID, true)
		if err != nil {
			return err
		}
		if cur.State == Created { // a callback may have overtaken this answer
			cur.State, cur.GatewayRef, cur.PayURL, cur.UpdatedAt = Pending, gp.Ref, gp.PayURL, s.now()
			if err := s.update(ctx, tx, cur); err != nil {
				return err
			}
		}
		in = cur
		return nil
	})
	return in, err
}

// Get returns an intent.
func (s *Service) Get(ctx context.Context, id string) (Intent, error) {
	return s.intentTx(ctx, s.db.R, id, false)
}

// ByDossier lists a dossier's intents, oldest first.
func (s *Service) ByDossier(ctx context.Context, dossier string) ([]Intent, error) {
	return s.list(ctx, `dossier = $1 ORDER BY created_at, id`, dossier)
}

// Receipt is the receipt of a paid (or since refunded) intent.
func (s *Service) Receipt(ctx context.Context, id string) (Receipt, error) {
	in, err := s.Get(ctx, id)
	if err != nil {
		return Receipt{}, err
	}
	if in.ReceiptNo == "" {
		return Receipt{}, ErrNoReceipt
	}
	return Receipt{Number: in.ReceiptNo, IntentID: in.ID, Dossier: in.Dossier, Amount: in.Amount, PaidAt: in.PaidAt,
		Method: in.Method, Gateway: in.Gateway, GatewayRef: in.GatewayRef, Refunded: in.State == Refunded}, nil
}

// HandleCallback applies a gateway callback and returns the intent as it
// now stands. A callback already applied, or one that repeats the intent's
// state, changes nothing and succeeds, so the gateway stops resending it.
// Refused, each audited as payment.callback_refused with the code as
// detail: a signature or freshness the gateway cannot vouch for
// (payment.callback_forged), an unknown intent (payment.callback_unknown),
// a reference or amount that differs from the intent's
// (payment.callback_mismatch), and a notice that contradicts the state —
// paid after failed, failed after paid (payment.callback_state). A refused
// callback leaves no trace but the audit entry, so a correct one later
// still applies.
func (s *Service) HandleCallback(ctx context.Context, header http.Header, body []byte) (Intent, error) {
	now := s.now()
	cb, err := s.gw.VerifyCallback(header, body, now)
	if err != nil {
		return Intent{}, s.refuse(ctx, "", ErrCallbackForged.Wrap(err))
	}
	var in Intent
	var refusal *fault.Error
	changed := false
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO payment_callbacks (gateway, event_id, intent_id, status, received_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (gateway, event_id) DO NOTHING`, s.gw.Name(), cb.EventID, cb.IntentID, cb.Status, stamp(now))
		if err != nil {
			return fmt.Errorf("payment: record callback: %w", err)
		}
		fresh, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if in, err = s.intentTx(ctx, tx, cb.IntentID, true); errors.Is(err, ErrNotFound) {
			refusal = ErrCallbackUnknown
			return refusal
		} else if err != nil {
			return err
		}
		if fresh == 0 {
			return nil // applied before
		}
		if in.Gateway != s.gw.Name() || (in.GatewayRef != "" && in.GatewayRef != cb.Ref) || in.Amount != cb.Amount {
			refusal = ErrCallbackDiffers
			return refusal
		}
		switch {
		case cb.Status == CallbackPaid && (in.State == Paid || in.State == Refunded),
			cb.Status == CallbackFailed && (in.State == Failed || in.State == Expired):
			return nil // the same news again under another event id
		case cb.Status == CallbackPaid && in.State != Failed:
			// Created, pending, or expired: money that arrives late is still
			// the payer's money and is taken.
			at := cb.At
			if at.IsZero() {
				at = now
			}
			if in.State == Expired {
				// The payer may have opened a new intent since: the late
				// money pays the dossier and the newer intent is closed. Two
				// payments of one dossier are a refusal; the reconciliation
				// then lists the second one for an officer to pay back.
				other, ok, err := s.liveTx(ctx, tx, in.Dossier)
				if err != nil {
					return err
				}
				if ok && (other.State == Paid || other.State == Refunded) {
					refusal = ErrCallbackState
					return refusal
				}
				if ok {
					other.State, other.FailReason, other.UpdatedAt = Failed, "superseded_by_late_payment", now
					if err := s.update(ctx, tx, other); err != nil {
						return err
					}
				}
			}
			if in.ReceiptNo, err = s.nextReceipt(ctx, tx, civildate.Of(at).String()); err != nil {
				return err
			}
			in.State, in.GatewayRef, in.Method, in.PaidAt = Paid, cb.Ref, cb.Method, at
		case cb.Status == CallbackFailed && (in.State == Created || in.State == Pending):
			in.State, in.GatewayRef, in.FailReason = Failed, cb.Ref, cb.Reason
		default:
			refusal = ErrCallbackState
			return refusal
		}
		changed = true
		in.UpdatedAt = now
		return s.update(ctx, tx, in)
	})
	if refusal != nil {
		return Intent{}, s.refuse(ctx, cb.IntentID, refusal)
	}
	if err != nil {
		return Intent{}, err
	}
	if changed {
		action := "payment.paid"
		if in.State == Failed {
			action = "payment.failed"
		}
		if err := s.audit.Record(ctx, audit.Entry{Actor: "gateway:" + s.gw.Name(), Action: action, Subject: "payment:" + in.ID,
			Purpose: "fee", Detail: "dossier=" + in.Dossier}); err != nil {
			return Intent{}, fmt.Errorf("payment: audit: %w", err)
		}
	}
	return in, nil
}

// refuse audits a refused callback and returns the refusal. When the entry
// cannot be written the caller gets an internal error instead, so the
// gateway sends the callback again and the refusal is audited then.
func (s *Service) refuse(ctx context.Context, intentID string, f *fault.Error) error {
	subject := "payment:unknown"
	if intentID != "" && code(intentID) {
		subject = "payment:" + intentID
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: "gateway:" + s.gw.Name(), Action: "payment.callback_refused", Subject: subject,
		Purpose: "fee", Detail: f.Code}); err != nil {
		return fmt.Errorf("payment: audit refused callback: %w", err)
	}
	return f
}

// FeeRule is what a procedure's fee says about a rejected dossier. A fee
// (lệ phí) for an act the state then does not perform is paid back; a
// charge (phí) for work already done — an appraisal, a search — is kept.
// The procedure catalogue says which applies.
type FeeRule struct {
	RefundOnRejection bool
}

// Refund pays a paid intent back through the gateway. Refunding a refunded
// intent returns it unchanged; the gateway's own idempotency on the
// payment's reference keeps two concurrent refunds to one.
func (s *Service) Refund(ctx context.Context, id, reason, by string) (Intent, error) {
	if !line(reason, 500) {
		return Intent{}, ErrText.WithField("reason")
	}
	if by == "" || !line(by, 128) { // the audit entry names who paid back
		return Intent{}, ErrText.WithField("by")
	}
	in, err := s.Get(ctx, id)
	if err != nil {
		return Intent{}, err
	}
	switch in.State {
	case Refunded:
		return in, nil
	case Paid:
	default:
		return Intent{}, ErrNotPaid
	}
	gr, err := s.gw.Refund(ctx, RefundRequest{Ref: in.GatewayRef, Amount: in.Amount, Reason: reason})
	if err != nil {
		return Intent{}, ErrGateway.Wrap(err)
	}
	now := s.now()
	changed := false
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if in, err = s.intentTx(ctx, tx, id, true); err != nil {
			return err
		}
		if in.State != Paid {
			return nil
		}
		at := gr.At
		if at.IsZero() {
			at = now
		}
		in.State, in.RefundRef, in.RefundReason, in.RefundedAt, in.UpdatedAt = Refunded, gr.Ref, reason, at, now
		changed = true
		return s.update(ctx, tx, in)
	})
	if err != nil {
		return Intent{}, err
	}
	if changed {
		if err := s.audit.Record(ctx, audit.Entry{Actor: by, Action: "payment.refund", Subject: "payment:" + in.ID, Purpose: "fee",
			Detail: "dossier=" + in.Dossier}); err != nil {
			return Intent{}, fmt.Errorf("payment: audit: %w", err)
		}
	}
	return in, nil
}

// Rejected settles the fee of a rejected dossier: a paid fee is refunded
// when rule says so (refunded reports it), an unpaid intent is closed as
// failed ("dossier_rejected") so no payment is taken for it. A dossier
// without a fee returns a zero Intent.
func (s *Service) Rejected(ctx context.Context, dossier string, rule FeeRule, by string) (in Intent, refunded bool, err error) {
	if !code(dossier) {
		return Intent{}, false, ErrDossier
	}
	live, ok, err := s.liveTx(ctx, s.db.R, dossier)
	if err != nil || !ok {
		return Intent{}, false, err
	}
	switch live.State {
	case Paid:
		if !rule.RefundOnRejection {
			return live, false, nil
		}
		in, err := s.Refund(ctx, live.ID, "Hồ sơ bị từ chối", by)
		return in, err == nil, err
	case Created, Pending:
		err = s.db.Tx(ctx, func(tx *sql.Tx) error {
			if in, err = s.intentTx(ctx, tx, live.ID, true); err != nil {
				return err
			}
			if in.State != Created && in.State != Pending {
				return nil
			}
			in.State, in.FailReason, in.UpdatedAt = Failed, "dossier_rejected", s.now()
			return s.update(ctx, tx, in)
		})
		return in, false, err
	}
	return live, false, nil
}

// Expire closes the intents whose time ran out before they were paid and
// returns how many. Run it periodically; Create also expires a dossier's
// stale intent on the spot.
func (s *Service) Expire(ctx context.Context) (int, error) {
	now := stamp(s.now())
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE payment_intents SET state = 'expired', updated_at = $1 WHERE state IN ('created', 'pending') AND expires_at <= $1`, now)
		if err != nil {
			return fmt.Errorf("payment: expire: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
