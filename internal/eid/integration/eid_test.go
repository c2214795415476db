package integration

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/actor"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/eid"
	"github.com/dancu-project/dancu/internal/registry"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// seeded is a living adult of the synthetic population who heads no
// household (so a death needs no new head).
type seeded struct{ pin, name, birth, province string }

func start(t *testing.T, d string) (*apptest.Env, seeded, *eid.Service, *smsBox) {
	t.Helper()
	env := apptest.Start(t, storageDialect(d), 40)
	ctx := context.Background()
	if err := env.App.DB.Migrate(ctx, eid.Migrations()); err != nil {
		t.Fatal(err)
	}
	var p seeded
	err := env.App.DB.R.QueryRowContext(ctx, `SELECT pin, full_name, birth_date, perm_province FROM persons
		WHERE status = 'alive' AND relation <> $1 AND birth_date < '2000' AND length(birth_date) = 10 ORDER BY pin LIMIT 1`, registry.RelHead).
		Scan(&p.pin, &p.name, &p.birth, &p.province)
	if err != nil {
		t.Fatal(err)
	}
	sms := &smsBox{}
	svc, err := eid.NewService(eid.Deps{DB: env.App.DB, Register: env.App.Registry, SMS: sms, Secret: secret, Log: env.App.Log, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	return env, p, svc, sms
}

// TestRegistrationAndDeath runs registration and death revocation against
// the whole platform: the real register (whose reads are audited), the
// outbox and the relay to the embedded JetStream.
func TestRegistrationAndDeath(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env, p, svc, sms := start(t, string(d))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := svc.RevokeOnDeath(ctx, env.App.Bus); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.StartRegistration(ctx, eid.RegistrationInput{PIN: p.pin, CardNumber: p.pin, FullName: p.name + "x", BirthDate: p.birth, Phone: "0912345678"}); err == nil {
				t.Fatal("a wrong name matched")
			}
			e, err := svc.StartRegistration(ctx, eid.RegistrationInput{PIN: p.pin, CardNumber: p.pin, FullName: strings.ToUpper(p.name), BirthDate: p.birth, Phone: "0912345678"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.CompleteRegistration(ctx, e.ID, sms.code(), password); err != nil {
				t.Fatal(err)
			}
			registrar := actor.Actor{ID: "staff:test", Role: actor.Registrar, Province: p.province, Unit: p.province}
			if _, err := svc.Activate(ctx, registrar, p.pin); err != nil {
				t.Fatal(err)
			}
			if _, err := env.App.Registry.RegisterDeath(ctx, registrar, registry.DeathInput{PIN: p.pin, DeathDate: time.Now().Format("2006-01-02"), Reason: "thử nghiệm"}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "revocation through the outbox and JetStream", func() bool {
				a, err := svc.Account(ctx, p.pin)
				return err == nil && a.Status == eid.StatusRevoked
			})
			var reads int
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.read' AND subject = $1 AND purpose LIKE 'eid-%'`, "person:"+p.pin).Scan(&reads)
			if reads < 2 {
				t.Fatalf("%d audited register reads by eid, want at least 2", reads)
			}
			if strings.Contains(env.Logs.String(), p.pin) {
				t.Fatal("a PIN appeared in the logs")
			}
		})
	}
}
