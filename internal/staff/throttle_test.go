package staff_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/staff"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/throttle"
)

const goodPassword = "mật khẩu đủ dài"

// attempt is one sign-in of a scenario and the fault code it must get
// ("" for success), with the Retry-After it must carry.
type attempt struct {
	wait     time.Duration
	user, pw string
	ip       string
	code     string
	retry    time.Duration
}

func repeat(n int, a attempt) []attempt {
	out := make([]attempt, n)
	for i := range out {
		out[i] = a
	}
	return out
}

func join(parts ...[]attempt) []attempt {
	var out []attempt
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestSignInThrottle(t *testing.T) {
	policy := staff.Policy{MaxFailures: 3, MaxIPFailures: 6, LockAfter: 8, FailureWindow: 15 * time.Minute, BlockDuration: time.Minute, MaxBlock: time.Hour}
	wrong := func(user, ip string) attempt {
		return attempt{user: user, pw: "wrong password", ip: ip, code: "auth.bad_credentials"}
	}
	blocked := func(a attempt, retry time.Duration) attempt {
		a.code, a.retry = "auth.throttled", retry
		return a
	}
	locked := func(a attempt) attempt {
		a.code, a.retry = "auth.account_locked", 0
		return a
	}
	good := attempt{user: "lan.nt", pw: goodPassword, ip: "10.0.0.9"}
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"a success resets the username's count", join(
			repeat(2, wrong("lan.nt", "10.0.0.1")), []attempt{good}, repeat(2, wrong("lan.nt", "10.0.0.1")), []attempt{good})},
		{"backoff: the limit blocks, each further failure doubles the block", join(
			repeat(2, wrong("lan.nt", "10.0.0.1")),
			[]attempt{blocked(wrong("lan.nt", "10.0.0.1"), time.Minute)},
			[]attempt{blocked(good, time.Minute)}, // the right password is not even looked at
			// The refused attempt counted too: the next failure is the
			// fifth, blocking for 1 min doubled twice.
			[]attempt{{wait: time.Minute, user: "lan.nt", pw: "wrong", ip: "10.0.0.1", code: "auth.throttled", retry: 4 * time.Minute}},
		)},
		{"an unknown username is throttled exactly alike", join(
			repeat(2, wrong("nobody", "10.0.0.1")),
			[]attempt{blocked(wrong("nobody", "10.0.0.1"), time.Minute)},
			[]attempt{{wait: time.Minute, user: "nobody", pw: "wrong", ip: "10.0.0.1", code: "auth.throttled", retry: 2 * time.Minute}},
		)},
		{"hammering a blocked account locks it, for unknown usernames too", join(
			repeat(2, wrong("lan.nt", "10.0.0.1")),
			[]attempt{blocked(wrong("lan.nt", "10.0.0.1"), time.Minute)},
			repeat(4, blocked(wrong("lan.nt", "10.0.0.1"), time.Minute)),
			[]attempt{locked(wrong("lan.nt", "10.0.0.1"))},
			[]attempt{locked(good), {wait: 48 * time.Hour, user: "lan.nt", pw: goodPassword, code: "auth.account_locked"}},
			repeat(2, wrong("nobody", "10.0.0.2")),
			repeat(5, blocked(wrong("nobody", "10.0.0.2"), time.Minute)),
			[]attempt{locked(wrong("nobody", "10.0.0.2"))},
		)},
		{"per address: spraying many usernames from one address is blocked", join(
			[]attempt{wrong("a1", "10.0.0.5"), wrong("a2", "10.0.0.5"), wrong("a3", "10.0.0.5"), wrong("a4", "10.0.0.5"), wrong("a5", "10.0.0.5")},
			[]attempt{blocked(wrong("a6", "10.0.0.5"), time.Minute)},
			[]attempt{blocked(attempt{user: "lan.nt", pw: goodPassword, ip: "10.0.0.5"}, time.Minute)},
			[]attempt{good}, // another address is not affected
		)},
	}
	storagetest.Run(t, []storage.Migrations{staff.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db.W.ExecContext(ctx, `DELETE FROM staff_throttle`)
				db.W.ExecContext(ctx, `DELETE FROM staff_accounts`)
				now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
				s, err := staff.New(staff.Deps{DB: db, Now: func() time.Time { return now }, Secret: []byte("test secret"), Policy: policy})
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Create(ctx, staff.Account{Username: "lan.nt", DisplayName: "Lan", Role: actor.Registrar, Unit: "00004", Province: "01"}, goodPassword); err != nil {
					t.Fatal(err)
				}
				for i, a := range tt.attempts {
					now = now.Add(a.wait)
					_, err := s.SignIn(ctx, staff.Credentials{Username: a.user, Password: a.pw, ClientIP: a.ip})
					code := ""
					if err != nil {
						code = fault.As(err).Code
					}
					retry, _ := throttle.RetryAfter(err)
					if code != a.code || retry != a.retry {
						t.Fatalf("attempt %d (%s from %s): %q retry %v, want %q retry %v (%v)", i, a.user, a.ip, code, retry, a.code, a.retry, err)
					}
				}
			})
		}
	})
}

func TestUnlock(t *testing.T) {
	storagetest.Run(t, []storage.Migrations{staff.Migrations(), audit.Migrations()}, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		log := audit.NewLog(db, clock, slog.New(slog.DiscardHandler))
		defer log.Close()
		deps := staff.Deps{DB: db, Now: clock, Secret: []byte("k"), Audit: log}
		s, err := staff.New(deps)
		if err != nil {
			t.Fatal(err)
		}
		acc := staff.Account{Username: "lan.nt", DisplayName: "Lan", Role: actor.Registrar, Unit: "00004", Province: "01"}
		if err := s.Create(ctx, acc, goodPassword); err != nil {
			t.Fatal(err)
		}
		for range 25 {
			s.SignIn(ctx, staff.Credentials{Username: "lan.nt", Password: "wrong", ClientIP: "10.0.0.1"})
		}
		// The lock is in the database: a restarted node (a new store) keeps it.
		s2, err := staff.New(deps)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s2.SignIn(ctx, staff.Credentials{Username: "lan.nt", Password: goodPassword}); !errors.Is(err, staff.ErrLocked) {
			t.Fatalf("locked account after a restart: %v", err)
		}
		if v, _ := s2.LockState(ctx, "lan.nt"); !v.Locked {
			t.Fatalf("LockState = %+v", v)
		}
		admin := actor.Actor{ID: "staff:admin", Role: actor.Admin}
		for _, tc := range []struct {
			by   actor.Actor
			user string
			want error
		}{
			{acc.Actor(), "lan.nt", fault.ErrForbidden},
			{actor.Actor{ID: "staff:lead", Role: actor.Leader}, "lan.nt", fault.ErrForbidden},
			{admin, "nobody", fault.ErrNotFound},
		} {
			if _, err := s2.Unlock(ctx, tc.by, tc.user); !errors.Is(err, tc.want) {
				t.Errorf("Unlock(%s, %s) = %v, want %v", tc.by.ID, tc.user, err, tc.want)
			}
		}
		if _, err := s2.SignIn(ctx, staff.Credentials{Username: "lan.nt", Password: goodPassword}); !errors.Is(err, staff.ErrLocked) {
			t.Fatalf("a refused unlock opened the account: %v", err)
		}
		if was, err := s2.Unlock(ctx, admin, "lan.nt"); err != nil || !was {
			t.Fatalf("Unlock = %v, %v", was, err)
		}
		if _, err := s2.SignIn(ctx, staff.Credentials{Username: "lan.nt", Password: goodPassword, ClientIP: "10.0.0.2"}); err != nil {
			t.Fatalf("sign-in after the unlock: %v", err)
		}
		entries, err := audit.BySubject(ctx, db, "staff:lan.nt", 10)
		if err != nil || len(entries) != 1 || entries[0].Action != staff.ActionUnlocked || entries[0].Actor != "staff:admin" || entries[0].Detail != "was locked" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})
}
