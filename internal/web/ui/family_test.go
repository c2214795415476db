package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/registry"
)

// TestMarriageDivorcePages: the registrar records the divorce of the
// married head from his page, marries him again with a namesake who joins
// his household, and is refused a spouse outside the unit; the birth form's
// twin confirmation flags the child.
func TestMarriageDivorcePages(t *testing.T) {
	st := newStack(t)
	c := st.client(t)
	c.signIn("lan.nt")

	r := c.get("/persons/" + st.head)
	mustContain(t, "married head's page", r, `id="action-divorce"`, `href="/divorces/new?pin=`+st.head+`"`)
	r = c.get("/divorces/new?pin=" + st.head)
	mustContain(t, "divorce form", r, "Ghi chú ly hôn", "Nguyễn Văn An")
	token := csrfRE.FindStringSubmatch(r.body)[1]
	r = c.post("/divorces", url.Values{"csrf": {token}, "pin": {st.head}, "divorce_date": {"31/02/2026"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("divorce on an impossible date: %d", r.status)
	}
	mustContain(t, "divorce on an impossible date", r, `href="#f-divorce_date"`)
	r = c.post("/divorces", url.Values{"csrf": {token}, "pin": {st.head}, "divorce_date": {"01/03/2026"}, "reason": {"Bản án ly hôn"}})
	if r.status != http.StatusSeeOther || r.location != "/persons/"+st.head+"?done=divorce" {
		t.Fatalf("divorce: %d → %q\n%s", r.status, r.location, text(r.body))
	}
	r = c.get(r.location)
	mustContain(t, "divorced head", r, "Đã ghi chú ly hôn.", `id="action-marriage"`, "Ly hôn")

	// A namesake of 1990 (year only) marries him and joins his household.
	found, err := st.reg.Search(context.Background(), actor.Actor{ID: "staff:test", Role: actor.Admin}, registry.Query{Text: "Phạm Thị Hoa", BirthDate: "1990"})
	if err != nil || len(found.Items) != 1 {
		t.Fatalf("the namesake of 1990: %+v %v", found, err)
	}
	bride := found.Items[0].PIN
	r = c.get("/marriages/new?pin=" + st.head)
	mustContain(t, "marriage form", r, "Đăng ký kết hôn", `value="`+st.head+`"`, `id="join-spouse"`)
	r = c.post("/marriages", url.Values{"csrf": {token}, "pin": {st.head}, "spouse_pin": {st.other}, "marriage_date": {"01/03/2026"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("marriage to a man outside the unit: %d", r.status)
	}
	r = c.post("/marriages", url.Values{"csrf": {token}, "pin": {st.head}, "spouse_pin": {st.wife}, "marriage_date": {"28/02/2026"}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("marriage to the ex-wife on a day she was married to him: %d", r.status)
	}
	mustContain(t, "marriage before the divorce", r, "Ngày kết hôn phải sau ngày chấm dứt hôn nhân trước", `href="#f-marriage_date"`)
	r = c.post("/marriages", url.Values{"csrf": {token}, "pin": {st.head}, "spouse_pin": {bride}, "marriage_date": {"01/03/2026"}, "join_pin": {"spouse_pin"}})
	if r.status != http.StatusSeeOther || r.location != "/persons/"+st.head+"?done=marriage" {
		t.Fatalf("marriage: %d → %q\n%s", r.status, r.location, text(r.body))
	}
	r = c.get("/persons/" + bride)
	mustContain(t, "bride", r, "Số 12 phố Đội Cấn", "Vợ", st.head)

	// Twins: the second child of the wife born the same day needs the box.
	birth := url.Values{"csrf": {token}, "full_name": {"Nguyễn Thị Một"}, "sex": {"F"}, "birth_date": {"25/02/2026"}, "ethnicity": {"01"},
		"nationality": {"VNM"}, "mother_pin": {st.wife}}
	if r = c.post("/births", birth); r.status != http.StatusSeeOther {
		t.Fatalf("first twin: %d\n%s", r.status, text(r.body))
	}
	birth.Set("full_name", "Nguyễn Thị Hai")
	r = c.post("/births", birth)
	if r.status != http.StatusConflict {
		t.Fatalf("second twin unconfirmed: %d", r.status)
	}
	mustContain(t, "second twin unconfirmed", r, "sinh đôi", `href="#f-confirm_twin"`, "Nguyễn Thị Một")
	birth.Set("confirm_twin", "1")
	if r = c.post("/births", birth); r.status != http.StatusSeeOther {
		t.Fatalf("second twin confirmed: %d\n%s", r.status, text(r.body))
	}
	r = c.get(r.location)
	mustContain(t, "twin's page", r, "Khai sinh được xác nhận", "sinh đôi")
}
