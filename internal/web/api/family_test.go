package api_test

import (
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestMarriageDivorceAPI(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { testMarriageDivorceAPI(t, d) })
	}
}

// testMarriageDivorceAPI: the commune registrar of Ba Đình marries two
// persons of the unit and records their divorce through the API; a spouse
// outside the unit, or a PIN of nobody, is 403 out_of_scope whatever else
// the request carries; the legal age is 422 marriage.under_age.
func testMarriageDivorceAPI(t *testing.T, d storage.Dialect) {
	env := apptest.Start(t, d, 400)
	db := env.App.DB
	anon := &client{t: t, base: env.Server.URL}
	admin := anon.signIn("admin")
	badinh := anon.signIn("dangky.badinh")
	pick := func(where string) string {
		t.Helper()
		var p string
		if err := db.R.QueryRow(`SELECT pin FROM persons WHERE status = 'alive' AND spouse_pin = '' AND length(birth_date) = 10 AND ` + where + ` ORDER BY pin LIMIT 1`).Scan(&p); err != nil {
			t.Fatalf("no person %s: %v", where, err)
		}
		return p
	}
	// The seed has nobody in Ba Đình: the administrator moves three people there.
	man := pick(`perm_province = '79' AND sex = 'M' AND birth_date < '2000'`)
	woman := pick(`perm_province <> '79' AND perm_commune <> '00004' AND sex = 'F' AND birth_date < '2000'`)
	boy := pick(`perm_commune <> '00004' AND sex = 'M' AND birth_date > '2006-06' AND birth_date < '2008-04'`)
	outside := pick(`perm_province = '01' AND perm_commune <> '00004' AND sex = 'M' AND birth_date < '2000' AND temp_commune = ''`)
	for _, p := range []string{man, woman, boy} {
		if st := admin.do("POST", "/api/v1/moves", map[string]string{"pin": p, "date": "01/02/2026", "commune_code": "00004", "address_detail": "Số 5 Quán Thánh"}, nil); st != 201 {
			t.Fatalf("admin moves %s into Ba Đình: %d", p, st)
		}
	}
	const nobody = "001183999999"
	for _, body := range []map[string]string{
		{"pin": woman, "spouse_pin": outside, "date": "01/03/2026"},
		{"pin": woman, "spouse_pin": outside, "date": "hôm qua"},
		{"pin": outside, "spouse_pin": woman, "date": "01/01/1900"},
		{"pin": woman, "spouse_pin": nobody, "date": "01/03/2026"},
	} {
		badinh.expectProblem("POST", "/api/v1/marriages", body, 403, "out_of_scope")
	}
	badinh.expectProblem("POST", "/api/v1/divorces", map[string]string{"pin": outside, "date": "hôm qua"}, 403, "out_of_scope")
	badinh.expectProblem("GET", "/api/v1/persons/"+outside+"/marriages", nil, 403, "out_of_scope")
	badinh.expectProblem("POST", "/api/v1/marriages", map[string]string{"pin": woman, "spouse_pin": boy, "date": "01/03/2026"}, 422, "marriage.under_age")
	badinh.expectProblem("POST", "/api/v1/divorces", map[string]string{"pin": woman, "date": "01/03/2026"}, 409, "divorce.not_married")

	var p struct {
		PIN       string `json:"pin"`
		SpousePIN string `json:"spouse_pin"`
	}
	if st := badinh.do("POST", "/api/v1/marriages", map[string]string{"pin": woman, "spouse_pin": man, "date": "01/03/2026", "reason": "Giấy chứng nhận kết hôn"}, &p); st != 201 || p.PIN != woman || p.SpousePIN != man {
		t.Fatalf("marriage: %d %+v", st, p)
	}
	badinh.expectProblem("POST", "/api/v1/marriages", map[string]string{"pin": man, "spouse_pin": woman, "date": "02/03/2026"}, 409, "marriage.already_married")
	var events struct {
		Items []struct {
			Kind      string `json:"kind"`
			SpousePIN string `json:"spouse_pin"`
		} `json:"items"`
	}
	badinh.do("GET", "/api/v1/persons/"+man+"/events", nil, &events)
	if len(events.Items) == 0 || events.Items[0].Kind != "marriage" || events.Items[0].SpousePIN != woman {
		t.Fatalf("the husband's events: %+v", events.Items)
	}
	p.SpousePIN = ""
	if st := badinh.do("POST", "/api/v1/divorces", map[string]string{"pin": man, "date": "01/04/2026"}, &p); st != 201 || p.PIN != man || p.SpousePIN != "" {
		t.Fatalf("divorce: %d %+v", st, p)
	}
	var ms struct {
		Items []struct {
			SpousePIN string `json:"spouse_pin"`
			Married   string `json:"married_on"`
			Ended     string `json:"ended_on"`
			EndKind   string `json:"end_kind"`
		} `json:"items"`
	}
	if st := badinh.do("GET", "/api/v1/persons/"+woman+"/marriages", nil, &ms); st != 200 || len(ms.Items) != 1 || ms.Items[0].SpousePIN != man ||
		ms.Items[0].Married != "2026-03-01" || ms.Items[0].Ended != "2026-04-01" || ms.Items[0].EndKind != "divorce" {
		t.Fatalf("marriages: %d %+v", st, ms)
	}
	var audited int
	env.App.AuditDB.R.QueryRow(`SELECT count(*) FROM audit_log WHERE actor = 'staff:dangky.badinh' AND action = 'person.divorce'`).Scan(&audited)
	if audited != 2 {
		t.Fatalf("divorce audited %d times", audited)
	}
}
