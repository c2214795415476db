package oidcop_test

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkClientCredentials measures token issuance to a partner system
// over HTTP: client authentication, a token row, an ES256 signature.
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
// is still good: signature check, token row, client authentication.
func BenchmarkIntrospection(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: e.issuer + "/oauth/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		b.Fatal(err)
	}
	r := &rp{secret: clientSecret("partner")}
	r.cfg.ClientID = "partner"
	form := url.Values{"token": {tok.AccessToken}}
	b.ResetTimer()
	for b.Loop() {
		if status, out := r.post(b, e.issuer+"/oauth/introspect", form); status != 200 || out["active"] != true {
			b.Fatalf("introspection %d %v", status, out)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "introspections/s")
}
