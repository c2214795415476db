package eid_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/passkeytest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// FuzzPasskeyAnswer feeds arbitrary bytes as a passkey sign-in answer (what
// a browser posts): no panic, never a sign-in, and the one passkey fault
// (or the throttle it leads to).
func FuzzPasskeyAnswer(f *testing.F) {
	db := storagetest.Open(f, storage.SQLite, fullMigrations())
	fx := newFullFixture(f, db)
	ctx := context.Background()
	key := passkeytest.New()
	fx.addPasskey(f, eid.Session{PIN: adultPIN, Level: eid.Level2}, key)
	c, err := fx.svc.BeginPasskeySignIn(ctx, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	valid, _ := key.Get(c.Options, origin)
	f.Add(valid)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, answer []byte) {
		fx.clock.Add(time.Hour) // past any throttling block, so every answer is checked
		c, err := fx.svc.BeginPasskeySignIn(ctx, "fuzz")
		if err != nil {
			t.Fatal(err)
		}
		_, err = fx.svc.FinishPasskeySignIn(ctx, eid.PasskeySignInInput{Ceremony: c.ID, Bound: "fuzz", Response: answer})
		if err == nil {
			t.Fatalf("arbitrary answer signed in: %q", answer)
		}
		if !errors.Is(err, eid.ErrPasskeyFailed) && !errors.Is(err, eid.ErrThrottled) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}
