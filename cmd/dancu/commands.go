package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/dancu-project/dancu/internal/adminunit"
	"github.com/dancu-project/dancu/internal/app"
	"github.com/dancu-project/dancu/internal/platform"
	"github.com/dancu-project/dancu/internal/seed"
	"github.com/dancu-project/dancu/internal/stats"
)

func parseConfig(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (platform.Config, error) {
	var cfg platform.Config
	fs := flag.NewFlagSet("dancu "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.Flags(fs, getenv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	cfg.Settle(fs, getenv)
	return cfg, cfg.Validate()
}

// openServices parses a command's flags like parseConfig and opens the
// platform's services from the composition root (app.OpenServices), for the
// commands that need nothing else from the configuration; the caller
// closes them.
func openServices(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (*app.Services, error) {
	cfg, err := parseConfig(name, args, getenv, stderr, extra)
	if err != nil {
		return nil, err
	}
	return app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	log := cfg.Logger(stderr)
	start := time.Now()
	// What serve creates (the register, JetStream's files, the PKI, the
	// secrets) is for the platform's user alone.
	privateFiles()
	// Listen first: with port 0 the address, and so the OpenID issuer URL,
	// is known only then. Connections wait in the backlog until Serve.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	url := "http://" + displayAddr(ln.Addr().String())
	if cfg.PublicURL == "" {
		cfg.PublicURL = url
	}
	a, err := app.Open(ctx, cfg, log, time.Now)
	if err != nil {
		return err
	}
	defer a.Close()
	creds, err := a.Bootstrap(ctx, cfg.BootstrapPassword)
	if err != nil {
		return err
	}
	n, err := a.SeedIfEmpty(ctx, cfg.SeedPersons, cfg.Seed, progressBar(stderr, "Tạo dân cư tổng hợp"))
	if err != nil {
		return err
	}
	if n > 0 {
		log.Info("seeded synthetic population", "persons", n, "seed", cfg.Seed)
	}
	citizens, err := a.BootstrapCitizens(ctx, cfg.BootstrapPassword)
	if err != nil {
		return err
	}
	partners, err := a.BootstrapPartners(ctx)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second}
	log.Info("serving", "url", url, "db", a.DB.URL, "production", cfg.Production, "startup_ms", time.Since(start).Milliseconds())
	// The secrets made on first start go to a 0600 file, never to the
	// output or the log; only the file's path is printed.
	first := app.FirstStart{Staff: creds, Citizens: citizens, Partners: partners, Issuer: cfg.Issuer(), URL: url}
	if !first.Empty() {
		path := app.CredentialsFile(cfg)
		if err := app.WriteCredentials(path, first, time.Now()); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "First start: the generated credentials are in %s (mode 0600); keep them elsewhere and delete the file.\n", path)
	}
	fmt.Fprintf(stdout, "dancu is running at %s\n", url)
	if cfg.PprofAddr != "" {
		go servePprof(cfg.PprofAddr, log)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// displayAddr makes a wildcard listen address clickable.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || (host != "" && host != "::" && host != "0.0.0.0") {
		return addr
	}
	return net.JoinHostPort("localhost", port)
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	svc, err := openServices(ctx, "migrate", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer svc.Close()
	fmt.Fprintf(stdout, "migrations applied to %s\n", svc.DB.URL)
	return nil
}

func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var persons int
	var copyOpts partnerCopyFlags
	cfg, err := parseConfig("seed", args, getenv, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&persons, "persons", 10000, "number of synthetic persons to add")
		copyOpts.register(fs)
	})
	if err != nil {
		return err
	}
	if copyOpts.file != "" {
		return partnerCopyCmd(ctx, cfg, copyOpts, stdout, stderr)
	}
	if persons <= 0 {
		return fmt.Errorf("--persons must be positive")
	}
	svc, err := app.OpenServices(ctx, cfg, cfg.Logger(stderr), time.Now)
	if err != nil {
		return err
	}
	defer svc.Close()
	units, err := adminunit.Load()
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := seed.Run(ctx, svc.DB, svc.Audit, units, seed.Options{Persons: persons, Seed: cfg.Seed, Today: time.Now(), Progress: progressBar(stderr, "Seeding")})
	if err != nil {
		return err
	}
	// The bulk load published no events: the next start rebuilds the
	// indicators from the register.
	if err := stats.MarkStale(ctx, svc.DB); err != nil {
		return err
	}
	d := time.Since(start)
	fmt.Fprintf(stdout, "seeded %d persons into %s in %s (%.0f persons/s)\n", n, svc.DB.URL, d.Round(time.Millisecond), float64(n)/d.Seconds())
	return nil
}

func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}

// progressBar draws a bar on a terminal and stays silent otherwise, so logs
// and CI output are not filled with carriage returns.
func progressBar(w io.Writer, label string) func(done, total int) {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	last := -1
	start := time.Now()
	return func(done, total int) {
		if total <= 0 {
			return
		}
		pct := done * 100 / total
		if pct == last {
			return
		}
		last = pct
		const width = 40
		filled := pct * width / 100
		fmt.Fprintf(w, "\r%s [%s%s] %3d%% %d/%d %s", label, strings.Repeat("█", filled), strings.Repeat("░", width-filled), pct, done, total, time.Since(start).Round(time.Second))
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}
