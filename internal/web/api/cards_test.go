package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestCardAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testCardAPI(t, d) })
	}
}

type cardJSON struct {
	Serial       string `json:"serial"`
	PIN          string `json:"pin"`
	Status       string `json:"status"`
	QR           string `json:"qr"`
	SignerSerial string `json:"signer_serial"`
	Reason       string `json:"reason"`
}

type reportJSON struct {
	OK         bool   `json:"ok"`
	Compared   bool   `json:"compared"`
	CardStatus string `json:"card_status"`
	Checks     []struct {
		Code, Status, Message, English string
	} `json:"checks"`
}

func (r reportJSON) check(code string) (status, message string) {
	for _, c := range r.Checks {
		if c.Code == code {
			return c.Status, c.Message
		}
	}
	return "", ""
}

// raw fetches a path and returns status, content type and body.
func (c *client) raw(path string) (int, string, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

func testCardAPI(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 400)
	db := env.App.DB
	anon := &client{t: t, base: env.Server.URL}
	hn := anon.signIn("dangky.hanoi")
	leader := anon.signIn("lanhdao.hanoi")
	var pinText string
	if err := db.R.QueryRow(`SELECT pin FROM persons WHERE perm_province = '01' AND status = 'alive' AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`).Scan(&pinText); err != nil {
		t.Fatal(err)
	}
	cards := "/api/v1/persons/" + pinText + "/cards"
	leader.expectProblem("POST", cards, nil, 403, "forbidden")
	anon.expectProblem("POST", cards, nil, 401, "unauthenticated")

	var c cardJSON
	if st := hn.do("POST", cards, nil, &c); st != 201 || c.Status != "applied" || c.PIN != pinText {
		t.Fatalf("apply: %d %+v", st, c)
	}
	hn.expectProblem("POST", cards, nil, 409, "card.open_application")
	hn.expectProblem("POST", "/api/v1/cards/"+c.Serial+"/hand-over", nil, 409, "card.bad_transition")
	hn.expectProblem("POST", "/api/v1/cards/NOPE/approve", nil, 404, "card.not_found")
	hn.expectProblem("GET", "/api/v1/cards/"+c.Serial+"/chip", nil, 404, "card.no_chip")
	for _, step := range []string{"approve", "produce"} {
		if st := hn.do("POST", "/api/v1/cards/"+c.Serial+"/"+step, nil, &c); st != 200 {
			t.Fatalf("%s: %d", step, st)
		}
	}
	if c.Status != "produced" || c.SignerSerial == "" || c.QR == "" {
		t.Fatalf("produced: %+v", c)
	}

	// The chip dump, posted back as is, verifies; anonymously only the
	// card's own checks, signed in also against the register.
	var chip json.RawMessage
	if st := hn.do("GET", "/api/v1/cards/"+c.Serial+"/chip", nil, &chip); st != 200 {
		t.Fatalf("chip: %d", st)
	}
	var rep reportJSON
	if st := anon.do("POST", "/api/v1/card/verify", string(chip), &rep); st != 200 || !rep.OK || rep.Compared {
		t.Fatalf("anonymous verify: %d %+v", st, rep)
	}
	if st := hn.do("POST", "/api/v1/card/verify", string(chip), &rep); st != 200 || !rep.OK || !rep.Compared {
		t.Fatalf("staff verify: %d %+v", st, rep)
	}
	if st, _ := rep.check("compare"); st != "pass" {
		t.Fatalf("comparison with the register: %+v", rep)
	}
	if st := anon.do("POST", "/api/v1/card/verify", map[string]string{"qr": c.QR}, &rep); st != 200 || !rep.OK {
		t.Fatalf("qr verify: %d %+v", st, rep)
	}
	if st, ct, png := hn.raw("/api/v1/cards/" + c.Serial + "/qr.png"); st != 200 || ct != "image/png" || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("qr.png: %d %s", st, ct)
	}
	// Rendered card: PNG front and back, PDF preview; never cached, each
	// download audited as a read of the holder's record; staff only.
	for name, want := range map[string][2]string{
		"front.png":   {"image/png", "\x89PNG"},
		"back.png":    {"image/png", "\x89PNG"},
		"preview.pdf": {"application/pdf", "%PDF-1.4"},
	} {
		path := "/api/v1/cards/" + c.Serial + "/" + name
		req, _ := http.NewRequest("GET", env.Server.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+hn.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want[0] || resp.Header.Get("Cache-Control") != "no-store" || !bytes.HasPrefix(b, []byte(want[1])) {
			t.Fatalf("%s: %d %s %q", name, resp.StatusCode, resp.Header, b[:min(len(b), 16)])
		}
		var n int
		purpose := "card-" + strings.TrimSuffix(strings.TrimSuffix(name, ".png"), ".pdf")
		if err := env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'person.read' AND purpose = $1 AND subject = $2`, purpose, "person:"+pinText).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%s: %d audited reads (%v)", name, n, err)
		}
		if st, _, _ := anon.raw(path); st != 401 {
			t.Fatalf("anonymous %s: %d", name, st)
		}
	}
	for path, ct := range map[string]string{"/api/v1/card/pki/master-list": "application/pkcs7-mime", "/api/v1/card/pki/crl": "application/pkix-crl"} {
		if st, got, b := anon.raw(path); st != 200 || got != ct || len(b) < 100 {
			t.Fatalf("%s: %d %s %d bytes", path, st, got, len(b))
		}
	}

	// Bad input: clear problems or failed checks, never a panic, nothing written.
	var dump struct {
		DataGroups map[string][]byte `json:"data_groups"`
		SOD        []byte            `json:"sod"`
	}
	json.Unmarshal(chip, &dump)
	truncated := map[string]any{"data_groups": map[string][]byte{"1": dump.DataGroups["1"], "13": dump.DataGroups["13"][:10]}, "sod": dump.SOD}
	swapped := map[string]any{"data_groups": map[string][]byte{"1": dump.DataGroups["13"], "13": dump.DataGroups["1"]}, "sod": dump.SOD}
	var before, after int
	db.R.QueryRow(`SELECT count(*) FROM card_history`).Scan(&before)
	anon.expectProblem("POST", "/api/v1/card/verify", `{"data_groups": `, 400, "request.malformed_json")
	anon.expectProblem("POST", "/api/v1/card/verify", `{"sod": "not base64!"}`, 400, "request.malformed_json")
	anon.expectProblem("POST", "/api/v1/card/verify", `{"surprise": 1}`, 400, "request.malformed_json")
	anon.expectProblem("POST", "/api/v1/card/verify", `{}`, 422, "card.verify.input")
	anon.expectProblem("POST", "/api/v1/card/verify", map[string]any{"qr": c.QR, "sod": dump.SOD}, 422, "card.verify.input")
	anon.expectProblem("POST", "/api/v1/card/verify", map[string]any{"data_groups": map[string]string{"0": "AQ=="}, "sod": dump.SOD}, 422, "card.chip.invalid")
	anon.expectProblem("POST", "/api/v1/card/verify", `{"data_groups": {"x": "AQ=="}, "sod": "AQ=="}`, 400, "request.malformed_json")
	anon.expectProblem("POST", "/api/v1/card/verify", `{"qr": "`+strings.Repeat("A", 2<<20)+`"}`, 413, "request.too_large")
	for _, tc := range []struct {
		name, failing string
		body          any
	}{
		{"truncated DG13", "dg13.hash", truncated},
		{"swapped DG1/DG13", "dg1.hash", swapped},
	} {
		if st := anon.do("POST", "/api/v1/card/verify", tc.body, &rep); st != 200 || rep.OK {
			t.Fatalf("%s: %d %+v", tc.name, st, rep)
		}
		if st, _ := rep.check(tc.failing); st != "fail" {
			t.Fatalf("%s: %s not failed: %+v", tc.name, tc.failing, rep)
		}
	}
	garbageSOD := map[string]any{"data_groups": dump.DataGroups, "sod": base64.StdEncoding.EncodeToString([]byte("not an SOD"))}
	if st := anon.do("POST", "/api/v1/card/verify", garbageSOD, &rep); st != 200 || rep.OK {
		t.Fatalf("garbage SOD: %d %+v", st, rep)
	}
	if db.R.QueryRow(`SELECT count(*) FROM card_history`).Scan(&after); after != before {
		t.Fatal("verification wrote card history")
	}

	// Hand over, revoke; the same chip now fails with the reason.
	hn.expectProblem("POST", "/api/v1/cards/"+c.Serial+"/revoke", map[string]string{"reason": "chán"}, 422, "card.reason")
	hn.do("POST", "/api/v1/cards/"+c.Serial+"/hand-over", nil, &c)
	if st := hn.do("POST", "/api/v1/cards/"+c.Serial+"/revoke", map[string]string{"reason": "loss"}, &c); st != 200 || c.Status != "revoked" || c.Reason != "loss" {
		t.Fatalf("revoke: %d %+v", st, c)
	}
	if st := anon.do("POST", "/api/v1/card/verify", string(chip), &rep); st != 200 || rep.OK || rep.CardStatus != "revoked" {
		t.Fatalf("verify revoked: %d %+v", st, rep)
	}
	if st, msg := rep.check("card.register"); st != "fail" || !strings.HasPrefix(msg, "Thẻ đã bị thu hồi") {
		t.Fatalf("revocation reason: %s %q", st, msg)
	}
	if st, _ := rep.check("card.revoked"); st != "fail" {
		t.Fatalf("revocation list: %+v", rep)
	}
	var list struct {
		Items   []cardJSON        `json:"items"`
		History []json.RawMessage `json:"history"`
	}
	if st := hn.do("GET", cards, nil, &list); st != 200 || len(list.Items) != 1 || len(list.History) != 5 {
		t.Fatalf("card history: %d %d cards %d entries", st, len(list.Items), len(list.History))
	}

	// A registered death revokes the card through dancu.person.died.
	var deadPIN string
	if err := db.R.QueryRow(`SELECT pin FROM persons WHERE perm_province = '01' AND status = 'alive' AND relation <> 'Chủ hộ' AND birth_date < '2000' AND length(birth_date) = 10 AND pin <> $1 ORDER BY pin LIMIT 1`, pinText).Scan(&deadPIN); err != nil {
		t.Fatal(err)
	}
	var dc cardJSON
	hn.do("POST", "/api/v1/persons/"+deadPIN+"/cards", nil, &dc)
	for _, step := range []string{"approve", "produce", "hand-over"} {
		if st := hn.do("POST", "/api/v1/cards/"+dc.Serial+"/"+step, nil, &dc); st != 200 {
			t.Fatalf("%s: %d", step, st)
		}
	}
	if st := hn.do("POST", "/api/v1/deaths", map[string]string{"pin": deadPIN, "death_date": "01/01/2026"}, nil); st != 201 {
		t.Fatalf("death: %d", st)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		hn.do("GET", "/api/v1/cards/"+dc.Serial, nil, &dc)
		if dc.Status == "revoked" && dc.Reason == "death" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("card not revoked after the death: %+v", dc)
		}
		time.Sleep(50 * time.Millisecond)
	}
	assertNoPersonalDataInLogs(t, env)
}
