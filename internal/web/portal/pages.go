package portal

import (
	"context"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/throttle"
	"github.com/dancu-project/dancu/internal/web/page"
)

// home sends a signed-in citizen to their data and anyone else to sign in.
func (p *Portal) home(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if _, err := p.accounts.Session(r.Context(), c.Value); err == nil {
			http.Redirect(w, r, "/citizen/me", http.StatusSeeOther)
			return
		}
	}
	http.Redirect(w, r, "/citizen/login", http.StatusSeeOther)
}

type loginView struct {
	Token, PIN string
	Expired    bool
	Passkeys   bool // offer a passkey sign-in (account.go)
}

func (p *Portal) loginPage(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "login.title", "")
	_, passkeys := p.passkeyService()
	v.Page = loginView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure), Expired: r.URL.Query().Get("expired") == "1", Passkeys: passkeys}
	if r.URL.Query().Get("enrolled") == "1" {
		v.Flash = p.tr(r, "enrol.done")
	}
	p.render(w, r, http.StatusOK, "login.html", v)
}

// login signs the citizen in through the e-ID service, with its throttling
// and its one message for every kind of bad credentials.
func (p *Portal) login(w http.ResponseWriter, r *http.Request) {
	v := p.page(r, nil, "login.title", "")
	_, passkeys := p.passkeyService()
	lv := loginView{Token: page.FormToken(w, r, csrfCookie, cookiePath, p.secure), PIN: strings.TrimSpace(r.PostFormValue("pin")), Passkeys: passkeys}
	v.Page = lv
	if !page.FormTokenOK(r, csrfCookie) {
		p.kit.Refused(r, http.StatusForbidden, "csrf")
		v.Error = p.tr(r, "err.csrf.text")
		p.render(w, r, http.StatusForbidden, "login.html", v)
		return
	}
	auth, err := p.accounts.SignIn(r.Context(), eid.SignInInput{PIN: lv.PIN, Password: r.PostFormValue("password"),
		TOTP: r.PostFormValue("totp"), ClientIP: clientIP(r), Channel: "portal"})
	if err != nil {
		f := fault.As(err)
		status := http.StatusUnauthorized
		if d, ok := throttle.RetryAfter(err); ok { // 429 auth.busy
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
		}
		if f.Kind != fault.Unauthenticated {
			p.fail(w, r, err)
			return
		}
		p.kit.Refused(r, status, f.Code)
		v.Error = page.FaultText(v.Lang, f)
		p.render(w, r, status, "login.html", v)
		return
	}
	token, sess, err := p.accounts.StartSession(r.Context(), auth, p.sessionTTL)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: cookiePath, Expires: sess.Expires,
		HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/citizen/me", http.StatusSeeOther)
}

func (p *Portal) logout(w http.ResponseWriter, r *http.Request, s eid.Session) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := p.accounts.EndSession(r.Context(), c.Value); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: cookiePath, MaxAge: -1, HttpOnly: true, Secure: p.secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/citizen/login", http.StatusSeeOther)
}

// myDataView is the "My data" page.
type myDataView struct {
	Person     registry.Person
	Members    []registry.Member
	Residences []registry.Residence
	Cards      []cardservice.Card
	HasCards   bool // the card service is there
}

// myData shows the citizen's own record, read as the citizen for the
// purpose "self-service" (audited by the register like any read).
func (p *Portal) myData(w http.ResponseWriter, r *http.Request, s eid.Session) {
	ctx := r.Context()
	me := self(s)
	person, err := p.register.Get(ctx, me, s.PIN, purposeSelf)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	d := myDataView{Person: person, HasCards: p.cards != nil}
	if person.HouseholdID != "" {
		h, err := p.register.Household(ctx, me, person.HouseholdID)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		d.Members = h.Members
	}
	if d.Residences, err = p.register.Residences(ctx, me, s.PIN); err != nil {
		p.fail(w, r, err)
		return
	}
	if p.cards != nil {
		if d.Cards, _, err = p.cards.Cards(ctx, me, s.PIN); err != nil {
			p.fail(w, r, err)
			return
		}
	}
	v := p.page(r, &s, "me.title", "me")
	v.Page = d
	p.render(w, r, http.StatusOK, "me.html", v)
}

// errLevel2 refuses the e-ID card to a level-1 session.
var errLevel2 = fault.New(fault.Forbidden, "portal.level2_required",
	"Căn cước điện tử chỉ dành cho tài khoản định danh điện tử mức 2, đăng nhập bằng mật khẩu và mã xác thực.",
	"The electronic ID card is only for level-2 electronic ID accounts signed in with a password and an authenticator code.")

func (p *Portal) ecard(w http.ResponseWriter, r *http.Request, s eid.Session) {
	if s.Level < eid.Level2 {
		p.fail(w, r, errLevel2)
		return
	}
	c, err := p.issue(r.Context(), s)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	v := p.page(r, &s, "ecard.title", "ecard")
	v.Page = c
	p.render(w, r, http.StatusOK, "ecard.html", v)
}

type signInView struct {
	At      time.Time
	Level   eid.Level
	Factors string
	Channel string
}

func (p *Portal) signIns(w http.ResponseWriter, r *http.Request, s eid.Session) {
	recs, err := p.accounts.SignIns(r.Context(), s.PIN, 50)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	l := page.Lang(r)
	out := make([]signInView, 0, len(recs))
	for _, rec := range recs {
		sv := signInView{At: rec.At, Level: rec.Level, Factors: p.msgs.T(l, "signins.pwd")}
		if len(rec.AMR) > 1 {
			sv.Factors = p.msgs.T(l, "signins.mfa")
		}
		switch {
		case rec.Channel == "portal":
			sv.Channel = p.msgs.T(l, "signins.portal")
		case strings.HasPrefix(rec.Channel, "oidc:"):
			sv.Channel = p.msgs.T(l, "signins.service") + " " + p.clientName(r, strings.TrimPrefix(rec.Channel, "oidc:"))
		default:
			sv.Channel = p.msgs.T(l, "signins.other")
		}
		out = append(out, sv)
	}
	v := p.page(r, &s, "signins.title", "signins")
	v.Page = out
	p.render(w, r, http.StatusOK, "signins.html", v)
}

// clientName names a relying party for display, falling back to its id.
func (p *Portal) clientName(r *http.Request, id string) string {
	if c, err := p.provider.Clients().Get(r.Context(), id); err == nil && c.Name != "" {
		return c.Name
	}
	return id
}

type consentView struct {
	ClientID, ClientName, Purpose string
	Data                          []string
	// Fields are the data granted, each withdrawable on its own; Declined
	// the optional data the citizen did not share.
	Fields           []consentField
	Declined         []string
	Given, Withdrawn time.Time
}

// consentField is one field (scope) of a consent, with its words.
type consentField struct{ Scope, Text string }

func (p *Portal) consents(w http.ResponseWriter, r *http.Request, s eid.Session) {
	ctx := r.Context()
	acct, err := p.accounts.Account(ctx, s.PIN)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	list, err := p.provider.Consents(ctx, acct.Subject)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	l := page.Lang(r)
	out := make([]consentView, 0, len(list))
	for _, c := range list {
		cv := consentView{ClientID: c.ClientID, ClientName: p.clientName(r, c.ClientID), Purpose: c.Purpose, Given: c.Given, Withdrawn: c.Withdrawn}
		for _, sc := range c.Scopes {
			cv.Data = append(cv.Data, p.scopeText(l, sc))
			cv.Fields = append(cv.Fields, consentField{Scope: sc, Text: p.scopeText(l, sc)})
		}
		for _, sc := range c.Declined {
			cv.Declined = append(cv.Declined, p.scopeText(l, sc))
		}
		out = append(out, cv)
	}
	v := p.page(r, &s, "consents.title", "consents")
	if r.URL.Query().Get("withdrawn") == "1" {
		v.Flash = p.msgs.T(l, "consents.withdrawn_flash")
	}
	v.Page = out
	p.render(w, r, http.StatusOK, "consents.html", v)
}

var errNoConsent = fault.New(fault.NotFound, "portal.consent_not_found", "Không tìm thấy sự đồng ý này.", "No such consent.")

// withdraw withdraws the citizen's consent to one relying party, whole or
// one field (scope) of it; the provider also revokes that party's tokens
// for the citizen.
func (p *Portal) withdraw(w http.ResponseWriter, r *http.Request, s eid.Session) {
	ctx := r.Context()
	client, scope := r.PostFormValue("client_id"), r.PostFormValue("scope")
	acct, err := p.accounts.Account(ctx, s.PIN)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	list, err := p.provider.Consents(ctx, acct.Subject)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	found := false
	for _, c := range list {
		found = found || (c.ClientID == client && c.Withdrawn.IsZero() && (scope == "" || slices.Contains(c.Scopes, scope)))
	}
	if !found {
		p.fail(w, r, errNoConsent)
		return
	}
	withdraw := func() error { return p.provider.WithdrawConsent(ctx, acct.Subject, client) }
	if scope != "" {
		withdraw = func() error { return p.provider.WithdrawConsentScope(ctx, acct.Subject, client, scope) }
	}
	if err := withdraw(); err != nil {
		p.fail(w, r, err)
		return
	}
	p.log.Info("citizen withdrew a consent", "code", "portal.consent_withdrawn")
	http.Redirect(w, r, "/citizen/consents?withdrawn=1", http.StatusSeeOther)
}

type accessView struct {
	At             time.Time
	Who, What, Why string
	Fields         string // what a partner received, when it received data
	Staff, Partner bool
}

// AccessNotes explains a data-exchange partner's entry in the access log:
// the partner's name, the fields disclosed and the purpose, in Vietnamese
// (*exchange.Store).
type AccessNotes interface {
	DescribeAccess(ctx context.Context, actor, purpose, detail string) (partner, fields, why string, ok bool)
}

// accessLimit bounds the audit entries read for the access page; the
// citizen's own reads are left out of the list shown.
const accessLimit = 500

// access lists who read or changed the citizen's data, from the audit log.
func (p *Portal) access(w http.ResponseWriter, r *http.Request, s eid.Session) {
	entries, err := p.accessLog.BySubject(r.Context(), "person:"+s.PIN, accessLimit)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	l := page.Lang(r)
	var out []accessView
	for _, e := range entries {
		// The citizen's own reads are left out; their own e-ID acts
		// (passkeys, consents) are history they want to see.
		if e.Actor == "citizen:"+s.PIN && !strings.HasPrefix(e.Action, "eid.") {
			continue
		}
		kind, name, _ := strings.Cut(e.Actor, ":")
		av := accessView{At: e.At, What: p.actionText(l, e.Action), Why: p.purposeText(l, e.Purpose)}
		switch kind {
		case "staff":
			av.Who, av.Staff = p.msgs.T(l, "access.staff")+" "+name, true
		case "partner":
			av.Who, av.Partner = p.msgs.T(l, "access.partner")+" "+p.clientName(r, name), true
			if p.partners != nil {
				if who, fields, why, ok := p.partners.DescribeAccess(r.Context(), e.Actor, e.Purpose, e.Detail); ok {
					av.Who, av.Fields, av.Why = p.msgs.T(l, "access.partner")+" "+who, fields, why
				}
			}
		case "system":
			av.Who = p.msgs.T(l, "access.system") + " (" + name + ")"
		case "citizen":
			av.Who = p.msgs.T(l, "access.citizen")
			if name == s.PIN {
				av.Who = p.msgs.T(l, "access.you")
			} else if strings.HasPrefix(e.Action, "eid.delegation_") {
				av.Who = p.msgs.T(l, "access.org_rep")
			}
		default:
			av.Who = e.Actor
		}
		out = append(out, av)
		if len(out) == 100 {
			break
		}
	}
	v := p.page(r, &s, "access.title", "access")
	v.Page = out
	p.render(w, r, http.StatusOK, "access.html", v)
}
