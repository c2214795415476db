// Package servicesweb is the HTTP face of the online public services
// (internal/services): the public procedure catalogue (API and a searchable
// page), the citizen's dossiers API (signed in with the portal's e-ID
// session: its cookie, or the session token as a bearer token), the
// administrators' catalogue overrides, and public tracking by dossier code
// and check code (API and page). The officers' side, the one-stop desk, is
// internal/web/deskweb.
//
// Errors are RFC 9457 problem JSON (web/problem) with stable codes and, for
// forms, one entry per field in Vietnamese and English. Nothing personal is
// logged: route patterns, statuses and fault codes only.
package servicesweb

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/card/qr"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// Citizens looks the portal's e-ID sessions up (*eid.Service).
type Citizens interface {
	Session(ctx context.Context, token string) (eid.Session, error)
}

// Handler serves the services routes.
type Handler struct {
	Services *services.Service
	Citizens Citizens
	Staff    auth.Sessions
	Log      *slog.Logger
	// BaseURL is the platform's public address, for the tracking QR.
	BaseURL string
	Now     func() time.Time
	// TrackLimit bounds public tracking per client (zero: DefaultTrackLimit).
	TrackLimit TrackLimit
	// Units names communes and provinces on the citizen's pages (the
	// commune picker, the receiving agency); without it they show codes.
	Units Units
	// SecureCookies marks the pages' language cookie Secure (HTTPS).
	SecureCookies bool

	kit *page.Kit // the citizen's and public pages (kit.go), built by Mount
}

// Faults of the HTTP layer.
var (
	errSignIn = fault.New(fault.Unauthenticated, "auth.citizen_required", "Vui lòng đăng nhập bằng tài khoản định danh điện tử.", "Sign in with your electronic identity.")
	errCSRF   = fault.New(fault.Forbidden, "auth.csrf", "Thiếu hoặc sai mã chống giả mạo (CSRF).", "Missing or wrong CSRF token.")
	errUpload = fault.New(fault.Invalid, "upload.encoding", "Nội dung tệp đính kèm không đọc được (base64).", "The attachment's content is not valid base64.")
)

const (
	citizenCookie = "citizen_session"
	// maxSubmit bounds a submission: ten uploads of 5 MB would not fit, the
	// point is to stop a client from holding memory, not to be exact: the
	// per-file cap is checked on the decoded bytes.
	maxSubmit = 16 << 20
	maxJSON   = 64 << 10
)

// Mount registers the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	pub := func(p string, fn func(http.ResponseWriter, *http.Request) error) {
		mux.Handle(p, h.wrap(fn))
	}
	cit := func(p string, fn func(http.ResponseWriter, *http.Request, services.Filer) error) {
		mux.Handle(p, h.wrap(h.citizen(fn)))
	}
	stf := func(p string, fn func(http.ResponseWriter, *http.Request, actor.Actor) error) {
		mux.Handle(p, h.wrap(h.staff(fn)))
	}
	pub("GET /api/v1/procedures", h.listProcedures)
	pub("GET /api/v1/procedures/{code}", h.getProcedure)
	pub("GET /api/v1/dossiers/track", h.limitedTrack())
	stf("PUT /api/v1/procedures/{code}", h.putProcedure)
	stf("DELETE /api/v1/procedures/{code}", h.resetProcedure)

	cit("GET /api/v1/procedures/{code}/form", h.form)
	cit("POST /api/v1/dossiers", h.submit)
	cit("GET /api/v1/dossiers", h.mine)
	cit("GET /api/v1/dossiers/{code}", h.one)
	cit("GET /api/v1/dossiers/{code}/qr", h.qr)
	cit("POST /api/v1/dossiers/{code}/pay", h.pay)
	cit("POST /api/v1/dossiers/{code}/supplement", h.resupply)
	cit("POST /api/v1/dossiers/{code}/rating", h.rate)

	h.mountCitizenPages(mux)
}

func (h *Handler) wrap(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if err := fn(w, r); err != nil {
			problem.Write(w, r, h.Log, err)
		}
	})
}

// citizen loads the e-ID session: the portal's cookie (then a POST must
// carry the session's CSRF token in X-CSRF-Token) or the session token as a
// bearer token.
func (h *Handler) citizen(fn func(http.ResponseWriter, *http.Request, services.Filer) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		token, cookie := "", false
		if a := r.Header.Get("Authorization"); strings.HasPrefix(a, "Bearer ") {
			token = strings.TrimPrefix(a, "Bearer ")
		} else if c, err := r.Cookie(citizenCookie); err == nil {
			token, cookie = c.Value, true
		}
		if token == "" {
			return errSignIn
		}
		s, err := h.Citizens.Session(r.Context(), token)
		if err != nil {
			if fault.As(err).Kind == fault.Unauthenticated {
				return errSignIn
			}
			return err
		}
		if cookie && r.Method != http.MethodGet && (s.CSRF == "" || r.Header.Get("X-CSRF-Token") != s.CSRF) {
			return errCSRF
		}
		return fn(w, r, services.Filer{PIN: s.PIN, Level: int(s.Level)})
	}
}

func (h *Handler) staff(fn func(http.ResponseWriter, *http.Request, actor.Actor) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		r, sess, err := auth.Load(r, h.Staff)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="dancu"`)
			return err
		}
		if !auth.CSRFOK(r) {
			return errCSRF
		}
		if sess.Account.MustChangePassword {
			return fault.New(fault.Forbidden, "staff.password_change_required", "Bạn cần đổi mật khẩu trước.", "Change your password first.")
		}
		return fn(w, r, sess.Account.Actor())
	}
}

func (h *Handler) listProcedures(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.Services.Catalogue().List(r.Context(), r.URL.Query().Get("q"), false)
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []services.Procedure{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"procedures": ps, "listed": h.Services.Catalogue().Listed(), "sources": h.Services.Catalogue().Sources()})
}

func (h *Handler) getProcedure(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Services.Catalogue().Get(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	if p.Disabled {
		return services.ErrProcedureNotFound
	}
	return jsonbody.Write(w, http.StatusOK, p)
}

func (h *Handler) putProcedure(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	if !a.Can(actor.ManagePlatform) {
		return services.ErrForbidden
	}
	var p services.Procedure
	if err := jsonbody.Decode(w, r, &p, maxJSON); err != nil {
		return err
	}
	if p.Code != r.PathValue("code") {
		return fault.Invalidf("code", "procedure.code_mismatch", "Mã thủ tục không khớp với địa chỉ.", "The procedure code does not match the address.")
	}
	p, err := h.Services.Catalogue().Put(r.Context(), a, p)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, p)
}

func (h *Handler) resetProcedure(w http.ResponseWriter, r *http.Request, a actor.Actor) error {
	if err := h.Services.Catalogue().Reset(r.Context(), a, r.PathValue("code")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) form(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	p, vals, err := h.Services.FormFor(r.Context(), f, r.PathValue("code"), r.URL.Query().Get("organisation"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"procedure": p, "values": vals})
}

type submitBody struct {
	Procedure string            `json:"procedure"`
	Form      map[string]string `json:"form"`
	Documents map[string]string `json:"documents,omitempty"`
	Uploads   []uploadBody      `json:"uploads,omitempty"`
	// Organisation files the dossier for an organisation the citizen acts
	// for (GET /api/v1/organisations).
	Organisation string `json:"organisation,omitempty"`
}

type uploadBody struct {
	Document string `json:"document"`
	Name     string `json:"name,omitempty"`
	Content  string `json:"content"` // base64
}

func decodeUploads(in []uploadBody) ([]services.Upload, error) {
	if len(in) > services.MaxUploads {
		return nil, services.ErrUploadCount
	}
	out := make([]services.Upload, 0, len(in))
	for _, u := range in {
		if base64.StdEncoding.DecodedLen(len(u.Content)) > services.MaxUpload+3 {
			return nil, services.ErrUploadSize
		}
		b, err := base64.StdEncoding.DecodeString(u.Content)
		if err != nil {
			return nil, errUpload
		}
		out = append(out, services.Upload{Document: u.Document, Name: u.Name, Body: b})
	}
	return out, nil
}

// receiptBody is the receipt as the API answers it.
type receiptBody struct {
	services.Receipt
	TrackURL string `json:"track_url"`
	// QRURL is the receipt's QR code (a PNG of TrackURL), drawn on request:
	// encoding it costs more than the submission itself.
	QRURL string `json:"qr_url"`
}

func (h *Handler) trackURL(code, check string) string {
	return h.BaseURL + "/track?" + url.Values{"code": {code}, "check": {check}}.Encode()
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	var b submitBody
	if err := jsonbody.Decode(w, r, &b, maxSubmit); err != nil {
		return err
	}
	ups, err := decodeUploads(b.Uploads)
	if err != nil {
		return err
	}
	rc, err := h.Services.Submit(r.Context(), f, services.SubmitRequest{Procedure: b.Procedure, Form: b.Form, Documents: b.Documents,
		Uploads: ups, IdempotencyKey: r.Header.Get("Idempotency-Key"), Organisation: b.Organisation})
	if err != nil {
		return err
	}
	out := receiptBody{Receipt: rc, TrackURL: h.trackURL(rc.Code, rc.CheckCode), QRURL: "/api/v1/dossiers/" + url.PathEscape(rc.Code) + "/qr"}
	status := http.StatusCreated
	if rc.Replayed {
		status = http.StatusOK
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Location", "/api/v1/dossiers/"+rc.Code)
	return jsonbody.Write(w, status, out)
}

func (h *Handler) mine(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	ds, err := h.Services.ListMine(r.Context(), f)
	if err != nil {
		return err
	}
	if ds == nil {
		ds = []services.Dossier{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"dossiers": ds})
}

func (h *Handler) one(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	d, err := h.Services.Mine(r.Context(), f, r.PathValue("code"))
	if err != nil {
		return err
	}
	hist, err := h.Services.HistoryOf(r.Context(), f, d.Code)
	if err != nil {
		return err
	}
	rating, rated, err := h.Services.RatingOf(r.Context(), f, d.Code)
	if err != nil {
		return err
	}
	out := map[string]any{"dossier": d, "history": hist}
	if rated {
		out["rating"] = rating
	}
	return jsonbody.Write(w, http.StatusOK, out)
}

func (h *Handler) qr(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	rc, err := h.Services.ReceiptOf(r.Context(), f, r.PathValue("code"))
	if err != nil {
		return err
	}
	png, err := qr.EncodeText(h.trackURL(rc.Code, rc.CheckCode), 256)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "image/png")
	_, err = w.Write(png)
	return err
}

func (h *Handler) pay(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	in, err := h.Services.Pay(r.Context(), f, r.PathValue("code"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, in)
}

func (h *Handler) resupply(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	var b submitBody
	if err := jsonbody.Decode(w, r, &b, maxSubmit); err != nil {
		return err
	}
	ups, err := decodeUploads(b.Uploads)
	if err != nil {
		return err
	}
	d, err := h.Services.Resupply(r.Context(), f, r.PathValue("code"), b.Documents, ups)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, d)
}

func (h *Handler) rate(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	var b struct {
		Stars   int    `json:"stars"`
		Comment string `json:"comment"`
	}
	if err := jsonbody.Decode(w, r, &b, maxJSON); err != nil {
		return err
	}
	rt, err := h.Services.Rate(r.Context(), f, r.PathValue("code"), b.Stars, b.Comment)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusCreated, rt)
}

func (h *Handler) track(w http.ResponseWriter, r *http.Request) error {
	t, err := h.Services.Track(r.Context(), r.URL.Query().Get("code"), r.URL.Query().Get("check"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, t)
}
