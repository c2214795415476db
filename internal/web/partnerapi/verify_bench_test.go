package partnerapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/app/apptest"
	platformcfg "github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
	"github.com/dancu-project/dancu/internal/web/partnerapi"
)

// processCPU is the CPU time (user + system) the test process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startQuiet is apptest.Start logging warnings only, as a server does:
// apptest's debug log writes a line per request, which is not the
// server's cost.
func startQuiet(b *testing.B, d storage.Dialect, persons int) *apptest.Env {
	ctx := context.Background()
	logs := &apptest.Buffer{}
	cfg := platformcfg.Config{Addr: "127.0.0.1:0", DataDir: b.TempDir(), LogLevel: "warn", LogFormat: "text", SeedPersons: persons, Seed: 7}
	if d == storage.Postgres {
		cfg.DB = storagetest.URL(b, d)
	}
	srv := httptest.NewUnstartedServer(nil)
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	a, err := app.Open(ctx, cfg, cfg.Logger(logs), time.Now)
	if err != nil {
		srv.Close()
		b.Fatal(err)
	}
	srv.Config.Handler = a.Handler
	srv.Start()
	b.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	if _, err := a.Bootstrap(ctx, apptest.Password); err != nil {
		b.Fatal(err)
	}
	if _, err := a.SeedIfEmpty(ctx, persons, cfg.Seed, nil); err != nil {
		b.Fatal(err)
	}
	return &apptest.Env{App: a, Server: srv, Logs: logs}
}

// BenchmarkVerifyCPU measures the server's CPU per verify call on SQLite
// and PostgreSQL: the platform's handler is called in process (no socket,
// no HTTP client), so the process CPU per call (reported as cpu-µs/op,
// background work such as group commits and the audit indexer included)
// is the server's, and it holds on a loaded machine where calls a second
// do not. The calls are those of a bank checking customers it checked
// before (bench/partner.sh warms up the same way): every person once
// before the timer, then again and again, 16 at a time. With -cpuprofile
// it shows where the CPU goes.
func BenchmarkVerifyCPU(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			env := startQuiet(b, d, 5000)
			ctx := context.Background()
			creds, err := env.App.BootstrapPartners(ctx)
			if err != nil {
				b.Fatal(err)
			}
			op, err := oidc.NewProvider(ctx, env.Server.URL+"/oidc")
			if err != nil {
				b.Fatal(err)
			}
			cred := creds[0]
			for _, c := range creds {
				if c.PartnerID == "nganhang-a" {
					cred = c
				}
			}
			bank, err := env.App.Partners.Partner(ctx, "nganhang-a")
			if err != nil {
				b.Fatal(err)
			}
			// A rate far above the bench's, as bench/partner.sh sets it: the
			// bucket is taken from, in grants, but never runs dry.
			bank.Policy.RatePerSecond, bank.Policy.Burst = 1_000_000, 1_000_000
			if _, err := env.App.Partners.SetPolicy(ctx, bank.ID, bank.Version, bank.Policy); err != nil {
				b.Fatal(err)
			}
			tok, err := (&clientcredentials.Config{ClientID: cred.ClientID, ClientSecret: cred.Secret, TokenURL: op.Endpoint().TokenURL}).Token(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rows, err := env.App.DB.R.QueryContext(ctx, `SELECT pin, full_name, birth_date FROM persons WHERE length(birth_date) = 10 LIMIT 2000`)
			if err != nil {
				b.Fatal(err)
			}
			var bodies [][]byte
			for rows.Next() {
				var pin, name, birth string
				rows.Scan(&pin, &name, &birth)
				body, _ := json.Marshal(map[string]string{"pin": pin, "full_name": name, "birth_date": birth, "purpose": "aml-cdd"})
				bodies = append(bodies, body)
			}
			rows.Close()
			h := env.App.Handler
			call := func(body []byte) (int, string) {
				req := httptest.NewRequest("POST", partnerapi.Prefix+"/verify", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				return w.Code, w.Body.String()
			}
			var failed atomic.Int64
			check := func(code int, out string) {
				if code != http.StatusOK && failed.Add(1) <= 3 {
					b.Errorf("verify: %d %s", code, out)
				}
			}
			// Warm: each person verified once (register cache, links and
			// the day's values known).
			for _, body := range bodies {
				check(call(body))
			}
			time.Sleep(200 * time.Millisecond) // let the audit indexer catch up
			var before int64
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.verified'`).Scan(&before)
			var n atomic.Int64
			b.SetParallelism(8) // 16 callers on 2 Ps
			cache0 := env.App.Registry.CoreCacheStats()
			if f := os.Getenv("VERIFY_CPUPROFILE"); f != "" {
				// The timed calls only, without the set-up's.
				out, err := os.Create(f + "." + string(d))
				if err != nil {
					b.Fatal(err)
				}
				pprof.StartCPUProfile(out)
				defer func() { pprof.StopCPUProfile(); out.Close() }()
			}
			b.ResetTimer()
			cpu0 := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					check(call(bodies[int(i)%len(bodies)]))
				}
			})
			cpu := processCPU() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
			cache := env.App.Registry.CoreCacheStats()
			b.ReportMetric(float64(cache.Misses-cache0.Misses)/float64(b.N), "register-reads/op")
			var after int64
			env.App.AuditDB.R.QueryRowContext(ctx, `SELECT count(*) FROM audit_log WHERE action = 'person.verified'`).Scan(&after)
			if after-before < n.Load() {
				b.Fatalf("%d calls, %d audit entries", n.Load(), after-before)
			}
		})
	}
}
