package oidcop

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/dancu-project/dancu/internal/eid"
)

// ScopeOrg lets a citizen who may act for an organisation (as its legal
// representative or by delegation) choose to act for it in this sign-in.
// The tokens then carry, besides the citizen's own "sub":
//
//	"org": {"id": "<organisation id>", "kind": "company"|"agency",
//	        "code": "<tax code or budget unit code>", "name": "…",
//	        "role": "representative"|"manager"|"accountant"|"staff",
//	        "delegation": "<membership id>", "delegation_exp": <unix, if any>}
//	"act": {"sub": "<the citizen's subject>"}
//
// "sub" stays the citizen who signed in, so a relying party's link to the
// person does not change; "org" says for whom and in which role they act;
// "act" has the shape of RFC 8693 §4.1's actor claim and names the natural
// person who acts, for resource servers that treat the organisation as the
// principal. Both are in the ID token and the JWT access token. The choice
// is checked again at every refresh: a revoked or expired delegation makes
// the refresh fail.
const ScopeOrg = "org"

func (p *Provider) orgRequest(r *http.Request, id string) (*authRequest, Client, eid.Account, OrgAccounts, bool) {
	ar, c, ok := p.consentRequest(r, id)
	orgs, has := p.store.accounts.(OrgAccounts)
	if !ok || !has {
		return nil, Client{}, eid.Account{}, nil, false
	}
	acct, err := p.store.accounts.AccountBySubject(r.Context(), ar.Subject)
	if err != nil || acct.Status != eid.StatusActive {
		return nil, Client{}, eid.Account{}, nil, false
	}
	return ar, c, acct, orgs, true
}

func (p *Provider) orgPage(w http.ResponseWriter, r *http.Request) {
	ar, c, acct, orgs, ok := p.orgRequest(r, r.URL.Query().Get("authRequestID"))
	if !ok {
		p.badRequest(w, r)
		return
	}
	pg := OrgPage{Page: p.page(ar, c)}
	ms, err := orgs.Memberships(r.Context(), acct.PIN)
	if err != nil {
		p.pages.Fail(w, r, err, pg.Page)
		return
	}
	pg.CSRF = p.csrfToken(w, r)
	for _, m := range ms {
		pg.Choices = append(pg.Choices, OrgChoice{ID: m.ID, Name: m.Org.Name, Code: m.Org.Code, Role: m.Role})
	}
	p.pages.Org(w, r, pg)
}

// orgChoose records the choice: "self", or a membership the citizen holds
// in force now. A membership id of someone else, or one revoked or expired,
// is refused.
func (p *Provider) orgChoose(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PostFormValue("authRequestID")
	ar, c, acct, orgs, ok := p.orgRequest(r, id)
	if !ok || !sameCookie(r, csrfCookie, r.PostFormValue("csrf")) {
		p.badRequest(w, r)
		return
	}
	pg := p.page(ar, c)
	choice := r.PostFormValue("org")
	member := ""
	if choice != "self" {
		m, err := orgs.ActingAs(ctx, acct.PIN, choice)
		if err != nil {
			// Someone else's membership, or one no longer in force
			// (eid.ErrNotActing, 403); a failure of ours is logged.
			p.pages.Fail(w, r, err, pg)
			return
		}
		member = m.ID
	}
	if err := p.store.setActing(ctx, "req:"+ar.ID, member); err != nil {
		p.pages.Fail(w, r, err, pg)
		return
	}
	next, err := p.nextStep(ctx, ar, c, acct.PIN)
	if err != nil {
		p.pages.Fail(w, r, err, pg)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *opStorage) setActing(ctx context.Context, key, member string) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO eid_oidc_acting (key, member_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO UPDATE SET member_id = excluded.member_id`,
		key, member, stamp(s.now()))
	if err != nil {
		return fmt.Errorf("record organisation choice: %w", err)
	}
	return nil
}

func (s *opStorage) acting(ctx context.Context, key string) (string, bool, error) {
	var member string
	err := s.db.R.QueryRowContext(ctx, `SELECT member_id FROM eid_oidc_acting WHERE key = $1`, key).Scan(&member)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("load organisation choice: %w", err)
	}
	return member, true, nil
}

func (s *opStorage) actingChosen(ctx context.Context, requestID string) (bool, error) {
	_, ok, err := s.acting(ctx, "req:"+requestID)
	return ok, err
}

// bindActing carries a request's choice over to the refresh-token family
// issued for it, so refreshed tokens keep (and re-check) the organisation.
func (s *opStorage) bindActing(ctx context.Context, requestID, family string) error {
	member, ok, err := s.acting(ctx, "req:"+requestID)
	if err != nil || !ok || member == "" {
		return err
	}
	return s.setActing(ctx, "fam:"+family, member)
}

// actingClaims are the "org" and "act" claims of a token request whose
// citizen chose to act for an organisation; nil when they act as
// themselves. A membership no longer in force fails the request.
func (s *opStorage) actingClaims(ctx context.Context, req any) (map[string]any, error) {
	var key, subject string
	switch r := req.(type) {
	case *authRequest:
		key, subject = "req:"+r.ID, r.Subject
	case *refreshGrant:
		key, subject = "fam:"+r.Family, r.Subject
	default:
		return nil, nil
	}
	member, ok, err := s.acting(ctx, key)
	if err != nil || !ok || member == "" {
		return nil, err
	}
	orgs, has := s.accounts.(OrgAccounts)
	if !has {
		return nil, nil
	}
	acct, err := s.accounts.AccountBySubject(ctx, subject)
	if err != nil {
		return nil, oidc.ErrInvalidGrant().WithDescription("the account cannot sign in")
	}
	m, err := orgs.ActingAs(ctx, acct.PIN, member)
	if errors.Is(err, eid.ErrNotActing) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the delegation to act for the organisation is no longer in force")
	}
	if err != nil {
		return nil, err
	}
	org := map[string]any{"id": m.Org.ID, "kind": m.Org.Kind, "code": m.Org.Code, "name": m.Org.Name, "role": m.Role, "delegation": m.ID}
	if !m.Expires.IsZero() {
		org["delegation_exp"] = m.Expires.Unix()
	}
	return map[string]any{"org": org, "act": map[string]any{"sub": subject}}, nil
}

// addActingClaims puts the organisation claims into an ID token's claims.
func (s *opStorage) addActingClaims(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest) error {
	claims, err := s.actingClaims(ctx, req)
	if err != nil {
		return err
	}
	for k, v := range claims {
		ui.AppendClaims(k, v)
	}
	return nil
}
