package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/storage"
)

func TestBootstrapCitizens(t *testing.T) {
	env := apptest.Start(t, storage.SQLite, 300)
	ctx := context.Background()
	creds, err := env.App.BootstrapCitizens(ctx, apptest.Password)
	if err != nil {
		t.Fatal(err)
	}
	if len(creds) != 2 || creds[0].Level != eid.Level1 || creds[1].Level != eid.Level2 || creds[1].TOTPSecret == "" {
		t.Fatalf("sample citizens: %+v", creds)
	}
	l1, l2 := creds[0], creds[1]
	if _, err := env.App.EID.SignIn(ctx, eid.SignInInput{PIN: l1.PIN, Password: apptest.Password, ClientIP: "127.0.0.2"}); err != nil {
		t.Fatalf("level-1 sign-in: %v", err)
	}
	// Level 2 needs the second factor: without it the sign-in does not reach level 2.
	if _, err := env.App.EID.SignIn(ctx, eid.SignInInput{PIN: l2.PIN, Password: apptest.Password, MinLevel: eid.Level2, ClientIP: "127.0.0.2"}); err == nil {
		t.Fatal("level 2 reached without TOTP")
	}
	// A new time step, since the bootstrap used the current one to confirm.
	code, err := eid.TOTPAt(l2.TOTPSecret, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := env.App.EID.SignIn(ctx, eid.SignInInput{PIN: l2.PIN, Password: apptest.Password, TOTP: code, MinLevel: eid.Level2, ClientIP: "127.0.0.2"})
	if err != nil {
		t.Fatalf("level-2 sign-in: %v", err)
	}
	if auth.Level != eid.Level2 || auth.Account.PIN != l2.PIN {
		t.Fatalf("level-2 sign-in reached %+v", auth)
	}
	// A second bootstrap does nothing.
	again, err := env.App.BootstrapCitizens(ctx, apptest.Password)
	if err != nil || len(again) != 0 {
		t.Fatalf("second bootstrap: %+v %v", again, err)
	}
}
