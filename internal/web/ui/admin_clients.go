package ui

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
)

var (
	clientIDRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)
	fingerprintRE = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

var clientFields = []string{"client_id", "client_name", "purpose", "client_type", "jwks", "grant_types", "redirect_uris", "post_logout_redirect_uris",
	"scopes", "optional_scopes", "backchannel_logout_uri", "min_level", "require_par", "require_dpop", "dev_mode"}

// The kinds of client the form offers.
const (
	clientPublic = "public" // PKCE only: a mobile or single-page app
	clientSecret = "secret" // confidential, with a generated secret shown once
	clientJWKS   = "jwks"   // confidential, private_key_jwt with its public keys
)

// clientRename maps the client store's field names to the form's.
var clientRename = map[string]string{"secret": "client_type", "id": "client_id", "name": "client_name"}

// clientAuth words how a client authenticates and what it must do.
func (u *UI) clientAuth(l string, c oidcop.ClientInfo) (string, []string) {
	auth := u.tr(l, "admin.client.type.public")
	switch {
	case c.JWKS != "":
		auth = u.tr(l, "admin.client.type.jwks")
	case c.HasSecret():
		auth = u.tr(l, "admin.client.type.secret")
	}
	var opts []string
	if c.RequireDPoP {
		opts = append(opts, "DPoP")
	}
	if c.RequirePAR {
		opts = append(opts, "PAR")
	}
	if c.MinLevel == eid.Level2 {
		opts = append(opts, u.tr(l, "admin.client.level2"))
	}
	return auth, opts
}

type clientRow struct {
	C         oidcop.ClientInfo
	Auth      string
	Options   []string
	Partner   string // the partner the client is a system of
	PartnerID string
}

func (u *UI) clientList(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	clients, err := u.admin.Clients.List(ctx)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	owner := map[string][2]string{}
	if u.admin.Partners != nil {
		partners, err := u.admin.Partners.Partners(ctx)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		for _, p := range partners {
			systems, err := u.admin.Partners.Systems(ctx, p.ID)
			if err != nil {
				u.fail(w, r, err)
				return
			}
			for _, sys := range systems {
				owner[sys.ClientID] = [2]string{p.ID, p.Name}
			}
		}
	}
	v := u.page(r, &s, "admin.clients.title", "")
	v.Nav = "admin"
	rows := make([]clientRow, 0, len(clients))
	for _, c := range clients {
		row := clientRow{C: c, PartnerID: owner[c.ID][0], Partner: owner[c.ID][1]}
		row.Auth, row.Options = u.clientAuth(v.Lang, c)
		rows = append(rows, row)
	}
	switch done := r.URL.Query().Get("done"); done {
	case "disabled", "enabled":
		v.Flash = u.tr(v.Lang, "admin.flash.client_"+done) + " " + r.URL.Query().Get("id")
	}
	v.Page = rows
	u.render(w, r, http.StatusOK, "admin-clients", v)
}

// clientFormView is what the client form receives.
type clientFormView struct {
	Current *oidcop.ClientInfo // nil on the register form
	Grants  []option
	Scopes  []option
}

func (u *UI) clientNew(w http.ResponseWriter, r *http.Request, s staff.Session) {
	vals := url.Values{"client_type": {clientPublic}, "grant_types": {oidcop.GrantAuthorizationCode}, "min_level": {"1"}}
	u.showClientForm(w, r, s, nil, http.StatusOK, newForm(vals, clientFields...), nil)
}

func (u *UI) showClientForm(w http.ResponseWriter, r *http.Request, s staff.Session, cur *oidcop.ClientInfo, status int, f *form, err error) {
	here, title := "/admin/clients/new", "admin.client.new.title"
	if cur != nil {
		here, title = "/admin/clients/"+url.PathEscape(cur.ID), "admin.client.edit.title"
	}
	v := u.page(r, &s, title, here)
	v.Nav, v.Form = "admin", f
	if err != nil {
		if status = u.formFaults(w, r, v, err, clientRename); status == 0 {
			return
		}
	}
	d := clientFormView{Current: cur, Scopes: u.scopeOptions(v.Lang)}
	for _, g := range oidcop.Grants {
		d.Grants = append(d.Grants, option{Value: g, Label: u.tr(v.Lang, "grant."+g)})
	}
	if cur != nil {
		switch done := r.URL.Query().Get("done"); done {
		case "created", "updated":
			if err == nil {
				v.Flash = u.tr(v.Lang, "admin.flash.client_"+done)
			}
		}
	}
	v.Page = d
	u.render(w, r, status, "admin-client-form", v)
}

// clientFromForm reads the form; the kind of client decides the secret.
func clientFromForm(f *form, id string) (oidcop.Client, fault.List) {
	c := oidcop.Client{ID: id, Name: strings.TrimSpace(f.Get("client_name")), Purpose: strings.TrimSpace(f.Get("purpose")),
		GrantTypes: f.checkedValues("grant_types"), RedirectURIs: lines(f.Get("redirect_uris")),
		PostLogoutRedirectURIs: lines(f.Get("post_logout_redirect_uris")), Scopes: f.checkedValues("scopes"),
		RequirePAR: f.Has("require_par", "1"), RequireDPoP: f.Has("require_dpop", "1"), DevMode: f.Has("dev_mode", "1"),
		OptionalScopes: strings.Fields(f.Get("optional_scopes")), BackchannelLogoutURI: f.trim("backchannel_logout_uri")}
	var l fault.List
	level, err := strconv.Atoi(f.trim("min_level"))
	if err != nil {
		level = 0 // ValidateClient names the field
	}
	c.MinLevel = eid.Level(level)
	switch f.Get("client_type") {
	case clientPublic, clientSecret:
	case clientJWKS:
		c.JWKS = strings.TrimSpace(f.Get("jwks"))
		if c.JWKS == "" {
			l = append(l, fault.Invalidf("jwks", oidcop.ErrClientInvalid.Code, "Dán bộ khóa công khai (JWKS) của ứng dụng.", "Paste the client's public JWK Set."))
		}
	default:
		l = append(l, fault.Invalidf("client_type", oidcop.ErrClientInvalid.Code, "Chọn loại ứng dụng.", "Choose the kind of client."))
	}
	return c, l
}

// clientDetail summarises a registration for the audit log.
func clientDetail(c oidcop.Client, auth string) string {
	return fmt.Sprintf("auth=%s grants=%s scopes=%s level=%d par=%t dpop=%t redirects=%d", auth, strings.Join(c.GrantTypes, ","),
		strings.Join(c.Scopes, ","), c.MinLevel, c.RequirePAR, c.RequireDPoP, len(c.RedirectURIs))
}

func (u *UI) clientCreate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, clientFields...)
	c, l := clientFromForm(f, f.trim("client_id"))
	if f.Get("client_type") == clientSecret {
		c.Secret = oidcop.NewSecret()
	}
	if err := oidcop.ValidateClient(c, false); err != nil {
		l = append(l, fault.Faults(err)...)
	}
	if len(l) > 0 {
		u.showClientForm(w, r, s, nil, 0, f, l)
		return
	}
	if err := u.admin.Clients.Register(r.Context(), c); err != nil {
		u.showClientForm(w, r, s, nil, 0, f, err)
		return
	}
	if err := u.record(r.Context(), s, actClientRegistered, "client:"+c.ID, clientDetail(c, f.Get("client_type"))); err != nil {
		u.fail(w, r, err)
		return
	}
	if c.Secret != "" {
		u.showSecret(w, r, s, c.ID, c.Secret)
		return
	}
	http.Redirect(w, r, "/admin/clients/"+url.PathEscape(c.ID)+"?done=created", http.StatusSeeOther)
}

// showSecret shows a client secret on the page answering the POST that
// made it; it is stored hashed and never shown again.
func (u *UI) showSecret(w http.ResponseWriter, r *http.Request, s staff.Session, id, secret string) {
	v := u.page(r, &s, "admin.secret.title", "/admin/clients/"+url.PathEscape(id))
	v.Nav = "admin"
	v.Page = secretView{ClientID: id, Secret: secret, BackURL: "/admin/clients/" + url.PathEscape(id)}
	u.render(w, r, http.StatusCreated, "admin-secret", v)
}

// clientValues fills the form with a registration.
func clientValues(c oidcop.ClientInfo) url.Values {
	v := url.Values{"client_id": {c.ID}, "client_name": {c.Name}, "purpose": {c.Purpose}, "jwks": {c.JWKS},
		"redirect_uris": {strings.Join(c.RedirectURIs, "\n")}, "post_logout_redirect_uris": {strings.Join(c.PostLogoutRedirectURIs, "\n")},
		"grant_types": c.GrantTypes, "scopes": c.Scopes, "min_level": {strconv.Itoa(int(c.MinLevel))},
		"optional_scopes": {strings.Join(c.OptionalScopes, " ")}, "backchannel_logout_uri": {c.BackchannelLogoutURI}}
	switch {
	case c.JWKS != "":
		v.Set("client_type", clientJWKS)
	case c.HasSecret():
		v.Set("client_type", clientSecret)
	default:
		v.Set("client_type", clientPublic)
	}
	for name, on := range map[string]bool{"require_par": c.RequirePAR, "require_dpop": c.RequireDPoP, "dev_mode": c.DevMode} {
		if on {
			v.Set(name, "1")
		}
	}
	return v
}

func (u *UI) clientEdit(w http.ResponseWriter, r *http.Request, s staff.Session) {
	cur, err := u.admin.Clients.Lookup(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.showClientForm(w, r, s, &cur, http.StatusOK, newForm(clientValues(cur), clientFields...), nil)
}

func (u *UI) clientUpdate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	cur, err := u.admin.Clients.Lookup(ctx, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if !u.parseForm(w, r) {
		return
	}
	f := newForm(r.PostForm, clientFields...)
	f.values.Set("client_id", cur.ID) // the id is not editable
	c, l := clientFromForm(f, cur.ID)
	keep := f.Get("client_type") == clientSecret && cur.HasSecret()
	if f.Get("client_type") == clientSecret && !cur.HasSecret() {
		c.Secret = oidcop.NewSecret()
	}
	if err := oidcop.ValidateClient(c, keep); err != nil {
		l = append(l, fault.Faults(err)...)
	}
	if len(l) > 0 {
		u.showClientForm(w, r, s, &cur, 0, f, l)
		return
	}
	if err := u.admin.Clients.Update(ctx, c, keep); err != nil {
		u.showClientForm(w, r, s, &cur, 0, f, err)
		return
	}
	if err := u.record(ctx, s, actClientUpdated, "client:"+c.ID, clientDetail(c, f.Get("client_type"))); err != nil {
		u.fail(w, r, err)
		return
	}
	if c.Secret != "" {
		u.showSecret(w, r, s, c.ID, c.Secret)
		return
	}
	http.Redirect(w, r, "/admin/clients/"+url.PathEscape(c.ID)+"?done=updated", http.StatusSeeOther)
}

// errNoSecret refuses a new secret to a client that has none.
var errNoSecret = fault.New(fault.Conflict, "admin.client_without_secret",
	"Ứng dụng này không dùng khóa bí mật (ứng dụng công khai hoặc xác thực bằng JWKS); đổi loại ứng dụng trong biểu mẫu nếu cần.",
	"This client has no secret (a public client, or one using its JWK Set); change its kind in the form if needed.")

func (u *UI) clientRotate(w http.ResponseWriter, r *http.Request, s staff.Session) {
	ctx := r.Context()
	cur, err := u.admin.Clients.Lookup(ctx, r.PathValue("id"))
	if err == nil && !cur.HasSecret() {
		err = errNoSecret
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	c := cur.Client
	c.Secret = oidcop.NewSecret()
	if err := u.admin.Clients.Update(ctx, c, false); err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.record(ctx, s, actClientSecretRotated, "client:"+c.ID, ""); err != nil {
		u.fail(w, r, err)
		return
	}
	u.showSecret(w, r, s, c.ID, c.Secret)
}

func (u *UI) clientDisable(disable bool) handler {
	return func(w http.ResponseWriter, r *http.Request, s staff.Session) {
		id := r.PathValue("id")
		if err := u.admin.Clients.SetDisabled(r.Context(), id, disable); err != nil {
			if errors.Is(err, oidcop.ErrClientNotFound) {
				err = fault.ErrNotFound
			}
			u.fail(w, r, err)
			return
		}
		action, done := actClientEnabled, "enabled"
		if disable {
			action, done = actClientDisabled, "disabled"
		}
		if err := u.record(r.Context(), s, action, "client:"+id, ""); err != nil {
			u.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/admin/clients?"+url.Values{"done": {done}, "id": {id}}.Encode(), http.StatusSeeOther)
	}
}
