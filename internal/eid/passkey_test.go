package eid_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/audit"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/eid/passkeytest"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

const origin = "https://id.dancu.test"

// fullFixture is a service with the audit log and passkeys on, and three
// active accounts: adultPIN at level 2 with TOTP, otherPIN and thirdPIN at
// level 1.
type fullFixture struct {
	*fixture
	audit *audit.Log
	totp  string
}

const (
	otherPIN  = "001091000006"
	thirdPIN  = "001092000007"
	otherName = "Phạm Thị Bình"
	thirdName = "Đỗ Văn Cường"
)

func fullMigrations() []storage.Migrations {
	return []storage.Migrations{audit.Migrations(), eid.Migrations()}
}

func newFullFixture(t testing.TB, db *storage.DB) *fullFixture {
	t.Helper()
	ctx := context.Background()
	reg := fakeRegister{people: map[string]registry.Person{}}
	for _, p := range []registry.Person{
		person(adultPIN, adultName, "1990-03-15", registry.Alive, "01"),
		person(otherPIN, otherName, "1991-04-16", registry.Alive, "01"),
		person(thirdPIN, thirdName, "1992-05-17", registry.Alive, "01"),
	} {
		reg.people[p.PIN] = p
	}
	f := &fullFixture{fixture: &fixture{sms: &smsBox{last: map[string]string{}}, clock: &clock{t: today}, db: db}}
	f.audit = audit.NewLog(db, f.clock.Now, slog.New(slog.DiscardHandler))
	t.Cleanup(f.audit.Close)
	cfg, err := eid.PasskeyConfigFor(origin)
	if err != nil {
		t.Fatal(err)
	}
	f.svc, err = eid.NewService(eid.Deps{DB: db, Register: reg, SMS: f.sms, Secret: []byte(strings.Repeat("k", 32)),
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: f.clock.Now, Audit: f.audit, Passkeys: cfg})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ pin, name, birth string }{{adultPIN, adultName, "1990-03-15"}, {otherPIN, otherName, "1991-04-16"}, {thirdPIN, thirdName, "1992-05-17"}} {
		e, err := f.svc.StartRegistration(ctx, eid.RegistrationInput{PIN: p.pin, CardNumber: p.pin, FullName: p.name, BirthDate: p.birth, Phone: "0912345678"})
		if err != nil {
			t.Fatal(err)
		}
		f.sms.mu.Lock()
		code := codeRE.FindString(f.sms.last["+84912345678"])
		f.sms.mu.Unlock()
		if _, err := f.svc.CompleteRegistration(ctx, e.ID, code, password); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.Activate(ctx, registrarHN, adultPIN); err != nil {
		t.Fatal(err)
	}
	en, err := f.svc.EnrolTOTP(ctx, adultPIN)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := eid.TOTPAt(en.Secret, f.clock.Now())
	if err := f.svc.ConfirmTOTP(ctx, adultPIN, code); err != nil {
		t.Fatal(err)
	}
	f.totp = en.Secret
	return f
}

// session is a signed-in session of pin at level.
func session(pin string, level eid.Level) eid.Session { return eid.Session{PIN: pin, Level: level} }

// addPasskey registers a software authenticator's passkey for a session.
func (f *fullFixture) addPasskey(t testing.TB, s eid.Session, a *passkeytest.Authenticator) eid.Passkey {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.BeginPasskeyRegistration(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Create(c.Options, origin)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := f.svc.FinishPasskeyRegistration(ctx, s, c.ID, "Điện thoại", resp)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// signIn runs a passkey sign-in: edit may change the answer or the origin.
func (f *fullFixture) signIn(t *testing.T, a *passkeytest.Authenticator, origin string, min eid.Level) (eid.Authentication, error) {
	t.Helper()
	ctx := context.Background()
	c, err := f.svc.BeginPasskeySignIn(ctx, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Get(c.Options, origin)
	if err != nil {
		t.Fatal(err)
	}
	return f.svc.FinishPasskeySignIn(ctx, eid.PasskeySignInInput{Ceremony: c.ID, Bound: "req-1", Response: resp, MinLevel: min, ClientIP: "192.0.2.1"})
}

func TestPasskeyRegistration(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		f := newFullFixture(t, db)
		ctx := context.Background()

		// A level-2 account needs a level-2 session to add a passkey.
		if _, err := f.svc.BeginPasskeyRegistration(ctx, session(adultPIN, eid.Level1)); !errors.Is(err, eid.ErrPasskeyLevel2) {
			t.Fatalf("level-1 session of a level-2 account: %v", err)
		}
		a := passkeytest.New()
		pk := f.addPasskey(t, session(adultPIN, eid.Level2), a)
		if !pk.UserVerified || pk.Name != "Điện thoại" {
			t.Fatalf("passkey %+v", pk)
		}
		list, err := f.svc.Passkeys(ctx, adultPIN)
		if err != nil || len(list) != 1 || list[0].ID != pk.ID {
			t.Fatalf("list %+v %v", list, err)
		}
		// The same authenticator registered to another account is refused
		// (the credential id is taken)...
		c, _ := f.svc.BeginPasskeyRegistration(ctx, session(otherPIN, eid.Level1))
		resp, _ := a.Create(c.Options, origin)
		if _, err := f.svc.FinishPasskeyRegistration(ctx, session(otherPIN, eid.Level1), c.ID, "", resp); !errors.Is(err, eid.ErrPasskeyExists) {
			t.Fatalf("credential of another account: %v", err)
		}
		cases := []struct {
			name   string
			origin string
			reuse  bool // answer a challenge already used
			other  bool // finish as another account
			late   time.Duration
			want   error
		}{
			{"wrong origin", "https://evil.test", false, false, 0, eid.ErrPasskeyInvalid},
			{"challenge of another account", origin, false, true, 0, eid.ErrPasskeyInvalid},
			{"expired challenge", origin, false, false, 6 * time.Minute, eid.ErrPasskeyInvalid},
			{"replayed challenge", origin, true, false, 0, eid.ErrPasskeyInvalid},
		}
		var used eid.Ceremony
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s := session(thirdPIN, eid.Level1)
				c, err := f.svc.BeginPasskeyRegistration(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				if tc.reuse {
					c = used
				}
				resp, _ := passkeytest.New().Create(c.Options, tc.origin)
				f.clock.Add(tc.late)
				if tc.other {
					s = session(otherPIN, eid.Level1)
				}
				_, err = f.svc.FinishPasskeyRegistration(ctx, s, c.ID, "", resp)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				used = c
			})
		}
		if list, _ := f.svc.Passkeys(ctx, thirdPIN); len(list) != 0 {
			t.Fatalf("refused registrations stored passkeys: %+v", list)
		}
		// Removing: another account's passkey is not found; one's own goes.
		if err := f.svc.RemovePasskey(ctx, session(otherPIN, eid.Level1), pk.ID); !errors.Is(err, eid.ErrPasskeyNotFound) {
			t.Fatalf("remove another's passkey: %v", err)
		}
		if err := f.svc.RemovePasskey(ctx, session(adultPIN, eid.Level1), pk.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := f.svc.Passkeys(ctx, adultPIN); len(list) != 0 {
			t.Fatalf("passkey not removed: %+v", list)
		}
		// Both acts are in the owner's audit history.
		entries, err := audit.BySubject(ctx, db, "person:"+adultPIN, 50)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range entries {
			got[e.Action] = e.Actor
		}
		for action, actor := range map[string]string{eid.ActionPasskeyAdded: "citizen:" + adultPIN, eid.ActionPasskeyRemoved: "citizen:" + adultPIN, eid.ActionLevel2Activated: registrarHN.ID} {
			if got[action] != actor {
				t.Errorf("audit %s by %q, want %q (all: %v)", action, got[action], actor, got)
			}
		}
	})
}

func TestPasskeySignIn(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		f := newFullFixture(t, db)
		ctx := context.Background()
		l2 := passkeytest.New()
		f.addPasskey(t, session(adultPIN, eid.Level2), l2)
		l1 := passkeytest.New()
		f.addPasskey(t, session(otherPIN, eid.Level1), l1)

		cases := []struct {
			name      string
			key       *passkeytest.Authenticator
			pin       string
			uv        bool
			min       eid.Level
			wantLevel eid.Level
			wantAMR   string
			want      error
		}{
			{"level-2 account with user verification reaches level 2", l2, adultPIN, true, eid.Level2, eid.Level2, "pop mfa", nil},
			{"without user verification only level 1", l2, adultPIN, false, eid.Level1, eid.Level1, "pop", nil},
			{"without user verification a level-2 client refuses", l2, adultPIN, false, eid.Level2, 0, "", eid.ErrLevelRequired},
			{"level-1 account stays level 1", l1, otherPIN, true, eid.Level1, eid.Level1, "pop mfa", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				tc.key.UV = tc.uv
				auth, err := f.signIn(t, tc.key, origin, tc.min)
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if err != nil {
					return
				}
				if auth.Level != tc.wantLevel || strings.Join(auth.AMR, " ") != tc.wantAMR {
					t.Fatalf("level %d amr %v", auth.Level, auth.AMR)
				}
				// The sign-in is in the account's history, at its level.
				if recs, err := f.svc.SignIns(ctx, tc.pin, 1); err != nil || len(recs) != 1 || recs[0].Level != tc.wantLevel {
					t.Fatalf("sign-in history %+v %v", recs, err)
				}
			})
		}
		l2.UV = true

		t.Run("wrong origin", func(t *testing.T) {
			if _, err := f.signIn(t, l2, "https://phish.test", eid.Level1); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("replayed challenge", func(t *testing.T) {
			c, _ := f.svc.BeginPasskeySignIn(ctx, "req-1")
			resp, _ := l2.Get(c.Options, origin)
			in := eid.PasskeySignInInput{Ceremony: c.ID, Bound: "req-1", Response: resp}
			if _, err := f.svc.FinishPasskeySignIn(ctx, in); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.FinishPasskeySignIn(ctx, in); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("replay: %v", err)
			}
		})
		t.Run("challenge of another request", func(t *testing.T) {
			c, _ := f.svc.BeginPasskeySignIn(ctx, "req-1")
			resp, _ := l2.Get(c.Options, origin)
			if _, err := f.svc.FinishPasskeySignIn(ctx, eid.PasskeySignInInput{Ceremony: c.ID, Bound: "req-2", Response: resp}); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("expired challenge", func(t *testing.T) {
			c, _ := f.svc.BeginPasskeySignIn(ctx, "req-1")
			resp, _ := l2.Get(c.Options, origin)
			f.clock.Add(6 * time.Minute)
			if _, err := f.svc.FinishPasskeySignIn(ctx, eid.PasskeySignInInput{Ceremony: c.ID, Bound: "req-1", Response: resp}); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("got %v", err)
			}
		})
		t.Run("passkey of another account", func(t *testing.T) {
			// The level-1 citizen's key presents the level-2 citizen's user
			// handle: it must not sign in as either.
			forged := *l1
			forged.UserHandle = l2.UserHandle
			if _, err := f.signIn(t, &forged, origin, eid.Level1); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("got %v", err)
			}
			l1.Counter = forged.Counter
		})
		t.Run("counter regression", func(t *testing.T) {
			// A sign-in first, so that the stored counter is at least 1
			// however many ran before; then a signature at 1.
			if _, err := f.signIn(t, l2, origin, eid.Level1); err != nil {
				t.Fatal(err)
			}
			l2.Counter, l2.FixedCounter = 1, true
			if _, err := f.signIn(t, l2, origin, eid.Level1); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("got %v", err)
			}
			list, _ := f.svc.Passkeys(ctx, adultPIN)
			if len(list) != 1 || !list[0].CloneWarning {
				t.Fatalf("no clone warning: %+v", list)
			}
			// From then on the passkey is refused, whatever its counter
			// (after the failures' throttling block is over).
			l2.Counter += 100
			f.clock.Add(time.Hour)
			if _, err := f.signIn(t, l2, origin, eid.Level1); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("cloned passkey still signs in: %v", err)
			}
		})
		t.Run("locked account", func(t *testing.T) {
			if err := f.svc.Lock(ctx, registrarHN, otherPIN, "lost phone"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.signIn(t, l1, origin, eid.Level1); !errors.Is(err, eid.ErrPasskeyFailed) {
				t.Fatalf("got %v", err)
			}
		})
	})
}

// TestPasskeyAddedBeforeActivation: a passkey added while the account was
// level 1 (a stolen password is enough for that) does not become a level-2
// factor when a registrar activates level 2; one added afterwards from a
// level-2 session does.
func TestPasskeyAddedBeforeActivation(t *testing.T) {
	storagetest.Run(t, fullMigrations(), func(t *testing.T, db *storage.DB) {
		f := newFullFixture(t, db)
		ctx := context.Background()
		early := passkeytest.New()
		f.addPasskey(t, session(otherPIN, eid.Level1), early)
		if _, err := f.svc.Activate(ctx, registrarHN, otherPIN); err != nil {
			t.Fatal(err)
		}
		if _, err := f.signIn(t, early, origin, eid.Level2); !errors.Is(err, eid.ErrLevelRequired) {
			t.Fatalf("early passkey at a level-2 client: %v", err)
		}
		if auth, err := f.signIn(t, early, origin, eid.Level1); err != nil || auth.Level != eid.Level1 {
			t.Fatalf("early passkey: level %d %v", auth.Level, err)
		}
		late := passkeytest.New()
		pk := f.addPasskey(t, session(otherPIN, eid.Level2), late)
		if pk.MaxLevel != eid.Level2 {
			t.Fatalf("passkey added at level 2: %+v", pk)
		}
		if auth, err := f.signIn(t, late, origin, eid.Level2); err != nil || auth.Level != eid.Level2 {
			t.Fatalf("late passkey: level %d %v", auth.Level, err)
		}
	})
}
