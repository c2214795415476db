package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/document/result"
	"github.com/dancu-project/dancu/internal/pin"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestResultsServed: the platform issues a signed result under a results
// signer it created beside the card PKI (its keys sealed), and the binary
// serves the result's QR address to a client without a session.
func TestResultsServed(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			env := apptest.Start(t, d, 0)
			doc, err := env.App.Results.Issue(context.Background(), pin.PIN("001190012345"), result.Result{
				Kind: result.Generic, Number: "1/KQ", Unit: "UBND phường Ba Đình", Place: "Hà Nội", Signer: "Chủ tịch",
				Fields: map[string]string{"procedure": "Đăng ký tạm trú", "dossier": "000.00.01.H26-261207-0001", "name": "Lê Văn Bình", "decision": "Chấp thuận"},
			}, "test")
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(doc.Body, []byte("/SubFilter /ETSI.CAdES.detached")) {
				t.Error("the result is not signed")
			}
			req, _ := http.NewRequest(http.MethodGet, env.Server.URL+"/verify/"+doc.ID+"?c="+doc.VerifyCode, nil)
			req.Header.Set("Accept", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"holder":"L* V** B***"`) {
				t.Errorf("verify: %d %s", res.StatusCode, body)
			}
			// The check is logged by its route alone: no id, code or address.
			logs := env.Logs.String()
			if !strings.Contains(logs, "/verify/{id}") || strings.Contains(logs, doc.ID) || strings.Contains(logs, doc.VerifyCode) {
				t.Errorf("the logs name the check:\n%s", logs)
			}
			keys, _ := filepath.Glob(filepath.Join(env.App.Config.DataDir, "pki", "results", "*.key"))
			if len(keys) != 2 {
				t.Fatalf("results keys: %v", keys)
			}
			for _, k := range keys {
				b, _ := os.ReadFile(k)
				if bytes.Contains(b, []byte("BEGIN PRIVATE KEY")) {
					t.Errorf("%s is in the clear", k)
				}
			}
		})
	}
}
