package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/staff"
)

// CitizenCredential is a sample e-ID account made on first start, for trying
// the citizen sign-in with the synthetic population.
type CitizenCredential struct {
	PIN, FullName, Password string
	Level                   eid.Level
	TOTPSecret              string // level 2 only: base32, for an authenticator app
}

// codeCatcher is the SMS gateway of the bootstrap: it keeps the one-time code
// instead of sending it, since the synthetic people have no phones.
type codeCatcher struct {
	mu   sync.Mutex
	last string
}

func (c *codeCatcher) Send(_ context.Context, _ string, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The code is the run of six digits in the message.
	for _, w := range strings.Fields(text) {
		w = strings.Trim(w, ".,:;()")
		if len(w) == 6 && strings.Trim(w, "0123456789") == "" {
			c.last = w
		}
	}
	return nil
}

// BootstrapCitizens gives two adults of Hà Nội from the synthetic population
// an e-ID account — one level 1, one level 2 with TOTP — when no account
// exists yet. The level-2 account is activated by the bootstrap registrar, as
// a desk would after an in-person check. Development only: production makes
// none. The codes go to a catcher, not the configured SMS gateway, and the
// face check accepts (synthetic people have neither phones nor faces).
func (a *App) BootstrapCitizens(ctx context.Context, password string) ([]CitizenCredential, error) {
	if a.Config.Production {
		return nil, nil
	}
	if has, err := a.EID.AnyAccount(ctx); err != nil || has {
		return nil, err
	}
	pins, err := registry.LivingBornBetween(ctx, a.DB, "01", "1970", "2000", 2)
	if err != nil {
		return nil, fmt.Errorf("pick sample citizens: %w", err)
	}
	if len(pins) < 2 {
		return nil, nil // too small a population; nothing to show
	}
	catcher := &codeCatcher{}
	secret, err := a.Config.LoadEIDSecret()
	if err != nil {
		return nil, err
	}
	svc, err := eid.NewService(eid.Deps{DB: a.DB, Register: a.Registry, SMS: catcher, Secret: []byte(secret), Log: a.Log, Now: a.Now})
	if err != nil {
		return nil, err
	}
	registrar := staff.Account{Username: "dangky.hanoi", Role: "registrar", Unit: "01", Province: "01"}.Actor()
	var out []CitizenCredential
	for i, pin := range pins {
		p, err := a.Registry.Get(ctx, registrar, pin, "eid-bootstrap")
		if err != nil {
			return nil, err
		}
		level := eid.Level(i + 1)
		if level == eid.Level2 {
			if _, err := a.EID.Activate(ctx, registrar, pin); err != nil {
				return nil, fmt.Errorf("activate level 2: %w", err)
			}
		}
		enr, err := svc.StartRegistration(ctx, eid.RegistrationInput{PIN: pin, CardNumber: pin, FullName: p.FullName,
			BirthDate: p.BirthDate.String(), Phone: fmt.Sprintf("09%08d", i+1), ClientIP: "127.0.0.1"})
		if err != nil {
			return nil, fmt.Errorf("register sample citizen: %w", err)
		}
		catcher.mu.Lock()
		code := catcher.last
		catcher.mu.Unlock()
		password := password // each its own unless one is given
		if password == "" {
			password = staff.RandomPassword()
		}
		if _, err := svc.CompleteRegistration(ctx, enr.ID, code, password); err != nil {
			return nil, fmt.Errorf("complete sample registration: %w", err)
		}
		c := CitizenCredential{PIN: pin, FullName: p.FullName, Password: password, Level: level}
		if level == eid.Level2 {
			t, err := svc.EnrolTOTP(ctx, pin)
			if err != nil {
				return nil, err
			}
			now, err := eid.TOTPAt(t.Secret, a.Now())
			if err != nil {
				return nil, err
			}
			if err := svc.ConfirmTOTP(ctx, pin, now); err != nil {
				return nil, fmt.Errorf("confirm sample TOTP: %w", err)
			}
			c.TOTPSecret = t.Secret
		}
		out = append(out, c)
	}
	if err := a.bootstrapOrganisation(ctx, out); err != nil { // orgs.go
		return nil, err
	}
	return out, nil
}
