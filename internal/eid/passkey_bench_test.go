package eid_test

import (
	"context"
	"testing"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/passkeytest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// BenchmarkPasskeySignIn is one whole passkey sign-in on SQLite: the
// challenge stored, the software authenticator's ES256 signature, the
// answer checked (challenge taken, signature verified, counter raised,
// sign-in recorded).
func BenchmarkPasskeySignIn(b *testing.B) {
	db := storagetest.Open(b, storage.SQLite, fullMigrations())
	fx := newFullFixture(b, db)
	ctx := context.Background()
	key := passkeytest.New()
	fx.addPasskey(b, eid.Session{PIN: adultPIN, Level: eid.Level2}, key)
	for b.Loop() {
		c, err := fx.svc.BeginPasskeySignIn(ctx, "bench")
		if err != nil {
			b.Fatal(err)
		}
		resp, err := key.Get(c.Options, origin)
		if err != nil {
			b.Fatal(err)
		}
		auth, err := fx.svc.FinishPasskeySignIn(ctx, eid.PasskeySignInInput{Ceremony: c.ID, Bound: "bench", Response: resp, MinLevel: eid.Level2})
		if err != nil || auth.Level != eid.Level2 {
			b.Fatal(auth.Level, err)
		}
	}
}
