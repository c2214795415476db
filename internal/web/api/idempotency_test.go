package api_test

import (
	"sync"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestActIdempotencyKey: a registrar whose answer to a birth was lost sends
// it again with the same Idempotency-Key and gets the same child, not a
// second PIN; the same key with another birth is refused; concurrent sends
// of one key register one child.
func TestActIdempotencyKey(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			db := env.App.DB
			hn := (&client{t: t, base: env.Server.URL}).signIn("dangky.hanoi")
			var hh string
			if err := db.R.QueryRow(`SELECT household_id FROM persons WHERE perm_province = '01' AND status = 'alive' AND relation = 'Chủ hộ' ORDER BY pin LIMIT 1`).Scan(&hh); err != nil {
				t.Fatal(err)
			}
			count := func() (n int) {
				db.R.QueryRow(`SELECT count(*) FROM persons WHERE household_id = $1`, hh).Scan(&n)
				return n
			}
			before := count()
			birth := map[string]string{"full_name": "Trần Thị Hoa", "sex": "F", "birth_date": "02/03/2026", "household_id": hh}
			var first, again struct{ PIN string }

			hn.key = "bad key!"
			hn.expectProblem("POST", "/api/v1/births", birth, 422, "request.idempotency_key")

			hn.key = "birth-0001-hoa"
			if st := hn.do("POST", "/api/v1/births", birth, &first); st != 201 || first.PIN == "" || hn.replayed != "" {
				t.Fatalf("first birth: %d %+v replayed=%q", st, first, hn.replayed)
			}
			if st := hn.do("POST", "/api/v1/births", birth, &again); st != 201 || again.PIN != first.PIN || hn.replayed != "true" {
				t.Fatalf("replayed birth: %d %+v replayed=%q, want %s", st, again, hn.replayed, first.PIN)
			}
			if n := count(); n != before+1 {
				t.Fatalf("household grew by %d, want 1", n-before)
			}
			hn.expectProblem("POST", "/api/v1/births", map[string]string{"full_name": "Trần Văn Nam", "sex": "M", "birth_date": "02/03/2026", "household_id": hh}, 409, "request.idempotency_reused")

			// Another registrar's key space is its own.
			badinh := (&client{t: t, base: env.Server.URL}).signIn("dangky.badinh")
			badinh.key = hn.key
			badinh.expectProblem("POST", "/api/v1/births", map[string]string{"full_name": "Trần Văn Nam"}, 422, "sex.invalid")

			// Five concurrent sends of one key: one child, every answer its PIN.
			twin := map[string]any{"full_name": "Trần Văn Minh", "sex": "M", "birth_date": "02/03/2026", "household_id": hh, "confirm_twin": true}
			var wg sync.WaitGroup
			pins := make([]string, 5)
			for i := range pins {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := &client{t: t, base: hn.base, token: hn.token, key: "birth-0002-minh"}
					var out struct{ PIN string }
					if st := c.do("POST", "/api/v1/births", twin, &out); st != 201 {
						t.Errorf("concurrent birth: %d", st)
					}
					pins[i] = out.PIN
				}()
			}
			wg.Wait()
			if n := count(); n != before+2 {
				t.Fatalf("concurrent sends of one key registered %d children, want 1", n-before-1)
			}
			var got string
			for _, p := range pins {
				if p != "" && got != "" && p != got {
					t.Fatalf("concurrent answers name two PINs: %v", pins)
				}
				if p != "" {
					got = p
				}
			}
		})
	}
}
