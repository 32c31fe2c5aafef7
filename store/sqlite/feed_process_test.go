package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// The parties of the cross-process tests: a user asks, the seller of data
// source 1 answers from another process.
var (
	feedUser   = parley.User("1", "545382")
	feedSeller = parley.Seller("1", "1")
)

// TestPostChild is not a test: it is the other process of the
// cross-process tests. It opens the database, prints "ready", then for each
// line "post ID" of its stdin posts the seller's answer to conversation ID
// through a Service of its own and prints "posted MESSAGE-ID".
func TestPostChild(t *testing.T) {
	path, _ := childSetup(t, "TestPostChild")
	ctx := context.Background()
	st, err := Open(ctx, path, Options{})
	if err != nil {
		childFail(err)
	}
	svc, err := parley.New(st, parley.DefaultOptions())
	if err != nil {
		childFail(err)
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		id, err := strconv.ParseInt(strings.TrimPrefix(in.Text(), "post "), 10, 64)
		if err != nil {
			childFail(err)
		}
		res, err := svc.Post(ctx, feedSeller, parley.PostRequest{ConversationID: id, Content: "from the other process"})
		if err != nil {
			childFail(err)
		}
		fmt.Println("posted", res.Message.ID) // committed before this line
	}
	_ = st.Close()
}

// post has the child post to conversation id and returns the message id
// once the post has committed.
func (c *child) post(t *testing.T, id int64) int64 {
	t.Helper()
	_, err := fmt.Fprintf(c.stdin, "post %d\n", id)
	require.NoError(t, err)
	msg, err := strconv.ParseInt(c.line(t, "posted "), 10, 64)
	require.NoError(t, err)
	return msg
}

// readSignal is a Store that signals each MessagesAfter it has answered.
type readSignal struct {
	*Store
	read chan struct{}
}

func (s *readSignal) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	msgs, err := s.Store.MessagesAfter(ctx, q)
	select {
	case s.read <- struct{}{}:
	default:
	}
	return msgs, err
}

// waitResult is what a Wait or WaitFor returned.
type waitResult struct {
	msgs []message.Message
	err  error
}

// crossProcess opens a Service on a new database file, starts a
// conversation and the other process, ready to post.
func crossProcess(t *testing.T, opts Options) (*parley.Service, *readSignal, int64, int64, *child) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	path := t.TempDir() + "/parley.db"
	st, err := Open(context.Background(), path, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	sig := &readSignal{Store: st, read: make(chan struct{}, 1)}
	svc, err := parley.New(sig, parley.DefaultOptions())
	require.NoError(t, err)
	res, err := svc.Start(context.Background(), feedUser, parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: "1", Content: "is anyone there?",
	})
	require.NoError(t, err)
	c := startChild(t, "TestPostChild", path, 0)
	c.line(t, "ready")
	return svc, sig, res.Conversation.ID, res.Message.ID, c
}

// TestListen_AcrossProcesses: with Listen, a client long-polling in this
// process gets the message another process posts, woken by the SQLite
// feed while it waits (Wait has no deadline to read again at).
func TestListen_AcrossProcesses(t *testing.T) {
	svc, sig, conv, last, other := crossProcess(t, Options{FeedInterval: 10 * time.Millisecond})
	lctx, stop := context.WithCancel(context.Background())
	listened := make(chan error, 1)
	go func() { listened <- svc.Listen(lctx) }()
	defer func() {
		stop()
		assert.ErrorIs(t, <-listened, context.Canceled)
	}()

	// The feed reports what is committed after it has started, which
	// this test cannot observe: if the first post came too early, the
	// next one is reported.
	for attempt := 1; ; attempt++ {
		require.LessOrEqual(t, attempt, 3, "the waiter was never woken by the other process's post")
		wctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		got := make(chan waitResult, 1)
		drain(sig.read)
		go func() {
			msgs, err := svc.Wait(wctx, feedUser, conv, last, 0)
			got <- waitResult{msgs, err}
		}()
		<-sig.read // the waiter has read, found nothing and waits
		posted := other.post(t, conv)
		r := <-got
		cancel()
		if r.err == nil {
			require.Len(t, r.msgs, 1)
			assert.Equal(t, posted, r.msgs[0].ID)
			assert.Equal(t, "from the other process", r.msgs[0].Content)
			return
		}
		require.ErrorIs(t, r.err, context.DeadlineExceeded)
		last = posted
	}
}

// TestWaitFor_AcrossProcessesWithoutListen: without a feed, a long poll
// that another process's post did not wake reads once more at the end of
// its wait, and returns the message instead of an empty answer.
func TestWaitFor_AcrossProcessesWithoutListen(t *testing.T) {
	svc, sig, conv, last, other := crossProcess(t, Options{})
	wait := time.Second
	for attempt := 1; ; attempt++ {
		require.LessOrEqual(t, attempt, 4, "the other process never posted within the wait")
		drain(sig.read)
		start := time.Now()
		got := make(chan waitResult, 1)
		go func() {
			msgs, err := svc.WaitFor(context.Background(), feedUser, conv, last, 0, wait)
			got <- waitResult{msgs, err}
		}()
		<-sig.read // the waiter has read, found nothing and waits
		posted := other.post(t, conv)
		committed := time.Now()
		r := <-got
		require.NoError(t, r.err)
		if committed.Before(start.Add(wait)) {
			// The post committed before the wait ended, so before the
			// last read.
			require.Len(t, r.msgs, 1, "the message posted during the wait")
			assert.Equal(t, posted, r.msgs[0].ID)
			return
		}
		// A slow machine: the post may have come after the last read.
		last, wait = posted, 2*wait
	}
}

// drain empties a signal channel.
func drain(c chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}
