package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// backends returns the pids of the backends that run a statement on e's
// schema in the given state ("idle in transaction", or "Lock" for those
// waiting on a lock).
func backends(t *testing.T, e *testEnv, state string) []uint32 {
	t.Helper()
	sql := `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND position($1 IN query) > 0 AND `
	if state == "Lock" {
		sql += `wait_event_type = 'Lock'`
	} else {
		sql += `state = '` + state + `'`
	}
	rows, err := e.admin.Query(context.Background(), sql, e.q.schema)
	require.NoError(t, err)
	var pids []uint32
	for rows.Next() {
		var pid uint32
		require.NoError(t, rows.Scan(&pid))
		pids = append(pids, pid)
	}
	require.NoError(t, rows.Err())
	return pids
}

// waitForBackends waits until n backends run a statement on e's schema in
// the given state (see backends) and returns their pids. It synchronizes a
// test with the server; the deadline only turns a hang into a failure.
func waitForBackends(t *testing.T, e *testEnv, state string, n int) []uint32 {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		pids := backends(t, e, state)
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends %q on schema %s, want %d", len(pids), state, e.schema, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAppendMessage_PrepareHoldsNoLock runs two of the store's own
// appends to one conversation at once: the first is held inside its
// Prepare (the test holds it there). Prepare runs on a conversation read
// without a lock and outside any transaction, so the second append does
// not wait: it commits first, and the first then commits after it, with
// the next Seq. No backend is idle in a transaction or waits on a lock
// while a Prepare runs.
func TestAppendMessage_PrepareHoldsNoLock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 4)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID

	inPrepare, release := make(chan struct{}), make(chan struct{})
	first := postParams(id, message.DataSource("d1"), "first", t0.Add(time.Second))
	calls := 0
	first.Prepare = func(conversation.Conversation) ([]notify.Event, error) {
		calls++
		if calls == 1 {
			close(inPrepare)
			<-release
		}
		return nil, nil
	}
	type result struct {
		res store.AppendResult
		err error
	}
	firstDone := make(chan result, 1)
	go func() {
		r, err := e.AppendMessage(ctx, first)
		firstDone <- result{r, err}
	}()
	<-inPrepare
	assert.Empty(t, backends(t, e, "idle in transaction"), "a transaction is open while Prepare runs")
	second, err := e.AppendMessage(ctx, postParams(id, message.User("u1", message.UserRegistered), "second", t0.Add(2*time.Second)))
	require.NoError(t, err, "the second append does not wait for the first's Prepare")
	assert.Equal(t, int64(2), second.Message.Seq)

	close(release)
	r1 := <-firstDone
	require.NoError(t, r1.err)
	assert.Equal(t, int64(3), r1.res.Message.Seq)
	assert.Equal(t, 1, calls, "the status did not change: Prepare's decision stands")
	assert.False(t, r1.res.Message.CreatedAt.Before(second.Message.CreatedAt), "dated no earlier than the message before it")
	assert.Less(t, second.Message.ID, r1.res.Message.ID, "ids are drawn under the row lock: they grow with Seq")

	got, err := e.MessagesAfter(ctx, message.After{ConversationID: id, ID: start.Message.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"second", "first"}, []string{got[0].Content, got[1].Content})
	c, err := e.GetConversation(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(3), c.LastSeq)
	assert.Equal(t, r1.res.Message.ID, c.LastMessageID)
	assert.Equal(t, conversation.ReadState{ReadSeq: 2, Unread: 1}, c.UserRead)
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 0}, c.SellerRead)
}

// TestAppendMessage_ClosedDuringPrepare closes a conversation while an
// append is held inside its Prepare, which saw it open: the append's write
// is guarded by that status, finds it changed, and runs again; Prepare now
// sees the conversation closed and refuses. Nothing is written.
func TestAppendMessage_ClosedDuringPrepare(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 4)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID

	errClosed := errors.New("closed")
	inPrepare, release := make(chan struct{}), make(chan struct{})
	var seen []conversation.Status
	p := postParams(id, message.DataSource("d1"), "too late", t0.Add(time.Second))
	p.Idempotency = &store.Idempotency{Scope: "d1", Key: "k", Fingerprint: "f"}
	p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
		seen = append(seen, c.Status)
		if len(seen) == 1 {
			close(inPrepare)
			<-release
		}
		if c.Status != conversation.StatusOpen {
			return nil, errClosed
		}
		return []notify.Event{event(notify.KindMessagePosted, c, notify.Party{Kind: message.SenderUser, ID: "u1"},
			notify.Party{Kind: message.SenderDataSource, ID: "d1"}, t0)}, nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.AppendMessage(ctx, p)
		done <- err
	}()
	<-inPrepare
	before := e.snapshot(t)
	closed, err := e.SetStatus(ctx, store.StatusParams{ConversationID: id, Status: conversation.StatusClosed, At: t0.Add(time.Minute)})
	require.NoError(t, err, "closing does not wait for the append's Prepare")
	close(release)
	err = <-done
	require.True(t, err == errClosed, "got %v", err)
	assert.Equal(t, []conversation.Status{conversation.StatusOpen, conversation.StatusClosed}, seen)

	c, err := e.GetConversation(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, closed, c, "nothing written after the close")
	assert.Equal(t, before, e.snapshot(t), "no message, event or key written")
	_, found, err := e.Replay(ctx, *p.Idempotency)
	require.NoError(t, err)
	assert.False(t, found, "the refused append recorded no key")
}
