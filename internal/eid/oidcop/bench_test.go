package oidcop_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/oidcop"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// Run: go test -run XXX -bench . -benchtime 3s ./internal/eid/oidcop/
// The HTTP figures against a real `dancu serve` (side by side with the
// zitadel/oidc example) come from bench/oidc.sh; these measure the parts.

// BenchmarkClientCredentials measures token issuance to a partner system
// over HTTP (httptest, one client): client authentication against the
// cached secret hash, an ES256 signature, no database write.
func BenchmarkClientCredentials(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: e.issuer + "/oauth/token"}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, err := cc.Token(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkIntrospection measures a resource server asking whether a token
// is still good (httptest, one client): client authentication, the verified
// token from memory, the revocation list, the answer made when the token
// was first verified.
func BenchmarkIntrospection(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: e.issuer + "/oauth/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	r := partnerRP()
	form := url.Values{"token": {tok.AccessToken}}
	b.ResetTimer()
	for b.Loop() {
		if status, out := r.post(b, e.issuer+"/oauth/introspect", form); status != 200 || out["active"] != true {
			b.Fatalf("introspection %d %v", status, out)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "introspections/s")
}

// BenchmarkVerifyAccessToken is the in-process check a resource server of
// the platform makes (the partner API): first sight of a token (ES256
// verification) and a token seen before.
func BenchmarkVerifyAccessToken(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: e.issuer + "/oauth/token"}
	tokens := make([]string, 200)
	for i := range tokens {
		tok, err := cc.Token(ctx)
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = tok.AccessToken
	}
	b.Run("first-sight", func(b *testing.B) {
		// A fresh provider on the same database has seen no token.
		for b.Loop() {
			b.StopTimer()
			p, err := oidcop.New(oidcop.Deps{Pages: testPages(b), DB: db, Accounts: e.accounts, Register: e.register, Issuer: e.issuer, Secret: secret})
			if err != nil {
				b.Fatal(err)
			}
			p.VerifyAccessToken(ctx, tokens[0]) // loads keys and the revocation list
			b.StartTimer()
			for _, t := range tokens[1:] {
				if _, err := p.VerifyAccessToken(ctx, t); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*(len(tokens)-1))/b.Elapsed().Seconds(), "checks/s")
	})
	b.Run("seen-before-parallel", func(b *testing.B) {
		var i atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := e.provider.VerifyAccessToken(ctx, tokens[i.Add(1)%int64(len(tokens))]); err != nil {
					b.Error(err) // not Fatal: this is not the benchmark's goroutine
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
	})
}

// verifiedKeySet is what a relying party can put in front of go-oidc's
// remote key set when it checks the same ID token many times (a session
// that keeps it): the signature of an exact token is checked once against
// the JWKS; expiry, issuer, audience are still checked by the verifier on
// every call.
type verifiedKeySet struct {
	inner oidc.KeySet
	mu    sync.RWMutex
	seen  map[string][]byte
}

func (k *verifiedKeySet) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	k.mu.RLock()
	p, ok := k.seen[jwt]
	k.mu.RUnlock()
	if ok {
		return p, nil
	}
	p, err := k.inner.VerifySignature(ctx, jwt)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	if len(k.seen) > 10_000 {
		clear(k.seen)
	}
	k.seen[jwt] = p
	k.mu.Unlock()
	return p, nil
}

// BenchmarkIDTokenVerify is a relying party checking ID tokens with
// go-oidc against the provider's JWKS, on all cores: go-oidc as is (one
// ES256 verification per check), and with a verified-token cache.
func BenchmarkIDTokenVerify(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	ctx := context.Background()
	r := e.rp(b, "portal", oidcop.ScopeProfile)
	v := oauth2.GenerateVerifier()
	o := e.authorizeTB(b, r.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL1, "", true)
	tok, err := r.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v))
	if err != nil {
		b.Fatal(err)
	}
	raw := tok.Extra("id_token").(string)
	remote := oidc.NewRemoteKeySet(ctx, e.issuer+"/keys")
	for _, c := range []struct {
		name string
		keys oidc.KeySet
	}{
		{"go-oidc", remote},
		{"go-oidc+verified-token-cache", &verifiedKeySet{inner: remote, seen: map[string][]byte{}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			verifier := oidc.NewVerifier(e.issuer, c.keys, &oidc.Config{ClientID: "portal", SupportedSigningAlgs: []string{oidc.ES256}})
			if _, err := verifier.Verify(ctx, raw); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := verifier.Verify(ctx, raw); err != nil {
						b.Error(err) // not Fatal: this is not the benchmark's goroutine
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
		})
	}
}

// BenchmarkLevel2SignIn is a citizen's level-2 sign-in (password + TOTP)
// at a client that requires level 2, end to end over HTTP: authorization
// request, login page, login form, consent remembered, redirect with the
// code, code exchange for ID, access and refresh tokens. The parts show
// where the time goes: argon2id alone, eid.SignIn (argon2id, TOTP, the
// throttle and the sign-in history).
func BenchmarkLevel2SignIn(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	ctx := context.Background()
	// TOTP codes are good once per 30-second step, so the accounts'
	// clock moves a step per sign-in.
	var step atomic.Int64
	base := time.Now()
	clock := func() time.Time { return base.Add(time.Duration(step.Load()) * 31 * time.Second) }
	accounts, err := eid.NewService(eid.Deps{DB: db, Register: e.register, Secret: secret, Now: clock})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("argon2id", func(b *testing.B) {
		hash, _ := staff.HashPassword(password)
		for b.Loop() {
			if ok, _ := staff.CheckPassword(hash, password); !ok {
				b.Fatal("password refused")
			}
		}
	})
	b.Run("eid.SignIn", func(b *testing.B) {
		for b.Loop() {
			step.Add(1)
			code, _ := eid.TOTPAt(e.totp, clock())
			if _, err := accounts.SignIn(ctx, eid.SignInInput{PIN: pinL2, Password: password, TOTP: code, MinLevel: eid.Level2, Channel: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("end-to-end", func(b *testing.B) {
		p, err := oidcop.New(oidcop.Deps{Pages: testPages(b), DB: db, Accounts: accounts, Register: e.register, Issuer: e.issuer, Secret: secret})
		if err != nil {
			b.Fatal(err)
		}
		e.provider = p // the provider the test server mounts next
		mux := http.NewServeMux()
		p.Mount(mux)
		e.srv.Config.Handler = mux
		bank := e.rp(b, "bank", oidcop.ScopeProfile)
		for b.Loop() {
			step.Add(1)
			code, _ := eid.TOTPAt(e.totp, clock())
			v := oauth2.GenerateVerifier()
			o := e.authorizeTB(b, bank.cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), pinL2, code, true)
			if o.code() == "" {
				b.Fatalf("no code: %d %v", o.status, o.location)
			}
			if _, err := bank.cfg.Exchange(ctx, o.code(), oauth2.VerifierOption(v)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sign-ins/s")
	})
}

// authorizeTB is authorize for benchmarks: the browser steps of a flow.
func (e *env) authorizeTB(tb testing.TB, authURL, pin, totp string, allow bool) outcome {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	b := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	get := func(target string, form url.Values) outcome {
		var resp *http.Response
		var err error
		if form == nil {
			resp, err = b.Get(target)
		} else {
			resp, err = b.PostForm(target, form)
		}
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		o := outcome{status: resp.StatusCode, body: string(body)}
		if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, redirect) {
			o.location, _ = url.Parse(loc)
		}
		return o
	}
	fill := func(page string, form url.Values) url.Values {
		id, csrf := idRE.FindStringSubmatch(page), csrfRE.FindStringSubmatch(page)
		if id == nil || csrf == nil {
			tb.Fatalf("no form on the page:\n%s", page)
		}
		form.Set("authRequestID", id[1])
		form.Set("csrf", csrf[1])
		return form
	}
	o := get(authURL, nil)
	if o.location != nil || o.status != http.StatusOK {
		return o
	}
	o = get(e.issuer+"/login", fill(o.body, url.Values{"pin": {pin}, "password": {password}, "totp": {totp}}))
	if o.location != nil || o.status != http.StatusOK || !strings.Contains(o.body, `name="decision"`) {
		return o
	}
	decision := "deny"
	if allow {
		decision = "allow"
	}
	o = get(e.issuer+"/consent", fill(o.body, url.Values{"decision": {decision}}))
	o.consent = true
	return o
}
