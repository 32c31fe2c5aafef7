package postgres_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store/postgres"
)

// childSchemaEnv tells a child process of TestListen_AcrossOSProcesses
// the schema to open.
const childSchemaEnv = "PARLEY_TEST_POSTGRES_CHILD_SCHEMA"

// TestPostChild is not a test: it is the other process of
// TestListen_AcrossOSProcesses. It opens the store on the schema in its
// environment, prints "ready", then for each line "post ID" of its stdin
// posts the seller's answer to conversation ID through a Service of its
// own and prints "posted MESSAGE-ID" (after the commit). It closes the
// store when its stdin ends.
func TestPostChild(t *testing.T) {
	schema := os.Getenv(childSchemaEnv)
	if schema == "" {
		t.Skip("runs only as a child process of TestListen_AcrossOSProcesses")
	}
	fail := func(err error) {
		fmt.Println("error", strings.ReplaceAll(err.Error(), "\n", " "))
		os.Exit(2)
	}
	ctx := context.Background()
	st, err := postgres.Open(ctx, os.Getenv("PARLEY_POSTGRES_DSN"), postgres.Options{Schema: schema})
	if err != nil {
		fail(err)
	}
	defer st.Close()
	svc, err := parley.New(st, parley.DefaultOptions())
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		id, err := strconv.ParseInt(strings.TrimPrefix(in.Text(), "post "), 10, 64)
		if err != nil {
			fail(err)
		}
		res, err := svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: id, Content: "from the other process"})
		if err != nil {
			fail(err)
		}
		fmt.Println("posted", res.Message.ID)
	}
}

// TestListen_AcrossOSProcesses: a client waiting in this process (with
// Listen running) gets the message that another OS process posts through
// its own Service: the other process announces its append after the
// commit, and this process's feed wakes the waiter, with no poll.
func TestListen_AcrossOSProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	ctx := context.Background()
	stA, schema := openShared(t)
	a, err := parley.New(stA, parley.DefaultOptions())
	require.NoError(t, err)
	user := parley.User("1", "545382")
	res, err := a.Start(ctx, user, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hello"})
	require.NoError(t, err)

	cmd := exec.Command(os.Args[0], "-test.run=^TestPostChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childSchemaEnv+"="+schema)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	line := func(prefix string) string {
		t.Helper()
		for lines.Scan() {
			if l := lines.Text(); strings.HasPrefix(l, prefix) || strings.HasPrefix(l, "error ") {
				require.True(t, strings.HasPrefix(l, prefix), "child: %s", l)
				return strings.TrimPrefix(l, prefix)
			}
		}
		t.Fatalf("child ended before printing %q: %v", prefix, lines.Err())
		return ""
	}
	line("ready")

	lctx, stop := context.WithCancel(ctx)
	listened := make(chan error, 1)
	go func() { listened <- a.Listen(lctx) }()
	t.Cleanup(func() {
		stop()
		assert.ErrorIs(t, <-listened, context.Canceled)
	})

	// Eight seconds in all, less than the feed's first sweep (after 20
	// seconds): what wakes the waiter is the child's announcement.
	awaitWoken(t, a, user, stA, res.Conversation.ID, res.Message.ID, 8, time.Second, func() int64 {
		_, err := fmt.Fprintf(stdin, "post %d\n", res.Conversation.ID)
		require.NoError(t, err)
		posted, err := strconv.ParseInt(line("posted "), 10, 64)
		require.NoError(t, err)
		return posted
	})
}
