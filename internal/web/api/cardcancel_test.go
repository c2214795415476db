package api_test

import (
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestCardCancelAPI: an open application can be cancelled (applied or
// approved, for a known reason, by a registrar), after which the person
// can apply again instead of meeting 409 card.open_application forever; a
// produced card is not cancelled (revoke is the way).
func TestCardCancelAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 200)
			anon := &client{t: t, base: env.Server.URL}
			hn := anon.signIn("dangky.hanoi")
			leader := anon.signIn("lanhdao.hanoi")
			var pinText string
			if err := env.App.DB.R.QueryRow(`SELECT pin FROM persons WHERE perm_province = '01' AND status = 'alive' ORDER BY pin LIMIT 1`).Scan(&pinText); err != nil {
				t.Fatal(err)
			}
			cards := "/api/v1/persons/" + pinText + "/cards"
			var c cardJSON
			if st := hn.do("POST", cards, nil, &c); st != 201 {
				t.Fatalf("apply: %d", st)
			}
			cancel := "/api/v1/cards/" + c.Serial + "/cancel"
			hn.expectProblem("POST", cards, nil, 409, "card.open_application")
			hn.expectProblem("POST", cancel, map[string]string{"reason": "chán"}, 422, "card.cancel_reason")
			leader.expectProblem("POST", cancel, map[string]string{"reason": "withdrawn"}, 403, "forbidden")
			anon.expectProblem("POST", cancel, map[string]string{"reason": "withdrawn"}, 401, "unauthenticated")
			if st := hn.do("POST", cancel, map[string]string{"reason": "not_producible"}, &c); st != 200 || c.Status != "cancelled" || c.Reason != "not_producible" {
				t.Fatalf("cancel: %d %+v", st, c)
			}
			hn.expectProblem("POST", cancel, map[string]string{"reason": "withdrawn"}, 409, "card.bad_transition")
			if st := hn.do("POST", cards, nil, &c); st != 201 || c.Status != "applied" {
				t.Fatalf("apply after cancel: %d %+v", st, c)
			}
			for _, step := range []string{"approve", "produce"} {
				if st := hn.do("POST", "/api/v1/cards/"+c.Serial+"/"+step, nil, &c); st != 200 {
					t.Fatalf("%s: %d", step, st)
				}
			}
			hn.expectProblem("POST", "/api/v1/cards/"+c.Serial+"/cancel", map[string]string{"reason": "withdrawn"}, 409, "card.bad_transition")
		})
	}
}
