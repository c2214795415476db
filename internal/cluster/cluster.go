// Package cluster runs the platform's production topology on one machine,
// without containers (issue 21): several `dancu serve` nodes (child
// processes of the built binary, each with its own data directory and
// port) behind a load balancer written with Go's reverse proxy, a
// PostgreSQL primary with a synchronous streaming replica (the Debian
// binaries, clusters of their own under a temporary directory) and a
// three-server NATS JetStream cluster (the nats-server module, in this
// process). `dancu dev cluster` starts it; the fault test in this
// package drives it (kill a node, a NATS server, fail PostgreSQL over).
package cluster

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config says what cluster to start.
type Config struct {
	// Binary is the dancu executable the nodes run.
	Binary string
	// Dir holds the nodes' data directories, their logs and the NATS
	// servers' files; PostgreSQL's live under a temporary directory of
	// their own (it runs as the postgres account).
	Dir string
	// Nodes is how many dancu nodes; 0 means 3.
	Nodes int
	// Addr is where the load balancer listens; empty picks a free port
	// on 127.0.0.1.
	Addr string
	// SeedPersons is the synthetic population the first node seeds.
	SeedPersons int
	// Password is the bootstrap accounts' password.
	Password string
	// LogLevel is the nodes' (warn when empty).
	LogLevel string
	// Progress receives a line per step; nil discards them.
	Progress io.Writer
}

// Cluster is a running cluster. Stop it.
type Cluster struct {
	cfg   Config
	PG    *Postgres
	NATS  *NATS
	Nodes []*Node
	LB    *Balancer
	// URL is the load balancer's, the platform's public URL.
	URL string
	// Creds are the accounts the first start made.
	Creds   Credentials
	stopLB  func()
	secrets []string
}

// Start starts PostgreSQL (primary, then the replica), the NATS servers,
// the first node (which migrates and seeds the database), the others, and
// the balancer in front of them; it returns when every node is ready.
func Start(ctx context.Context, cfg Config) (c *Cluster, err error) {
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	if cfg.LogLevel == "" {
		cfg.LogLevel = "warn"
	}
	if cfg.Password == "" {
		cfg.Password = "cluster-password"
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Binary == "" || cfg.Dir == "" {
		return nil, errors.New("cluster: Binary and Dir are required")
	}
	c = &Cluster{cfg: cfg}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	say := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, format+"\n", args...) }
	t0 := time.Now()
	if c.PG, err = startPostgres(ctx, cfg.Progress); err != nil {
		return nil, fmt.Errorf("postgresql: %w", err)
	}
	say("postgresql: primary 127.0.0.1:%d, synchronous replica 127.0.0.1:%d (%s) — %.1f s", c.PG.PrimaryPort, c.PG.ReplicaPort, c.PG.Root, time.Since(t0).Seconds())
	t0 = time.Now()
	if c.NATS, err = startNATS(cfg.Dir, 3); err != nil {
		return nil, err
	}
	say("nats: JetStream cluster of 3 at %s — %.1f s", c.NATS.URL(), time.Since(t0).Seconds())
	// The secrets every node must share: e-ID data, the card PKI's keys
	// and the audit checkpoints' signing key.
	c.secrets = []string{randomHex(32), randomHex(32), randomHex(32)}
	ports, err := freePorts(cfg.Nodes)
	if err != nil {
		return nil, err
	}
	lbAddr := cfg.Addr
	if lbAddr == "" {
		p, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		lbAddr = fmt.Sprintf("127.0.0.1:%d", p[0])
	}
	c.URL = "http://" + lbAddr
	var hosts []string
	for i := 0; i < cfg.Nodes; i++ {
		n := &Node{Index: i, Addr: fmt.Sprintf("127.0.0.1:%d", ports[i]), Dir: filepath.Join(cfg.Dir, fmt.Sprintf("node-%d", i+1))}
		n.args = c.nodeArgs(n)
		c.Nodes = append(c.Nodes, n)
		hosts = append(hosts, n.Addr)
	}
	// The first node alone migrates and seeds; the others then start
	// together on a ready database.
	t0 = time.Now()
	if err := c.Nodes[0].Start(cfg.Binary); err != nil {
		return nil, err
	}
	if err := c.Nodes[0].WaitReady(ctx, 5*time.Minute); err != nil {
		return nil, err
	}
	say("node 1: ready at http://%s (migrated, seeded %d persons) — %.1f s", c.Nodes[0].Addr, cfg.SeedPersons, time.Since(t0).Seconds())
	if c.Creds, err = readCredentials(filepath.Join(c.Nodes[0].Dir, "first-start-credentials.txt")); err != nil {
		return nil, err
	}
	t0 = time.Now()
	for _, n := range c.Nodes[1:] {
		if err := n.Start(cfg.Binary); err != nil {
			return nil, err
		}
	}
	for _, n := range c.Nodes[1:] {
		if err := n.WaitReady(ctx, 2*time.Minute); err != nil {
			return nil, err
		}
		say("node %d: ready at http://%s", n.Index+1, n.Addr)
	}
	say("nodes 2–%d ready — %.1f s", cfg.Nodes, time.Since(t0).Seconds())
	c.LB = NewBalancer(hosts)
	if _, c.stopLB, err = c.LB.Serve(ctx, lbAddr); err != nil {
		return nil, err
	}
	say("balancer: %s over %d nodes", c.URL, cfg.Nodes)
	return c, nil
}

func (c *Cluster) nodeArgs(n *Node) []string {
	return []string{"serve",
		"--addr", n.Addr,
		"--data", n.Dir,
		"--db", c.PG.WriteURL(),
		"--postgres-read-url", c.PG.ReadURL(),
		"--nats", c.NATS.URL(),
		"--nats-replicas", "3",
		"--public-url", c.URL,
		"--bootstrap-password", c.cfg.Password,
		"--eid-secret", c.secrets[0],
		"--pki-key", c.secrets[1],
		"--audit-key", c.secrets[2],
		"--seed-persons", fmt.Sprint(c.cfg.SeedPersons),
		"--log-level", c.cfg.LogLevel,
	}
}

// Stop stops the balancer, the nodes (SIGTERM: they finish the requests
// in flight), the NATS servers and PostgreSQL, in that order.
func (c *Cluster) Stop() {
	if c.stopLB != nil {
		c.stopLB()
		c.stopLB = nil
	}
	var wg sync.WaitGroup
	for _, n := range c.Nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.Stop() }()
	}
	wg.Wait()
	if c.NATS != nil {
		c.NATS.Stop()
	}
	if c.PG != nil {
		c.PG.Stop()
	}
}

// Node is one `dancu serve` child process.
type Node struct {
	Index int
	Addr  string // 127.0.0.1:port
	Dir   string // its data directory; its log is Dir + ".log"
	args  []string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts the node (again, after Kill).
func (n *Node) Start(binary string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd != nil {
		return fmt.Errorf("node %d is running", n.Index+1)
	}
	logf, err := os.OpenFile(n.Dir+".log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(binary, n.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C at the terminal reaches the cluster,
	// which stops the nodes itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("node %d: %w", n.Index+1, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	n.cmd, n.done = cmd, done
	return nil
}

// PID is the node's process id, 0 when it is not running.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// WaitReady waits until the node's /readyz answers 200.
func (n *Node) WaitReady(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	cl := &http.Client{Timeout: 2 * time.Second}
	for {
		n.mu.Lock()
		done := n.done
		n.mu.Unlock()
		if done == nil {
			return fmt.Errorf("node %d is not running", n.Index+1)
		}
		select {
		case <-done:
			return fmt.Errorf("node %d exited during start; see %s: %s", n.Index+1, n.Dir+".log", tail(n.Dir+".log", 5))
		default:
		}
		if res, err := cl.Get("http://" + n.Addr + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %d not ready after %s; see %s", n.Index+1, within, n.Dir+".log")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL (kill -9) and waits for the process to be gone.
func (n *Node) Kill() {
	n.signal(syscall.SIGKILL, 0)
}

// Stop sends SIGTERM and waits up to 30 s, then kills.
func (n *Node) Stop() {
	n.signal(syscall.SIGTERM, 30*time.Second)
}

func (n *Node) signal(sig syscall.Signal, grace time.Duration) {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd, n.done = nil, nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(sig)
	if grace > 0 {
		select {
		case <-done:
			return
		case <-time.After(grace):
			cmd.Process.Kill()
		}
	}
	<-done
}

// Credentials are what the first node's start made: the sample partner
// systems' client credentials and the sample citizens' passwords.
type Credentials struct {
	// Partners maps a client id to its secret.
	Partners map[string]string
	// Citizens are the sample e-ID accounts.
	Citizens []Citizen
}

// Citizen is a sample citizen with an electronic ID.
type Citizen struct {
	Level    int
	PIN      string
	Password string
}

func readCredentials(path string) (Credentials, error) {
	cr := Credentials{Partners: map[string]string{}}
	f, err := os.Open(path)
	if err != nil {
		return cr, fmt.Errorf("first-start credentials: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		fields := strings.Fields(line)
		field := func(name string) string {
			for i := 0; i+1 < len(fields); i++ {
				if fields[i] == name {
					return fields[i+1]
				}
			}
			return ""
		}
		switch {
		case strings.Contains(line, "client id:"):
			_, rest, _ := strings.Cut(line, "client id:")
			id := strings.Fields(rest)[0]
			cr.Partners[id] = field("secret:")
		case strings.HasPrefix(strings.TrimSpace(line), "level ") && strings.Contains(line, " PIN "):
			var lv int
			fmt.Sscan(field("level"), &lv)
			cr.Citizens = append(cr.Citizens, Citizen{Level: lv, PIN: field("PIN"), Password: field("password:")})
		}
	}
	return cr, sc.Err()
}

// freePorts reserves n ports on 127.0.0.1 by listening and closing; the
// kernel does not hand them out again at once.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	var out []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	ls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, " | ")
}
