package eid_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/actor"
	cardservice "github.com/dancu-project/dancu/internal/card/service"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/fault"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// fakeCards is a card register: the cards of each PIN, read under the
// register's scope like the real one.
type fakeCards struct {
	reg   fakeRegister
	cards map[string][]cardservice.Card
}

func (f fakeCards) Cards(ctx context.Context, a actor.Actor, pin string) ([]cardservice.Card, []cardservice.HistoryEntry, error) {
	if _, err := f.reg.Get(ctx, a, pin, "card-history"); err != nil {
		return nil, nil, err
	}
	return f.cards[pin], nil, nil
}

// cardFixture is newFixture with a card register: the adult holds a card
// issued 2024-07-01, the person in HCM a revoked one, the dead person a
// card not yet revoked (the death consumer lags).
func cardFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	f := newFixture(t, db)
	reg := fakeRegister{people: map[string]registry.Person{}}
	for _, p := range []registry.Person{
		person(adultPIN, adultName, "1990-03-15", registry.Alive, "01"),
		person(deadPIN, "Trần Văn Cố", "1950", registry.Dead, "01"),
		person(farPIN, "Lê Thị Xa", "1990-01-01", registry.Alive, "79"),
	} {
		reg.people[p.PIN] = p
	}
	cards := fakeCards{reg: reg, cards: map[string][]cardservice.Card{
		adultPIN: {{PIN: adultPIN, Status: cardservice.Replaced, IssueDate: "2021-05-02"}, {PIN: adultPIN, Status: cardservice.HandedOver, IssueDate: "2024-07-01"}},
		farPIN:   {{PIN: farPIN, Status: cardservice.Revoked, IssueDate: "2024-07-01"}},
		deadPIN:  {{PIN: deadPIN, Status: cardservice.HandedOver, IssueDate: "2024-07-01"}},
	}}
	svc, err := eid.NewService(eid.Deps{DB: db, Register: reg, Cards: cards, SMS: f.sms, Secret: []byte(strings.Repeat("k", 32)),
		Log: slog.New(slog.NewTextHandler(t.Output(), nil)), Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

// TestEnrolmentByCard: level 1 with PIN, card number and issue date (or the
// card's QR text). Every way of not holding a valid card is one refusal
// with one message; an existing account is said only to whoever holds the
// card's details.
func TestEnrolmentByCard(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := cardFixture(t, db)
		ctx := context.Background()
		byCard := func(pin, issue string) eid.RegistrationInput {
			return eid.RegistrationInput{PIN: pin, CardNumber: pin, IssueDate: issue, Phone: "0912345678"}
		}
		refused := []struct {
			name string
			in   eid.RegistrationInput
			want error
		}{
			{"not in the register", byCard("001090000099", "2024-07-01"), eid.ErrCardMismatch},
			{"wrong issue date", byCard(adultPIN, "2024-07-02"), eid.ErrCardMismatch},
			{"a replaced card's date", byCard(adultPIN, "02/05/2021"), eid.ErrCardMismatch},
			{"card revoked", byCard(farPIN, "2024-07-01"), eid.ErrCardMismatch},
			{"deceased", byCard(deadPIN, "2024-07-01"), eid.ErrCardMismatch},
			{"card number not the PIN", eid.RegistrationInput{PIN: adultPIN, CardNumber: "001090000009", IssueDate: "2024-07-01", Phone: "0912345678"}, eid.ErrCardMismatch},
			{"malformed QR", eid.RegistrationInput{QR: "001090000001|x", Phone: "0912345678"}, fault.New(fault.Invalid, "card.qr.field_count", "", "")},
		}
		var message string
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) {
				_, err := f.svc.StartRegistration(ctx, c.in)
				if !errors.Is(err, c.want) {
					t.Fatalf("got %v, want %v", err, c.want)
				}
				if c.want == eid.ErrCardMismatch {
					if message != "" && fault.As(err).Message != message {
						t.Fatalf("refusals differ: %q / %q", fault.As(err).Message, message)
					}
					message = fault.As(err).Message
				}
			})
		}
		// The QR text of the valid card enrols.
		qrText := adultPIN + "||" + adultName + "|15031990|Nam|Hà Nội|01072024"
		e, err := f.svc.StartRegistration(ctx, eid.RegistrationInput{QR: qrText, Phone: "0912345678"})
		if err != nil {
			t.Fatal(err)
		}
		a, err := f.svc.CompleteRegistration(ctx, e.ID, f.sms.code(t, "+84912345678"), password)
		if err != nil {
			t.Fatal(err)
		}
		if a.Level != eid.Level1 || a.Status != eid.StatusActive || a.PIN != adultPIN {
			t.Fatalf("account %+v", a)
		}
		// Now the valid card's holder is told the account exists.
		if _, err := f.svc.StartRegistration(ctx, byCard(adultPIN, "01/07/2024")); !errors.Is(err, eid.ErrAccountExists) {
			t.Fatalf("second enrolment: %v", err)
		}
		// Guessing a card's issue date is throttled like sign-in: per PIN,
		// after five misses every attempt waits, whatever it carries.
		for i := range 5 {
			in := byCard(farPIN, "2024-07-1"+string(rune('0'+i)))
			in.ClientIP = "198.51.100.7"
			f.svc.StartRegistration(ctx, in)
		}
		if _, err := f.svc.StartRegistration(ctx, byCard(farPIN, "2024-07-01")); !errors.Is(err, eid.ErrThrottled) {
			t.Fatalf("after five wrong dates: %v", err)
		}
	})
}

// TestDeskActs: the desk reaches only citizens of the officer's unit (the
// register's scope rule, before anything else), activation needs the
// in-person tick, and the citizen's authenticator is set up at the desk.
func TestDeskActs(t *testing.T) {
	storagetest.Run(t, migrations(), func(t *testing.T, db *storage.DB) {
		f := cardFixture(t, db)
		ctx := context.Background()
		desk := actor.Actor{ID: "staff:desk.hn", Role: actor.Desk, Unit: "01", Province: "01"}
		for _, pin := range []string{adultPIN, farPIN} {
			in := eid.RegistrationInput{PIN: pin, CardNumber: pin, IssueDate: "2024-07-01", Phone: "0912345678"}
			if pin == farPIN { // the revoked card: enrol by name and birth date
				in = eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: "Lê Thị Xa", BirthDate: "1990-01-01", Phone: "0912345678"}
			}
			f.register(t, in)
		}
		outside := []struct {
			name string
			do   func() error
		}{
			{"find", func() error { _, err := f.svc.AtDesk(ctx, desk, farPIN); return err }},
			{"activate", func() error { _, err := f.svc.ActivateInPerson(ctx, desk, farPIN, false); return err }},
			{"lock", func() error { return f.svc.Lock(ctx, desk, farPIN, "x") }},
			{"unlock", func() error { return f.svc.Unlock(ctx, desk, farPIN) }},
			{"reset", func() error { return f.svc.Reset(ctx, desk, farPIN) }},
			{"revoke", func() error { return f.svc.Revoke(ctx, desk, farPIN, "fraud") }},
			{"totp", func() error { _, err := f.svc.EnrolTOTPAtDesk(ctx, desk, farPIN); return err }},
		}
		for _, c := range outside {
			t.Run("outside unit: "+c.name, func(t *testing.T) {
				if err := c.do(); !errors.Is(err, fault.ErrOutOfScope) {
					t.Fatalf("got %v, want out_of_scope", err)
				}
			})
		}
		if a, _ := f.svc.Account(ctx, farPIN); a.Status != eid.StatusActive || a.Level != eid.Level1 {
			t.Fatalf("the account outside the unit changed: %+v", a)
		}
		if _, err := f.svc.AtDesk(ctx, leaderHN, adultPIN); !errors.Is(err, eid.ErrRegistrarRequired) {
			t.Fatalf("leader at the desk: %v", err)
		}
		if _, err := f.svc.ActivateInPerson(ctx, desk, adultPIN, false); !errors.Is(err, eid.ErrInPersonRequired) {
			t.Fatalf("activation without the in-person check: %v", err)
		}
		v, err := f.svc.AtDesk(ctx, desk, adultPIN)
		if err != nil || !v.HasAccount || v.Account.Level != eid.Level1 || v.Person.FullName != adultName {
			t.Fatalf("desk view %+v, %v", v, err)
		}
		a, err := f.svc.ActivateInPerson(ctx, desk, adultPIN, true)
		if err != nil || a.Level != eid.Level2 || a.ActivatedBy != desk.ID {
			t.Fatalf("activate: %+v, %v", a, err)
		}
		en, err := f.svc.EnrolTOTPAtDesk(ctx, desk, adultPIN)
		if err != nil || !strings.HasPrefix(en.URI, "otpauth://totp/") {
			t.Fatalf("totp: %+v, %v", en, err)
		}
		if err := f.svc.ConfirmTOTPAtDesk(ctx, desk, adultPIN, "000000"); !errors.Is(err, eid.ErrOTPInvalid) {
			t.Fatalf("wrong code: %v", err)
		}
		if err := f.svc.ConfirmTOTPAtDesk(ctx, desk, adultPIN, eid.TOTPCode(en.Secret, f.clock.Now())); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.EnrolTOTPAtDesk(ctx, desk, adultPIN); !errors.Is(err, eid.ErrTOTPExists) {
			t.Fatalf("a second authenticator over the first: %v", err)
		}
		// A reset account is completed like an enrolment, by card and the
		// one-time code: active again, at level 2, with no second factor.
		defer func() {
			if err := f.svc.Reset(ctx, desk, adultPIN); err != nil {
				t.Fatal(err)
			}
			a := f.register(t, eid.RegistrationInput{PIN: adultPIN, CardNumber: adultPIN, IssueDate: "2024-07-01", Phone: "0912345678"})
			if a.Status != eid.StatusActive || a.Level != eid.Level2 || a.HasTOTP {
				t.Fatalf("after reset and enrolment: %+v", a)
			}
		}()
		auth, err := f.svc.SignIn(ctx, eid.SignInInput{PIN: adultPIN, Password: password, TOTP: eid.TOTPCode(en.Secret, f.clock.Now().Add(30e9))})
		if err != nil || auth.Level != eid.Level2 {
			t.Fatalf("level-2 sign-in: %+v, %v", auth, err)
		}
	})
}
