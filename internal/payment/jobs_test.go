package payment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dancu-project/dancu/internal/civildate"
	"github.com/dancu-project/dancu/internal/payment"
	"github.com/dancu-project/dancu/internal/payment/simgateway"
	"github.com/dancu-project/dancu/internal/storage/storagetest"
)

// TestScheduledJobs: the daily reconciliation runs once the configured
// Vietnam time has passed, for the day before, once; stale intents are
// expired by their job; each run is listed for the administrators.
func TestScheduledJobs(t *testing.T) {
	for _, d := range storagetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := setup(t, d, simgateway.Config{})
			ctx := context.Background()
			at, err := payment.ParseClock("01:30")
			if err != nil || at != 90 {
				t.Fatalf("ParseClock = %d, %v", at, err)
			}
			for _, bad := range []string{"1:30", "24:00", "01:60", "0130", "", "01:3x"} {
				if _, err := payment.ParseClock(bad); code(err) != "payment.schedule" {
					t.Errorf("ParseClock(%q): %v", bad, err)
				}
			}
			// 10/3 09:00 in Vietnam: a fee is paid, another intent is left.
			in, _ := e.svc.Create(ctx, request("000.00.04.H01-260310-0001", 7000))
			e.sim.Pay(in.GatewayRef, "card")
			waitState(t, e, in.ID, payment.Paid)
			stale, _ := e.svc.Create(ctx, request("000.00.04.H01-260310-0002", 10000))

			if n, err := e.svc.RunExpire(ctx); err != nil || n != 0 {
				t.Fatalf("RunExpire before expiry = %d, %v", n, err)
			}
			e.clk.Add(31 * time.Minute)
			if n, err := e.svc.RunExpire(ctx); err != nil || n != 1 {
				t.Fatalf("RunExpire = %d, %v; want 1", n, err)
			}
			if s, _ := e.svc.Get(ctx, stale.ID); s.State != payment.Expired {
				t.Errorf("stale intent is %s", s.State)
			}

			// 11/3 01:00 Vietnam time: too early.
			e.clk.Add(time.Date(2026, 3, 11, 1, 0, 0, 0, civildate.Location()).Sub(e.clk.Now()))
			if ran, _, err := e.svc.RunReconcile(ctx, at); ran || err != nil {
				t.Fatalf("reconciled before 01:30: %v %v", ran, err)
			}
			e.clk.Add(31 * time.Minute)
			ran, rep, err := e.svc.RunReconcile(ctx, at)
			if !ran || err != nil {
				t.Fatalf("RunReconcile at 01:31 = %v, %v", ran, err)
			}
			if rep.Day.String() != "2026-03-10" || rep.Lines != 1 || rep.Matched != 1 || len(rep.Mismatches) != 0 {
				t.Errorf("report %+v", rep)
			}
			if ran, _, _ := e.svc.RunReconcile(ctx, at); ran {
				t.Error("the day was reconciled twice")
			}
			runs, err := e.svc.JobRuns(ctx, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 2 || runs[0].Job != payment.JobReconcile || runs[0].Day != "2026-03-10" || !runs[0].OK ||
				!strings.Contains(runs[0].Detail, "mismatches=0") || runs[1].Job != payment.JobExpire || runs[1].Detail != "expired=1" {
				t.Errorf("runs %+v", runs)
			}
			if only, _ := e.svc.JobRuns(ctx, payment.JobExpire, 10); len(only) != 1 {
				t.Errorf("expire runs %+v", only)
			}

			// The gateway down at reconciliation time: the failure is
			// listed (by code only) and the next call tries again.
			e.clk.Add(24 * time.Hour)
			e.down.Store(true)
			if ran, _, err := e.svc.RunReconcile(ctx, at); !ran || code(err) != "payment.gateway_unavailable" {
				t.Fatalf("reconcile with the gateway down: %v %v", ran, err)
			}
			e.down.Store(false)
			e.clk.Add(time.Minute)
			if ran, _, err := e.svc.RunReconcile(ctx, at); !ran || err != nil {
				t.Fatalf("retry: %v %v", ran, err)
			}
			runs, _ = e.svc.JobRuns(ctx, payment.JobReconcile, 10)
			if len(runs) != 3 || !runs[0].OK || runs[1].OK || runs[1].Detail != "error: payment.gateway_unavailable" || runs[1].Day != "2026-03-11" {
				t.Errorf("runs after a failure %+v", runs)
			}
		})
	}
}
