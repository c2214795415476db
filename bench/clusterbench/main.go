// Command clusterbench gives the scaling figures of issue 21: partner
// verify calls and OpenID token issuance (client credentials) through the
// load balancer with 1, 2 and 3 dancu nodes on the same PostgreSQL (the
// local cluster of internal/cluster), each as calls a second, the ratio to
// one node, and CPU per call of the nodes, of PostgreSQL and of this
// process (balancer and load generator).
//
//	go build -o /tmp/dancu ./cmd/dancu && go run ./bench/clusterbench -bin /tmp/dancu
//
// All of it shares this machine's cores: on a machine of two cores the
// ratio says what running more nodes costs, not what N machines give
// (docs/operations.md argues that part).
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/dancu-project/dancu/internal/cluster"
)

func main() {
	bin := flag.String("bin", "", "the dancu binary (go build -o /tmp/dancu ./cmd/dancu)")
	dur := flag.Duration("duration", 15*time.Second, "each measurement")
	conns := flag.Int("conns", 16, "concurrent callers")
	persons := flag.Int("seed-persons", 2000, "synthetic population")
	only := flag.String("ops", "verify,token", "which calls to measure")
	flag.Parse()
	if err := run(*bin, *dur, *conns, *persons, *only); err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench:", err)
		os.Exit(1)
	}
}

func run(bin string, dur time.Duration, conns, persons int, only string) error {
	if bin == "" {
		return fmt.Errorf("-bin is required")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "dancu-clusterbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Dir: dir, Nodes: 3, SeedPersons: persons, Progress: os.Stderr})
	if err != nil {
		return err
	}
	defer c.Stop()
	cl := cluster.NewClient(c.URL)
	var id, secret string
	for i, s := range c.Creds.Partners {
		if strings.HasPrefix(i, "nganhang-a") {
			id, secret = i, s
		}
	}
	staff, err := cl.StaffToken(ctx, "dangky.hanoi", "cluster-password")
	if err != nil {
		return err
	}
	tok, err := cl.PartnerToken(ctx, id, secret)
	if err != nil {
		return err
	}
	var bodies []map[string]string
	for y := 1950; y <= 2010; y += 2 {
		var page struct {
			Items []struct {
				PIN       string `json:"pin"`
				FullName  string `json:"full_name"`
				BirthDate string `json:"birth_date"`
			} `json:"items"`
		}
		cl.Call(ctx, "GET", fmt.Sprintf("/api/v1/persons?birth_date=%d&limit=100", y), staff, nil, &page)
		for _, p := range page.Items {
			bodies = append(bodies, map[string]string{"pin": p.PIN, "full_name": p.FullName, "birth_date": p.BirthDate, "purpose": "aml-cdd"})
		}
	}
	if len(bodies) == 0 {
		return fmt.Errorf("no people to verify")
	}
	ops := []struct {
		name string
		call func(n int) bool
	}{
		{"verify", func(n int) bool {
			st, _, err := cl.Call(ctx, "POST", "/api/partner/v1/verify", tok, bodies[n%len(bodies)], nil)
			return err == nil && st == 200
		}},
		{"token", func(int) bool {
			_, err := cl.PartnerToken(ctx, id, secret)
			return err == nil
		}},
	}
	fmt.Printf("\n%d people; %d callers, %s each; %s\n", len(bodies), conns, dur, loadavg())
	fmt.Printf("%-7s %5s %9s %6s %8s %14s %12s %12s %s\n", "call", "nodes", "calls/s", "ratio", "errors", "nodes µs/call", "pg µs/call", "lb+gen µs", "load")
	for _, op := range ops {
		if !strings.Contains(","+only+",", ","+op.name+",") {
			continue
		}
		var base float64
		for n := 1; n <= 3; n++ {
			c.LB.SetActive(n)
			// A short warm-up on the new set of nodes.
			measure(ctx, op.call, conns, 2*time.Second)
			nodes0, pg0, self0 := nodesCPU(c), pgCPU(c.PG.PrimaryPID()), selfCPU()
			waits := sampleWaits(ctx, c.PG.CurrentURL(), dur)
			ok, bad, el := measure(ctx, op.call, conns, dur)
			nodes1, pg1, self1 := nodesCPU(c), pgCPU(c.PG.PrimaryPID()), selfCPU()
			rate := float64(ok) / el.Seconds()
			if n == 1 {
				base = rate
			}
			per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(ok, 1)) }
			fmt.Printf("%-7s %5d %9.0f %6.2f %8d %14.0f %12.0f %12.0f %s\n", op.name, n, rate, rate/base, bad,
				per(nodes1-nodes0), per(pg1-pg0), per(self1-self0), loadavg())
			fmt.Printf("        PostgreSQL sessions by wait (sampled every 100 ms): %s\n", <-waits)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return nil
}

// sampleWaits counts, every 100 ms for d, the PostgreSQL sessions running
// a statement by what they wait on (none: on the CPU), and sends the
// averages when done: a lock on one row shows as Lock/transactionid or
// Lock/tuple, the synchronous replica as IPC/SyncRep.
func sampleWaits(ctx context.Context, url string, d time.Duration) <-chan string {
	out := make(chan string, 1)
	go func() {
		db, err := sql.Open("pgx", url)
		if err != nil {
			out <- err.Error()
			return
		}
		defer db.Close()
		counts := map[string]int{}
		n := 0
		end := time.Now().Add(d)
		for time.Now().Before(end) && ctx.Err() == nil {
			rows, err := db.QueryContext(ctx, `SELECT coalesce(wait_event_type || '/' || wait_event, 'CPU'), count(*) FROM pg_stat_activity
				WHERE state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1`)
			if err == nil {
				for rows.Next() {
					var w string
					var c int
					rows.Scan(&w, &c)
					counts[w] += c
				}
				rows.Close()
				n++
			}
			time.Sleep(100 * time.Millisecond)
		}
		type kv struct {
			k string
			v float64
		}
		var all []kv
		for k, v := range counts {
			all = append(all, kv{k, float64(v) / float64(max(n, 1))})
		}
		sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
		var parts []string
		for _, e := range all[:min(len(all), 5)] {
			parts = append(parts, fmt.Sprintf("%s %.1f", e.k, e.v))
		}
		out <- strings.Join(parts, ", ")
	}()
	return out
}

// measure runs call from conns goroutines for d: successes, failures, time.
func measure(ctx context.Context, call func(int) bool, conns int, d time.Duration) (int64, int64, time.Duration) {
	var ok, bad, seq atomic.Int64
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if call(int(seq.Add(1))) {
					ok.Add(1)
				} else if ctx.Err() == nil {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return ok.Load(), bad.Load(), time.Since(start)
}

var tick = time.Second / 100 // USER_HZ on Linux

// procCPU is a process's user+system time, with its waited-for children's
// when children is set.
func procCPU(pid int, children bool) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:]) // fields from the 3rd
	n := func(i int) int64 { v, _ := strconv.ParseInt(f[i-3], 10, 64); return v }
	t := n(14) + n(15)
	if children {
		t += n(16) + n(17)
	}
	return time.Duration(t) * tick
}

func nodesCPU(c *cluster.Cluster) time.Duration {
	var t time.Duration
	for _, n := range c.Nodes {
		t += procCPU(n.PID(), false)
	}
	return t
}

// pgCPU is the postmaster's CPU with its exited children's, plus its
// live children's (the backends serving the nodes' connections).
func pgCPU(postmaster int) time.Duration {
	if postmaster == 0 {
		return 0
	}
	t := procCPU(postmaster, true)
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(postmaster) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			t += procCPU(pid, false)
		}
	}
	return t
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "load ?"
	}
	return "load " + strings.Join(f[:3], " ")
}
