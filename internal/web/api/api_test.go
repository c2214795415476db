package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/fold"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/problem"
)

type client struct {
	t     *testing.T
	base  string
	token string
	// key is sent as the Idempotency-Key header when set.
	key string
	// replayed is the last answer's Idempotent-Replayed header.
	replayed string
}

// do sends a request and decodes the JSON answer into out (when not nil).
func (c *client) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.key != "" {
		req.Header.Set("Idempotency-Key", c.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.replayed = resp.Header.Get("Idempotent-Replayed")
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		c.t.Errorf("%s %s: status %d without problem JSON: %s", method, path, resp.StatusCode, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

func (c *client) signIn(user string) *client {
	var tok struct{ Token string }
	if st := c.do("POST", "/api/v1/sessions", map[string]string{"username": user, "password": apptest.Password}, &tok); st != 201 {
		c.t.Fatalf("sign in %s: %d", user, st)
	}
	return &client{t: c.t, base: c.base, token: tok.Token}
}

// expectProblem checks status and stable code of a refused request.
func (c *client) expectProblem(method, path string, body any, status int, code string) {
	c.t.Helper()
	var p problem.Problem
	got := c.do(method, path, body, &p)
	codes := []string{p.Code}
	for _, e := range p.Errors {
		codes = append(codes, e.Code)
	}
	if got != status || !contains(codes, code) {
		c.t.Errorf("%s %s: %d %v, want %d %s", method, path, got, codes, status, code)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testAPI(t, d) })
	}
}

func testAPI(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 400)
	db := env.App.DB
	anon := &client{t: t, base: env.Server.URL}
	anon.expectProblem("POST", "/api/v1/sessions", map[string]string{"username": "dangky.hanoi", "password": "sai mật khẩu"}, 401, "auth.bad_credentials")
	anon.expectProblem("POST", "/api/v1/sessions", map[string]string{"username": "không.có.ai", "password": "sai mật khẩu"}, 401, "auth.bad_credentials")
	anon.expectProblem("GET", "/api/v1/persons?q=an", nil, 401, "unauthenticated")
	anon.expectProblem("GET", "/api/v1/nothing-here", nil, 404, "route.not_found")
	hn := anon.signIn("dangky.hanoi")
	badinh := anon.signIn("dangky.badinh")
	leader := anon.signIn("lanhdao.hanoi")

	// A seeded person of Hà Nội, and one elsewhere.
	var hnPIN, hnName, farPIN string
	if err := db.R.QueryRow(`SELECT pin, full_name FROM persons WHERE perm_province = '01' AND status = 'alive' AND relation = 'Chủ hộ' ORDER BY pin LIMIT 1`).Scan(&hnPIN, &hnName); err != nil {
		t.Fatal(err)
	}
	db.R.QueryRow(`SELECT pin FROM persons WHERE perm_province <> '01' ORDER BY pin LIMIT 1`).Scan(&farPIN)

	var page struct {
		Items []struct {
			PIN      string `json:"pin"`
			FullName string `json:"full_name"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if st := hn.do("GET", "/api/v1/persons?q="+urlq(fold.String(hnName)), nil, &page); st != 200 || !hasPIN(page.Items, hnPIN) {
		t.Fatalf("search without diacritics: %d %+v", st, page)
	}
	var person struct {
		PIN      string `json:"pin"`
		FullName string `json:"full_name"`
		Version  int    `json:"version"`
		Perm     struct {
			Text string `json:"text"`
		} `json:"permanent_residence"`
		HouseholdID string `json:"household_id"`
	}
	if st := hn.do("GET", "/api/v1/persons/"+hnPIN+"?purpose=test", nil, &person); st != 200 || person.FullName != hnName || !strings.Contains(person.Perm.Text, "Hà Nội") {
		t.Fatalf("get person: %d %+v", st, person)
	}
	var audited int
	env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'staff:dangky.hanoi' AND action = 'person.read' AND subject = $1 AND purpose = 'test'`, "person:"+hnPIN).Scan(&audited)
	if audited != 1 {
		t.Fatalf("API read audited %d times", audited)
	}
	hn.expectProblem("GET", "/api/v1/persons/"+farPIN, nil, 403, "out_of_scope")
	// To a staff member scoped to a unit, nobody and someone elsewhere answer alike.
	hn.expectProblem("GET", "/api/v1/persons/001099999999", nil, 403, "out_of_scope")
	hn.expectProblem("GET", "/api/v1/persons/12345", nil, 422, "pin.length")
	hn.expectProblem("GET", "/api/v1/persons/003090123456", nil, 422, "pin.province")
	hn.expectProblem("GET", "/api/v1/persons?birth_date=31/02/1990", nil, 422, "date.impossible")
	hn.expectProblem("GET", "/api/v1/persons", nil, 422, "search.empty")

	// Birth: bad input first; nothing may be written.
	var before int
	db.R.QueryRow(`SELECT count(*) FROM persons`).Scan(&before)
	birth := map[string]string{"full_name": "Nguyễn Thị Bé", "sex": "F", "birth_date": "01/03/2026", "household_id": person.HouseholdID}
	hn.expectProblem("POST", "/api/v1/births", `{"full_name": "Bé"`, 400, "request.malformed_json")
	hn.expectProblem("POST", "/api/v1/births", `{"full_name": "Bé", "colour": "blue"}`, 400, "request.malformed_json")
	hn.expectProblem("POST", "/api/v1/births", `{"full_name": "Bé"} {"again": 1}`, 400, "request.malformed_json")
	hn.expectProblem("POST", "/api/v1/births", `{"full_name": "`+strings.Repeat("a", 70000)+`"}`, 413, "request.too_large")
	hn.expectProblem("POST", "/api/v1/births", with(birth, "birth_date", "29/02/2026"), 422, "date.impossible")
	hn.expectProblem("POST", "/api/v1/births", with(birth, "household_id", "không-có"), 404, "household.not_found")
	leader.expectProblem("POST", "/api/v1/births", birth, 403, "forbidden")
	var after int
	db.R.QueryRow(`SELECT count(*) FROM persons`).Scan(&after)
	if after != before {
		t.Fatalf("refused births wrote %d persons", after-before)
	}
	var child struct {
		PIN         string `json:"pin"`
		HouseholdID string `json:"household_id"`
	}
	if st := hn.do("POST", "/api/v1/births", birth, &child); st != 201 || child.HouseholdID != person.HouseholdID {
		t.Fatalf("birth: %d %+v", st, child)
	}
	if p, err := pin.Parse(child.PIN); err != nil || p.BirthYear() != 2026 || p.Sex() != pin.Female || p.Province() != "001" {
		t.Fatalf("child PIN %q: %v", child.PIN, err)
	}
	var hh struct {
		Members []struct {
			PIN string `json:"pin"`
		} `json:"members"`
	}
	hn.do("GET", "/api/v1/households/"+child.HouseholdID, nil, &hh)
	found := false
	for _, m := range hh.Members {
		found = found || m.PIN == child.PIN
	}
	if !found {
		t.Fatal("child is not in the household")
	}
	// Death, twice.
	if st := hn.do("POST", "/api/v1/deaths", map[string]string{"pin": child.PIN, "death_date": "02/03/2026", "reason": "Thử nghiệm"}, nil); st != 201 {
		t.Fatalf("death: %d", st)
	}
	hn.expectProblem("POST", "/api/v1/deaths", map[string]string{"pin": child.PIN, "death_date": "03/03/2026"}, 409, "person.already_dead")
	var events struct {
		Items []struct{ Kind string } `json:"items"`
	}
	hn.do("GET", "/api/v1/persons/"+child.PIN+"/events", nil, &events)
	if len(events.Items) != 2 || events.Items[0].Kind != "death" {
		t.Fatalf("events: %+v", events)
	}
	var hist struct {
		Items []struct{ Version int } `json:"items"`
	}
	hn.do("GET", "/api/v1/persons/"+child.PIN+"/history", nil, &hist)
	if len(hist.Items) != 2 || hist.Items[0].Version != 2 {
		t.Fatalf("history: %+v", hist)
	}
	// The commune registrar cannot see a Hà Nội person outside Ba Đình.
	var outside string
	db.R.QueryRow(`SELECT pin FROM persons WHERE perm_province = '01' AND perm_commune <> '00004' LIMIT 1`).Scan(&outside)
	badinh.expectProblem("GET", "/api/v1/persons/"+outside, nil, 403, "out_of_scope")
	badinh.expectProblem("POST", "/api/v1/deaths", map[string]string{"pin": outside, "death_date": "02/03/2026"}, 403, "out_of_scope")

	// Administrative units, public.
	var units struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	}
	if anon.do("GET", "/api/v1/units/provinces", nil, &units); len(units.Items) != 34 {
		t.Fatalf("%d provinces now", len(units.Items))
	}
	if anon.do("GET", "/api/v1/units/provinces?on=2024-01-01", nil, &units); len(units.Items) != 63 {
		t.Fatalf("%d provinces in 2024", len(units.Items))
	}
	var commune struct {
		Name    string `json:"name"`
		Current []struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"current"`
	}
	// Phường Quán Thánh (00013) was merged whole into Phường Ba Đình (00004).
	if anon.do("GET", "/api/v1/units/communes/00013?on=2023-05-01", nil, &commune); commune.Name != "Phường Quán Thánh" || len(commune.Current) == 0 || commune.Current[0].Code != "00004" {
		t.Fatalf("old address: %+v", commune)
	}
	anon.expectProblem("GET", "/api/v1/units/communes/00013", nil, 404, "unit.not_found")
	anon.expectProblem("GET", "/api/v1/units/communes/00004?on=hôm-nay", nil, 422, "date.format")
	if anon.do("GET", "/api/v1/units/search?q=ba+dinh", nil, &units); len(units.Items) == 0 || units.Items[0].Code != "00004" {
		t.Fatalf("unit search: %+v", units)
	}
	var check struct {
		BirthYear int    `json:"birth_year"`
		Sex       string `json:"sex"`
	}
	if anon.do("GET", "/api/v1/pins/079203000001", nil, &check); check.BirthYear != 2003 || check.Sex != "M" {
		t.Fatalf("pin check: %+v", check)
	}
	anon.expectProblem("GET", "/api/v1/pins/079603000001", nil, 422, "pin.century_sex")

	// Sign-out revokes the token.
	if st := hn.do("DELETE", "/api/v1/sessions", nil, nil); st != 204 {
		t.Fatalf("sign out: %d", st)
	}
	hn.expectProblem("GET", "/api/v1/persons/"+hnPIN, nil, 401, "unauthenticated")

	assertNoPersonalDataInLogs(t, env)
}

// assertNoPersonalDataInLogs checks the whole run's log for every PIN and
// full name in the register.
func assertNoPersonalDataInLogs(t *testing.T, env *apptest.Env) {
	t.Helper()
	logs := env.Logs.String()
	if !strings.Contains(logs, "route=") {
		t.Fatal("the log is empty: the check would prove nothing")
	}
	rows, err := env.App.DB.R.Query(`SELECT pin, full_name FROM persons`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var p, name string
		rows.Scan(&p, &name)
		if strings.Contains(logs, p) || strings.Contains(logs, name) {
			t.Fatalf("the log contains personal data of a seeded person")
		}
		n++
	}
	if n < 400 {
		t.Fatalf("only %d persons checked", n)
	}
}

func with(m map[string]string, k, v string) map[string]string {
	c := map[string]string{}
	for a, b := range m {
		c[a] = b
	}
	c[k] = v
	return c
}

func hasPIN(items []struct {
	PIN      string `json:"pin"`
	FullName string `json:"full_name"`
}, p string) bool {
	for _, it := range items {
		if it.PIN == p {
			return true
		}
	}
	return false
}

func urlq(s string) string { return strings.ReplaceAll(s, " ", "+") }
