package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dancu-project/dancu/internal/cluster"
)

// devCmd holds the development commands: `dancu dev cluster`.
func devCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "cluster" {
		return fmt.Errorf("usage: dancu dev cluster [flags]")
	}
	fs := flag.NewFlagSet("dancu dev cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "dancu nodes behind the balancer")
	addr := fs.String("addr", "127.0.0.1:8080", "where the load balancer listens")
	dir := fs.String("dir", "", "directory for the nodes' data and logs and the NATS servers' files; empty makes a temporary one, removed at exit")
	persons := fs.Int("seed-persons", 2000, "synthetic persons the first node seeds")
	password := fs.String("bootstrap-password", "cluster-password", "password of the staff accounts made on first start")
	level := fs.String("log-level", "warn", "the nodes' log level")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *nodes < 1 || *nodes > 9 {
		return fmt.Errorf("nodes %d: want 1 to 9", *nodes)
	}
	if len([]rune(*password)) < 10 {
		return fmt.Errorf("bootstrap password has fewer than 10 characters")
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	work := *dir
	if work == "" {
		if work, err = os.MkdirTemp("", "dancu-cluster-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	c, err := cluster.Start(ctx, cluster.Config{Binary: bin, Dir: work, Nodes: *nodes, Addr: *addr,
		SeedPersons: *persons, Password: *password, LogLevel: *level, Progress: stdout})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "stopping: balancer, nodes, NATS, PostgreSQL")
		c.Stop()
	}()
	fmt.Fprintf(stdout, "\ndancu cluster at %s (%d nodes; staff admin / %s)\n", c.URL, *nodes, *password)
	fmt.Fprintf(stdout, "  write URL %s\n  read URL  %s\n  NATS      %s\n  files     %s (node logs: node-N.log)\n",
		c.PG.WriteURL(), c.PG.ReadURL(), c.NATS.URL(), work)
	fmt.Fprintln(stdout, "Ctrl-C stops everything.")
	t := time.NewTicker(10 * time.Second)
	defer t.Stop()
	last := fmt.Sprint(c.LB.Healthy())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			// Say when a node leaves or rejoins the balancer.
			if h := fmt.Sprint(c.LB.Healthy()); h != last {
				fmt.Fprintf(stdout, "%s nodes healthy: %s\n", time.Now().Format("15:04:05"), h)
				last = h
			}
		}
	}
}
