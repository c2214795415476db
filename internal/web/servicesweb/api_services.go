package servicesweb

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/notify"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
	"github.com/dancu-project/dancu/internal/workday"
)

// API is the rest of the services API, beside Handler's routes: the
// organisations a citizen may file for, the citizen's notifications, the
// public holiday calendar and the administrators' holiday overrides and
// payment jobs. It shares Handler's sign-in, CSRF and problem handling.
type API struct {
	*Handler
	Notices  Notices  // nil: no notification routes
	Payments Payments // nil: no payment administration routes
}

// Notices lists and marks a citizen's notifications (*notify.Service).
type Notices interface {
	List(ctx context.Context, pin string, limit int) ([]notify.Notification, int, error)
	MarkRead(ctx context.Context, pin, id string) error
}

// Payments is what administrators see of the payment jobs
// (*payment.Service).
type Payments interface {
	JobRuns(ctx context.Context, job string, limit int) ([]payment.JobRun, error)
	Reconciliations(ctx context.Context, day civildate.Date) ([]payment.Report, error)
}

// errAdmin refuses the administration routes to anyone but a national
// platform administrator: the one rule of these routes, checked before the
// request is read.
var errAdmin = fault.New(fault.Forbidden, "services.admin_required", "Chỉ quản trị hệ thống mới được thực hiện thao tác này.", "Only a platform administrator may do this.")

// Mount registers the routes.
func (a *API) Mount(mux *http.ServeMux) {
	cit := func(p string, fn func(http.ResponseWriter, *http.Request, services.Filer) error) {
		mux.Handle(p, a.wrap(a.citizen(fn)))
	}
	adm := func(p string, fn func(http.ResponseWriter, *http.Request, actor.Actor) error) {
		mux.Handle(p, a.wrap(a.staff(func(w http.ResponseWriter, r *http.Request, who actor.Actor) error {
			if !who.Can(actor.ManagePlatform) {
				return errAdmin
			}
			return fn(w, r, who)
		})))
	}
	cit("GET /api/v1/organisations", a.organisations)
	mux.Handle("GET /api/v1/holidays/{year}", a.wrap(a.holidays))
	adm("PUT /api/v1/admin/holidays/{year}", a.putHolidays)
	adm("DELETE /api/v1/admin/holidays/{year}", a.resetHolidays)
	if a.Notices != nil {
		cit("GET /api/v1/notifications", a.notifications)
		cit("POST /api/v1/notifications/{id}/read", a.markRead)
	}
	if a.Payments != nil {
		adm("GET /api/v1/admin/payments/jobs", a.jobRuns)
		adm("GET /api/v1/admin/payments/reconciliations", a.reconciliations)
	}
}

func (a *API) organisations(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	os, err := a.Services.ActingFor(r.Context(), f)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"organisations": os})
}

func (a *API) notifications(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	ns, unread, err := a.Notices.List(r.Context(), f.PIN, limit)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"notifications": ns, "unread": unread})
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request, f services.Filer) error {
	if err := a.Notices.MarkRead(r.Context(), f.PIN, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

var errYear = fault.New(fault.Invalid, "holiday.year", "Năm không hợp lệ.", "The year is not valid.")

func pathYear(r *http.Request) (int, error) {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || y < 2000 || y > 2100 {
		return 0, errYear.WithField("year")
	}
	return y, nil
}

func (a *API) holidays(w http.ResponseWriter, r *http.Request) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	out, err := a.Services.HolidayYear(y)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, out)
}

func (a *API) putHolidays(w http.ResponseWriter, r *http.Request, who actor.Actor) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	var body struct {
		Source string        `json:"source"`
		Off    []workday.Day `json:"off"`
		Work   []workday.Day `json:"work"`
	}
	if err := jsonbody.Decode(w, r, &body, maxJSON); err != nil {
		return err
	}
	out, err := a.Services.PutHolidays(r.Context(), who, workday.Year{Year: y, Source: body.Source, Off: body.Off, Work: body.Work})
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, out)
}

func (a *API) resetHolidays(w http.ResponseWriter, r *http.Request, who actor.Actor) error {
	y, err := pathYear(r)
	if err != nil {
		return err
	}
	if err := a.Services.ResetHolidays(r.Context(), who, y); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) jobRuns(w http.ResponseWriter, r *http.Request, _ actor.Actor) error {
	job := r.URL.Query().Get("job")
	if job != "" && job != payment.JobExpire && job != payment.JobReconcile {
		return fault.Invalidf("job", "payment.job", "Không có tác vụ %s.", "No job %s.", job)
	}
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	runs, err := a.Payments.JobRuns(r.Context(), job, limit)
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"runs": runs})
}

func (a *API) reconciliations(w http.ResponseWriter, r *http.Request, _ actor.Actor) error {
	day, err := civildate.Parse(r.URL.Query().Get("day"))
	if err != nil || day.Partial() {
		return fault.Invalidf("day", "payment.day", "Ngày đối soát không hợp lệ (năm-tháng-ngày).", "The day is not valid (YYYY-MM-DD).")
	}
	reps, err := a.Payments.Reconciliations(r.Context(), day)
	if err != nil {
		return err
	}
	if reps == nil {
		reps = []payment.Report{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"day": day.String(), "reconciliations": reps})
}

// TrackLimit bounds public tracking by dossier code and check code: a
// client address gets PerClient lookups a Window, and a dossier code
// PerCode failed lookups a Window (so the check code of a known dossier
// code cannot be guessed from many addresses either). Counts are kept in
// memory per node, and forgotten once their window passes.
type TrackLimit struct {
	PerClient int
	PerCode   int
	Window    time.Duration
}

// DefaultTrackLimit: a person following a few dossiers never meets it.
var DefaultTrackLimit = TrackLimit{PerClient: 120, PerCode: 10, Window: time.Minute}

// ErrTrackLimited refuses a client that looked up too often.
var ErrTrackLimited = fault.New(fault.Limited, "dossier.track_limited", "Bạn đã tra cứu quá nhiều lần; vui lòng thử lại sau ít phút.", "Too many lookups; please try again in a few minutes.")

// limitedTrack is the public tracking route with its limits. A wrong
// check code and an unknown dossier answer alike, and count alike.
func (h *Handler) limitedTrack() func(http.ResponseWriter, *http.Request) error {
	l := h.TrackLimit
	if l.PerClient <= 0 || l.Window <= 0 {
		l = DefaultTrackLimit
	}
	clients, codes := newWindows(l.PerClient, l.Window), newWindows(max(l.PerCode, 1), l.Window)
	return func(w http.ResponseWriter, r *http.Request) error {
		now := time.Now()
		if h.Now != nil {
			now = h.Now()
		}
		code := r.URL.Query().Get("code")
		if len(code) > 40 {
			code = code[:40]
		}
		if !clients.allow(peer(r), now) || codes.full(code, now) {
			w.Header().Set("Retry-After", strconv.Itoa(int(l.Window/time.Second)))
			return ErrTrackLimited
		}
		err := h.track(w, r)
		if errors.Is(err, services.ErrTrackNotFound) {
			codes.allow(code, now)
		}
		return err
	}
}

// peer is the client's address; behind a load balancer the composition
// root puts the client's address in RemoteAddr.
func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// windows counts events per key in fixed windows, in memory, in shards so
// that concurrent lookups rarely wait on one another.
type windows struct {
	limit  int
	window time.Duration
	shards [16]struct {
		mu   sync.Mutex
		seen map[string]*windowCount
	}
}

type windowCount struct {
	start time.Time
	n     int
}

func newWindows(limit int, window time.Duration) *windows {
	w := &windows{limit: limit, window: window}
	for i := range w.shards {
		w.shards[i].seen = map[string]*windowCount{}
	}
	return w
}

func (w *windows) shard(key string) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return int(h % uint32(len(w.shards)))
}

// allow counts one event for key and reports whether it is within limit.
func (w *windows) allow(key string, now time.Time) bool {
	s := &w.shards[w.shard(key)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) > 4096 {
		for k, c := range s.seen {
			if now.Sub(c.start) >= w.window {
				delete(s.seen, k)
			}
		}
	}
	c, ok := s.seen[key]
	if !ok || now.Sub(c.start) >= w.window {
		c = &windowCount{start: now}
		s.seen[key] = c
	}
	if c.n >= w.limit {
		return false
	}
	c.n++
	return true
}

// full reports whether key has used its window's events, counting none.
func (w *windows) full(key string, now time.Time) bool {
	s := &w.shards[w.shard(key)]
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.seen[key]
	return ok && now.Sub(c.start) < w.window && c.n >= w.limit
}
