package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// waitForBackends waits until n backends run a statement on e's schema in
// the given state ("idle in transaction", or "Lock" for those waiting on a
// lock) and returns their pids. It synchronizes a test with the server;
// the deadline only turns a hang into a failure.
func waitForBackends(t *testing.T, e *testEnv, state string, n int) []uint32 {
	t.Helper()
	sql := `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND position($1 IN query) > 0 AND `
	if state == "Lock" {
		sql += `wait_event_type = 'Lock'`
	} else {
		sql += `state = '` + state + `'`
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		rows, err := e.admin.Query(context.Background(), sql, e.q.schema)
		require.NoError(t, err)
		var pids []uint32
		for rows.Next() {
			var pid uint32
			require.NoError(t, rows.Scan(&pid))
			pids = append(pids, pid)
		}
		require.NoError(t, rows.Err())
		if len(pids) >= n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d backends %q on schema %s, want %d", len(pids), state, e.schema, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAppendMessage_ConcurrentPostsCommitInSeqOrder runs two of the
// store's own appends to one conversation at once: the first holds the
// row lock while its Check runs (the test holds it there), the second
// waits for the lock. A poller between them sees neither; afterwards it
// sees both, in order, with dense Seqs and ids that follow Seq order: ids
// are drawn from the sequence under the lock, which is what lets a poller
// ask for the messages after any id.
func TestAppendMessage_ConcurrentPostsCommitInSeqOrder(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 4)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID

	locked, release := make(chan struct{}), make(chan struct{})
	first := postParams(id, message.DataSource("d1"), "first", t0.Add(time.Second))
	first.Check = func(conversation.Conversation) error {
		close(locked)
		<-release
		return nil
	}
	type result struct {
		res store.AppendResult
		err error
	}
	firstDone, secondDone := make(chan result, 1), make(chan result, 1)
	go func() {
		r, err := e.AppendMessage(ctx, first)
		firstDone <- result{r, err}
	}()
	<-locked
	go func() {
		r, err := e.AppendMessage(ctx, postParams(id, message.User("u1", message.UserRegistered), "second", t0.Add(2*time.Second)))
		secondDone <- result{r, err}
	}()
	waitForBackends(t, e, "Lock", 1) // the second waits for the row lock

	got, err := e.MessagesAfter(ctx, message.After{ConversationID: id, ID: start.Message.ID, Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, got, "nothing is committed yet")

	close(release)
	r1, r2 := <-firstDone, <-secondDone
	require.NoError(t, r1.err)
	require.NoError(t, r2.err)
	assert.Equal(t, []int64{2, 3}, []int64{r1.res.Message.Seq, r2.res.Message.Seq})
	assert.Less(t, r1.res.Message.ID, r2.res.Message.ID)

	got, err = e.MessagesAfter(ctx, message.After{ConversationID: id, ID: start.Message.ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []string{"first", "second"}, []string{got[0].Content, got[1].Content})
	c, err := e.GetConversation(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(3), c.LastSeq)
	assert.Equal(t, r2.res.Message.ID, c.LastMessageID)
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 0}, c.UserRead)
	assert.Equal(t, conversation.ReadState{ReadSeq: 2, Unread: 1}, c.SellerRead)
}
