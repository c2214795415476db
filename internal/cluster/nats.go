package cluster

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// NATS is a JetStream cluster of three servers (the nats-server module the
// platform embeds), run in this process with routes between them; each
// keeps its JetStream files in a directory of its own.
type NATS struct {
	mu      sync.Mutex
	opts    []*server.Options
	servers []*server.Server
}

func startNATS(dir string, n int) (*NATS, error) {
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	var routes []string
	for i := 0; i < n; i++ {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i]))
	}
	c := &NATS{}
	for i := 0; i < n; i++ {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i+1),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   filepath.Join(dir, fmt.Sprintf("nats-%d", i+1)),
			NoSigs:     true,
			NoLog:      true,
			Cluster: server.ClusterOpts{
				Name: "dancu",
				Host: "127.0.0.1",
				Port: ports[n+i],
			},
			Routes: server.RoutesFromStr(strings.Join(routes, ",")),
		})
		c.servers = append(c.servers, nil)
	}
	for i := range c.opts {
		if err := c.Start(i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	// JetStream takes writes once the servers have elected a meta leader.
	deadline := time.Now().Add(30 * time.Second)
	for !c.hasMetaLeader() {
		if time.Now().After(deadline) {
			c.Stop()
			return nil, errors.New("nats: no JetStream meta leader after 30 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return c, nil
}

func (c *NATS) hasMetaLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		if s != nil && s.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// URL lists every server, as clients take it: they reconnect to another
// when theirs goes.
func (c *NATS) URL() string {
	var urls []string
	for _, o := range c.opts {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", o.Port))
	}
	return strings.Join(urls, ",")
}

// Start starts server i (again, after Kill), with its JetStream files.
func (c *NATS) Start(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.servers[i] != nil {
		return fmt.Errorf("nats-%d is running", i+1)
	}
	o := c.opts[i].Clone()
	s, err := server.NewServer(o)
	if err != nil {
		return fmt.Errorf("nats-%d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(15 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("nats-%d: not ready after 15 s", i+1)
	}
	c.servers[i] = s
	return nil
}

// Kill stops server i at once.
func (c *NATS) Kill(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// Current reports whether the running servers' JetStream metadata is
// current with the meta leader: the cluster has healed after a restart.
func (c *NATS) Current() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		if s == nil {
			continue
		}
		if !s.JetStreamIsCurrent() {
			return false
		}
	}
	return true
}

// Stop stops every server.
func (c *NATS) Stop() {
	for i := range c.servers {
		c.Kill(i)
	}
}
