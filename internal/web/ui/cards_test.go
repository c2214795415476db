package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
)

// postMultipart sends the verification form with a chip dump file.
func (c *client) postMultipart(path string, fields map[string]string, file []byte) response {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != nil {
		fw, _ := w.CreateFormFile("chip", "chip.json")
		fw.Write(file)
	}
	w.Close()
	req, err := http.NewRequest(http.MethodPost, c.base+path, &b)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req)
}

var serialRE = regexp.MustCompile(`/cards/([0-9A-F]{12})/approve`)

func TestCardDesk(t *testing.T) {
	st := newStackWith(t, true)
	c := st.client(t)
	c.signIn("lan.nt")
	person := "/persons/" + st.head
	page := c.get(person)
	mustContain(t, "person page", page, "Thẻ căn cước", "Công dân chưa có thẻ căn cước nào", `id="card-apply"`)
	token := c.csrf(person)

	r := c.post(person+"/cards", url.Values{"csrf": {token}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, person+"?done=card_apply") {
		t.Fatalf("apply: %d %s", r.status, r.location)
	}
	page = c.get(r.location)
	mustContain(t, "after apply", page, "Đã tiếp nhận hồ sơ cấp thẻ căn cước.", "Đã tiếp nhận hồ sơ", "Duyệt")
	m := serialRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no approve button")
	}
	serial := m[1]
	if r := c.post(person+"/cards", url.Values{"csrf": {token}}); r.status != http.StatusConflict || !strings.Contains(text(r.body), "đã có hồ sơ cấp thẻ đang xử lý") {
		t.Fatalf("second application: %d", r.status)
	}
	if r := c.post("/cards/"+serial+"/approve", url.Values{}); r.status != http.StatusForbidden {
		t.Fatalf("step without CSRF: %d", r.status)
	}
	for _, step := range []string{"approve", "produce", "hand-over"} {
		if r := c.post("/cards/"+serial+"/"+step, url.Values{"csrf": {token}}); r.status != http.StatusSeeOther {
			t.Fatalf("%s: %d\n%s", step, r.status, text(r.body))
		}
	}
	page = c.get(person)
	mustContain(t, "handed over", page, "Đã trả thẻ", "Báo mất", "Cấp lại", "Thu hồi", "Lịch sử thẻ")

	card := c.get("/cards/" + serial)
	mustContain(t, "card page", card, "Vùng đọc máy (MRZ)", "IDVNM", `src="/api/v1/cards/`+serial+`/qr.png"`, `/api/v1/cards/`+serial+`/chip`,
		"Ảnh thẻ (mẫu, dữ liệu tổng hợp)", `href="/api/v1/cards/`+serial+`/front.png"`, `href="/api/v1/cards/`+serial+`/back.png"`, `href="/api/v1/cards/`+serial+`/preview.pdf"`)

	// The desk: a chip dump file verifies and is compared with the register.
	mustContain(t, "desk", c.get("/desk/verify"), "Kiểm tra thẻ căn cước", "Tệp dữ liệu chip")
	admin := actor.Actor{ID: "staff:test", Role: actor.Admin}
	chip, err := st.cards.Chip(context.Background(), admin, serial)
	if err != nil {
		t.Fatal(err)
	}
	dump, _ := json.Marshal(chip)
	r = c.postMultipart("/desk/verify", map[string]string{"csrf": token}, dump)
	mustContain(t, "verify chip", r, "Thẻ hợp lệ", "Chữ ký số của SOD hợp lệ.", "Dữ liệu trên thẻ khớp với CSDL.")
	// The checks by name, not by code.
	mustContain(t, "verify chip names", r, "Băm nhóm dữ liệu DG13", "Vùng MRZ (DG1)", "Đối chiếu với CSDL")
	if strings.Contains(text(r.body), "dg13.hash") {
		t.Error("the verification desk shows the check's code")
	}
	if r.status != http.StatusOK {
		t.Fatalf("verify chip: %d", r.status)
	}
	// Bad input: nothing, or a file that is not a chip dump.
	if r := c.postMultipart("/desk/verify", map[string]string{"csrf": token}, nil); r.status != http.StatusUnprocessableEntity || !strings.Contains(text(r.body), "Dán chuỗi QR hoặc chọn tệp dữ liệu chip.") {
		t.Fatalf("empty form: %d", r.status)
	}
	if r := c.postMultipart("/desk/verify", map[string]string{"csrf": token}, []byte("{not json")); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("bad file: %d", r.status)
	}

	// Revoke; the pasted QR now says why.
	if r := c.post("/cards/"+serial+"/revoke", url.Values{"csrf": {token}, "reason": {"loss"}}); r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", r.status)
	}
	crd, _ := st.cards.Get(context.Background(), admin, serial, "test")
	r = c.postMultipart("/desk/verify", map[string]string{"csrf": token, "qr": crd.QR}, nil)
	mustContain(t, "verify revoked", r, "Thẻ không hợp lệ", "Thẻ đã bị thu hồi (lý do: thẻ bị mất).")
	r = c.postMultipart("/desk/verify", map[string]string{"csrf": token}, dump)
	mustContain(t, "verify revoked chip", r, "Thẻ đã bị thu hồi hoặc báo mất trong CSDL.")

	// In English: statuses, reasons and the check reasons switch too.
	c.get("/lang?l=en&next=/")
	mustContain(t, "person page in English", c.get(person), "Identity card", "Revoked", "Card lost", "Card history")
	r = c.postMultipart("/desk/verify", map[string]string{"csrf": token, "qr": crd.QR}, nil)
	mustContain(t, "verify in English", r, "The card is not valid", "The card has been revoked (reason: the card was lost).")

	// A leader may check cards but not run the lifecycle.
	l := st.client(t)
	l.signIn("hung.lv")
	if r := l.get("/desk/verify"); r.status != http.StatusOK {
		t.Fatalf("leader desk: %d", r.status)
	}
	if r := l.post(person+"/cards", url.Values{"csrf": {l.csrf("/desk/verify")}}); r.status != http.StatusForbidden {
		t.Fatalf("leader apply: %d", r.status)
	}
	if strings.Contains(st.log.String(), st.head) {
		t.Fatal("the log contains a PIN")
	}
}
