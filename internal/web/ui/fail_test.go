package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

// Every kind of fault gets its own status and a page a person
// understands; only faults the platform cannot explain are "system errors".
func TestFailPages(t *testing.T) {
	u, err := New(Deps{Registry: &registry.Service{}, Staff: &staff.Store{}, Units: &adminunit.Catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	limited := fault.New(fault.Limited, "test.limited", "Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests.")
	for _, c := range []struct {
		err    error
		status int
		want   string
	}{
		{jsonbody.ErrTooLarge, http.StatusRequestEntityTooLarge, "Nội dung yêu cầu quá lớn."},
		{jsonbody.ErrMalformed, http.StatusBadRequest, "Yêu cầu không hợp lệ"},
		{limited, http.StatusTooManyRequests, "Quá nhiều yêu cầu"},
		{fault.New(fault.Conflict, "test.conflict", "Đã có rồi.", "Exists."), http.StatusConflict, "Đã có rồi."},
		{fault.New(fault.NotFound, "test.nf", "Không thấy.", "Not found."), http.StatusNotFound, "Không thấy."},
		{fault.New(fault.Internal, "test.internal", "SQL bí mật", "secret SQL"), http.StatusInternalServerError, "Lỗi hệ thống"},
	} {
		w := httptest.NewRecorder()
		u.fail(w, httptest.NewRequest(http.MethodGet, "/", nil), c.err)
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.want) {
			t.Errorf("%v: %d, want %d with %q\n%s", c.err, w.Code, c.status, c.want, w.Body.String())
		}
		if strings.Contains(w.Body.String(), "SQL bí mật") {
			t.Error("an internal fault's text reached the page")
		}
	}
	w := httptest.NewRecorder()
	u.fail(w, httptest.NewRequest(http.MethodGet, "/", nil), fault.New(fault.Unauthenticated, "test.auth", "Đăng nhập.", "Sign in."))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login" {
		t.Errorf("signed out: %d %s", w.Code, w.Header().Get("Location"))
	}
}
