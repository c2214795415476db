package staff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

func TestStaff(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{staff.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		s, err := staff.NewStore(db, func() time.Time { return now })
		if err != nil {
			t.Fatal(err)
		}
		acc := staff.Account{Username: "lan.nt", DisplayName: "Nguyễn Thị Lan", Role: actor.Registrar, Unit: "00004", Province: "01"}
		if err := s.Create(ctx, acc, "short"); !errors.Is(err, staff.ErrWeakPassword) {
			t.Fatalf("weak password accepted: %v", err)
		}
		if err := s.Create(ctx, acc, "mật khẩu đủ dài"); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, acc, "mật khẩu đủ dài"); !errors.Is(err, staff.ErrAccountExists) {
			t.Fatalf("duplicate account: %v", err)
		}
		_, errUnknown := s.Authenticate(ctx, "nobody", "mật khẩu đủ dài")
		_, errWrong := s.Authenticate(ctx, "lan.nt", "wrong password")
		if !errors.Is(errUnknown, staff.ErrBadCredentials) || !errors.Is(errWrong, staff.ErrBadCredentials) {
			t.Fatalf("errors %v / %v", errUnknown, errWrong)
		}
		if fault.As(errUnknown).Message != fault.As(errWrong).Message {
			t.Fatal("unknown user and wrong password give different messages")
		}
		got, err := s.Authenticate(ctx, "lan.nt", "mật khẩu đủ dài")
		if err != nil || got.Actor().Unit != "00004" || got.Actor().ID != "staff:lan.nt" {
			t.Fatalf("Authenticate = %+v, %v", got, err)
		}
		token, sess, err := s.StartSession(ctx, got)
		if err != nil || sess.CSRF == "" {
			t.Fatal(err)
		}
		back, err := s.Session(ctx, token)
		if err != nil || back.Account.Username != "lan.nt" || back.CSRF != sess.CSRF {
			t.Fatalf("Session = %+v, %v", back, err)
		}
		var n int
		db.R.QueryRowContext(ctx, `SELECT count(*) FROM staff_sessions WHERE token_hash = $1`, token).Scan(&n)
		if n != 0 {
			t.Fatal("session token stored in plain text")
		}
		now = now.Add(staff.SessionTTL + time.Minute)
		if _, err := s.Session(ctx, token); !errors.Is(err, staff.ErrSessionExpired) {
			t.Fatalf("expired session accepted: %v", err)
		}
		now = now.Add(-staff.SessionTTL)
		if err := s.EndSession(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); err == nil {
			t.Fatal("session survives sign-out")
		}
	})
}

func TestPasswordHash(t *testing.T) {
	h, err := staff.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := staff.HashPassword("correct horse")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse": true, "correct hors": false, "": false} {
		ok, err := staff.CheckPassword(h, pw)
		if err != nil || ok != want {
			t.Errorf("CheckPassword(%q) = %v, %v", pw, ok, err)
		}
	}
	if _, err := staff.CheckPassword("$argon2id$garbage", "x"); err == nil {
		t.Error("malformed hash accepted")
	}
}
