package oidcop

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/passkeyjs"
)

// PasskeyAccounts is what the login page needs for passkeys; *eid.Service
// provides it. The provider finds it on Deps.Accounts, so a deployment
// without passkeys configured simply does not offer the button.
type PasskeyAccounts interface {
	PasskeysEnabled() bool
	BeginPasskeySignIn(ctx context.Context, bound string) (eid.Ceremony, error)
	FinishPasskeySignIn(ctx context.Context, in eid.PasskeySignInInput) (eid.Authentication, error)
}

// OrgAccounts is what the provider needs for citizens acting for an
// organisation; *eid.Service provides it.
type OrgAccounts interface {
	Memberships(ctx context.Context, pin string) ([]eid.Membership, error)
	ActingAs(ctx context.Context, pin, memberID string) (eid.Membership, error)
}

// actRecorder audits acts about a person's e-ID done here (consents);
// *eid.Service provides it.
type actRecorder interface {
	RecordAct(ctx context.Context, actorID, action, pin, detail string) error
}

func (p *Provider) passkeys() (PasskeyAccounts, bool) {
	pk, ok := p.store.accounts.(PasskeyAccounts)
	return pk, ok && pk.PasskeysEnabled()
}

// mountExtras adds the passkey sign-in and the organisation chooser.
func (p *Provider) mountExtras(mux *http.ServeMux) {
	mux.Handle("GET /webauthn.js", passkeyjs.Handler())
	mux.HandleFunc("POST /passkey/options", p.passkeyOptions)
	mux.HandleFunc("POST /passkey/login", p.passkeyLogin)
	mux.HandleFunc("GET /org", p.orgPage)
	mux.HandleFunc("POST /org", p.orgChoose)
}

// maxPasskeyBody bounds a passkey answer (a few kilobytes in practice).
const maxPasskeyBody = 64 << 10

type passkeyRequest struct {
	AuthRequestID string          `json:"authRequestID"`
	Ceremony      string          `json:"ceremony"`
	Credential    json.RawMessage `json:"credential"`
}

func (p *Provider) writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// passkeyStep reads a passkey call's body and checks the double-submit
// CSRF token (header X-CSRF-Token against the page's cookie) and that the
// authorization request is still open.
func (p *Provider) passkeyStep(w http.ResponseWriter, r *http.Request) (passkeyRequest, *authRequest, Client, PasskeyAccounts, bool) {
	var req passkeyRequest
	pk, on := p.passkeys()
	if !on {
		p.pages.ScriptFail(w, r, eid.ErrPasskeysOff, Page{Prefix: p.prefix})
		return req, nil, Client{}, nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPasskeyBody))
	if err != nil || json.Unmarshal(body, &req) != nil {
		p.pages.ScriptFail(w, r, eid.ErrPasskeyMalformed, Page{Prefix: p.prefix})
		return req, nil, Client{}, nil, false
	}
	ar, err := p.store.loadAuthRequest(r.Context(), "id", req.AuthRequestID, false)
	if err != nil || ar.IsDone || !sameCookie(r, csrfCookie, r.Header.Get("X-CSRF-Token")) {
		p.pages.ScriptFail(w, r, ErrBadRequest, Page{Prefix: p.prefix})
		return req, nil, Client{}, nil, false
	}
	c, err := p.clients.Get(r.Context(), ar.ClientID)
	if err != nil {
		p.pages.ScriptFail(w, r, ErrBadRequest, Page{Prefix: p.prefix})
		return req, nil, Client{}, nil, false
	}
	return req, ar, c, pk, true
}

// passkeyOptions begins a discoverable passkey sign-in bound to the
// authorization request.
func (p *Provider) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	req, ar, c, pk, ok := p.passkeyStep(w, r)
	if !ok {
		return
	}
	ceremony, err := pk.BeginPasskeySignIn(r.Context(), req.AuthRequestID)
	if err != nil {
		p.pages.ScriptFail(w, r, err, p.page(ar, c))
		return
	}
	p.writeJSON(w, http.StatusOK, ceremony)
}

// passkeyLogin finishes a passkey sign-in and answers where the browser
// goes next (organisation choice, consent, or back to the relying party).
func (p *Provider) passkeyLogin(w http.ResponseWriter, r *http.Request) {
	req, ar, c, pk, ok := p.passkeyStep(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	need := max(c.MinLevel, levelAsked(ar.Req.ACRValues))
	auth, err := pk.FinishPasskeySignIn(ctx, eid.PasskeySignInInput{Ceremony: req.Ceremony, Bound: req.AuthRequestID, Response: req.Credential,
		ClientIP: clientIP(r), MinLevel: need, Channel: "oidc:" + c.ID})
	if err != nil {
		// A failed, refused or unreadable passkey: its fault's status and
		// message (problem.Status: 401, 403, 400); a failure of ours: 500,
		// logged.
		p.pages.ScriptFail(w, r, err, p.page(ar, c))
		return
	}
	next, err := p.afterSignIn(w, r, ar, c, auth)
	if err != nil {
		p.pages.ScriptFail(w, r, err, p.page(ar, c))
		return
	}
	p.writeJSON(w, http.StatusOK, map[string]string{"redirect": next})
}

// afterSignIn records who signed in for the request, binds the rest of the
// flow to this browser, and returns the next step's URL.
// The sign-in also starts or renews the browser's session at the provider
// (sso.go).
func (p *Provider) afterSignIn(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client, auth eid.Authentication) (string, error) {
	sid, err := p.rememberSignIn(w, r, auth)
	if err != nil {
		return "", err
	}
	return p.signedIn(w, r, ar, c, auth, sid)
}

// signedIn records who signed in for the request, in which session, binds
// the rest of the flow to this browser, and returns the next step's URL.
func (p *Provider) signedIn(w http.ResponseWriter, r *http.Request, ar *authRequest, c Client, auth eid.Authentication, sid string) (string, error) {
	if err := p.store.completeLogin(r.Context(), ar.ID, auth, sid); err != nil {
		return "", err
	}
	if err := p.sessionClient(r.Context(), sid, c.ID); err != nil {
		return "", err
	}
	p.setCookie(w, flowCookie, p.flowToken(ar.ID))
	ar.Subject, ar.Level, ar.SID = auth.Account.Subject, auth.Level, sid
	return p.nextStep(r.Context(), ar, c, auth.Account.PIN)
}

// nextStep is where a signed-in flow continues: the organisation chooser
// (when the client asked for scope "org", the citizen may act for one and
// has not chosen yet), the consent page, or the relying party.
func (p *Provider) nextStep(ctx context.Context, ar *authRequest, c Client, pin string) (string, error) {
	if slices.Contains(ar.Req.Scopes, ScopeOrg) {
		if orgs, ok := p.store.accounts.(OrgAccounts); ok {
			chosen, err := p.store.actingChosen(ctx, ar.ID)
			if err != nil {
				return "", err
			}
			if !chosen {
				ms, err := orgs.Memberships(ctx, pin)
				if err != nil {
					return "", err
				}
				if len(ms) > 0 {
					return p.prefix + "/org?authRequestID=" + ar.ID, nil
				}
			}
		}
	}
	ok, refused, err := p.consentState(ctx, ar.Subject, c.ID, ar.Req.Scopes)
	if err != nil {
		return "", err
	}
	if !ok {
		return p.prefix + "/consent?authRequestID=" + ar.ID, nil
	}
	// Fields declined or withdrawn are not released (consent.go).
	if err := p.narrowScopes(ctx, ar, refused); err != nil {
		return "", err
	}
	if err := p.store.markDone(ctx, ar.ID); err != nil {
		return "", err
	}
	return p.callbackURL(ar.ID), nil
}

// recordConsent audits a consent given or withdrawn under the citizen.
func (p *Provider) recordConsent(ctx context.Context, subject, action, clientID string) error {
	return p.recordConsentDetail(ctx, subject, action, "client:"+clientID)
}

// recordConsentDetail audits a consent act with its detail.
func (p *Provider) recordConsentDetail(ctx context.Context, subject, action, detail string) error {
	rec, ok := p.store.accounts.(actRecorder)
	if !ok {
		return nil
	}
	acct, err := p.store.accounts.AccountBySubject(ctx, subject)
	if errors.Is(err, eid.ErrNoAccount) {
		return nil
	}
	if err != nil {
		return err
	}
	return rec.RecordAct(ctx, "citizen:"+acct.PIN, action, acct.PIN, detail)
}
