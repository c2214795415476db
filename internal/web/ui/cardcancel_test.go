package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestCardCancelButton: the person page offers "Hủy hồ sơ" on an open
// application; cancelling it (with a reason) shows the cancelled status and
// offers a new application again, instead of leaving the person behind one
// that cannot be produced.
func TestCardCancelButton(t *testing.T) {
	st := newStackWith(t, true)
	c := st.client(t)
	c.signIn("lan.nt")
	person := "/persons/" + st.head
	token := c.csrf(person)
	r := c.post(person+"/cards", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("apply: %d", r.status)
	}
	page := c.get(r.location)
	m := serialRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no approve button")
	}
	serial := m[1]
	mustContain(t, "open application", page, `id="card-cancel-`+serial+`"`, "Hủy hồ sơ", "Công dân rút hồ sơ", "Dữ liệu chưa in được thẻ")
	if strings.Contains(page.body, `id="card-apply"`) {
		t.Error("a new application is offered beside an open one")
	}
	if r := c.post("/cards/"+serial+"/cancel", url.Values{"csrf": {token}, "reason": {"vì sao"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(text(r.body), "Lý do hủy hồ sơ") {
		t.Fatalf("cancel with a bad reason: %d", r.status)
	}
	r = c.post("/cards/"+serial+"/cancel", url.Values{"csrf": {token}, "reason": {"not_producible"}})
	if r.status != http.StatusSeeOther || !strings.Contains(r.location, "done=card_cancel") {
		t.Fatalf("cancel: %d %s", r.status, r.location)
	}
	page = c.get(r.location)
	mustContain(t, "after cancel", page, "Đã hủy hồ sơ cấp thẻ; có thể tiếp nhận hồ sơ mới.", "Đã hủy hồ sơ", "Dữ liệu chưa in được thẻ", `id="card-apply"`)
	if strings.Contains(page.body, `id="card-cancel-`+serial+`"`) || strings.Contains(page.body, `id="card-revoke-`+serial+`"`) {
		t.Error("a cancelled application still offers cancel or revoke")
	}
	if r := c.post(person+"/cards", url.Values{"csrf": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("apply after cancel: %d\n%s", r.status, text(r.body))
	}
}
