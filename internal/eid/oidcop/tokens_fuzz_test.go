package oidcop_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// FuzzVerifyAccessToken feeds anything a partner could present as an
// access token to the provider's check: only the genuine token passes,
// nothing panics.
func FuzzVerifyAccessToken(f *testing.F) {
	db := storagetest.Open(f, storage.SQLite, migrations())
	e := start(f, db)
	ctx := context.Background()
	cc := clientcredentials.Config{ClientID: "partner", ClientSecret: clientSecret("partner"), TokenURL: e.issuer + "/oauth/token"}
	tok, err := cc.Token(ctx)
	if err != nil {
		f.Fatal(err)
	}
	genuine := tok.AccessToken
	parts := strings.Split(genuine, ".")
	enc := base64.RawURLEncoding.EncodeToString
	for _, seed := range []string{
		genuine,
		"",
		"..",
		genuine + ".",
		parts[0] + "." + parts[1],
		parts[0] + "." + parts[1] + ".",
		enc([]byte(`{"alg":"none"}`)) + "." + parts[1] + ".",
		enc([]byte(`{"alg":"ES256","kid":"unknown"}`)) + "." + parts[1] + "." + parts[2],
		enc([]byte(`{"alg":"HS256","kid":"x"}`)) + "." + parts[1] + "." + parts[2],
		parts[0] + "." + enc([]byte(`{"iss":"`+e.issuer+`","jti":"x","exp":9999999999,"client_id":"partner","sub":"partner"}`)) + "." + parts[2],
		parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA",
		strings.Repeat("a.", 5000),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		_, err := e.provider.VerifyAccessToken(ctx, token)
		if (err == nil) != (token == genuine) {
			t.Fatalf("token %q: accepted=%v", token, err == nil)
		}
	})
}
