package cluster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
)

// Postgres is a PostgreSQL primary and a synchronous streaming replica,
// two local clusters of the Debian binaries on ports of their own.
//
// It is not the system PostgreSQL on 5432: the failover kills the primary,
// and that server is shared by every test run on the machine.
//
// The replica is synchronous (synchronous_standby_names on the primary):
// a commit is acknowledged once the replica has flushed it, so promoting
// the replica after the primary dies loses no acknowledged write. The
// price is that a primary whose replica is down stops accepting writes
// until the replica returns or synchronous_standby_names is emptied.
type Postgres struct {
	bin  string
	Root string // the data directories, logs and sockets
	cred *syscall.Credential
	// PrimaryPort and ReplicaPort are where the two servers listen on
	// 127.0.0.1; after Failover the replica is the primary.
	PrimaryPort, ReplicaPort int
	primaryDir, replicaDir   string
	promoted                 bool
	log                      io.Writer
}

// DBName is the database the nodes share.
const DBName = "dancu"

// pgBin is the newest /usr/lib/postgresql/<version>/bin holding pg_ctl.
func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
}

// postgresCredential is the postgres account's when running as root:
// PostgreSQL refuses to run as root.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs the postgres account: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// startPostgres makes and starts the primary, creates the database, clones
// the replica with pg_basebackup, starts it and waits until it is
// synchronous.
func startPostgres(ctx context.Context, log io.Writer) (*Postgres, error) {
	bin, err := pgBin()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	// A directory of its own under the system's temporary directory: the
	// caller's may be private to root, and the server runs as postgres.
	root, err := os.MkdirTemp("", "dancu-pg-")
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	p := &Postgres{bin: bin, Root: root, cred: cred, PrimaryPort: ports[0], ReplicaPort: ports[1],
		primaryDir: filepath.Join(root, "primary"), replicaDir: filepath.Join(root, "replica"), log: log}
	if cred != nil {
		if err := os.Chown(root, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	if err := p.run(ctx, "initdb", "-D", p.primaryDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
max_connections = 300
shared_buffers = 64MB
wal_keep_size = 512MB
synchronous_commit = on
`, p.PrimaryPort, root)
	if err := p.appendConf(filepath.Join(p.primaryDir, "postgresql.conf"), conf); err != nil {
		return nil, err
	}
	if err := p.pgctl(ctx, p.primaryDir, "primary.log", "start"); err != nil {
		return nil, err
	}
	if err := p.exec(ctx, p.PrimaryPort, "postgres", "CREATE DATABASE "+DBName); err != nil {
		return nil, err
	}
	if err := p.run(ctx, "pg_basebackup", "-D", p.replicaDir, "-d",
		fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=replica1", p.PrimaryPort), "-R", "-X", "stream", "-c", "fast"); err != nil {
		return nil, err
	}
	// The later line wins: the replica listens on its own port and names
	// itself to the primary as replica1.
	if err := p.appendConf(filepath.Join(p.replicaDir, "postgresql.conf"), fmt.Sprintf("\nport = %d\n", p.ReplicaPort)); err != nil {
		return nil, err
	}
	if err := p.appendConf(filepath.Join(p.replicaDir, "postgresql.auto.conf"),
		fmt.Sprintf("\nprimary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=replica1'\n", p.PrimaryPort)); err != nil {
		return nil, err
	}
	if err := p.pgctl(ctx, p.replicaDir, "replica.log", "start"); err != nil {
		return nil, err
	}
	// Synchronous only now that the replica streams: set before, the
	// primary's CREATE DATABASE would have waited for it.
	if err := p.exec(ctx, p.PrimaryPort, "postgres", "ALTER SYSTEM SET synchronous_standby_names = 'replica1'", "SELECT pg_reload_conf()"); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		state, _ := p.query(ctx, p.PrimaryPort, "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'replica1'")
		if state == "sync" {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the replica is not synchronous after 30 s (state %q); see %s", state, filepath.Join(root, "replica.log"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return p, nil
}

// WriteURL is what the nodes write through: both servers, the one that
// accepts writes chosen at each connection, so a promoted replica takes
// over without restarting the nodes.
func (p *Postgres) WriteURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		p.PrimaryPort, p.ReplicaPort, DBName)
}

// ReadURL is for reads that tolerate lag: the standby while there is one.
func (p *Postgres) ReadURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d,127.0.0.1:%d/%s?sslmode=disable&target_session_attrs=prefer-standby&connect_timeout=2",
		p.ReplicaPort, p.PrimaryPort, DBName)
}

// CurrentURL is the one server that now accepts writes, for checks.
func (p *Postgres) CurrentURL() string {
	port := p.PrimaryPort
	if p.promoted {
		port = p.ReplicaPort
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", port, DBName)
}

// Failover crashes the primary (immediate shutdown: no checkpoint, clients
// cut, as a lost machine) and promotes the replica.
func (p *Postgres) Failover(ctx context.Context) error {
	if p.promoted {
		return errors.New("already failed over")
	}
	if err := p.pgctl(ctx, p.primaryDir, "primary.log", "stop", "-m", "immediate"); err != nil {
		return err
	}
	if err := p.pgctl(ctx, p.replicaDir, "replica.log", "promote"); err != nil {
		return err
	}
	p.promoted = true
	return nil
}

// Stop stops both servers and removes their files.
func (p *Postgres) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, d := range []string{p.replicaDir, p.primaryDir} {
		if _, err := os.Stat(filepath.Join(d, "postmaster.pid")); err == nil {
			p.pgctl(ctx, d, filepath.Base(d)+".log", "stop", "-m", "fast")
		}
	}
	os.RemoveAll(p.Root)
}

func (p *Postgres) pgctl(ctx context.Context, dir, logName string, args ...string) error {
	return p.run(ctx, "pg_ctl", append([]string{"-D", dir, "-l", filepath.Join(p.Root, logName), "-w", "-t", "60"}, args...)...)
}

// run runs one of PostgreSQL's programs as the postgres account.
func (p *Postgres) run(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(p.bin, prog), args...)
	cmd.Dir = p.Root
	// Its own process group: a Ctrl-C at the terminal reaches the cluster,
	// which stops the servers in order, not the servers directly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred, Setpgid: true}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func (p *Postgres) appendConf(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (p *Postgres) open(port int, db string) (*sql.DB, error) {
	return sql.Open("pgx", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable&connect_timeout=5", port, db))
}

func (p *Postgres) exec(ctx context.Context, port int, db string, stmts ...string) error {
	c, err := p.open(port, db)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, s := range stmts {
		if _, err := c.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func (p *Postgres) query(ctx context.Context, port int, q string) (string, error) {
	c, err := p.open(port, "postgres")
	if err != nil {
		return "", err
	}
	defer c.Close()
	var s string
	err = c.QueryRowContext(ctx, q).Scan(&s)
	return s, err
}

// PrimaryPID is the process id of the server now accepting writes (its
// postmaster), for CPU figures; 0 when unknown.
func (p *Postgres) PrimaryPID() int {
	dir := p.primaryDir
	if p.promoted {
		dir = p.replicaDir
	}
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	return pid
}
