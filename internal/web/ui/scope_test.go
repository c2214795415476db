package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/registry"
)

// TestRegistrarScopePages: the registrar's pages refuse a person outside
// the unit the way the API does — 403 with the same Vietnamese sentence —
// whether the person exists, is dead, the date is before their birth or
// no date at all, and whatever page or form it is.
func TestRegistrarScopePages(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")
	token := c.csrf("/")
	const nobody = "001183999999"
	const refusal = "Công dân này không thuộc địa bàn bạn quản lý."
	for _, who := range []struct{ name, pin, date string }{
		{"outside", st.other, "01/02/2026"},
		{"outside, date before birth", st.other, "01/01/1900"},
		{"outside, not a date", st.other, "hôm qua"},
		{"unknown PIN", nobody, "01/02/2026"},
	} {
		for _, req := range []struct {
			name string
			do   func() response
		}{
			{"person page", func() response { return c.get("/persons/" + who.pin) }},
			{"death", func() response {
				return c.post("/deaths", url.Values{"csrf": {token}, "pin": {who.pin}, "death_date": {who.date}})
			}},
			{"move", func() response {
				return c.post("/moves", url.Values{"csrf": {token}, "pin": {who.pin}, "date": {who.date}, "commune_code": {baDinh}})
			}},
			{"temporary residence", func() response {
				return c.post("/temporary-residences", url.Values{"csrf": {token}, "pin": {who.pin}, "commune_code": {baDinh}, "from": {who.date}, "to": {"01/01/2027"}})
			}},
			{"temporary residence, a QR that is no card", func() response {
				return c.post("/temporary-residences", url.Values{"csrf": {token}, "pin": {who.pin}, "commune_code": {baDinh}, "from": {who.date}, "to": {"01/01/2027"},
					"card_qr": {who.pin + "||Lê Văn Cường|01011970|Nam|Hà Nội|01012024"}})
			}},
		} {
			r := req.do()
			if r.status != http.StatusForbidden {
				t.Errorf("%s, %s: %d", req.name, who.name, r.status)
				continue
			}
			mustContain(t, req.name+", "+who.name, r, refusal)
		}
	}
	r := c.get("/households/HH-NGOCHA-0001")
	if r.status != http.StatusForbidden {
		t.Fatalf("household outside: %d", r.status)
	}
	// The form shows nobody for a PIN outside the unit.
	r = c.get("/deaths/new?pin=" + st.other)
	if r.status != 200 {
		t.Fatalf("death form: %d", r.status)
	}
	if strings.Contains(r.body, "Lê Văn Cường") {
		t.Fatal("the death form shows a person outside the unit")
	}
}

// TestBirthCodedFields: the birth form refuses an ethnicity, religion or
// nationality outside its catalogue with the message beside the field.
func TestBirthCodedFields(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")
	token := c.csrf("/births/new")
	r := c.post("/births", url.Values{"csrf": {token}, "full_name": {"Nguyễn Minh Khang"}, "sex": {"M"}, "birth_date": {"05/01/2026"},
		"mother_pin": {st.wife}, "ethnicity": {"77"}, "religion": {"Đạo Mới"}, "nationality": {"XYZ"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("birth with unknown codes: %d", r.status)
	}
	mustContain(t, "coded fields", r, `href="#f-ethnicity"`, `href="#f-religion"`, `href="#f-nationality"`,
		"Dân tộc phải là một trong 54 mã dân tộc", "Tôn giáo không có trong danh mục", "Quốc tịch phải là mã quốc gia 3 chữ cái")
}

// TestDeparturesPage: when a person of Ba Đình moves to Ngọc Hà (on her own
// application, registered by Ngọc Hà), Ba Đình can no longer open her
// record but its departures page says who left, when and where to.
func TestDeparturesPage(t *testing.T) {
	st := newStack(t)
	ctx := context.Background()
	c := st.client(t)
	c.signIn("lan.nt")
	r := c.get("/departures")
	if r.status != 200 {
		t.Fatalf("departures: %d", r.status)
	}
	mustContain(t, "no departures", r, "Chưa có công dân nào chuyển đi khỏi địa bàn.", `id="nav-departures"`)

	app, err := st.reg.FileArrival(ctx, actor.Actor{ID: "citizen:" + st.wife}, registry.ArrivalInput{Kind: registry.ArrivalMove, Commune: ngocHa})
	if err != nil {
		t.Fatal(err)
	}
	registrarNgocHa := actor.Actor{ID: "staff:ngocha", Role: actor.Registrar, Unit: ngocHa, Province: "01"}
	if _, err := st.reg.RegisterMove(ctx, registrarNgocHa, registry.MoveInput{PIN: st.wife, Date: "20/02/2026", Commune: ngocHa, Detail: "Số 7 phố Đội Cấn",
		Arrival: &registry.Arrival{ApplicationID: app.ID}}); err != nil {
		t.Fatal(err)
	}
	if r = c.get("/persons/" + st.wife); r.status != http.StatusForbidden {
		t.Fatalf("Ba Đình still opens the record of who left: %d", r.status)
	}
	r = c.get("/departures")
	mustContain(t, "departures", r, st.wife, "Trần Thị Bình", "20/02/2026", "Phường Ba Đình", "Phường Ngọc Hà")
}
