package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/fault"
)

// clientAdd registers a relying party or partner system with the OpenID
// provider: "dancu client add --id bank-a --grant client_credentials ...".
func clientAdd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var c oidcop.Client
	var grants, scopes, optional, redirects, logouts, jwksFile string
	var level int
	cfg, err := parseConfig("client add", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&c.ID, "id", "", "client id")
		fs.StringVar(&c.Secret, "secret", "", "client secret (32+ characters); empty makes one for client_credentials and prints it once")
		fs.StringVar(&c.Name, "name", "", "name shown to citizens on the consent page (default: the id)")
		fs.StringVar(&c.Purpose, "purpose", "", "purpose shown on the consent page and written to the audit log")
		fs.StringVar(&grants, "grant", oidcop.GrantAuthorizationCode, "grant types, comma-separated: authorization_code, refresh_token, client_credentials")
		fs.StringVar(&scopes, "scopes", "", "scopes beyond openid, comma-separated: profile, address, pin, offline_access")
		fs.StringVar(&redirects, "redirect-uri", "", "redirect URIs for authorization_code, comma-separated")
		fs.IntVar(&level, "level", 1, "lowest assurance level the client accepts: 1 or 2")
		fs.BoolVar(&c.DevMode, "dev", false, "allow http redirect URIs (development only)")
		fs.StringVar(&jwksFile, "jwks", "", "file with the client's public JWK Set for private_key_jwt authentication (then no secret is made)")
		fs.BoolVar(&c.RequirePAR, "require-par", false, "refuse authorization requests not pushed first (RFC 9126)")
		fs.BoolVar(&c.RequireDPoP, "require-dpop", false, "issue the client only DPoP-bound tokens (RFC 9449)")
		fs.StringVar(&optional, "optional-scopes", "", "scopes of --scopes citizens may untick on the consent page, comma-separated")
		fs.StringVar(&logouts, "post-logout-uri", "", "post-logout redirect URIs (RP-initiated logout), comma-separated")
		fs.StringVar(&c.BackchannelLogoutURI, "backchannel-logout-uri", "", "https URL posted a logout token when a citizen's sign-in session ends")
	})
	if err != nil {
		return err
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	c.GrantTypes, c.Scopes, c.RedirectURIs = split(grants), split(scopes), split(redirects)
	c.OptionalScopes, c.PostLogoutRedirectURIs = split(optional), split(logouts)
	if level != 1 && level != 2 {
		return fmt.Errorf("--level must be 1 or 2")
	}
	c.MinLevel = eid.Level(level)
	if jwksFile != "" {
		b, err := os.ReadFile(jwksFile)
		if err != nil {
			return fmt.Errorf("--jwks: %w", err)
		}
		c.JWKS = string(b)
	}
	generated := false
	for _, g := range c.GrantTypes {
		if g == oidcop.GrantClientCredentials && c.Secret == "" && c.JWKS == "" {
			c.Secret, generated = oidcop.NewSecret(), true
		}
	}
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	if err := svc.Clients.Add(ctx, c); err != nil {
		f := fault.As(err)
		if f.Field != "" {
			return fmt.Errorf("client not added: %s (%s)", f.English, f.Field)
		}
		return fmt.Errorf("client not added: %w", err)
	}
	fmt.Fprintf(stdout, "client %s added (grants %s, level %d)\n", c.ID, strings.Join(c.GrantTypes, ","), level)
	if generated {
		fmt.Fprintf(stdout, "client secret (shown only now): %s\n", c.Secret)
	}
	return nil
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
