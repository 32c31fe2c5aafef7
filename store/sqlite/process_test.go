package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// The environment of a child process started by startChildren: childEnv
// names the child's role (a Test...Child function), childPath the
// database file, childIndex the child's number.
const (
	childEnv   = "PARLEY_SQLITE_CHILD"
	childPath  = "PARLEY_SQLITE_CHILD_PATH"
	childIndex = "PARLEY_SQLITE_CHILD_INDEX"
)

// child is a running child process of the test binary.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// startChild starts the test binary as a child process that runs only the
// test named role, with the database path and its index in its
// environment. The child runs until it has read its stdin to the end, so
// that the parent decides when children go.
func startChild(t *testing.T, role, path string, i int) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+role+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+role, childPath+"="+path, childIndex+"="+strconv.Itoa(i))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		_ = c.stdin.Close()
		_ = c.cmd.Process.Kill()
		_ = c.cmd.Wait()
	})
	return c
}

// line returns the child's next line of output that starts with prefix
// (the test framework's own lines are skipped), or fails the test.
func (c *child) line(t *testing.T, prefix string) string {
	t.Helper()
	for c.lines.Scan() {
		if l := c.lines.Text(); strings.HasPrefix(l, prefix) || strings.HasPrefix(l, "error ") {
			require.True(t, strings.HasPrefix(l, prefix), "child: %s", l)
			return strings.TrimPrefix(l, prefix)
		}
	}
	t.Fatalf("child ended before printing %q: %v", prefix, c.lines.Err())
	return ""
}

// childSetup returns the database path and index of a child process, or
// skips the test when it runs in the parent.
func childSetup(t *testing.T, role string) (path string, index int) {
	if os.Getenv(childEnv) != role {
		t.Skip("runs only as a child process of another test")
	}
	index, _ = strconv.Atoi(os.Getenv(childIndex))
	return os.Getenv(childPath), index
}

// childFail reports err to the parent and ends the child.
func childFail(err error) {
	fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
	os.Exit(2)
}

// waitForGo prints "ready" and waits until the parent closes stdin.
func waitForGo() {
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// writesPerChild is how many conversations each child of
// TestOpen_ManyProcesses starts (each with a reply).
const writesPerChild = 5

// TestOpenChild is not a test: it is a child process of
// TestOpen_ManyProcesses. When the parent says go it opens the database
// (creating and migrating it if need be), starts writesPerChild
// conversations with a reply each, closes it and prints "ok".
func TestOpenChild(t *testing.T) {
	path, i := childSetup(t, "TestOpenChild")
	waitForGo()
	ctx := context.Background()
	start := time.Now()
	// A busy timeout far above what the writes need, even on a loaded
	// machine with the race detector: a lock that is waited for never
	// fails the test, a lock that is not waited for fails at once.
	s, err := Open(ctx, path, Options{BusyTimeout: time.Minute})
	if err != nil {
		childFail(fmt.Errorf("after %v: %w", time.Since(start), err))
	}
	for k := range writesPerChild {
		res, err := s.CreateConversation(ctx, newCreate("c", fmt.Sprintf("u%d-%d", i, k), "d", conversation.TypeMessage, conversation.Item{}, t0))
		if err != nil {
			childFail(fmt.Errorf("after %v: %w", time.Since(start), err))
		}
		if _, err := s.AppendMessage(ctx, newAppend(res.Conversation.ID, message.DataSource("d"), "reply", t0.Add(time.Second))); err != nil {
			childFail(fmt.Errorf("after %v: %w", time.Since(start), err))
		}
	}
	if err := s.Close(); err != nil {
		childFail(err)
	}
	fmt.Println("ok")
}

// TestOpen_ManyProcesses starts processes that open one database file at
// the same moment, each then writing: on a file that does not exist yet
// (they race to create and migrate it), on an empty file, on a database
// of the first schema version (they race to migrate it) and on a current
// one. Every process must succeed: no "database is locked", no migration
// applied twice.
func TestOpen_ManyProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes; skipped with -short")
	}
	const processes = 16
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"NoFile", func(*testing.T, string) {}},
		{"EmptyFile", func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, nil, 0o600)) }},
		{"Version1", func(t *testing.T, path string) {
			require.NoError(t, MustOpen(t, path).Close())
			backToVersion1(t, path)
		}},
		{"Current", func(t *testing.T, path string) { require.NoError(t, MustOpen(t, path).Close()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			tc.prepare(t, path)
			children := make([]*child, processes)
			for i := range children {
				children[i] = startChild(t, "TestOpenChild", path, i)
			}
			for _, c := range children {
				c.line(t, "ready")
			}
			for _, c := range children { // go, all at once
				require.NoError(t, c.stdin.Close())
			}
			for i, c := range children {
				c.line(t, "ok")
				assert.NoError(t, c.cmd.Wait(), "child %d", i)
			}

			s := MustOpen(t, path)
			ctx := context.Background()
			v, err := s.SchemaVersion(ctx)
			require.NoError(t, err)
			require.Equal(t, latestVersion(), v)
			var applied int
			require.NoError(t, s.r.QueryRowContext(ctx, "SELECT count(*) FROM "+migrationsTable).Scan(&applied))
			ms, err := migrations()
			require.NoError(t, err)
			require.Equal(t, len(ms), applied, "each migration applied once")
			page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Limit: 1, WithTotal: true})
			require.NoError(t, err)
			require.EqualValues(t, processes*writesPerChild, page.Total)
			var integrity string
			require.NoError(t, s.r.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&integrity))
			require.Equal(t, "ok", integrity)
		})
	}
}
