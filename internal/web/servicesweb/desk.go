package servicesweb

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The signed-in pages, kept minimal: the citizen's dossiers at
// /citizen/dossiers (the portal's session cookie, whose path is /citizen)
// and the desk's list at /desk/dossiers with its actions (the staff
// session cookie and its CSRF token on every form). Both are server-rendered
// without scripts under the kit's headers.
var signedTmpl = template.Must(template.Must(pageTmpl.Clone()).Parse(`
{{define "mine"}}{{template "head" .}}<h1>{{.Title}}</h1>
<table><thead><tr><th>{{t .Lang "Mã hồ sơ" "Dossier code"}}</th><th>{{t .Lang "Thủ tục" "Procedure"}}</th><th>{{t .Lang "Trạng thái" "Status"}}</th><th>{{t .Lang "Hạn trả kết quả" "Due"}}</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.D.Code}}</td><td>{{.D.Procedure}}</td><td data-status="{{.D.Status}}">{{.Status}}</td><td>{{.D.Due}}</td></tr>
{{else}}<tr><td colspan="4">{{t .Lang "Bạn chưa nộp hồ sơ nào." "You have filed no dossier."}}</td></tr>{{end}}</tbody></table>
{{template "foot" .}}{{end}}
{{define "desk"}}{{template "head" .}}<h1>{{.Title}}</h1>
{{with .Error}}<p role="alert">{{.}}</p>{{end}}
<table><thead><tr><th>{{t .Lang "Mã hồ sơ" "Dossier code"}}</th><th>{{t .Lang "Thủ tục" "Procedure"}}</th><th>{{t .Lang "Trạng thái" "Status"}}</th><th>{{t .Lang "Hạn" "Due"}}</th><th>{{t .Lang "Thao tác" "Actions"}}</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.D.Code}}</td><td>{{.D.Procedure}}</td><td data-status="{{.D.Status}}">{{.Status}}</td><td>{{.D.Due}}</td><td>
{{range .Actions}}<form method="post" action="/desk/dossiers/{{$.Esc .Code}}/{{.Act}}"><input type="hidden" name="csrf" value="{{$.CSRF}}">{{if .Reason}}<label>{{t $.Lang "Lý do" "Reason"}} <input name="reason" required maxlength="1000"></label>{{end}}<button>{{.Label}}</button></form>{{end}}
</td></tr>{{else}}<tr><td colspan="5">{{t .Lang "Không có hồ sơ." "No dossiers."}}</td></tr>{{end}}</tbody></table>
{{template "foot" .}}{{end}}`))

type row struct {
	D       services.Dossier
	Status  string
	Actions []action
}

type action struct {
	Code, Act, Label string
	Reason           bool
}

type signedView struct {
	*pageView
	Rows []row
	CSRF string
}

// Esc escapes a dossier code for a path segment.
func (signedView) Esc(s string) string { return url.PathEscape(s) }

func (h *Handler) mountSignedPages(mux *http.ServeMux) {
	sec := func(fn http.HandlerFunc) http.Handler { return page.Secure(page.Policy{}, 4<<10, fn) }
	mux.Handle("GET /citizen/dossiers", sec(h.minePage))
	mux.Handle("GET /desk/dossiers", sec(h.deskPage))
	mux.Handle("POST /desk/dossiers/{code}/{action}", sec(h.deskActPage))
}

func (h *Handler) statusIn(l string, s services.Status) string {
	st := statusText[s]
	if l == page.EN {
		return st[1]
	}
	return st[0]
}

func (h *Handler) minePage(w http.ResponseWriter, r *http.Request) {
	var sess eid.Session
	c, err := r.Cookie(citizenCookie)
	if err == nil {
		sess, err = h.Citizens.Session(r.Context(), c.Value)
	}
	if err != nil {
		http.Redirect(w, r, "/citizen/login", http.StatusSeeOther)
		return
	}
	v := signedView{pageView: h.view(r, "Hồ sơ của tôi", "My dossiers")}
	ds, err := h.Services.ListMine(r.Context(), services.Filer{PIN: sess.PIN, Level: int(sess.Level)})
	if err != nil {
		h.pageFail(w, err)
		return
	}
	for _, d := range ds {
		v.Rows = append(v.Rows, row{D: d, Status: h.statusIn(v.Lang, d.Status)})
	}
	h.renderSigned(w, http.StatusOK, "mine", v)
}

func (h *Handler) deskPage(w http.ResponseWriter, r *http.Request) {
	r, sess, err := auth.Load(r, h.Staff)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if sess.Account.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	h.renderDesk(w, r, sess.CSRF, http.StatusOK, "")
}

func (h *Handler) renderDesk(w http.ResponseWriter, r *http.Request, csrf string, status int, msg string) {
	act, _ := auth.From(r.Context())
	v := signedView{pageView: h.view(r, "Hồ sơ của đơn vị", "Dossiers of the unit"), CSRF: csrf}
	v.Error = msg
	ds, err := h.Services.ForUnit(r.Context(), act.Account.Actor(), r.URL.Query().Get("status"))
	if err != nil {
		h.pageFail(w, err)
		return
	}
	en := v.Lang == page.EN
	label := func(vi, e string) string {
		if en {
			return e
		}
		return vi
	}
	for _, d := range ds {
		rw := row{D: d, Status: h.statusIn(v.Lang, d.Status)}
		switch d.Status {
		case services.Received:
			rw.Actions = []action{{d.Code, services.ActStart, label("Xử lý", "Start"), false}}
		case services.InProgress:
			rw.Actions = []action{{d.Code, services.ActApprove, label("Duyệt", "Approve"), false},
				{d.Code, services.ActSupplement, label("Yêu cầu bổ sung", "Request supplement"), true},
				{d.Code, services.ActReject, label("Từ chối", "Reject"), true}}
		case services.Supplement:
			rw.Actions = []action{{d.Code, services.ActReject, label("Từ chối", "Reject"), true}}
		case services.Approved:
			rw.Actions = []action{{d.Code, services.ActReturn, label("Trả kết quả", "Return the result"), false}}
		}
		v.Rows = append(v.Rows, rw)
	}
	h.renderSigned(w, status, "desk", v)
}

func (h *Handler) deskActPage(w http.ResponseWriter, r *http.Request) {
	r, sess, err := auth.Load(r, h.Staff)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if sess.Account.MustChangePassword {
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	}
	if !auth.CSRFOK(r) {
		http.Error(w, "Thiếu hoặc sai mã chống giả mạo (CSRF).", http.StatusForbidden)
		return
	}
	if _, err := h.Services.Act(r.Context(), sess.Account.Actor(), r.PathValue("code"), r.PathValue("action"), r.PostFormValue("reason")); err != nil {
		st := http.StatusUnprocessableEntity
		if f := fault.As(err); f == nil || f.Kind == fault.Internal {
			h.pageFail(w, err)
			return
		} else if f.Kind == fault.NotFound {
			st = http.StatusNotFound
		} else if f.Kind == fault.Conflict {
			st = http.StatusConflict
		}
		h.renderDesk(w, r, sess.CSRF, st, page.ErrText(page.Lang(r), err))
		return
	}
	http.Redirect(w, r, "/desk/dossiers", http.StatusSeeOther)
}

func (h *Handler) renderSigned(w http.ResponseWriter, status int, name string, v signedView) {
	buf := &bytesBuffer{}
	if err := signedTmpl.ExecuteTemplate(buf, name, v); err != nil {
		h.Log.Error("services page", "template", name, "err", err)
		http.Error(w, "Lỗi máy chủ / Server error", http.StatusInternalServerError)
		return
	}
	b := buf.b
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}

func (h *Handler) pageFail(w http.ResponseWriter, err error) {
	if f := fault.As(err); f != nil && f.Kind == fault.Forbidden {
		http.Error(w, f.Message, http.StatusForbidden)
		return
	}
	h.Log.Error("services page", "err", err)
	http.Error(w, "Lỗi máy chủ / Server error", http.StatusInternalServerError)
}

type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }
