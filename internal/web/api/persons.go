package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/jsonbody"
)

type signInRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type signInResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	Role      string    `json:"role"`
	Unit      string    `json:"unit"`
	// MustChangePassword: every call but the password change (Link) and
	// sign-out answers 403 staff.password_change_required until it is done.
	MustChangePassword bool `json:"must_change_password"`
}

func (a *API) signIn(w http.ResponseWriter, r *http.Request) error {
	var in signInRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	acc, err := a.Staff.SignIn(r.Context(), staff.Credentials{Username: in.Username, Password: in.Password, ClientIP: clientIP(r)})
	if d, ok := throttle.RetryAfter(err); ok {
		// 429 auth.throttled: how long the block lasts; a lock (403
		// auth.account_locked) has no end but an administrator.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	}
	if err != nil {
		return err
	}
	token, sess, err := a.Staff.StartSession(r.Context(), acc)
	if err != nil {
		return err
	}
	if acc.MustChangePassword {
		w.Header().Set("Link", "<"+PasswordPath+`>; rel="change-password"`)
	}
	return jsonbody.Write(w, http.StatusCreated, signInResponse{Token: token, ExpiresAt: sess.Expires.UTC(), Role: string(acc.Role), Unit: acc.Unit, MustChangePassword: acc.MustChangePassword})
}

// clientIP is the address a sign-in is counted against: the connection's
// peer. A deployment behind a reverse proxy sees the proxy's address and
// still has the per-username limit and lock.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (a *API) signOut(w http.ResponseWriter, r *http.Request) error {
	token, _ := auth.Token(r)
	if err := a.Staff.EndSession(r.Context(), token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) searchPersons(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	page, err := a.Registry.Search(r.Context(), actorOf(r.Context()).Actor(), registry.Query{
		Text: q.Get("q"), BirthDate: q.Get("birth_date"), Commune: q.Get("commune"), Cursor: q.Get("cursor"), Limit: intParam(r, "limit"),
	})
	if err != nil {
		return err
	}
	if page.Items == nil {
		page.Items = []registry.Summary{}
	}
	return jsonbody.Write(w, http.StatusOK, page)
}

func purpose(r *http.Request) string {
	if p := r.URL.Query().Get("purpose"); p != "" && len(p) <= 64 {
		return p
	}
	return "lookup"
}

func (a *API) getPerson(w http.ResponseWriter, r *http.Request) error {
	p, err := a.Registry.Get(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"), purpose(r))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, p)
}

func (a *API) personHistory(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Registry.History(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": v})
}

func (a *API) personResidences(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Registry.Residences(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": v})
}

func (a *API) personEvents(w http.ResponseWriter, r *http.Request) error {
	v, err := a.Registry.Events(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("pin"))
	if err != nil {
		return err
	}
	if v == nil {
		v = []registry.LifeEvent{}
	}
	return jsonbody.Write(w, http.StatusOK, map[string]any{"items": v})
}

func (a *API) getHousehold(w http.ResponseWriter, r *http.Request) error {
	h, err := a.Registry.Household(r.Context(), actorOf(r.Context()).Actor(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, h)
}

// register decodes a registration, runs it and answers 201 with the record.
func register[T any](a *API, w http.ResponseWriter, r *http.Request, run func(acc staff.Account, in T) (registry.Person, error)) error {
	var in T
	if err := decode(w, r, &in); err != nil {
		return err
	}
	p, err := run(actorOf(r.Context()), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/persons/"+p.PIN)
	return jsonbody.Write(w, http.StatusCreated, p)
}

func (a *API) registerBirth(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(acc staff.Account, in registry.BirthInput) (registry.Person, error) {
		return a.Registry.RegisterBirth(r.Context(), acc.Actor(), in)
	})
}

func (a *API) registerDeath(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(acc staff.Account, in registry.DeathInput) (registry.Person, error) {
		return a.Registry.RegisterDeath(r.Context(), acc.Actor(), in)
	})
}

func (a *API) registerMove(w http.ResponseWriter, r *http.Request) error {
	return registerArrival(a, w, r, func(acc staff.Account, in registry.MoveInput) (registry.Person, error) {
		return a.Registry.RegisterMove(r.Context(), acc.Actor(), in)
	})
}

func (a *API) changeName(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(acc staff.Account, in registry.NameChangeInput) (registry.Person, error) {
		return a.Registry.ChangeName(r.Context(), acc.Actor(), in)
	})
}

func (a *API) registerTemporary(w http.ResponseWriter, r *http.Request) error {
	return registerArrival(a, w, r, func(acc staff.Account, in registry.TemporaryInput) (registry.Person, error) {
		return a.Registry.RegisterTemporary(r.Context(), acc.Actor(), in)
	})
}

type pinCheck struct {
	PIN          string `json:"pin"`
	Valid        bool   `json:"valid"`
	ProvinceCode string `json:"province_code"`
	ProvinceName string `json:"province_name"`
	BirthYear    int    `json:"birth_year"`
	Sex          string `json:"sex"`
}

// checkPIN explains a PIN's structure without touching the register, so it
// discloses nothing about who exists.
func (a *API) checkPIN(w http.ResponseWriter, r *http.Request) error {
	p, err := pin.Parse(r.PathValue("pin"))
	if err != nil {
		return err
	}
	return jsonbody.Write(w, http.StatusOK, pinCheck{PIN: p.String(), Valid: true, ProvinceCode: p.Province(),
		ProvinceName: pin.ProvinceName(p.Province()), BirthYear: p.BirthYear(), Sex: string(p.Sex())})
}
