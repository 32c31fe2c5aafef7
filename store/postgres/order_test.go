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

// TestAppendMessage_PollerSeesLowerIDCommittedLast shows why polling is by
// Seq and not by message id. Ids come from a database sequence, and
// sequences hand out numbers outside transactions: a writer that drew its
// id first can commit last. The store itself draws the id under the
// conversation's row lock, so two of its own appends to one conversation
// cannot produce this interleaving; the test therefore plays the early
// writer with raw SQL that follows the store's protocol (lock the row,
// take last_seq+1, insert, commit) but draws its id from the sequence
// before the store's append runs. Between the two commits a poller reads
// the store's message; after the early writer commits, polling after the
// store's message (a higher id) must still return the early writer's
// message (a lower id), because it comes next by Seq.
func TestAppendMessage_PollerSeesLowerIDCommittedLast(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID

	early, err := e.admin.Begin(ctx)
	require.NoError(t, err)
	defer early.Rollback(ctx)
	var earlyID int64
	require.NoError(t, early.QueryRow(ctx, "SELECT nextval($1::regclass)", e.table("message_ids")).Scan(&earlyID))

	post := postParams(id, message.DataSource("d1"), "late id, first commit", t0.Add(time.Second))
	post.Check = func(conversation.Conversation) error { return nil }
	late, err := e.AppendMessage(ctx, post)
	require.NoError(t, err)
	require.Greater(t, late.Message.ID, earlyID)

	// The poller, between the two commits.
	got, err := e.MessagesAfter(ctx, id, start.Message.ID, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, late.Message.ID, got[0].ID)
	cursor := got[0].ID

	// The early writer locks the conversation, takes the next Seq and
	// commits last.
	var seq int64
	require.NoError(t, early.QueryRow(ctx, "UPDATE "+e.table("conversations")+
		" SET last_seq = last_seq + 1, message_count = message_count + 1, last_message_id = $2 WHERE id = $1 RETURNING last_seq",
		id, earlyID).Scan(&seq))
	_, err = early.Exec(ctx, "INSERT INTO "+e.table("messages")+
		" (id, code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)"+
		" VALUES ($1, gen_random_uuid(), $2, $3, 'user', 'u1', 'registered', 'early id, last commit', 'en', $4)",
		earlyID, id, seq, t0.Add(2*time.Second))
	require.NoError(t, err)
	require.NoError(t, early.Commit(ctx))

	got, err = e.MessagesAfter(ctx, id, cursor, 10)
	require.NoError(t, err)
	require.Len(t, got, 1, "the message with the lower id, committed last, comes after the poller's cursor")
	assert.Equal(t, earlyID, got[0].ID)
	assert.Equal(t, late.Message.Seq+1, got[0].Seq)

	page, err := e.ListMessages(ctx, store.MessageQuery{ConversationID: id, Limit: 10})
	require.NoError(t, err)
	var seqs []int64
	for _, m := range page.Items {
		seqs = append(seqs, m.Seq)
	}
	assert.Equal(t, []int64{3, 2, 1}, seqs)
}

// TestAppendMessage_ConcurrentPostsCommitInSeqOrder runs two of the
// store's own appends to one conversation at once: the first holds the
// row lock while its Check runs (the test holds it there), the second
// waits for the lock. A poller between them sees neither; afterwards it
// sees both, in order, with dense Seqs and ids that follow Seq order
// (ids are drawn under the lock).
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

	got, err := e.MessagesAfter(ctx, id, start.Message.ID, 10)
	require.NoError(t, err)
	assert.Empty(t, got, "nothing is committed yet")

	close(release)
	r1, r2 := <-firstDone, <-secondDone
	require.NoError(t, r1.err)
	require.NoError(t, r2.err)
	assert.Equal(t, []int64{2, 3}, []int64{r1.res.Message.Seq, r2.res.Message.Seq})
	assert.Less(t, r1.res.Message.ID, r2.res.Message.ID)

	got, err = e.MessagesAfter(ctx, id, start.Message.ID, 10)
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
