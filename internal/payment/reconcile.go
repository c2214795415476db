package payment

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/storage"
)

// MismatchKind names what is wrong between the statement and the intents.
type MismatchKind string

// Kinds of mismatch.
const (
	GatewayOnly   MismatchKind = "gateway_only" // in the gateway's statement, not recorded here for that day
	LocalOnly     MismatchKind = "local_only"   // recorded here, missing from the statement
	AmountDiffers MismatchKind = "amount"       // both sides have it, with different amounts
	Duplicate     MismatchKind = "duplicate"    // the statement has the movement more than once
)

// Mismatch is one difference found by Reconcile.
type Mismatch struct {
	Kind          MismatchKind `json:"kind"`
	Line          string       `json:"line"` // LinePayment or LineRefund
	Ref           string       `json:"ref"`
	IntentID      string       `json:"intent_id,omitempty"`
	Dossier       string       `json:"dossier,omitempty"`
	GatewayAmount int64        `json:"gateway_amount,omitempty"`
	LocalAmount   int64        `json:"local_amount,omitempty"`
	LocalState    State        `json:"local_state,omitempty"` // the intent's state, when there is one
	Count         int          `json:"count,omitempty"`       // times in the statement, for duplicates
}

// Report is one run of the daily reconciliation.
type Report struct {
	ID         string         `json:"id"`
	Gateway    string         `json:"gateway"`
	Day        civildate.Date `json:"day"`
	RanAt      time.Time      `json:"ran_at"`
	Lines      int            `json:"lines"`   // statement lines read
	Matched    int            `json:"matched"` // movements that agree
	Mismatches []Mismatch     `json:"mismatches"`
}

// Reconcile compares the gateway's statement of day (Vietnam's date) with
// the payments and refunds recorded here for that day, lists every
// mismatch, stores the run and audits it. It changes no intent: what to do
// about a mismatch is an officer's decision.
func (s *Service) Reconcile(ctx context.Context, day civildate.Date) (Report, error) {
	if day.Partial() || day.Valid() != nil {
		return Report{}, ErrText.WithField("day")
	}
	lines, err := s.gw.Statement(ctx, day)
	if err != nil {
		return Report{}, ErrGateway.Wrap(err)
	}
	name := s.gw.Name()
	from, to := stamp(day.Time()), stamp(day.Time().AddDate(0, 0, 1))
	paid, err := s.list(ctx, `gateway = $1 AND paid_at >= $2 AND paid_at < $3`, name, from, to)
	if err != nil {
		return Report{}, err
	}
	refunded, err := s.list(ctx, `gateway = $1 AND refunded_at >= $2 AND refunded_at < $3`, name, from, to)
	if err != nil {
		return Report{}, err
	}
	type key struct{ kind, ref string }
	local := map[key]Intent{}
	for _, in := range paid {
		local[key{LinePayment, in.GatewayRef}] = in
	}
	for _, in := range refunded {
		local[key{LineRefund, in.GatewayRef}] = in
	}
	rep := Report{ID: storage.NewID(), Gateway: name, Day: day, RanAt: s.now(), Lines: len(lines), Mismatches: []Mismatch{}}
	seen := map[key][]StatementLine{}
	var order []key
	for _, l := range lines {
		k := key{l.Kind, l.Ref}
		if _, ok := seen[k]; !ok {
			order = append(order, k)
		}
		seen[k] = append(seen[k], l)
	}
	for _, k := range order {
		ls := seen[k]
		l := ls[0]
		in, ok := local[k]
		if len(ls) > 1 {
			m := Mismatch{Kind: Duplicate, Line: k.kind, Ref: k.ref, IntentID: l.IntentID, GatewayAmount: l.Amount, Count: len(ls)}
			if ok {
				m.IntentID, m.Dossier, m.LocalAmount, m.LocalState = in.ID, in.Dossier, in.Amount, in.State
			}
			rep.Mismatches = append(rep.Mismatches, m)
		}
		switch {
		case !ok:
			m := Mismatch{Kind: GatewayOnly, Line: k.kind, Ref: k.ref, IntentID: l.IntentID, GatewayAmount: l.Amount}
			// Say what is known here about it: an intent failed or expired
			// here but paid there, or none at all.
			if other, err := s.list(ctx, `gateway = $1 AND gateway_ref = $2`, name, k.ref); err != nil {
				return Report{}, err
			} else if len(other) > 0 {
				m.IntentID, m.Dossier, m.LocalAmount, m.LocalState = other[0].ID, other[0].Dossier, other[0].Amount, other[0].State
			}
			rep.Mismatches = append(rep.Mismatches, m)
		case in.Amount != l.Amount:
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: AmountDiffers, Line: k.kind, Ref: k.ref, IntentID: in.ID, Dossier: in.Dossier,
				GatewayAmount: l.Amount, LocalAmount: in.Amount, LocalState: in.State})
		default:
			rep.Matched++
		}
	}
	for k, in := range local {
		if _, ok := seen[k]; !ok {
			rep.Mismatches = append(rep.Mismatches, Mismatch{Kind: LocalOnly, Line: k.kind, Ref: k.ref, IntentID: in.ID, Dossier: in.Dossier,
				LocalAmount: in.Amount, LocalState: in.State})
		}
	}
	sort.SliceStable(rep.Mismatches, func(i, j int) bool {
		a, b := rep.Mismatches[i], rep.Mismatches[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Ref != b.Ref {
			return a.Ref < b.Ref
		}
		return a.Line < b.Line
	})
	body, err := json.Marshal(rep.Mismatches)
	if err != nil {
		return Report{}, err
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO payment_reconciliations (id, gateway, day, ran_at, lines, matched, mismatches) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			rep.ID, name, day.String(), stamp(rep.RanAt), rep.Lines, rep.Matched, string(body))
		return err
	})
	if err != nil {
		return Report{}, fmt.Errorf("payment: store reconciliation: %w", err)
	}
	if err := s.audit.Record(ctx, audit.Entry{Actor: "system:payment", Action: "payment.reconcile", Subject: "reconciliation:" + rep.ID,
		Purpose: "fee", Detail: "day=" + day.String() + " mismatches=" + strconv.Itoa(len(rep.Mismatches))}); err != nil {
		return Report{}, fmt.Errorf("payment: audit: %w", err)
	}
	return rep, nil
}

// Reconciliations lists the stored runs of a day, latest first.
func (s *Service) Reconciliations(ctx context.Context, day civildate.Date) ([]Report, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, gateway, ran_at, lines, matched, mismatches FROM payment_reconciliations
		WHERE gateway = $1 AND day = $2 ORDER BY ran_at DESC`, s.gw.Name(), day.String())
	if err != nil {
		return nil, fmt.Errorf("payment: reconciliations: %w", err)
	}
	defer rows.Close()
	var out []Report
	for rows.Next() {
		r := Report{Day: day}
		var ran, body string
		if err := rows.Scan(&r.ID, &r.Gateway, &ran, &r.Lines, &r.Matched, &body); err != nil {
			return nil, fmt.Errorf("payment: reconciliations: %w", err)
		}
		r.RanAt = parseStamp(ran)
		if err := json.Unmarshal([]byte(body), &r.Mismatches); err != nil {
			return nil, fmt.Errorf("payment: reconciliations: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
