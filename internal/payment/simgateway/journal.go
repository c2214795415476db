package simgateway

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dancu-project/dancu/internal/payment"
)

// The journal keeps what a real gateway keeps across its restarts: the
// money that moved (its statement lines), the payments it took and the
// refunds it made. Without it, a development server restarted during the
// day would reconcile that day against an empty statement and report
// every payment as missing at the gateway, and could not refund a payment
// taken before the restart. Payments still waiting for the payer are not
// journaled: a restarted gateway has forgotten them, and the platform
// opens a new intent (the old one expires).
type journalEntry struct {
	Line   *payment.StatementLine `json:"line,omitempty"`
	Paid   *pay                   `json:"paid,omitempty"`
	Refund *refundEntry           `json:"refund,omitempty"`
}

type refundEntry struct {
	PaymentRef string                `json:"payment_ref"`
	Refund     payment.GatewayRefund `json:"refund"`
}

// journal appends e to the journal file, when there is one. Called with
// s.mu held, so entries are in the order the lines were added.
func (s *Server) journal(e journalEntry) {
	if s.cfg.Journal == "" {
		return
	}
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	f, err := os.OpenFile(s.cfg.Journal, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		s.journalErr = err
		return
	}
	defer f.Close()
	if _, err := f.Write(append(b, '\n')); err != nil {
		s.journalErr = err
	}
}

// replay reads the journal back at start.
func (s *Server) replay() error {
	if s.cfg.Journal == "" {
		return nil
	}
	f, err := os.Open(s.cfg.Journal)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("simgateway: journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var e journalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A line cut short by a crash mid-write is the last one; one
			// elsewhere means the file is not a journal.
			if !sc.Scan() {
				break
			}
			return fmt.Errorf("simgateway: journal line %d: %w", n, err)
		}
		if e.Line != nil {
			s.lines = append(s.lines, *e.Line)
		}
		if e.Paid != nil {
			p := *e.Paid
			s.pays[p.Ref], s.byIntent[p.IntentID] = &p, p.Ref
		}
		if e.Refund != nil {
			s.refunds[e.Refund.PaymentRef] = e.Refund.Refund
		}
	}
	return sc.Err()
}

// JournalErr is the last failure to write the journal (nil: none), for the
// development server's health.
func (s *Server) JournalErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.journalErr
}
