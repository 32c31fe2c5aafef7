package postgres

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
)

// A pgCluster is a PostgreSQL cluster that a test created, in a temporary
// directory, on a free loopback port, run by the postgres user with
// pg_ctl. The machine's own server takes no replication connections, so
// the replica tests make a primary and a streaming replica of their own.
type pgCluster struct {
	t    testing.TB
	bin  string // the directory of initdb, pg_ctl, pg_basebackup
	dir  string // the data directory
	port int
}

// pgBinDir returns the directory of the newest PostgreSQL server binaries
// installed the Debian way, or skips the test saying why it cannot make
// clusters.
func pgBinDir(t testing.TB) string {
	t.Helper()
	bin, why := findPgBin()
	if bin == "" {
		t.Skip("replica tests: ", why)
	}
	return bin
}

// findPgBin returns the directory of the server binaries, or "" and why
// clusters cannot be made here.
func findPgBin() (bin, why string) {
	if os.Geteuid() != 0 {
		return "", "not root, so cannot run initdb as the postgres user (CI runs as root)"
	}
	if _, err := user.Lookup("postgres"); err != nil {
		return "", "no postgres user: " + err.Error()
	}
	if _, err := exec.LookPath("runuser"); err != nil {
		return "", "no runuser: " + err.Error()
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_basebackup")); err == nil {
			return d, ""
		}
	}
	return "", "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
}

func pgMajor(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// pgRoot makes a temporary directory owned by the postgres user, removed
// when the test ends (after the clusters in it stopped: cleanups run last
// registered first).
func pgRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "parley-replica-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	u, err := user.Lookup("postgres")
	require.NoError(t, err)
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	require.NoError(t, os.Chown(dir, uid, gid))
	return dir
}

// freePort returns a loopback port that nothing listens on.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// asPostgres runs a PostgreSQL binary as the postgres user.
func asPostgres(t testing.TB, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command("runuser", append([]string{"-u", "postgres", "--", bin}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Run(), "%s %v:\n%s", bin, args, out.String())
}

// newPrimary initdbs a cluster in root/primary that accepts replication
// connections from the loopback without a password, and starts it. Tests
// run it without fsync and full-page writes; durable (for benchmarks)
// keeps the server's defaults.
func newPrimary(t testing.TB, bin, root string, durable bool) *pgCluster {
	t.Helper()
	c := &pgCluster{t: t, bin: bin, dir: filepath.Join(root, "primary"), port: freePort(t)}
	asPostgres(t, filepath.Join(bin, "initdb"), "-D", c.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	c.appendFile("pg_hba.conf", "host replication all 127.0.0.1/32 trust\n")
	c.appendFile("postgresql.conf", fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
full_page_writes = off
synchronous_commit = on
`, c.port, root))
	if durable {
		c.appendFile("postgresql.conf", "fsync = on\nfull_page_writes = on\n")
	}
	c.start()
	return c
}

// newReplica copies primary with pg_basebackup -R (a streaming standby)
// into root/replica and starts it on another port.
func newReplica(t testing.TB, primary *pgCluster, root string) *pgCluster {
	t.Helper()
	c := &pgCluster{t: t, bin: primary.bin, dir: filepath.Join(root, "replica"), port: freePort(t)}
	asPostgres(t, filepath.Join(c.bin, "pg_basebackup"), "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port),
		"-U", "postgres", "-D", c.dir, "-R", "-X", "stream", "-c", "fast")
	c.appendFile("postgresql.conf", fmt.Sprintf("\nport = %d\n", c.port))
	c.start()
	return c
}

// newStandbyPair makes a primary and a streaming standby of it, in a
// temporary directory, or skips the test saying why it cannot.
func newStandbyPair(t testing.TB, durable bool) (primary, standby *pgCluster) {
	t.Helper()
	bin := pgBinDir(t)
	root := pgRoot(t)
	primary = newPrimary(t, bin, root, durable)
	return primary, newReplica(t, primary, root)
}

func (c *pgCluster) appendFile(name, text string) {
	c.t.Helper()
	f, err := os.OpenFile(filepath.Join(c.dir, name), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(c.t, err)
	_, err = f.WriteString(text)
	require.NoError(c.t, err)
	require.NoError(c.t, f.Close())
}

// start starts the cluster and stops it (at once) when the test ends.
func (c *pgCluster) start() {
	c.t.Helper()
	asPostgres(c.t, filepath.Join(c.bin, "pg_ctl"), "-D", c.dir, "-l", c.dir+".log", "-w", "-t", "60", "start")
	c.t.Cleanup(c.stop)
}

// stop stops the cluster without a checkpoint; stopping a stopped
// cluster does nothing.
func (c *pgCluster) stop() {
	if _, err := os.Stat(filepath.Join(c.dir, "postmaster.pid")); err != nil {
		return
	}
	_ = exec.Command("runuser", "-u", "postgres", "--", filepath.Join(c.bin, "pg_ctl"),
		"-D", c.dir, "-m", "immediate", "-w", "stop").Run()
}

func (c *pgCluster) dsn() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=2", c.port)
}

// pool returns a pool on the cluster, closed when the test ends.
func (c *pgCluster) pool() *pgxpool.Pool {
	c.t.Helper()
	p, err := pgxpool.New(context.Background(), c.dsn())
	require.NoError(c.t, err)
	c.t.Cleanup(p.Close)
	return p
}

// exec runs one statement on the cluster.
func (c *pgCluster) exec(sql string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgxpool.New(ctx, c.dsn())
	require.NoError(c.t, err)
	defer conn.Close()
	_, err = conn.Exec(ctx, sql)
	require.NoError(c.t, err, sql)
}
