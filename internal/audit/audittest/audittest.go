// Package audittest holds what tests of the audit log's tamper evidence
// share: the rewrite an attacker with write access to the database does.
package audittest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/storage"
)

// RewriteChain does what an attacker with write access to the database
// does: changes entry from's purpose, keeps only entries up to upto (0: all)
// and recomputes every hash after it and the head, so the chain agrees with
// itself.
func RewriteChain(t testing.TB, db *storage.DB, from, upto int64) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.R.QueryContext(ctx, `SELECT seq, at, actor, action, subject, purpose, detail, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var es []audit.Entry
	for rows.Next() {
		var e audit.Entry
		var at string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Subject, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			t.Fatal(err)
		}
		e.At, _ = time.Parse(time.RFC3339Nano, at)
		es = append(es, e)
	}
	rows.Close()
	err = db.Tx(ctx, func(tx *sql.Tx) error {
		if upto > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM audit_log WHERE seq > $1`, upto); err != nil {
				return err
			}
			es = es[:upto]
		}
		prev := ""
		for i := range es {
			e := &es[i]
			if e.Seq == from {
				e.Purpose = "nothing-to-see"
			}
			e.PrevHash = prev
			e.Hash = e.ChainHash()
			prev = e.Hash
			if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET purpose = $1, prev_hash = $2, hash = $3 WHERE seq = $4`, e.Purpose, e.PrevHash, e.Hash, e.Seq); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1`, es[len(es)-1].Seq, prev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
