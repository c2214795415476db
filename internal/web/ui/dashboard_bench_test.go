package ui_test

import (
	"context"
	"database/sql"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/app/apptest"
	"github.com/dancu-project/dancu/internal/storage"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// fillCounters writes counters for every commune of the 2025 map, both
// sexes and 100 years of birth (what a register of any size, 10,000,000
// people included, leaves in stats_counts), and 12 months of flows.
func fillCounters(b *testing.B, env *apptest.Env) int {
	b.Helper()
	ctx := context.Background()
	db := env.App.DB
	now := time.Now()
	communes := env.App.Units.AllCommunes(now)
	rng := rand.New(rand.NewPCG(1, 2))
	year := now.Year()
	rows := 0
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM stats_counts`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM stats_flows`); err != nil {
			return err
		}
		const cols, per = 6, 500
		args := make([]any, 0, cols*per)
		flush := func() error {
			if len(args) == 0 {
				return nil
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO stats_counts (province, commune, sex, birth_year, living, carded) VALUES `+db.Values(len(args)/cols, cols), args...)
			args = args[:0]
			return err
		}
		for _, c := range communes {
			for _, sex := range []string{"M", "F"} {
				for y := year - 99; y <= year; y++ {
					n := int64(rng.IntN(30))
					args = append(args, c.ProvinceCode, c.Code, sex, y, n, n*8/10)
					rows++
					if len(args) == cols*per {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
			for m := 0; m < 12; m++ {
				mo := now.AddDate(0, -m, 0).Format("2006-01")
				for _, kind := range []string{"born", "died", "moved_in", "moved_out"} {
					if _, err := tx.ExecContext(ctx, `INSERT INTO stats_flows (province, commune, kind, month, n) VALUES ($1, $2, $3, $4, $5)
						ON CONFLICT (commune, kind, month) DO NOTHING`, c.ProvinceCode, c.Code, kind, mo, rng.IntN(20)); err != nil {
						return err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		// The provinces' totals, as the consumers keep them.
		for _, q := range []string{`DELETE FROM stats_province_counts`, `DELETE FROM stats_province_flows`,
			`INSERT INTO stats_province_counts (province, sex, birth_year, living, carded)
				SELECT province, sex, birth_year, SUM(living), SUM(carded) FROM stats_counts GROUP BY province, sex, birth_year`,
			`INSERT INTO stats_province_flows (province, kind, month, n) SELECT province, kind, month, SUM(n) FROM stats_flows GROUP BY province, kind, month`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if db.Dialect == storage.Postgres {
		db.W.ExecContext(ctx, `ANALYZE stats_counts`)
		db.W.ExecContext(ctx, `ANALYZE stats_flows`)
		db.W.ExecContext(ctx, `ANALYZE stats_province_counts`)
	}
	return rows
}

// BenchmarkDashboard times the dashboard pages over HTTP (sign-in cookie,
// template, SVG) with counters for all 3,321 communes: the nation (34
// provinces), Hà Nội (its communes) and one commune.
func BenchmarkDashboard(b *testing.B) {
	for _, d := range storagetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			env := apptest.Start(b, d, 0)
			rows := fillCounters(b, env)
			b.Logf("%d counter rows", rows)
			admin := signInBench(b, env, "admin")
			commune := env.App.Units.Communes("01", time.Now())[0].Code
			for _, page := range []struct{ name, path string }{{"nation", "/dashboard/VN"}, {"province", "/dashboard/01"}, {"commune", "/dashboard/" + commune}} {
				b.Run(page.name, func(b *testing.B) {
					for b.Loop() {
						resp, err := admin.Get(env.Server.URL + page.path)
						if err != nil {
							b.Fatal(err)
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Fatalf("%s: %d", page.path, resp.StatusCode)
						}
					}
				})
			}
		})
	}
}

// signInBench is a browser-like client signed in as user.
func signInBench(b *testing.B, env *apptest.Env, user string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(env.Server.URL + "/login")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := staffCSRF.FindStringSubmatch(string(body))
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	resp, err = c.PostForm(env.Server.URL+"/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {apptest.Password}})
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in %s: %d", user, resp.StatusCode)
	}
	return c
}
