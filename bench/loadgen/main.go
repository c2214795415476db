package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

type headers [][2]string

func (h *headers) String() string { return fmt.Sprint(*h) }

func (h *headers) Set(v string) error {
	name, value, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("header %q is not name: value", v)
	}
	*h = append(*h, [2]string{strings.TrimSpace(name), strings.TrimSpace(value)})
	return nil
}

func main() {
	var cfg Config
	var hs headers
	bodies := flag.String("bodies", "", "file with one request body per line (cycled)")
	flag.StringVar(&cfg.URL, "url", "", "http:// URL to load")
	flag.StringVar(&cfg.Method, "method", "POST", "request method")
	flag.Float64Var(&cfg.Rate, "rate", 1000, "requests offered per second")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long requests are offered")
	flag.IntVar(&cfg.Conns, "conns", 64, "connections (each carries one request at a time)")
	flag.Var(&hs, "H", "request header name: value (repeatable)")
	profile := flag.String("cpuprofile", "", "write the load generator's own CPU profile to this file")
	timeline := flag.Bool("timeline", false, "also print the slowest answer of each second")
	flag.Parse()
	cfg.Header = hs
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(cfg, *bodies, *timeline); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1) // a CPU profile being written is lost: it would be of a failed run
	}
}

func run(cfg Config, bodies string, timeline bool) error {
	if bodies != "" {
		f, err := os.Open(bodies)
		if err != nil {
			return err
		}
		cfg.Bodies, err = ReadBodies(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	r, err := Run(ctx, cfg)
	if err != nil {
		return err
	}
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano() + after.Stime.Nano() - before.Utime.Nano() - before.Stime.Nano())
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	fmt.Printf("offered %d at %.0f/s over %s; answered %d (%.0f/s), non-2xx %d, errors %d\n",
		r.Offered, cfg.Rate, cfg.Duration, r.Done, r.Rate(), r.Non2xx, r.Errors)
	fmt.Printf("latency from due time: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms\n",
		ms(r.Percentile(.5)), ms(r.Percentile(.9)), ms(r.Percentile(.99)), ms(r.Percentile(.999)), ms(r.Percentile(1)))
	if timeline {
		fmt.Print("slowest answer by second (ms):")
		for _, w := range r.Seconds {
			fmt.Printf(" %.0f", ms(w))
		}
		fmt.Println()
	}
	if r.Done > 0 {
		fmt.Printf("load generator CPU per request: %d µs\n", cpu.Microseconds()/int64(r.Done))
	}
	return nil
}
