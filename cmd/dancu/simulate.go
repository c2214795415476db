package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/dancu-project/dancu/internal/bundle/partnersim"
)

// partnerSimulate runs a simulated partner agency for the inter-agency
// bundles: `dancu partner simulate bhxh --server URL --client-id ID
// --client-secret S [--listen ADDR] [--public-url URL] [--delay D]
// [--refuse 0.05] [--duplicate 0.05]`. It registers its address through
// the partner API, takes the signed step webhooks and answers them after
// the delay, until interrupted.
func partnerSimulate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "bhxh" && args[0] != "ldtbxh") {
		return errors.New("usage: dancu partner simulate bhxh|ldtbxh --server URL --client-id ID --client-secret SECRET [--listen 127.0.0.1:9090] [--public-url URL] [--delay 500ms] [--refuse 0.05] [--duplicate 0.05] [--seed N]")
	}
	fs := flag.NewFlagSet("partner simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg partnersim.Config
	var listen, public string
	fs.StringVar(&cfg.Server, "server", "http://127.0.0.1:8080", "the platform's public URL")
	fs.StringVar(&cfg.ClientID, "client-id", args[0]+"-system", "the partner system's client id")
	fs.StringVar(&cfg.Secret, "client-secret", getenv("DANCU_PARTNER_SECRET"), "the partner system's client secret (or DANCU_PARTNER_SECRET)")
	fs.StringVar(&listen, "listen", "127.0.0.1:9090", "address the simulator listens on")
	fs.StringVar(&public, "public-url", "", "the address the platform reaches the simulator at (default http://LISTEN/)")
	fs.DurationVar(&cfg.Delay, "delay", 500*time.Millisecond, "how long the partner takes to answer a step")
	fs.Float64Var(&cfg.RefuseRate, "refuse", 0, "share of steps refused (0 to 1)")
	fs.Float64Var(&cfg.DuplicateRate, "duplicate", 0, "share of answers sent twice (0 to 1)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "seed of the refusals and duplicates")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if cfg.Secret == "" || cfg.RefuseRate < 0 || cfg.RefuseRate > 1 || cfg.DuplicateRate < 0 || cfg.DuplicateRate > 1 {
		return errors.New("partner simulate: --client-secret is required; --refuse and --duplicate are between 0 and 1")
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, nil))
	sim := partnersim.New(cfg)
	defer sim.Close()
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("partner simulate: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	if public == "" {
		public = "http://" + ln.Addr().String() + "/"
	}
	if err := sim.Discover(ctx); err != nil {
		return err
	}
	if err := sim.Register(ctx, public); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "partner %s simulated at %s (delay %s, refuse %.0f%%, duplicate %.0f%%)\n", args[0], public, cfg.Delay, cfg.RefuseRate*100, cfg.DuplicateRate*100)
	<-ctx.Done()
	fmt.Fprintf(stdout, "steps received %d, resent %d, answered %d, refused %d, answered twice %d\n",
		sim.Received.Load(), sim.Repeated.Load(), sim.Answered.Load(), sim.Refused.Load(), sim.Duplicated.Load())
	return nil
}
