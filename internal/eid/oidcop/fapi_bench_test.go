package oidcop_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkClientCredentialsDPoP measures a DPoP-bound client-credentials
// token over HTTP: proof check (ES256 verify, thumbprint, jti row), client
// authentication, an ES256-signed token. Proofs are made before the clock
// starts: the client's signing is not the provider's cost.
func BenchmarkClientCredentialsDPoP(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	tokenURL := e.issuer + "/oauth/token"
	h := newHolder(b)
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = h.proof(b, http.MethodPost, tokenURL, proofOpts{})
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}}
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("partner:"+clientSecret("partner")))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, out := call(b, tokenURL, form, map[string]string{"Authorization": auth, "DPoP": proofs[i]}); status != 200 || out["token_type"] != "DPoP" {
			b.Fatalf("token %d %v", status, out)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkCheckResourceRequest measures what a resource server adds for a
// DPoP-bound token: reading the binding, checking the proof, recording its
// jti (one database write), without HTTP.
func BenchmarkCheckResourceRequest(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, migrations())
	e := start(b, db)
	h := newHolder(b)
	_, out := call(b, e.issuer+"/oauth/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"reconcile"}},
		map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("partner:"+clientSecret("partner"))),
			"DPoP": h.proof(b, http.MethodPost, e.issuer+"/oauth/token", proofOpts{})})
	at, _ := out["access_token"].(string)
	api := "https://api.dancu.example/partner/v1/reconcile"
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		r := httptest.NewRequest(http.MethodGet, api, nil)
		r.Header.Set("Authorization", "DPoP "+at)
		r.Header.Set("DPoP", h.proof(b, http.MethodGet, api, proofOpts{ath: at}))
		reqs[i] = r
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.provider.CheckResourceRequest(ctx, reqs[i], api); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}
