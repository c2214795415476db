// Package deskweb is the HTTP face of the one-stop desk (bộ phận một cửa,
// services.Desk): the desk API under /api/v1/desk (staff sessions or bearer
// tokens, RFC 9457 problem JSON with stable codes) and the desk's pages
// under /desk (the staff session cookie, its CSRF token on every form,
// built on the page kit, no scripts): the queue with its filters, a
// dossier's detail with its documents, history, comments and actions, the
// paper intake, the digitization upload and the printable receipt.
//
// Who may do what is decided once, by the services module (the desk's
// scope rule); this package only carries requests to it. Nothing personal
// is logged: route patterns, statuses and fault codes only.
package deskweb

import (
	"context"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

//go:embed templates/*.html
var templateFS embed.FS

// Deps are what the desk's routes need.
type Deps struct {
	Desk  *services.Desk
	Staff auth.Sessions
	Log   *slog.Logger
	// BaseURL is the platform's public address, for the receipt's tracking
	// address.
	BaseURL       string
	SecureCookies bool
}

// Handler serves the desk's routes.
type Handler struct {
	d   Deps
	kit *page.Kit
}

// Faults of the HTTP layer.
var (
	errCSRF    = fault.New(fault.Forbidden, "auth.csrf", "Thiếu hoặc sai mã chống giả mạo (CSRF).", "Missing or wrong CSRF token.")
	errUpload  = fault.New(fault.Invalid, "upload.encoding", "Nội dung tệp đính kèm không đọc được (base64).", "The attachment's content is not valid base64.")
	errNoFile  = fault.New(fault.Invalid, "upload.empty", "Vui lòng chọn tệp bản quét.", "Choose the scan's file.")
	errPwdMust = fault.New(fault.Forbidden, "staff.password_change_required", "Bạn cần đổi mật khẩu trước.", "Change your password first.")
)

const (
	maxJSON = 64 << 10
	// maxUpload bounds a digitization request: one scan of
	// services.MaxUpload, base64 in JSON or a multipart part.
	maxUpload = services.MaxUpload*4/3 + 64<<10
)

// New parses the templates once and registers the messages.
func New(d Deps) (*Handler, error) {
	if d.Desk == nil || d.Staff == nil {
		return nil, errors.New("deskweb: Desk and Staff are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	msgs := page.NewCatalogue()
	if err := msgs.Register("desk pages", messages); err != nil {
		return nil, err
	}
	tmpl, err := page.Parse(templateFS, func(l string) template.FuncMap {
		return template.FuncMap{
			"t":    func(id string) string { return msgs.T(l, id) },
			"home": func() string { return "/desk/dossiers" },
		}
	}, "templates/*.html")
	if err != nil {
		return nil, err
	}
	h := &Handler{d: d}
	k := &page.Kit{Templates: tmpl, Messages: msgs, Log: d.Log, SignIn: "/login", SecureCookies: d.SecureCookies}
	k.ErrorPage = func(w http.ResponseWriter, r *http.Request, status int, lang, titleID, text string) {
		v := h.base(r, lang, msgs.T(lang, titleID))
		v.Error = text
		k.Render(w, r, status, lang, "error.html", v)
	}
	h.kit = k
	return h, nil
}

// Route is one route of the desk API.
type Route struct{ Method, Path string }

type apiRoute struct {
	method, path string
	fn           func(http.ResponseWriter, *http.Request, actor.Actor) error
}

// api is the desk API's table: Mount serves it, Routes lists it.
func (h *Handler) api() []apiRoute {
	return []apiRoute{
		{"GET", "/api/v1/desk/dossiers", h.apiQueue},
		{"GET", "/api/v1/desk/dossiers/{code}", h.apiDetail},
		{"GET", "/api/v1/desk/dossiers/{code}/officers", h.apiOfficers},
		{"GET", "/api/v1/desk/dossiers/{code}/documents/{id}", h.apiDocument},
		{"POST", "/api/v1/desk/dossiers/{code}/documents", h.apiDigitize},
		{"POST", "/api/v1/desk/dossiers/{code}/{action}", h.apiAct},
		{"POST", "/api/v1/desk/intake/form", h.apiIntakeForm},
		{"POST", "/api/v1/desk/intake", h.apiIntake},
	}
}

// Routes lists the desk API's routes (the OpenAPI document's test).
func Routes() []Route {
	var out []Route
	for _, r := range (&Handler{}).api() {
		out = append(out, Route{r.method, r.path})
	}
	return out
}

// Mount registers the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	for _, r := range h.api() {
		mux.Handle(r.method+" "+r.path, h.wrap(h.staff(r.fn)))
	}

	sec := func(max int64, fn http.HandlerFunc) http.Handler { return page.Secure(page.Policy{}, max, fn) }
	mux.Handle("GET /desk/dossiers", sec(4<<10, h.queuePage))
	mux.Handle("GET /desk/dossiers/{code}", sec(4<<10, h.detailPage))
	mux.Handle("GET /desk/dossiers/{code}/receipt", sec(4<<10, h.receiptPage))
	mux.Handle("GET /desk/dossiers/{code}/documents/{id}", sec(4<<10, h.documentPage))
	mux.Handle("POST /desk/dossiers/{code}/documents", sec(maxUpload, h.digitizePage))
	mux.Handle("POST /desk/dossiers/{code}/{action}", sec(16<<10, h.actPage))
	mux.Handle("GET /desk/intake", sec(4<<10, h.intakePage))
	mux.Handle("POST /desk/intake/lookup", sec(16<<10, h.lookupPage))
	mux.Handle("POST /desk/intake", sec(64<<10, h.intakePost))
}

func (h *Handler) wrap(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := fn(w, r); err != nil {
			problem.Write(w, r, h.d.Log, err)
		}
	})
}

func (h *Handler) staff(fn func(http.ResponseWriter, *http.Request, actor.Actor) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		r, sess, err := auth.Load(r, h.d.Staff)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dancu"`)
			return err
		}
		if !auth.CSRFOK(r) {
			return errCSRF
		}
		if sess.Account.MustChangePassword {
			return errPwdMust
		}
		return fn(w, r, sess.Account.Actor())
	}
}

func (h *Handler) apiQueue(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	q := r.URL.Query()
	ds, err := h.d.Desk.Queue(r.Context(), a, services.QueueFilter{Status: services.Status(q.Get("status")), Mine: q.Get("mine") == "1" || q.Get("mine") == "true", Clock: q.Get("clock")})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"dossiers": ds})
}

func (h *Handler) apiDetail(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	d, err := h.d.Desk.Detail(r.Context(), a, r.PathValue("code"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, d)
}

type officerBody struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (h *Handler) apiOfficers(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	os, err := h.d.Desk.OfficersFor(r.Context(), a, r.PathValue("code"))
	if err != nil {
		return err
	}
	out := []officerBody{}
	for _, o := range os {
		out = append(out, officerBody{o.ID, o.Name})
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"officers": out})
}

func (h *Handler) apiDocument(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	doc, err := h.d.Desk.Document(r.Context(), a, r.PathValue("code"), r.PathValue("id"))
	if err != nil {
		return err
	}
	sendDocument(w, doc.MediaType, doc.ID, doc.Body)
	return nil
}

func sendDocument(w http.ResponseWriter, mediaType, id string, body []byte) {
	ext := map[string]string{"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[mediaType]
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+ext+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
}

type digitizeBody struct {
	Document string `json:"document"`
	Name     string `json:"name,omitempty"`
	Content  string `json:"content"` // base64
}

func (h *Handler) apiDigitize(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var b digitizeBody
	if err := jsonbody.Decode(w, r, &b, maxUpload); err != nil {
		return err
	}
	if base64.StdEncoding.DecodedLen(len(b.Content)) > services.MaxUpload+3 {
		return services.ErrUploadSize.WithField("file")
	}
	body, err := base64.StdEncoding.DecodeString(b.Content)
	if err != nil {
		return errUpload.WithField("file")
	}
	g, err := h.d.Desk.Digitize(r.Context(), a, r.PathValue("code"), b.Document, b.Name, body)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, g)
}

type actBody struct {
	Reason  string `json:"reason"`
	Officer string `json:"officer"`
	Unit    string `json:"unit"`
	Note    string `json:"note"`
	Body    string `json:"body"`
}

// act is one place that carries an officer's action to the desk, for the
// API and the pages alike.
func (h *Handler) act(ctx context.Context, a actor.Actor, code, action string, b actBody) (any, int, error) {
	switch action {
	case services.ActAssign:
		d, err := h.d.Desk.Assign(ctx, a, code, b.Officer)
		return d, http.StatusOK, err
	case services.ActTransfer:
		d, err := h.d.Desk.Transfer(ctx, a, code, b.Unit, b.Note)
		return d, http.StatusOK, err
	case services.ActComment:
		c, err := h.d.Desk.Comment(ctx, a, code, b.Body)
		return c, http.StatusCreated, err
	}
	d, err := h.d.Desk.Act(ctx, a, code, action, b.Reason)
	return d, http.StatusOK, err
}

func (h *Handler) apiAct(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var b actBody
	if r.ContentLength != 0 {
		if err := jsonbody.Decode(w, r, &b, maxJSON); err != nil {
			return err
		}
	}
	out, status, err := h.act(r.Context(), a, r.PathValue("code"), r.PathValue("action"), b)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, status, out)
}

type intakeBody struct {
	Procedure string            `json:"procedure"`
	Citizen   services.Citizen  `json:"citizen"`
	Form      map[string]string `json:"form,omitempty"`
}

func (h *Handler) apiIntakeForm(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var b intakeBody
	if err := jsonbody.Decode(w, r, &b, maxJSON); err != nil {
		return err
	}
	p, who, vals, err := h.d.Desk.IntakeForm(r.Context(), a, b.Procedure, b.Citizen)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"procedure": p, "citizen": map[string]string{"pin": who.PIN, "full_name": who.Name, "birth_date": who.BirthDate}, "values": vals})
}

// receiptBody is the receipt as the API answers it.
type receiptBody struct {
	services.Receipt
	Channel    string `json:"channel"`
	TrackURL   string `json:"track_url"`
	ReceiptURL string `json:"receipt_url"`
}

func (h *Handler) trackURL(code, check string) string {
	return h.d.BaseURL + "/track?" + url.Values{"code": {code}, "check": {check}}.Encode()
}

func (h *Handler) apiIntake(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	var b intakeBody
	if err := jsonbody.Decode(w, r, &b, maxJSON); err != nil {
		return err
	}
	rc, err := h.d.Desk.Intake(r.Context(), a, services.IntakeRequest{Procedure: b.Procedure, Citizen: b.Citizen, Form: b.Form, IdempotencyKey: r.Header.Get("Idempotency-Key")})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if rc.Replayed {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/desk/dossiers/"+url.PathEscape(rc.Code))
	return jsonbody.Write(w, status, receiptBody{Receipt: rc, Channel: services.ChannelDesk, TrackURL: h.trackURL(rc.Code, rc.CheckCode), ReceiptURL: "/desk/dossiers/" + url.PathEscape(rc.Code) + "/receipt"})
}
