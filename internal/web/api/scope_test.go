package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/problem"
)

func TestRegistrarScopeAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testRegistrarScopeAPI(t, d) })
	}
}

// testRegistrarScopeAPI: the commune registrar of Ba Đình, through the
// API, for every act and read × a person of Ba Đình, one elsewhere, one
// elsewhere with a date before birth or no date at all, one elsewhere who
// is dead, and a PIN of nobody: everything outside is 403 out_of_scope
// and opens nothing. Then the arrival of an outsider on the card's QR read
// at the desk (201, audited), what the unit left sees, and the coded fields.
func testRegistrarScopeAPI(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 400)
	db := env.App.DB
	anon := &client{t: t, base: env.Server.URL}
	admin := anon.signIn("admin")
	hn := anon.signIn("dangky.hanoi")
	badinh := anon.signIn("dangky.badinh")

	pick := func(where string) (string, string) {
		t.Helper()
		var p, hh string
		if err := db.R.QueryRow(`SELECT pin, household_id FROM persons WHERE status = 'alive' AND length(birth_date) = 10 AND `+where+` ORDER BY pin LIMIT 1`).Scan(&p, &hh); err != nil {
			t.Fatalf("no person %s: %v", where, err)
		}
		return p, hh
	}
	outside, outsideHH := pick(`perm_province = '01' AND perm_commune <> '00004' AND relation <> 'Chủ hộ' AND temp_commune = ''`)
	// The seed has nobody in Ba Đình: the administrator moves someone there.
	inside, _ := pick(`perm_province = '79' AND relation <> 'Chủ hộ' AND birth_date < '2020'`)
	var moved struct {
		HouseholdID string `json:"household_id"`
	}
	if st := admin.do("POST", "/api/v1/moves", map[string]string{"pin": inside, "date": "01/02/2026", "commune_code": "00004", "address_detail": "Số 5 Quán Thánh"}, &moved); st != 201 {
		t.Fatalf("admin moves someone into Ba Đình: %d", st)
	}
	insideHH := moved.HouseholdID
	deadPIN, _ := pick(`perm_province <> '01' AND relation <> 'Chủ hộ' AND birth_date < '2025'`)
	if st := admin.do("POST", "/api/v1/deaths", map[string]string{"pin": deadPIN, "death_date": "01/01/2026"}, nil); st != 201 {
		t.Fatalf("admin registers a death: %d", st)
	}
	const nobody = "001183999999"

	type subject struct{ name, pin, date string }
	subjects := []subject{
		{"out of scope", outside, "01/04/2026"},
		{"out of scope, date before birth", outside, "01/01/1900"},
		{"out of scope, not a date", outside, "hôm qua"},
		{"out of scope, dead", deadPIN, "01/04/2026"},
		{"unknown PIN", nobody, "01/04/2026"},
	}
	acts := []struct {
		name   string
		method string
		path   func(pin string) string
		body   func(pin, date string) any
	}{
		{"death", "POST", func(string) string { return "/api/v1/deaths" }, func(p, d string) any { return map[string]string{"pin": p, "death_date": d} }},
		{"move", "POST", func(string) string { return "/api/v1/moves" }, func(p, d string) any {
			return map[string]string{"pin": p, "date": d, "commune_code": "00004", "address_detail": "Số 9 Đội Cấn"}
		}},
		{"name change", "POST", func(string) string { return "/api/v1/name-changes" }, func(p, d string) any {
			return map[string]string{"pin": p, "full_name": "Nguyễn Văn Thử", "date": d}
		}},
		{"temporary residence", "POST", func(string) string { return "/api/v1/temporary-residences" }, func(p, d string) any {
			return map[string]string{"pin": p, "commune_code": "00004", "from": d, "to": "01/01/2027"}
		}},
		{"read person", "GET", func(p string) string { return "/api/v1/persons/" + p }, nil},
		{"read history", "GET", func(p string) string { return "/api/v1/persons/" + p + "/history" }, nil},
		{"read residences", "GET", func(p string) string { return "/api/v1/persons/" + p + "/residences" }, nil},
		{"read events", "GET", func(p string) string { return "/api/v1/persons/" + p + "/events" }, nil},
	}
	counts := func() [3]int {
		var c [3]int
		db.R.QueryRow(`SELECT count(*) FROM life_events`).Scan(&c[0])
		db.R.QueryRow(`SELECT count(*) FROM person_versions`).Scan(&c[1])
		env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'staff:dangky.badinh'`).Scan(&c[2])
		return c
	}
	before := counts()
	for _, act := range acts {
		var bodies []string
		for _, s := range subjects {
			var body any
			if act.body != nil {
				body = act.body(s.pin, s.date)
			}
			var p problem.Problem
			st := badinh.do(act.method, act.path(s.pin), body, &p)
			if st != 403 || p.Code != "out_of_scope" || len(p.Errors) != 0 {
				t.Errorf("%s, %s: %d %q %+v, want 403 out_of_scope", act.name, s.name, st, p.Code, p.Errors)
			}
			bodies = append(bodies, p.Detail+"|"+p.Title)
		}
		for _, b := range bodies[1:] {
			if b != bodies[0] {
				t.Errorf("%s: the refusals differ: %q", act.name, bodies)
			}
		}
	}
	badinh.expectProblem("GET", "/api/v1/households/"+outsideHH, nil, 403, "out_of_scope")
	badinh.expectProblem("GET", "/api/v1/households/HH-NOBODY", nil, 403, "out_of_scope")
	if after := counts(); after != before {
		t.Fatalf("refused requests wrote or read something: %v -> %v", before, after)
	}
	// In scope, the act's own rules answer.
	badinh.expectProblem("POST", "/api/v1/deaths", map[string]string{"pin": inside, "death_date": "01/01/1900"}, 422, "date.before_birth")
	if st := badinh.do("GET", "/api/v1/persons/"+inside+"/history", nil, nil); st != 200 {
		t.Fatalf("history in scope: %d", st)
	}
	if st := badinh.do("GET", "/api/v1/households/"+insideHH, nil, nil); st != 200 {
		t.Fatalf("household in scope: %d", st)
	}

	// The outsider comes to the desk with their card: the administrator
	// takes them through the card's lifecycle first.
	var card cardJSON
	if st := admin.do("POST", "/api/v1/persons/"+outside+"/cards", nil, &card); st != 201 {
		t.Fatalf("apply card: %d", st)
	}
	for _, step := range []string{"approve", "produce"} {
		if st := admin.do("POST", "/api/v1/cards/"+card.Serial+"/"+step, nil, &card); st != 200 {
			t.Fatalf("%s: %d", step, st)
		}
	}
	// A stay that has begun and not ended, whatever day the test runs.
	stayFrom, stayTo := time.Now().AddDate(0, 0, -30).Format("02/01/2006"), time.Now().AddDate(1, 0, 0).Format("02/01/2006")
	temp := map[string]any{"pin": outside, "commune_code": "00004", "address_detail": "Nhà trọ số 3", "from": stayFrom, "to": stayTo}
	withQR := func(qr string) map[string]any {
		m := map[string]any{}
		for k, v := range temp {
			m[k] = v
		}
		m["arrival"] = map[string]string{"card_qr": qr}
		return m
	}
	// A card not yet handed over is no evidence; nor is another's card,
	// a QR altered to name the outsider, or no QR.
	badinh.expectProblem("POST", "/api/v1/temporary-residences", withQR(card.QR), 403, "out_of_scope")
	if st := admin.do("POST", "/api/v1/cards/"+card.Serial+"/hand-over", nil, &card); st != 200 {
		t.Fatalf("hand over: %d", st)
	}
	forged := strings.Replace(card.QR, card.QR[strings.LastIndex(card.QR, "|")+1:], "01012020", 1)
	badinh.expectProblem("POST", "/api/v1/temporary-residences", withQR(forged), 403, "out_of_scope")
	badinh.expectProblem("POST", "/api/v1/temporary-residences", withQR("not a QR"), 403, "out_of_scope")
	badinh.expectProblem("POST", "/api/v1/temporary-residences", temp, 403, "out_of_scope")
	var p struct {
		Temporary struct {
			CommuneCode string `json:"commune_code"`
		} `json:"temporary_residence"`
	}
	if st := badinh.do("POST", "/api/v1/temporary-residences", withQR(card.QR), &p); st != 201 || p.Temporary.CommuneCode != "00004" {
		t.Fatalf("temporary residence on the card: %d %+v", st, p)
	}
	var detail string
	env.App.AuditDB.R.QueryRow(`SELECT detail FROM audit_log WHERE actor = 'staff:dangky.badinh' AND action = 'person.temporary_residence' AND subject = $1`, "person:"+outside).Scan(&detail)
	if !strings.Contains(detail, "arrival=card_qr:"+outside) {
		t.Fatalf("the act's audit entry does not name the card: %q", detail)
	}
	// A second outsider brings the card's chip, read at the desk: signed
	// data groups are evidence; altered ones are not, nor another's chip.
	outside2, _ := pick(`perm_province = '01' AND perm_commune <> '00004' AND relation <> 'Chủ hộ' AND temp_commune = '' AND pin <> '` + outside + `'`)
	var card2 cardJSON
	if st := admin.do("POST", "/api/v1/persons/"+outside2+"/cards", nil, &card2); st != 201 {
		t.Fatalf("apply card: %d", st)
	}
	for _, step := range []string{"approve", "produce", "hand-over"} {
		if st := admin.do("POST", "/api/v1/cards/"+card2.Serial+"/"+step, nil, &card2); st != 200 {
			t.Fatalf("%s: %d", step, st)
		}
	}
	var chip struct {
		DataGroups map[int][]byte `json:"data_groups"`
		SOD        []byte         `json:"sod"`
	}
	if st := admin.do("GET", "/api/v1/cards/"+card2.Serial+"/chip", nil, &chip); st != 200 || len(chip.SOD) == 0 {
		t.Fatalf("chip: %d", st)
	}
	stay2 := map[string]any{"pin": outside2, "commune_code": "00004", "from": stayFrom, "to": stayTo, "arrival": map[string]any{"card_chip": chip}}
	badinh.expectProblem("POST", "/api/v1/temporary-residences", map[string]any{"pin": deadPIN, "commune_code": "00004", "from": stayFrom, "to": stayTo,
		"arrival": map[string]any{"card_chip": chip}}, 403, "out_of_scope")
	dg1 := append([]byte(nil), chip.DataGroups[1]...)
	chip.DataGroups[1][len(dg1)-1] ^= 1
	badinh.expectProblem("POST", "/api/v1/temporary-residences", stay2, 403, "out_of_scope")
	chip.DataGroups[1] = dg1
	if st := badinh.do("POST", "/api/v1/temporary-residences", stay2, nil); st != 201 {
		t.Fatalf("temporary residence on the chip: %d", st)
	}
	env.App.AuditDB.R.QueryRow(`SELECT detail FROM audit_log WHERE actor = 'staff:dangky.badinh' AND action = 'person.temporary_residence' AND subject = $1`, "person:"+outside2).Scan(&detail)
	if !strings.Contains(detail, "arrival=card_chip:"+outside2) {
		t.Fatalf("the act's audit entry does not name the chip: %q", detail)
	}

	// Staying in Ba Đình, the outsider can be moved in permanently there;
	// Hà Nội's province registrar sees the departure from the commune left.
	if st := badinh.do("POST", "/api/v1/moves", map[string]string{"pin": outside, "date": "02/04/2026", "commune_code": "00004", "address_detail": "Số 1 Hoàng Diệu"}, &moved); st != 201 {
		t.Fatalf("move in: %d", st)
	}
	var deps struct {
		Items []struct {
			PIN  string `json:"pin"`
			From struct {
				CommuneCode string `json:"commune_code"`
			} `json:"from"`
			To struct {
				CommuneCode string `json:"commune_code"`
			} `json:"to"`
		} `json:"items"`
	}
	if st := hn.do("GET", "/api/v1/departures", nil, &deps); st != 200 || len(deps.Items) != 1 || deps.Items[0].PIN != outside || deps.Items[0].To.CommuneCode != "00004" || deps.Items[0].From.CommuneCode == "00004" {
		t.Fatalf("departures: %d %+v", st, deps)
	}
	if st := badinh.do("GET", "/api/v1/departures", nil, &deps); st != 200 || len(deps.Items) != 0 {
		t.Fatalf("Ba Đình's departures: %d %+v", st, deps)
	}

	// Coded fields are checked against their catalogues, one error per field.
	var pr problem.Problem
	st := badinh.do("POST", "/api/v1/births", map[string]string{"full_name": "Nguyễn Thị Bé", "sex": "F", "birth_date": "01/03/2026", "household_id": insideHH,
		"ethnicity": "99", "religion": "Đạo Mới", "nationality": "XYZ"}, &pr)
	var fields []string
	for _, e := range pr.Errors {
		fields = append(fields, e.Field+"="+e.Code)
	}
	if st != 422 || strings.Join(fields, " ") != "ethnicity=ethnicity.invalid religion=religion.invalid nationality=nationality.invalid" {
		t.Fatalf("coded fields: %d %v", st, fields)
	}
}
