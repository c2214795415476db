package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/exchange"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web/auth"
	"github.com/dancu-project/dancu/internal/web/page"
	"github.com/dancu-project/dancu/internal/web/problem"
)

// loginCookie carries the sign-in form's CSRF token (double submit): there is
// no session yet to hold one, and a forged sign-in would put the victim in
// the attacker's account.
const loginCookie = "dancu_login"

type loginView struct {
	Token, Next string
	Expired     bool
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	next := page.LocalPath(r.URL.Query().Get("next"), "/")
	if _, _, err := auth.Load(r, u.staff); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	u.showLogin(w, r, http.StatusOK, next, "", nil)
}

// showLogin renders the sign-in form with a fresh token.
func (u *UI) showLogin(w http.ResponseWriter, r *http.Request, status int, next, username string, problem *fault.Error) {
	token := randomToken()
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode})
	v := u.page(r, nil, "login.title", "")
	v.Nav = "login"
	v.Form = newForm(url.Values{"username": {username}})
	if problem != nil {
		v.Summary = []summaryItem{{Message: page.FaultText(v.Lang, problem)}}
	}
	v.Page = loginView{Token: token, Next: next, Expired: r.URL.Query().Get("expired") == "1"}
	u.render(w, r, status, "login", v)
}

func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.errorPage(w, r, nil, http.StatusBadRequest, "err.invalid.title", u.tr(page.Lang(r), "err.badform"))
		return
	}
	c, err := r.Cookie(loginCookie)
	got := r.PostForm.Get(auth.CSRFField)
	if err != nil || c.Value == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(got)) != 1 {
		u.kit.Refused(r, http.StatusForbidden, "csrf")
		u.errorPage(w, r, nil, http.StatusForbidden, "err.csrf.title", u.tr(page.Lang(r), "err.csrf.text"))
		return
	}
	next := page.LocalPath(r.PostForm.Get("next"), "/")
	username := strings.TrimSpace(r.PostForm.Get("username"))
	acc, err := u.staff.SignIn(r.Context(), staff.Credentials{Username: username, Password: r.PostForm.Get("password"), ClientIP: clientIP(r)})
	if err != nil {
		// A wrong password, a block (429) and a lock (403) all show the
		// form again with the fault's message; other faults their page.
		f := fault.As(err)
		if f.Kind != fault.Unauthenticated && !errors.Is(err, staff.ErrThrottled) && !errors.Is(err, staff.ErrLocked) && !errors.Is(err, throttle.ErrBusy) {
			u.fail(w, r, err)
			return
		}
		status := problem.Status(f.Kind)
		if d, ok := throttle.RetryAfter(err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		}
		u.kit.Refused(r, status, f.Code)
		u.showLogin(w, r, status, next, username, f)
		return
	}
	token, _, err := u.staff.StartSession(r.Context(), acc)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	// A browser-session cookie: closing the browser signs out, and the
	// server's session expiry (sess.Expires) applies whatever the desk
	// computer's clock says.
	auth.SetCookie(w, token, time.Time{}, u.secure)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: "", Path: "/login", MaxAge: -1, HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// clientIP is the address a sign-in is counted against: the connection's
// peer (behind a reverse proxy, the proxy; the per-username limit and lock
// still hold).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request, _ staff.Session) {
	if token, viaCookie := auth.Token(r); viaCookie {
		if err := u.staff.EndSession(r.Context(), token); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	auth.ClearCookie(w, u.secure)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (u *UI) home(w http.ResponseWriter, r *http.Request, s staff.Session) {
	v := u.page(r, &s, "home.title", "")
	v.Nav = "home"
	v.Form = newForm(nil)
	u.render(w, r, http.StatusOK, "home", v)
}

type searchView struct {
	Searched bool
	Results  []registry.Summary
	NextURL  string
	Communes []adminunit.Unit
}

func (u *UI) search(w http.ResponseWriter, r *http.Request, s staff.Session) {
	q := r.URL.Query()
	f := newForm(q, "q", "birth_date", "commune")
	v := u.page(r, &s, "search.title", "")
	v.Nav = "search"
	v.Form = f
	a := actorOf(s)
	data := searchView{Communes: u.units.Communes(a.Province, u.now())}
	text := strings.TrimSpace(q.Get("q"))
	if compact := strings.Join(strings.Fields(text), ""); isDigits(compact) {
		text = compact // a PIN typed in groups
	}
	query := registry.Query{Text: text, BirthDate: strings.TrimSpace(q.Get("birth_date")),
		Commune: strings.TrimSpace(q.Get("commune")), Cursor: q.Get("cursor"), Limit: 20}
	status := http.StatusOK
	if query.Text != "" || query.BirthDate != "" || query.Commune != "" {
		data.Searched = true
		page, err := u.reg.Search(r.Context(), a, query)
		if err != nil {
			if status = u.formFaults(w, r, v, err, map[string]string{"pin": "q"}); status == 0 {
				return
			}
			data.Searched = false
		}
		data.Results = page.Items
		if page.NextCursor != "" {
			nq := url.Values{}
			for _, k := range []string{"q", "birth_date", "commune"} {
				if x := q.Get(k); x != "" {
					nq.Set(k, x)
				}
			}
			nq.Set("cursor", page.NextCursor)
			data.NextURL = "/persons?" + nq.Encode()
		}
	}
	v.Page = data
	u.render(w, r, status, "search", v)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

type personView struct {
	P          registry.Person
	Household  *registry.Household
	Residences []registry.Residence
	Events     []registry.LifeEvent
	History    []registry.Version
	Cards      *cardSection // nil when the card service is not wired
	// Sectors are the identifiers partners linked to the person; Sector
	// says whether the exchange is wired (the section is shown).
	Sectors []exchange.HeldSectorID
	Sector  bool
	// Actions, empty when not offered.
	BirthURL, DeathURL, MoveURL, TemporaryURL string
	// MarriageURL and DivorceURL open the civil-status acts (family.go).
	MarriageURL, DivorceURL string
}

func (u *UI) person(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx, a := r.Context(), actorOf(s)
	id := r.PathValue("pin")
	p, err := u.reg.Get(ctx, a, id, "lookup")
	if err != nil {
		u.fail(w, r, err)
		return
	}
	data := personView{P: p}
	if p.HouseholdID != "" {
		h, err := u.reg.Household(ctx, a, p.HouseholdID)
		switch {
		case err == nil:
			data.Household = &h
		case fault.As(err).Kind == fault.Internal:
			u.fail(w, r, err)
			return
		}
	}
	if data.Residences, err = u.reg.Residences(ctx, a, p.PIN); err != nil {
		u.fail(w, r, err)
		return
	}
	if data.Events, err = u.reg.Events(ctx, a, p.PIN); err != nil {
		u.fail(w, r, err)
		return
	}
	if data.History, err = u.reg.History(ctx, a, p.PIN); err != nil {
		u.fail(w, r, err)
		return
	}
	if data.Cards, err = u.cardSectionFor(r, s, p); err != nil {
		u.fail(w, r, err)
		return
	}
	if u.sectors != nil {
		data.Sector = true
		if data.Sectors, err = u.sectors.PersonSectorIDs(ctx, a, p.PIN, "lookup"); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	if a.CanRegister() {
		parent := "father_pin"
		if p.Sex == "F" {
			parent = "mother_pin"
		}
		if u.now().Year()-p.BirthDate.Year >= 12 { // the register's minimum parent age
			data.BirthURL = "/births/new?" + url.Values{parent: {p.PIN}}.Encode()
		}
		if p.Status != registry.Dead {
			data.DeathURL = "/deaths/new?" + url.Values{"pin": {p.PIN}}.Encode()
			data.MoveURL = "/moves/new?" + url.Values{"pin": {p.PIN}}.Encode()
			data.TemporaryURL = "/temporary-residences/new?" + url.Values{"pin": {p.PIN}}.Encode()
			if p.SpousePIN == "" {
				data.MarriageURL = "/marriages/new?" + url.Values{"pin": {p.PIN}}.Encode()
			} else {
				data.DivorceURL = "/divorces/new?" + url.Values{"pin": {p.PIN}}.Encode()
			}
		}
	}
	v := u.page(r, &s, "person.title", "")
	v.Nav = "search"
	v.Title = p.FullName
	switch r.URL.Query().Get("done") {
	case "birth":
		v.Flash = u.tr(v.Lang, "flash.birth") + " " + p.PIN
	case "death":
		v.Flash = u.tr(v.Lang, "flash.death")
	case "move":
		v.Flash = u.tr(v.Lang, "flash.move")
	case "temporary":
		v.Flash = u.tr(v.Lang, "flash.temporary")
	case "marriage", "divorce":
		v.Flash = u.tr(v.Lang, "flash."+r.URL.Query().Get("done"))
	case "card_apply", "card_approve", "card_produce", "card_hand_over", "card_report_lost", "card_reissue", "card_revoke", "card_cancel":
		v.Flash = u.tr(v.Lang, "flash."+r.URL.Query().Get("done"))
	}
	v.Page = data
	u.render(w, r, http.StatusOK, "person", v)
}

func (u *UI) household(w http.ResponseWriter, r *http.Request, s staff.Session) {
	h, err := u.reg.Household(r.Context(), actorOf(s), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := u.page(r, &s, "household.title", "")
	v.Nav = "search"
	v.Page = h
	u.render(w, r, http.StatusOK, "household", v)
}
