package servicesweb

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/page"
)

// The public pages: the searchable procedure catalogue and dossier
// tracking, no sign-in. Headers and the CSP are the kit's (page.Secure);
// no script, no inline style.
var pageTmpl = template.Must(template.New("").Funcs(template.FuncMap{
	"in": func(t services.Text, l string) string { return t.In(l) },
	"t": func(l, vi, en string) string {
		if l == page.EN {
			return en
		}
		return vi
	},
}).Parse(`{{define "head"}}<!doctype html><html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{{.Title}}</title></head><body>
<header><nav><a href="/procedures?lang={{.Lang}}">{{t .Lang "Thủ tục hành chính" "Procedures"}}</a> · <a href="/track?lang={{.Lang}}">{{t .Lang "Tra cứu hồ sơ" "Track a dossier"}}</a> · <a href="{{.Switch}}">{{t .Lang "English" "Tiếng Việt"}}</a></nav></header><main>{{end}}
{{define "foot"}}</main></body></html>{{end}}
{{define "procedures"}}{{template "head" .}}<h1>{{.Title}}</h1>
<form method="get" action="/procedures"><input type="hidden" name="lang" value="{{.Lang}}"><label>{{t .Lang "Tìm thủ tục" "Search"}} <input type="search" name="q" value="{{.Query}}"></label> <button>{{t .Lang "Tìm" "Search"}}</button></form>
<table><thead><tr><th>{{t .Lang "Mã" "Code"}}</th><th>{{t .Lang "Thủ tục" "Procedure"}}</th><th>{{t .Lang "Cơ quan" "Agency"}}</th><th>{{t .Lang "Trực tuyến" "Online"}}</th><th>{{t .Lang "Lệ phí (đồng)" "Fee (VND)"}}</th><th>{{t .Lang "Thời hạn (ngày làm việc)" "Legal time (working days)"}}</th></tr></thead><tbody>
{{range .Procedures}}<tr><td>{{.Code}}</td><td>{{in .Name $.Lang}}</td><td>{{in .Agency $.Lang}}</td><td>{{if eq .Online "full"}}{{t $.Lang "Toàn trình" "Full"}}{{else}}{{t $.Lang "Một phần" "Partial"}}{{end}}</td><td>{{.Fee}}</td><td>{{.LegalDays}}</td></tr>
{{else}}<tr><td colspan="6">{{t .Lang "Không có thủ tục phù hợp." "No procedure matches."}}</td></tr>{{end}}</tbody></table>
{{if not .Query}}<h2>{{t .Lang "Dịch vụ công thiết yếu khác (Quyết định 06/QĐ-TTg)" "Other essential services (Decision 06)"}}</h2><ul>{{range .Listed}}<li>({{.Service}}) {{in .Name $.Lang}}</li>{{end}}</ul>{{end}}
{{template "foot" .}}{{end}}
{{define "track"}}{{template "head" .}}<h1>{{.Title}}</h1>
<form method="get" action="/track"><input type="hidden" name="lang" value="{{.Lang}}">
<label>{{t .Lang "Mã hồ sơ" "Dossier code"}} <input name="code" value="{{.Code}}" required></label>
<label>{{t .Lang "Mã tra cứu" "Check code"}} <input name="check" value="{{.Check}}" required></label> <button>{{t .Lang "Tra cứu" "Track"}}</button></form>
{{with .Error}}<p role="alert">{{.}}</p>{{end}}
{{with .Tracking}}<dl><dt>{{t $.Lang "Mã hồ sơ" "Dossier code"}}</dt><dd>{{.Code}}</dd><dt>{{t $.Lang "Thủ tục" "Procedure"}}</dt><dd>{{in .Name $.Lang}}</dd>
<dt>{{t $.Lang "Trạng thái" "Status"}}</dt><dd data-status="{{.Status}}">{{$.StatusText}}</dd>{{with .Due}}<dt>{{t $.Lang "Hạn trả kết quả" "Due"}}</dt><dd>{{.}}</dd>{{end}}</dl>{{end}}
{{template "foot" .}}{{end}}`))

var statusText = map[services.Status][2]string{
	services.AwaitingPayment: {"Chờ nộp lệ phí", "Awaiting the fee"},
	services.Received:        {"Đã tiếp nhận", "Received"},
	services.InProgress:      {"Đang xử lý", "In progress"},
	services.Supplement:      {"Cần bổ sung", "Supplement requested"},
	services.Approved:        {"Đã duyệt", "Approved"},
	services.Rejected:        {"Từ chối", "Rejected"},
	services.Returned:        {"Đã trả kết quả", "Result returned"},
}

type pageView struct {
	Lang, Title, Switch string
	Query               string
	Procedures          []services.Procedure
	Listed              []services.Listed
	Code, Check, Error  string
	Tracking            *services.Tracking
	StatusText          string
}

func (h *Handler) mountPages(mux *http.ServeMux) {
	sec := func(fn http.HandlerFunc) http.Handler { return page.Secure(page.Policy{}, 4<<10, fn) }
	mux.Handle("GET /procedures", sec(h.proceduresPage))
	mux.Handle("GET /track", sec(h.trackPage))
}

func (h *Handler) view(r *http.Request, vi, en string) *pageView {
	l := page.Lang(r)
	v := &pageView{Lang: l, Title: vi}
	if l == page.EN {
		v.Title = en
	}
	q := r.URL.Query()
	q.Set("lang", page.Other(l))
	v.Switch = r.URL.Path + "?" + q.Encode()
	return v
}

func (h *Handler) render(w http.ResponseWriter, status int, name string, v *pageView) {
	var b bytes.Buffer
	if err := pageTmpl.ExecuteTemplate(&b, name, v); err != nil {
		h.Log.Error("services page", "template", name, "err", err)
		http.Error(w, "Lỗi máy chủ / Server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func (h *Handler) proceduresPage(w http.ResponseWriter, r *http.Request) {
	v := h.view(r, "Thủ tục hành chính trực tuyến", "Online administrative procedures")
	v.Query = r.URL.Query().Get("q")
	ps, err := h.Services.Catalogue().List(r.Context(), v.Query, false)
	if err != nil {
		h.Log.Error("services page", "route", "procedures", "err", err)
		http.Error(w, "Lỗi máy chủ / Server error", http.StatusInternalServerError)
		return
	}
	v.Procedures, v.Listed = ps, h.Services.Catalogue().Listed()
	h.render(w, http.StatusOK, "procedures", v)
}

func (h *Handler) trackPage(w http.ResponseWriter, r *http.Request) {
	v := h.view(r, "Tra cứu hồ sơ", "Track a dossier")
	v.Code, v.Check = r.URL.Query().Get("code"), r.URL.Query().Get("check")
	status := http.StatusOK
	if v.Code != "" || v.Check != "" {
		t, err := h.Services.Track(r.Context(), v.Code, v.Check)
		if err != nil {
			status = problemStatus(err)
			v.Error = page.ErrText(v.Lang, err)
		} else {
			v.Tracking = &t
			st := statusText[t.Status]
			v.StatusText = st[0]
			if v.Lang == page.EN {
				v.StatusText = st[1]
			}
		}
	}
	h.render(w, status, "track", v)
}

func problemStatus(err error) int {
	if f := fault.As(err); f != nil && f.Kind == fault.NotFound {
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}
