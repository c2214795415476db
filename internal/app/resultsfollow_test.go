package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/card/pki"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestRotatedResultsSignerUsedWithoutRestart (issue 21): a results signer
// rotated elsewhere — its files arriving in the node's PKI directory, as
// the database mirror pulls them — signs the running node's next result;
// the result signed before keeps the old signer's fingerprint.
func TestRotatedResultsSignerUsedWithoutRestart(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 0)
			ctx := context.Background()
			issue := func() string {
				t.Helper()
				doc, err := env.App.Results.Issue(ctx, pin.PIN("001190012345"), result.Result{
					Kind: result.Generic, Number: "1/KQ", Unit: "UBND phường Ba Đình", Place: "Hà Nội", Signer: "Chủ tịch",
					Fields: map[string]string{"procedure": "Đăng ký tạm trú", "dossier": "000.00.01.H26-261207-0001", "name": "Lê Văn Bình", "decision": "Chấp thuận"},
				}, "test")
				if err != nil {
					t.Fatal(err)
				}
				return doc.SignedBy
			}
			before := issue()
			keys, err := app.OpenPKI(env.App.Config, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			rs, err := pki.Options{Keys: keys}.RotateResultsSigner(app.PKIDir(env.App.Config), pki.ResultsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			after := issue()
			if after == before || after != pki.Fingerprint(rs.Cert) {
				t.Fatalf("signed by %s after the rotation (before %s), want the new signer %s", after, before, pki.Fingerprint(rs.Cert))
			}
			if again := issue(); again != after {
				t.Fatalf("the next result is signed by %s", again)
			}
		})
	}
}
