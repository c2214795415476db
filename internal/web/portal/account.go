package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/passkeyjs"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/web/page"
)

// PasskeyAccounts is what the passkey pages need (*eid.Service). The
// portal finds it on Deps.Accounts.
type PasskeyAccounts interface {
	PasskeysEnabled() bool
	BeginPasskeyRegistration(ctx context.Context, sess eid.Session) (eid.Ceremony, error)
	FinishPasskeyRegistration(ctx context.Context, sess eid.Session, ceremonyID, name string, response []byte) (eid.Passkey, error)
	Passkeys(ctx context.Context, pin string) ([]eid.Passkey, error)
	RemovePasskey(ctx context.Context, sess eid.Session, id string) error
}

// OrgAccounts is what the organisation pages need (*eid.Service).
type OrgAccounts interface {
	Memberships(ctx context.Context, pin string) ([]eid.Membership, error)
	OrgMembers(ctx context.Context, by eid.Session, orgID string) ([]eid.Membership, error)
	Org(ctx context.Context, id string) (eid.Org, error)
	Delegate(ctx context.Context, by eid.Session, orgID, pin, role string, expires time.Time) (eid.Membership, error)
	RevokeDelegation(ctx context.Context, by eid.Session, orgID, memberID string) error
}

// mountAccount adds the passkey and organisation pages.
func (p *Portal) mountAccount(mux *http.ServeMux) {
	s := func(pattern string, fn handler) { mux.Handle(pattern, p.headers(p.signedIn(fn))) }
	mux.Handle("GET /citizen/webauthn.js", passkeyjs.Handler())
	mux.Handle("POST /citizen/passkey/options", p.headers(http.HandlerFunc(p.passkeySignInOptions)))
	mux.Handle("POST /citizen/passkey/login", p.headers(http.HandlerFunc(p.passkeySignIn)))
	s("GET /citizen/passkeys", p.passkeysPage)
	s("POST /citizen/passkeys/options", p.passkeyOptions)
	s("POST /citizen/passkeys/register", p.passkeyRegister)
	s("POST /citizen/passkeys/remove", p.passkeyRemove)
	s("GET /citizen/orgs", p.orgsPage)
	s("GET /citizen/orgs/{id}", p.orgPage)
	s("POST /citizen/orgs/{id}/delegate", p.orgDelegate)
	s("POST /citizen/orgs/{id}/revoke", p.orgRevoke)
}

// csrfValue is a POST's CSRF token: the form field, or the X-CSRF-Token
// header of the passkey script's JSON calls.
func csrfValue(r *http.Request) string {
	if v := r.Header.Get("X-CSRF-Token"); v != "" {
		return v
	}
	return r.PostFormValue("csrf")
}

func (p *Portal) passkeyService() (PasskeyAccounts, bool) {
	pk, ok := p.accounts.(PasskeyAccounts)
	return pk, ok && pk.PasskeysEnabled()
}

type passkeysView struct {
	Enabled    bool
	NeedLevel2 bool // a level-2 account signed in at level 1 cannot add one
	Passkeys   []eid.Passkey
	MaxReached bool
}

func (p *Portal) passkeysPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	v := p.page(r, &s, "passkeys.title", "passkeys")
	d := passkeysView{}
	if pk, ok := p.passkeyService(); ok {
		acct, err := p.accounts.Account(r.Context(), s.PIN)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		if d.Passkeys, err = pk.Passkeys(r.Context(), s.PIN); err != nil {
			p.fail(w, r, err)
			return
		}
		d.Enabled, d.NeedLevel2, d.MaxReached = true, acct.Level >= eid.Level2 && s.Level < eid.Level2, len(d.Passkeys) >= 10
	}
	switch {
	case r.URL.Query().Get("added") == "1":
		v.Flash = p.tr(r, "passkeys.added")
	case r.URL.Query().Get("removed") == "1":
		v.Flash = p.tr(r, "passkeys.removed")
	}
	v.Page = d
	p.render(w, r, http.StatusOK, "passkeys.html", v)
}

// jsonFault answers a script call with the fault's message in the page's
// language.
func (p *Portal) jsonFault(w http.ResponseWriter, r *http.Request, err error) {
	p.kit.ScriptFail(w, r, err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (p *Portal) passkeyOptions(w http.ResponseWriter, r *http.Request, s eid.Session) {
	pk, ok := p.passkeyService()
	if !ok {
		p.jsonFault(w, r, eid.ErrPasskeysOff)
		return
	}
	c, err := pk.BeginPasskeyRegistration(r.Context(), s)
	if err != nil {
		p.jsonFault(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

type passkeyAnswer struct {
	Ceremony   string          `json:"ceremony"`
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func (p *Portal) passkeyRegister(w http.ResponseWriter, r *http.Request, s eid.Session) {
	pk, ok := p.passkeyService()
	if !ok {
		p.jsonFault(w, r, eid.ErrPasskeysOff)
		return
	}
	var a passkeyAnswer
	body, err := io.ReadAll(r.Body)
	if err != nil || json.Unmarshal(body, &a) != nil {
		p.jsonFault(w, r, eid.ErrPasskeyMalformed)
		return
	}
	if _, err := pk.FinishPasskeyRegistration(r.Context(), s, a.Ceremony, a.Name, a.Credential); err != nil {
		p.jsonFault(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/citizen/passkeys?added=1"})
}

func (p *Portal) passkeyRemove(w http.ResponseWriter, r *http.Request, s eid.Session) {
	pk, ok := p.passkeyService()
	if !ok {
		p.fail(w, r, eid.ErrPasskeysOff)
		return
	}
	if err := pk.RemovePasskey(r.Context(), s, r.PostFormValue("id")); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/citizen/passkeys?removed=1", http.StatusSeeOther)
}

func (p *Portal) orgService(w http.ResponseWriter, r *http.Request, s eid.Session) (OrgAccounts, bool) {
	o, ok := p.accounts.(OrgAccounts)
	if !ok {
		p.fail(w, r, errNoOrgs)
	}
	return o, ok
}

var errNoOrgs = fault.New(fault.NotFound, "portal.orgs_off", "Chức năng tổ chức chưa được bật.", "Organisations are not enabled.")

type orgsView struct {
	Memberships []eid.Membership
}

func (p *Portal) orgsPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	orgs, ok := p.orgService(w, r, s)
	if !ok {
		return
	}
	ms, err := orgs.Memberships(r.Context(), s.PIN)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := p.page(r, &s, "orgs.title", "orgs")
	v.Page = orgsView{Memberships: ms}
	p.render(w, r, http.StatusOK, "orgs.html", v)
}

type memberView struct {
	eid.Membership
	State string // "active", "expired", "revoked"
}

type orgView struct {
	Org        eid.Org
	Members    []memberView
	NeedLevel2 bool
	Roles      []string
	MinDate    string
	Form       struct{ PIN, Role, Expires string }
}

func (p *Portal) orgView(r *http.Request, s eid.Session, orgs OrgAccounts, id string) (orgView, error) {
	var d orgView
	org, err := orgs.Org(r.Context(), id)
	if err != nil {
		return d, err
	}
	ms, err := orgs.OrgMembers(r.Context(), s, id)
	if err != nil {
		return d, err
	}
	now := p.now()
	d.Org, d.NeedLevel2, d.Roles = org, s.Level < eid.Level2, eid.DelegableRoles
	d.MinDate = now.In(vnTime).AddDate(0, 0, 1).Format("2006-01-02")
	for _, m := range ms {
		mv := memberView{Membership: m, State: "active"}
		switch {
		case !m.Revoked.IsZero():
			mv.State = "revoked"
		case !m.Active(now):
			mv.State = "expired"
		}
		d.Members = append(d.Members, mv)
	}
	return d, nil
}

// orgPage shows an organisation's representatives and delegations to a
// representative, with the forms to delegate and revoke.
func (p *Portal) orgPage(w http.ResponseWriter, r *http.Request, s eid.Session) {
	orgs, ok := p.orgService(w, r, s)
	if !ok {
		return
	}
	d, err := p.orgView(r, s, orgs, r.PathValue("id"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := p.page(r, &s, "org.title", "orgs")
	switch {
	case r.URL.Query().Get("delegated") == "1":
		v.Flash = p.tr(r, "org.delegated")
	case r.URL.Query().Get("revoked") == "1":
		v.Flash = p.tr(r, "org.revoked_flash")
	}
	v.Page = d
	p.render(w, r, http.StatusOK, "org.html", v)
}

// parseExpiry reads a yyyy-mm-dd date; the delegation ends at the end of
// that day, Vietnam time.
func parseExpiry(s string) (time.Time, bool) {
	d, err := time.ParseInLocation("2006-01-02", strings.TrimSpace(s), vnTime)
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

func (p *Portal) orgDelegate(w http.ResponseWriter, r *http.Request, s eid.Session) {
	orgs, ok := p.orgService(w, r, s)
	if !ok {
		return
	}
	id := r.PathValue("id")
	pin, role := strings.TrimSpace(r.PostFormValue("pin")), r.PostFormValue("role")
	expires, ok := parseExpiry(r.PostFormValue("expires"))
	var err error
	if !ok {
		err = eid.ErrDelegateExpiry.WithField("expires")
	} else if !slices.Contains(eid.DelegableRoles, role) {
		err = eid.ErrDelegateRole.WithField("role")
	} else {
		_, err = orgs.Delegate(r.Context(), s, id, pin, role, expires)
	}
	if err != nil {
		f := fault.As(err)
		if f.Kind != fault.Invalid && f.Kind != fault.Conflict {
			p.fail(w, r, err)
			return
		}
		// Show the form again with the message and what was typed.
		d, verr := p.orgView(r, s, orgs, id)
		if verr != nil {
			p.fail(w, r, verr)
			return
		}
		d.Form.PIN, d.Form.Role, d.Form.Expires = pin, role, r.PostFormValue("expires")
		v := p.page(r, &s, "org.title", "orgs")
		v.Error, v.Page = page.FaultText(v.Lang, f), d
		p.render(w, r, http.StatusUnprocessableEntity, "org.html", v)
		return
	}
	http.Redirect(w, r, "/citizen/orgs/"+id+"?delegated=1", http.StatusSeeOther)
}

func (p *Portal) orgRevoke(w http.ResponseWriter, r *http.Request, s eid.Session) {
	orgs, ok := p.orgService(w, r, s)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := orgs.RevokeDelegation(r.Context(), s, id, r.PostFormValue("member")); err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/citizen/orgs/"+id+"?revoked=1", http.StatusSeeOther)
}

// PasskeySignIn is what the portal's passkey sign-in needs (*eid.Service).
type PasskeySignIn interface {
	BeginPasskeySignIn(ctx context.Context, bound string) (eid.Ceremony, error)
	FinishPasskeySignIn(ctx context.Context, in eid.PasskeySignInInput) (eid.Authentication, error)
}

// signInBound ties a portal sign-in ceremony to the browser: it is derived
// from the browser's pre-sign-in CSRF cookie, which only that browser has.
func signInBound(r *http.Request) string {
	c, err := r.Cookie(csrfCookie)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte("portal passkey " + c.Value))
	return "portal:" + hex.EncodeToString(sum[:16])
}

// preSignIn checks a pre-sign-in script call: passkeys on, and the
// double-submit token (X-CSRF-Token header against the cookie).
func (p *Portal) preSignIn(w http.ResponseWriter, r *http.Request) (PasskeySignIn, bool) {
	_, on := p.passkeyService()
	ps, ok := p.accounts.(PasskeySignIn)
	if !on || !ok {
		p.jsonFault(w, r, eid.ErrPasskeysOff)
		return nil, false
	}
	c, err := r.Cookie(csrfCookie)
	if err != nil || !page.SameToken(r.Header.Get("X-CSRF-Token"), c.Value) {
		p.kit.Refused(r, http.StatusForbidden, "csrf")
		writeJSON(w, http.StatusForbidden, map[string]string{"error": p.tr(r, "err.csrf.text"), "code": "csrf"})
		return nil, false
	}
	return ps, true
}

func (p *Portal) passkeySignInOptions(w http.ResponseWriter, r *http.Request) {
	ps, ok := p.preSignIn(w, r)
	if !ok {
		return
	}
	c, err := ps.BeginPasskeySignIn(r.Context(), signInBound(r))
	if err != nil {
		p.jsonFault(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// passkeySignIn opens a portal session with a passkey. The session's level
// is the one the passkey reached (2 with user verification on a level-2
// account).
func (p *Portal) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	ps, ok := p.preSignIn(w, r)
	if !ok {
		return
	}
	var a passkeyAnswer
	body, err := io.ReadAll(r.Body)
	if err != nil || json.Unmarshal(body, &a) != nil {
		p.jsonFault(w, r, eid.ErrPasskeyMalformed)
		return
	}
	auth, err := ps.FinishPasskeySignIn(r.Context(), eid.PasskeySignInInput{Ceremony: a.Ceremony, Bound: signInBound(r), Response: a.Credential,
		ClientIP: clientIP(r), Channel: "portal"})
	if err != nil {
		p.jsonFault(w, r, err)
		return
	}
	token, sess, err := p.accounts.StartSession(r.Context(), auth, p.sessionTTL)
	if err != nil {
		p.jsonFault(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: cookiePath, Expires: sess.Expires,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/citizen/me"})
}
