package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/dancu-project/dancu/internal/idempotency"
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
func register[T any](a *API, w http.ResponseWriter, r *http.Request, run func(ctx context.Context, acc staff.Account, in T) (registry.Person, error)) error {
	var in T
	if err := decode(w, r, &in); err != nil {
		return err
	}
	return a.act(w, r, in, func(ctx context.Context) (registry.Person, error) { return run(ctx, actorOf(ctx), in) })
}

// act runs a register act and answers 201 with the person it recorded.
// Under an Idempotency-Key the act is done once: a request sent again with
// the same key (its answer lost to a timeout or a failed node) is answered
// with the person the first one recorded and Idempotent-Replayed: true, and
// the same key with another request is refused. The key is written in the
// act's transaction, so it exists exactly when the act committed.
func (a *API) act(w http.ResponseWriter, r *http.Request, in any, run func(ctx context.Context) (registry.Person, error)) error {
	ctx := r.Context()
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		p, err := run(ctx)
		if err != nil {
			return err
		}
		return created(w, p, false)
	}
	if !idempotency.ValidKey(key) {
		return registry.ErrRequestKey
	}
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("hash request: %w", err)
	}
	sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
	hash := hex.EncodeToString(sum[:])
	who := actorOf(ctx).Actor()
	replay := func() (bool, error) {
		pinText, ok, err := a.Registry.Replayed(ctx, who.ID, key, hash)
		if err != nil || !ok {
			return false, err
		}
		p, err := a.Registry.Get(ctx, who, pinText, "registration")
		if err != nil {
			return false, err
		}
		return true, created(w, p, true)
	}
	if ok, err := replay(); err != nil || ok {
		return err
	}
	p, err := run(registry.WithRequest(ctx, who.ID, key, hash))
	if registry.IsRequestRace(err) {
		// A concurrent request with the key committed first.
		if ok, rerr := replay(); rerr != nil || ok {
			return rerr
		}
	}
	if err != nil {
		return err
	}
	return created(w, p, false)
}

func created(w http.ResponseWriter, p registry.Person, replayed bool) error {
	w.Header().Set("Location", "/api/v1/persons/"+p.PIN)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	return jsonbody.Write(w, http.StatusCreated, p)
}

func (a *API) registerBirth(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(ctx context.Context, acc staff.Account, in registry.BirthInput) (registry.Person, error) {
		return a.Registry.RegisterBirth(ctx, acc.Actor(), in)
	})
}

func (a *API) registerDeath(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(ctx context.Context, acc staff.Account, in registry.DeathInput) (registry.Person, error) {
		return a.Registry.RegisterDeath(ctx, acc.Actor(), in)
	})
}

func (a *API) registerMove(w http.ResponseWriter, r *http.Request) error {
	return registerArrival(a, w, r, func(ctx context.Context, acc staff.Account, in registry.MoveInput) (registry.Person, error) {
		return a.Registry.RegisterMove(ctx, acc.Actor(), in)
	})
}

func (a *API) changeName(w http.ResponseWriter, r *http.Request) error {
	return register(a, w, r, func(ctx context.Context, acc staff.Account, in registry.NameChangeInput) (registry.Person, error) {
		return a.Registry.ChangeName(ctx, acc.Actor(), in)
	})
}

func (a *API) registerTemporary(w http.ResponseWriter, r *http.Request) error {
	return registerArrival(a, w, r, func(ctx context.Context, acc staff.Account, in registry.TemporaryInput) (registry.Person, error) {
		return a.Registry.RegisterTemporary(ctx, acc.Actor(), in)
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
