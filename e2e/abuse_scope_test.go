package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// scopeClient is a staff member of the JSON API.
type scopeClient struct {
	t     *testing.T
	base  string
	token string
}

// scopeSignIn signs a bootstrap account in.
func scopeSignIn(t *testing.T, base, user string) *scopeClient {
	t.Helper()
	c := &scopeClient{t: t, base: base}
	var tok struct{ Token string }
	if st, _ := c.call("POST", "/api/v1/sessions", map[string]string{"username": user, "password": apptest.Password}, &tok); st != 201 {
		t.Fatalf("sign in %s: %d", user, st)
	}
	c.token = tok.Token
	return c
}

// call sends a JSON request and returns the status and the raw answer,
// decoded into out when out is not nil.
func (c *scopeClient) call(method, path string, body, out any) (int, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, raw
}

// TestAbuseScopeRegistrar: the commune registrar of Ba Đình (dangky.badinh)
// attacks people outside the commune through a real server.
//
//   - The binary search over move dates that used to recover a birth date
//     in 16 requests ("date before birth" or not) now gets 16 identical 403
//     out_of_scope answers, the same as for a dead person and for a PIN of
//     nobody, and no read of the person is opened.
//   - A temporary residence in Ba Đình for an outsider without evidence is
//     403; with the QR of the outsider's own valid card, read at the desk,
//     it is 201 and the act's audit entry names the card.
func TestAbuseScopeRegistrar(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 300)
			db := env.App.DB
			base := env.Server.URL
			badinh := scopeSignIn(t, base, "dangky.badinh")
			admin := scopeSignIn(t, base, "admin")

			var outside, deadPIN string
			if err := db.R.QueryRow(`SELECT pin FROM persons WHERE perm_commune <> '00004' AND temp_commune = '' AND status = 'alive' AND relation <> 'Chủ hộ' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`).Scan(&outside); err != nil {
				t.Fatal(err)
			}
			if err := db.R.QueryRow(`SELECT pin FROM persons WHERE perm_commune <> '00004' AND status = 'alive' AND relation <> 'Chủ hộ' AND birth_date < '2025' AND pin <> $1 ORDER BY pin LIMIT 1`, outside).Scan(&deadPIN); err != nil {
				t.Fatal(err)
			}
			if st, raw := admin.call("POST", "/api/v1/deaths", map[string]string{"pin": deadPIN, "death_date": "01/01/2026"}, nil); st != 201 {
				t.Fatalf("admin registers a death: %d %s", st, raw)
			}

			// The binary search: 16 moves into Ba Đình with dates halving
			// 1900-01-01 … today, going up on "date before birth".
			lo, hi := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Now().UTC()
			var first []byte
			for i := range 16 {
				mid := lo.Add(hi.Sub(lo) / 2).Truncate(24 * time.Hour)
				st, raw := badinh.call("POST", "/api/v1/moves", map[string]string{"pin": outside, "date": mid.Format("02/01/2006"), "commune_code": "00004"}, nil)
				if st != 403 || !strings.Contains(string(raw), `"code":"out_of_scope"`) {
					t.Fatalf("probe %d (%s): %d %s", i, mid.Format("2006-01-02"), st, raw)
				}
				if first == nil {
					first = raw
				} else if !bytes.Equal(raw, first) {
					t.Fatalf("probe %d answers differently:\n%s\n%s", i, raw, first)
				}
				if strings.Contains(string(raw), "before_birth") {
					lo = mid
				} else {
					hi = mid
				}
			}
			// A dead person, a PIN of nobody, a date that is no date: the same answer.
			for _, body := range []map[string]string{
				{"pin": deadPIN, "date": "01/01/2000", "commune_code": "00004"},
				{"pin": "001183999999", "date": "01/01/2000", "commune_code": "00004"},
				{"pin": outside, "date": "hôm qua", "commune_code": "00004"},
				{"pin": outside, "date": "01/01/1800", "commune_code": "99999"},
			} {
				if st, raw := badinh.call("POST", "/api/v1/moves", body, nil); st != 403 || !bytes.Equal(raw, first) {
					t.Fatalf("move %v: %d %s", body, st, raw)
				}
			}
			// Then the history read and the death the old hole allowed.
			for _, probe := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/api/v1/persons/" + outside + "/history", nil},
				{"POST", "/api/v1/deaths", map[string]string{"pin": outside, "death_date": "01/01/2026"}},
				{"POST", "/api/v1/temporary-residences", map[string]string{"pin": outside, "commune_code": "00004", "from": "01/04/2026", "to": "01/01/2027"}},
			} {
				if st, raw := badinh.call(probe.method, probe.path, probe.body, nil); st != 403 || !strings.Contains(string(raw), `"code":"out_of_scope"`) {
					t.Fatalf("%s %s: %d %s", probe.method, probe.path, st, raw)
				}
			}
			var opened int
			env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'staff:dangky.badinh' AND subject IN ($1, $2)`, "person:"+outside, "person:"+deadPIN).Scan(&opened)
			if opened != 0 {
				t.Fatalf("the attempts opened %d audited reads or acts", opened)
			}

			// The outsider comes to the desk with their own card.
			var card struct {
				Serial string `json:"serial"`
				QR     string `json:"qr"`
			}
			if st, raw := admin.call("POST", "/api/v1/persons/"+outside+"/cards", nil, &card); st != 201 {
				t.Fatalf("apply card: %d %s", st, raw)
			}
			for _, step := range []string{"approve", "produce", "hand-over"} {
				if st, raw := admin.call("POST", "/api/v1/cards/"+card.Serial+"/"+step, nil, &card); st != 200 {
					t.Fatalf("%s: %d %s", step, st, raw)
				}
			}
			stay := map[string]any{"pin": outside, "commune_code": "00004", "address_detail": "Nhà trọ số 3",
				"from": time.Now().AddDate(0, 0, -30).Format("02/01/2006"), "to": time.Now().AddDate(1, 0, 0).Format("02/01/2006"),
				"arrival": map[string]string{"card_qr": card.QR}}
			if st, raw := badinh.call("POST", "/api/v1/temporary-residences", stay, nil); st != 201 {
				t.Fatalf("temporary residence on the card's QR: %d %s", st, raw)
			}
			var detail string
			env.App.AuditDB.R.QueryRow(`SELECT detail FROM audit_log WHERE actor = 'staff:dangky.badinh' AND action = 'person.temporary_residence' AND subject = $1`, "person:"+outside).Scan(&detail)
			if !strings.Contains(detail, "arrival=card_qr:"+outside) {
				t.Fatalf("the act's audit entry does not name the card: %q", detail)
			}
			// The same card does not bring in the dead person.
			stay["pin"] = deadPIN
			if st, raw := badinh.call("POST", "/api/v1/temporary-residences", stay, nil); st != 403 || !strings.Contains(string(raw), `"code":"out_of_scope"`) {
				t.Fatalf("another person's card: %d %s", st, raw)
			}
		})
	}
}
