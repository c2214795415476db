package services_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/services"
	"github.com/dancu-project/dancu/internal/storage"
)

// BenchmarkDeskIntake: one paper dossier received (card QR checked
// against the register, form validated, dossier, history, event and audit
// written) and one scan digitized (content check, SHA-256, the platform's
// signature, the document and the record stored), on SQLite.
func BenchmarkDeskIntake(b *testing.B) {
	env := apptest.Start(b, storage.SQLite, 40)
	f := newDeskFixture(b, env)
	ctx := context.Background()
	p := citizen(b, env, 3)
	c := services.Citizen{QR: cardQR(b, p, p.FullName)}
	b.ResetTimer()
	for i := range b.N {
		rc, err := f.desk.Intake(ctx, f.badinh, services.IntakeRequest{Procedure: "HT.KS.01", Citizen: c, Form: birthForm, IdempotencyKey: fmt.Sprintf("bench-%08d", i)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.desk.Digitize(ctx, f.badinh, rc.Code, "birth_certificate", "scan.pdf", scanPDF); err != nil {
			b.Fatal(err)
		}
	}
}
