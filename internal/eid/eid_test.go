package eid_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

var today = time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)

// fakeRegister is a register of a few people; reads outside the actor's unit
// fail as the real one does.
type fakeRegister struct{ people map[string]registry.Person }

func (f fakeRegister) Get(_ context.Context, a actor.Actor, pin, _ string) (registry.Person, error) {
	p, ok := f.people[pin]
	if !ok {
		return registry.Person{}, registry.ErrPersonNotFound
	}
	if !a.Covers(p.Permanent.ProvinceCode, p.Permanent.CommuneCode) {
		return registry.Person{}, fault.ErrOutOfScope
	}
	return p, nil
}

// smsBox keeps the last message per phone, as a test gateway.
type smsBox struct {
	mu   sync.Mutex
	last map[string]string
}

func (b *smsBox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last[phone] = text
	return nil
}

var codeRE = regexp.MustCompile(`\d{6}`)

func (b *smsBox) code(t *testing.T, phone string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := codeRE.FindString(b.last[phone])
	if c == "" {
		t.Fatalf("no code sent to %s", phone)
	}
	return c
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	adultPIN  = "001090000001"
	childPIN  = "001220000002" // 4 years old
	teenPIN   = "001214000003" // 8 years old
	deadPIN   = "001050000004"
	farPIN    = "079090000005" // lives in HCM
	adultName = "Nguyễn Văn An"
	password  = "mật khẩu đủ dài"
)

var (
	registrarHN = actor.Actor{ID: "staff:hn", Role: actor.Registrar, Unit: "01", Province: "01"}
	leaderHN    = actor.Actor{ID: "staff:leader", Role: actor.Leader, Unit: "01", Province: "01"}
)

func person(pin, name, birth, status, province string) registry.Person {
	d, err := civildate.Parse(birth)
	if err != nil {
		panic(err)
	}
	return registry.Person{PIN: pin, FullName: name, BirthDate: d, Sex: "M", Status: status,
		Permanent: registry.Address{ProvinceCode: province, CommuneCode: province + "001"}}
}

type fixture struct {
	svc   *eid.Service
	sms   *smsBox
	clock *clock
	db    *storage.DB
}

func newFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	reg := fakeRegister{people: map[string]registry.Person{}}
	for _, p := range []registry.Person{
		person(adultPIN, adultName, "1990-03-15", registry.Alive, "01"),
		person(childPIN, "Nguyễn Thị Bé", "2022-01-10", registry.Alive, "01"),
		person(teenPIN, "Nguyễn Văn Tư", "2018-01-10", registry.Alive, "01"),
		person(deadPIN, "Trần Văn Cố", "1950", registry.Dead, "01"),
		person(farPIN, "Lê Thị Xa", "1990-01-01", registry.Alive, "79"),
	} {
		reg.people[p.PIN] = p
	}
	f := &fixture{sms: &smsBox{last: map[string]string{}}, clock: &clock{t: today}, db: db}
	svc, err := eid.NewService(eid.Deps{DB: db, Register: reg, SMS: f.sms, Secret: []byte(strings.Repeat("k", 32)),
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func (f *fixture) register(t *testing.T, in eid.RegistrationInput) eid.Account {
	t.Helper()
	ctx := context.Background()
	e, err := f.svc.StartRegistration(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.svc.CompleteRegistration(ctx, e.ID, f.sms.code(t, "+84912345678"), password)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func adultInput() eid.RegistrationInput {
	return eid.RegistrationInput{PIN: adultPIN, CardNumber: adultPIN, FullName: "nguyễn  văn an", BirthDate: "15/03/1990", Phone: "0912 345 678"}
}

func migrations() []storage.Migrations { return []storage.Migrations{eid.Migrations()} }

func TestRegistrationMatching(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.register(t, eid.RegistrationInput{PIN: adultPIN, CardNumber: adultPIN, FullName: adultName, BirthDate: "1990-03-15", Phone: "0912345678"})
		cases := []struct {
			name string
			edit func(*eid.RegistrationInput)
			want error
		}{
			{"wrong name", func(in *eid.RegistrationInput) { in.FullName = "Nguyen Van An" }, eid.ErrMismatch},
			{"wrong birth date", func(in *eid.RegistrationInput) { in.BirthDate = "16/03/1990" }, eid.ErrMismatch},
			{"card is not the PIN", func(in *eid.RegistrationInput) { in.CardNumber = "001090000009" }, eid.ErrMismatch},
			{"unknown PIN", func(in *eid.RegistrationInput) { in.PIN, in.CardNumber = "001090000099", "001090000099" }, eid.ErrMismatch},
			{"malformed PIN", func(in *eid.RegistrationInput) { in.PIN, in.CardNumber = "12", "12" }, eid.ErrMismatch},
			{"dead person", func(in *eid.RegistrationInput) {
				in.PIN, in.CardNumber, in.FullName, in.BirthDate = deadPIN, deadPIN, "Trần Văn Cố", "1950"
			}, eid.ErrMismatch},
			{"bad phone", func(in *eid.RegistrationInput) { in.Phone = "12345" }, eid.ErrPhoneInvalid},
			{"already registered", func(*eid.RegistrationInput) {}, eid.ErrAccountExists},
			{"child under 6 without guardian", func(in *eid.RegistrationInput) {
				in.PIN, in.CardNumber, in.FullName, in.BirthDate = childPIN, childPIN, "Nguyễn Thị Bé", "2022-01-10"
			}, eid.ErrGuardianRequired},
			{"child with a level-1 guardian", func(in *eid.RegistrationInput) {
				in.PIN, in.CardNumber, in.FullName, in.BirthDate, in.GuardianPIN = childPIN, childPIN, "Nguyễn Thị Bé", "2022-01-10", adultPIN
			}, eid.ErrGuardianRequired},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				in := adultInput()
				c.edit(&in)
				_, err := f.svc.StartRegistration(ctx, in)
				if !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
			})
		}
		// The mismatch fault never says which detail was wrong.
		_, e1 := f.svc.StartRegistration(ctx, eid.RegistrationInput{PIN: farPIN, CardNumber: farPIN, FullName: "x", BirthDate: "1990-01-01", Phone: "0912345678"})
		_, e2 := f.svc.StartRegistration(ctx, eid.RegistrationInput{PIN: farPIN, CardNumber: farPIN, FullName: "Lê Thị Xa", BirthDate: "1991-01-01", Phone: "0912345678"})
		if fault.As(e1).Message != fault.As(e2).Message {
			t.Fatalf("mismatch messages differ: %v / %v", e1, e2)
		}
		// Guessing details is throttled per PIN: five mismatches block it.
		for i := 0; i < 5; i++ {
			in := adultInput()
			in.PIN, in.CardNumber, in.BirthDate = farPIN, farPIN, fmt.Sprintf("1990-01-%02d", i+2)
			f.svc.StartRegistration(ctx, in)
		}
		in := eid.RegistrationInput{PIN: farPIN, CardNumber: farPIN, FullName: "Lê Thị Xa", BirthDate: "1990-01-01", Phone: "0912345678"}
		if _, err := f.svc.StartRegistration(ctx, in); !errors.Is(err, eid.ErrThrottled) {
			t.Fatalf("after five mismatches: %v", err)
		}
		f.clock.Add(2 * time.Minute)
		if _, err := f.svc.StartRegistration(ctx, in); err != nil {
			t.Fatalf("after the block: %v", err)
		}
		// With a level-2 guardian a child under 6 gets level 1.
		if _, err := f.svc.Activate(ctx, registrarHN, adultPIN); err != nil {
			t.Fatal(err)
		}
		child := f.register(t, eid.RegistrationInput{PIN: childPIN, CardNumber: childPIN, FullName: "Nguyễn Thị Bé", BirthDate: "2022-01-10", Phone: "0912345678", GuardianPIN: adultPIN})
		if child.Level != eid.Level1 || child.GuardianPIN != adultPIN {
			t.Fatalf("child account %+v", child)
		}
	})
}

func TestOneTimeCode(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		start := func() (eid.Enrolment, string) {
			e, err := f.svc.StartRegistration(ctx, adultInput())
			if err != nil {
				t.Fatal(err)
			}
			return e, f.sms.code(t, "+84912345678")
		}
		// Wrong code, then too many wrong codes void the enrolment.
		e, code := start()
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 0; i < 5; i++ {
			if _, err := f.svc.CompleteRegistration(ctx, e.ID, wrong, password); !errors.Is(err, eid.ErrOTPInvalid) {
				t.Fatalf("wrong code %d: %v", i, err)
			}
		}
		if _, err := f.svc.CompleteRegistration(ctx, e.ID, code, password); !errors.Is(err, eid.ErrOTPInvalid) {
			t.Fatalf("right code after too many tries: %v", err)
		}
		// Expired.
		e, code = start()
		f.clock.Add(6 * time.Minute)
		if _, err := f.svc.CompleteRegistration(ctx, e.ID, code, password); !errors.Is(err, eid.ErrOTPExpired) {
			t.Fatalf("expired code: %v", err)
		}
		// Weak password is refused before the code is spent.
		e, code = start()
		if _, err := f.svc.CompleteRegistration(ctx, e.ID, code, "short"); !errors.Is(err, eid.ErrWeakPassword) {
			t.Fatalf("weak password: %v", err)
		}
		a, err := f.svc.CompleteRegistration(ctx, e.ID, code, password)
		if err != nil || a.Level != eid.Level1 || a.Status != eid.StatusActive {
			t.Fatalf("complete: %+v %v", a, err)
		}
		// Replayed.
		if _, err := f.svc.CompleteRegistration(ctx, e.ID, code, password); !errors.Is(err, eid.ErrOTPInvalid) {
			t.Fatalf("replayed code: %v", err)
		}
	})
}

func TestLevel2Activation(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.register(t, adultInput())
		cases := []struct {
			name  string
			actor actor.Actor
			pin   string
			want  error
		}{
			{"leader may not", leaderHN, adultPIN, eid.ErrRegistrarRequired},
			{"citizen may not", actor.Actor{ID: "citizen:" + adultPIN}, adultPIN, eid.ErrRegistrarRequired},
			{"system may not", actor.SystemActor("x"), adultPIN, eid.ErrRegistrarRequired},
			{"out of the registrar's unit", registrarHN, farPIN, fault.ErrOutOfScope},
			{"under 6", registrarHN, childPIN, eid.ErrTooYoungLevel2},
			{"dead", registrarHN, deadPIN, eid.ErrDeadPerson},
			{"registrar upgrades level 1", registrarHN, adultPIN, nil},
			{"registrar creates a pending level 2 from 6", registrarHN, teenPIN, nil},
		}
		// What each activation leaves behind, checked in its own case so
		// that every case stands alone.
		after := map[string]func(a eid.Account) bool{
			// The account registered in the app stays active.
			adultPIN: func(a eid.Account) bool { return a.Status == eid.StatusActive && a.CreatedVia == "app" },
			// A desk activation without an account is pending.
			teenPIN: func(a eid.Account) bool { return a.Status == eid.StatusPending },
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				a, err := f.svc.Activate(ctx, c.actor, c.pin)
				if !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
				if err != nil {
					return
				}
				if a.Level != eid.Level2 || a.ActivatedBy != registrarHN.ID {
					t.Fatalf("account %+v", a)
				}
				if stored, err := f.svc.Account(ctx, c.pin); err != nil || !after[c.pin](stored) {
					t.Fatalf("stored account %+v %v", stored, err)
				}
			})
		}
	})
}

func TestSignInFactorsAndLockout(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.register(t, adultInput())
		if _, err := f.svc.Activate(ctx, registrarHN, adultPIN); err != nil {
			t.Fatal(err)
		}
		// Password alone reaches level 1 even on a level-2 account.
		auth, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password, ClientIP: "192.0.2.1"})
		if err != nil || auth.Level != eid.Level1 {
			t.Fatalf("password sign-in: %+v %v", auth, err)
		}
		if _, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password, MinLevel: eid.Level2}); !errors.Is(err, eid.ErrLevelRequired) {
			t.Fatalf("level 2 without TOTP: %v", err)
		}
		enrol, err := f.svc.EnrolTOTP(ctx, adultPIN)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConfirmTOTP(ctx, adultPIN, eid.TOTPCode(enrol.Secret, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(30 * time.Second)
		code := eid.TOTPCode(enrol.Secret, f.clock.Now())
		auth, err = f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password, TOTP: code, MinLevel: eid.Level2})
		if err != nil || auth.Level != eid.Level2 || len(auth.AMR) != 3 {
			t.Fatalf("level 2 sign-in: %+v %v", auth, err)
		}
		// A TOTP code is good once.
		if _, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password, TOTP: code}); !errors.Is(err, eid.ErrBadCredentials) {
			t.Fatalf("replayed TOTP: %v", err)
		}
		// Unknown PIN and wrong password give the very same fault.
		unknown := fault.As(mustFail(f.svc.SignIn(ctx, eid.SignInInput{PIN: "001090009999", Password: password})))
		wrongPw := fault.As(mustFail(f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: "sai mật khẩu rồi"})))
		if unknown.Code != wrongPw.Code || unknown.Message != wrongPw.Message || unknown.Kind != wrongPw.Kind {
			t.Fatalf("messages differ: %v / %v", unknown, wrongPw)
		}
		// Five failures block the identifier, existing or not, alike.
		for _, pin := range []string{adultPIN, "001090009999"} {
			var last error
			for i := 0; i < 6; i++ {
				_, last = f.svc.SignIn(ctx, eid.SignInInput{PIN: pin, Password: "sai mật khẩu rồi"})
			}
			if !errors.Is(last, eid.ErrThrottled) {
				t.Fatalf("%s after 6 failures: %v", pin, last)
			}
		}
		// Even the right password waits out the block, which then lifts.
		if _, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password}); !errors.Is(err, eid.ErrThrottled) {
			t.Fatalf("blocked account: %v", err)
		}
		f.clock.Add(2 * time.Minute)
		if _, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password}); err != nil {
			t.Fatalf("after the block: %v", err)
		}
		// Per-address throttling covers guessing across many identifiers.
		for i := 0; i < 50; i++ {
			f.svc.SignIn(ctx, eid.SignInInput{PIN: fmt.Sprintf("0010900%05d", i), Password: "x", ClientIP: "198.51.100.7"})
		}
		if _, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password, ClientIP: "198.51.100.7"}); !errors.Is(err, eid.ErrThrottled) {
			t.Fatalf("address after 50 failures: %v", err)
		}
	})
}

func mustFail(_ eid.Authentication, err error) error { return err }

func TestLifecycle(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.register(t, adultInput())
		owner := actor.Actor{ID: "citizen:" + adultPIN}
		signIn := func() error {
			_, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password})
			return err
		}
		if err := f.svc.Lock(ctx, actor.Actor{ID: "citizen:001090000777"}, adultPIN, "x"); !errors.Is(err, fault.ErrForbidden) {
			t.Fatalf("someone else locks: %v", err)
		}
		if err := f.svc.Lock(ctx, owner, adultPIN, "lost phone"); err != nil {
			t.Fatal(err)
		}
		if err := signIn(); !errors.Is(err, eid.ErrBadCredentials) {
			t.Fatalf("locked sign-in: %v", err)
		}
		if err := f.svc.Unlock(ctx, owner, adultPIN); !errors.Is(err, fault.ErrForbidden) {
			t.Fatalf("owner unlocks: %v", err)
		}
		if err := f.svc.Unlock(ctx, registrarHN, adultPIN); err != nil {
			t.Fatal(err)
		}
		if err := signIn(); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Reset(ctx, registrarHN, adultPIN); err != nil {
			t.Fatal(err)
		}
		if err := signIn(); !errors.Is(err, eid.ErrBadCredentials) {
			t.Fatalf("reset sign-in: %v", err)
		}
		// After a reset the owner sets a new password with a new code.
		f.register(t, adultInput())
		if err := signIn(); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Revoke(ctx, registrarHN, adultPIN, "fraud"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Unlock(ctx, registrarHN, adultPIN); !errors.Is(err, eid.ErrNotLocked) {
			t.Fatalf("unlock revoked: %v", err)
		}
	})
}

// TestNoDevStandInsInProduction: production refuses the SMS log sink and
// the face check that accepts every face, whether given or defaulted.
func TestNoDevStandInsInProduction(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite, migrations())
	for _, c := range []struct {
		name string
		sms  eid.SMSGateway
		face eid.FaceVerifier
		ok   bool
	}{
		{"defaults", nil, nil, false},
		{"dev SMS sink", eid.DevSMS{}, realFace{}, false},
		{"accept-all faces by default", realSMS{}, nil, false},
		{"accept-all faces given", realSMS{}, eid.AcceptAllFaces{}, false},
		{"real services", realSMS{}, realFace{}, true},
	} {
		_, err := eid.NewService(eid.Deps{DB: db, Register: fakeRegister{}, Secret: make([]byte, 32), Production: true, SMS: c.sms, Face: c.face})
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

type realSMS struct{}

func (realSMS) Send(context.Context, string, string) error { return nil }

type realFace struct{}

func (realFace) Verify(context.Context, string, []byte) (bool, error) { return false, nil }
