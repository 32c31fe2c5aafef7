package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// TestReliability_WritersAndPollers runs 8 writers appending to a few
// conversations and 2 pollers following every conversation with
// MessagesAfter, for 10 seconds (2 with -short). Every poller must see
// every acknowledged message exactly once, each conversation's messages
// in Seq order without gaps (and with ids in the same order, as they are
// drawn under the row lock), and nothing but acknowledged messages.
func TestReliability_WritersAndPollers(t *testing.T) {
	const writers, pollers, conversations = 8, 2, 6
	soak := 10 * time.Second
	if testing.Short() {
		soak = 2 * time.Second
	}
	ctx := context.Background()
	e := newEnv(t, writers+pollers+2)

	type ack struct{ id, seq int64 }
	convIDs := make([]int64, conversations)
	acked := make([][]ack, conversations) // guarded by mu
	var mu sync.Mutex
	for i := range convIDs {
		res, err := e.CreateConversation(ctx, startParams("web", fmt.Sprint("u", i), "d1", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		convIDs[i] = res.Conversation.ID
		acked[i] = []ack{{res.Message.ID, 1}}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	writerErrs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(conversations)
				sender := message.User(fmt.Sprint("u", i), message.UserGuest)
				if n%2 == 0 {
					sender = message.DataSource("d1")
				}
				p := postParams(convIDs[i], sender, fmt.Sprintf("w%d-%d", w, n), t0.Add(time.Duration(n)*time.Millisecond))
				if n%3 != 0 { // the Service's path, with a Prepare
					p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
						if c.Status != conversation.StatusOpen {
							return nil, errors.New("closed")
						}
						return nil, nil
					}
				}
				res, err := e.AppendMessage(ctx, p)
				if err != nil {
					writerErrs <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
				mu.Lock()
				acked[i] = append(acked[i], ack{res.Message.ID, res.Message.Seq})
				mu.Unlock()
			}
		})
	}

	type seen struct {
		ids  map[int64]bool
		last []ack // per conversation: the last message seen
	}
	results := make([]seen, pollers)
	pollErrs := make(chan error, pollers)
	writersDone := make(chan struct{})
	var pwg sync.WaitGroup
	for p := range pollers {
		results[p] = seen{ids: map[int64]bool{}, last: make([]ack, conversations)}
		pwg.Go(func() {
			r := &results[p]
			// poll reads every conversation once; it reports whether
			// anything new came.
			poll := func() (bool, error) {
				news := false
				for i, id := range convIDs {
					ms, err := e.MessagesAfter(ctx, message.After{ConversationID: id, ID: r.last[i].id, Limit: 50})
					if err != nil {
						return false, err
					}
					for _, m := range ms {
						if m.Seq != r.last[i].seq+1 {
							return false, fmt.Errorf("conversation %d: seq %d after %d", id, m.Seq, r.last[i].seq)
						}
						if m.ID <= r.last[i].id {
							return false, fmt.Errorf("conversation %d: id %d at seq %d after id %d", id, m.ID, m.Seq, r.last[i].id)
						}
						if r.ids[m.ID] {
							return false, fmt.Errorf("message %d seen twice", m.ID)
						}
						r.ids[m.ID] = true
						r.last[i] = ack{m.ID, m.Seq}
						news = true
					}
				}
				return news, nil
			}
			for {
				select {
				case <-writersDone:
					// Drain what the writers committed last.
					for {
						news, err := poll()
						if err != nil {
							pollErrs <- err
							return
						}
						if !news {
							return
						}
					}
				default:
				}
				if _, err := poll(); err != nil {
					pollErrs <- err
					return
				}
			}
		})
	}

	time.Sleep(soak)
	close(stop)
	wg.Wait()
	close(writersDone)
	pwg.Wait()
	close(writerErrs)
	close(pollErrs)
	for err := range writerErrs {
		t.Error(err)
	}
	for err := range pollErrs {
		t.Error(err)
	}

	total := 0
	for i, id := range convIDs {
		as := acked[i]
		total += len(as)
		seqs := map[int64]bool{}
		for _, a := range as {
			seqs[a.seq] = true
		}
		for s := int64(1); s <= int64(len(as)); s++ {
			assert.True(t, seqs[s], "conversation %d: seq %d acknowledged", id, s)
		}
		c, err := e.GetConversation(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, int64(len(as)), c.LastSeq)
		assert.Equal(t, int64(len(as)), c.MessageCount)
		for p := range results {
			for _, a := range as {
				assert.True(t, results[p].ids[a.id], "poller %d missed message %d", p, a.id)
			}
		}
	}
	for p := range results {
		assert.Len(t, results[p].ids, total, "poller %d saw only acknowledged messages", p)
	}
	t.Logf("%d messages in %v", total, soak)
}

// TestCreateConversation_ConcurrentStarts starts one conversation key 50
// times at once.
func TestCreateConversation_ConcurrentStarts(t *testing.T) {
	const n = 50
	ctx := context.Background()
	e := newEnv(t, n)

	race := func(t *testing.T, params func(i int) store.CreateParams) ([]store.CreateResult, []error) {
		results, errs := make([]store.CreateResult, n), make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			p := params(i)
			wg.Go(func() {
				<-start
				results[i], errs[i] = e.CreateConversation(ctx, p)
			})
		}
		close(start)
		wg.Wait()
		return results, errs
	}
	countKey := func(user string) int64 {
		return e.count(t, "SELECT count(*) FROM "+e.table("conversations")+" WHERE user_id = $1", user)
	}

	t.Run("ErrConversationExists", func(t *testing.T) {
		results, errs := race(t, func(int) store.CreateParams {
			return startParams("web", "racer", "d1", conversation.TypeMessage, conversation.Product("p1"), t0)
		})
		var winner int64
		for i, err := range errs {
			if err == nil {
				require.Zero(t, winner, "two starts succeeded")
				winner = results[i].Conversation.ID
			}
		}
		require.NotZero(t, winner, "no start succeeded")
		for _, err := range errs {
			if err != nil {
				var ce *store.ConversationExistsError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, winner, ce.ID)
			}
		}
		assert.Equal(t, int64(1), countKey("racer"))
		assert.Equal(t, int64(1), e.count(t, "SELECT count(*) FROM "+e.table("messages")+" WHERE conversation_id = $1", winner))
		assert.Equal(t, int64(1), e.count(t, "SELECT count(*) FROM "+e.table("events")+" WHERE conversation_id = $1", winner))
		assert.Equal(t, int64(1), e.count(t, "SELECT count(*) FROM "+e.table("events")+" WHERE conversation_id = 0 OR message_id = 0")+1)
	})

	t.Run("IdempotentRetries", func(t *testing.T) {
		// One client request retried 50 times at once: one write, 49
		// replays of it.
		p := startParams("web", "retrier", "d1", conversation.TypeMessage, conversation.Item{}, t0)
		p.Idempotency = &store.Idempotency{Scope: "user:retrier", Key: "k", Fingerprint: "f"}
		results, errs := race(t, func(int) store.CreateParams { return p })
		replays := 0
		for i, err := range errs {
			require.NoError(t, err)
			if results[i].Replayed {
				replays++
			}
			assert.Equal(t, results[0].Conversation.ID, results[i].Conversation.ID)
			assert.Equal(t, results[0].Message.ID, results[i].Message.ID)
		}
		assert.Equal(t, n-1, replays)
		assert.Equal(t, int64(1), countKey("retrier"))
	})
}

// snapshot is the number of rows of each table, to check that nothing was
// written.
func (e *testEnv) snapshot(t *testing.T) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tab := range []string{"conversations", "messages", "events", "idempotency"} {
		out[tab] = e.count(t, "SELECT count(*) FROM "+e.table(tab))
	}
	out["last_seq"] = e.count(t, "SELECT coalesce(sum(last_seq), 0) FROM "+e.table("conversations"))
	return out
}

func TestCancel_MidTransaction(t *testing.T) {
	e := newEnv(t, 8)
	bg := context.Background()
	start, err := e.CreateConversation(bg, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	post := func() store.AppendParams {
		p := postParams(id, message.DataSource("d1"), "x", t0.Add(time.Second))
		p.Idempotency = &store.Idempotency{Scope: "d1", Key: newUUID().String(), Fingerprint: "f"}
		evs := []notify.Event{event(notify.KindMessagePosted, start.Conversation, notify.Party{Kind: message.SenderUser, ID: "u1"}, notify.Party{Kind: message.SenderDataSource, ID: "d1"}, t0)}
		p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return evs, nil }
		return p
	}

	t.Run("InPrepare", func(t *testing.T) {
		// The context is cancelled while Prepare runs, between the read
		// and the write: the write is not sent.
		before := e.snapshot(t)
		ctx, cancel := context.WithCancel(bg)
		p := post()
		prepare := p.Prepare
		p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) { cancel(); return prepare(c) }
		_, err := e.AppendMessage(ctx, p)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, before, e.snapshot(t))
		_, err = e.AppendMessage(bg, post())
		require.NoError(t, err)
	})

	t.Run("InMarkReadCheck", func(t *testing.T) {
		// MarkRead's transaction is open and holds the row lock when the
		// context is cancelled in its Check.
		c, err := e.GetConversation(bg, id)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(bg)
		_, err = e.MarkRead(ctx, store.ReadParams{ConversationID: id, Side: conversation.SideUser, UpToMessageID: c.LastMessageID,
			Check: func(conversation.Conversation) error { cancel(); return nil }})
		require.ErrorIs(t, err, context.Canceled)
		after, err := e.GetConversation(bg, id)
		require.NoError(t, err)
		assert.Equal(t, c, after, "nothing written")
		_, err = e.AppendMessage(bg, post()) // the row lock is gone
		require.NoError(t, err)
	})

	t.Run("WaitingForRowLock", func(t *testing.T) {
		// The one-statement append waits for a lock held by another
		// transaction when the context is cancelled.
		holder, err := e.admin.Begin(bg)
		require.NoError(t, err)
		defer holder.Rollback(bg)
		_, err = holder.Exec(bg, "SELECT 1 FROM "+e.table("conversations")+" WHERE id = $1 FOR UPDATE", id)
		require.NoError(t, err)
		before := e.snapshot(t)
		ctx, cancel := context.WithCancel(bg)
		done := make(chan error, 1)
		go func() {
			_, err := e.AppendMessage(ctx, post())
			done <- err
		}()
		waitForBackends(t, e, "Lock", 1)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.NoError(t, holder.Rollback(bg))
		assert.Equal(t, before, e.snapshot(t))
	})

	t.Run("WaitingForKey", func(t *testing.T) {
		// A start waits for another transaction that inserted the same
		// key; it is cancelled; the other rolls back: no conversation.
		p := startParams("web", "u-cancel", "d1", conversation.TypeMessage, conversation.Item{}, t0)
		holder, err := e.admin.Begin(bg)
		require.NoError(t, err)
		defer holder.Rollback(bg)
		_, err = holder.Exec(bg, e.q.createConversation, createArgs(&p)...)
		require.NoError(t, err)
		before := e.snapshot(t)
		ctx, cancel := context.WithCancel(bg)
		done := make(chan error, 1)
		go func() {
			q := startParams("web", "u-cancel", "d1", conversation.TypeMessage, conversation.Item{}, t0)
			_, err := e.CreateConversation(ctx, q)
			done <- err
		}()
		waitForBackends(t, e, "Lock", 1)
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		require.NoError(t, holder.Rollback(bg))
		assert.Equal(t, before, e.snapshot(t))
		assert.Zero(t, e.count(t, "SELECT count(*) FROM "+e.table("conversations")+" WHERE user_id = 'u-cancel'"))
	})

	t.Run("AlreadyCancelled", func(t *testing.T) {
		before := e.snapshot(t)
		ctx, cancel := context.WithCancel(bg)
		cancel()
		_, err := e.AppendMessage(ctx, post())
		require.ErrorIs(t, err, context.Canceled)
		_, err = e.CreateConversation(ctx, startParams("web", "u-x", "d1", conversation.TypeMessage, conversation.Item{}, t0))
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, before, e.snapshot(t))
	})
}

func TestKilledConnection_MidTransaction(t *testing.T) {
	e := newEnv(t, 8)
	ctx := context.Background()
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	acked := []int64{start.Message.ID}
	appendAcked := func(t *testing.T) {
		for range 3 {
			res, err := e.AppendMessage(ctx, postParams(id, message.DataSource("d1"), "acked", t0))
			require.NoError(t, err)
			acked = append(acked, res.Message.ID)
		}
	}
	checkAcked := func(t *testing.T) {
		ms, err := e.MessagesAfter(ctx, message.After{ConversationID: id, Limit: 1000})
		require.NoError(t, err)
		var got []int64
		for i, m := range ms {
			got = append(got, m.ID)
			assert.Equal(t, int64(i+1), m.Seq)
		}
		assert.Equal(t, acked, got, "every acknowledged message, and only those")
		c, err := e.GetConversation(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, int64(len(acked)), c.LastSeq)
	}
	terminate := func(t *testing.T, pid uint32) {
		var ok bool
		require.NoError(t, e.admin.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok))
		require.True(t, ok)
	}

	t.Run("InMarkReadCheck", func(t *testing.T) {
		appendAcked(t)
		// MarkRead's Check runs while its transaction is open (idle in
		// transaction, holding the row lock): kill its backend there.
		before, err := e.GetConversation(ctx, id)
		require.NoError(t, err)
		_, err = e.MarkRead(ctx, store.ReadParams{ConversationID: id, Side: conversation.SideUser, UpToMessageID: before.LastMessageID,
			Check: func(conversation.Conversation) error {
				pids := waitForBackends(t, e, "idle in transaction", 1)
				require.Len(t, pids, 1)
				terminate(t, pids[0])
				return nil
			}})
		require.Error(t, err, "the write on a killed connection fails")
		after, err := e.GetConversation(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, before, after)
		appendAcked(t) // the store goes on, with the next Seq
		checkAcked(t)
	})

	t.Run("OneStatement", func(t *testing.T) {
		appendAcked(t)
		holder, err := e.admin.Begin(ctx)
		require.NoError(t, err)
		defer holder.Rollback(ctx)
		_, err = holder.Exec(ctx, "SELECT 1 FROM "+e.table("conversations")+" WHERE id = $1 FOR UPDATE", id)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() {
			_, err := e.AppendMessage(ctx, postParams(id, message.DataSource("d1"), "lost", t0))
			done <- err
		}()
		pids := waitForBackends(t, e, "Lock", 1)
		terminate(t, pids[0])
		require.Error(t, <-done, "the write on a killed connection fails")
		require.NoError(t, holder.Rollback(ctx))
		checkAcked(t)
		appendAcked(t)
		checkAcked(t)
	})
}

// TestAppendMessage_RetriesSerializationFailures runs concurrent one-
// statement appends to one conversation on a pool whose transactions
// default to SERIALIZABLE, where concurrent updates of one row fail with
// SQLSTATE 40001: the store retries them, and every append succeeds with
// a dense Seq.
func TestAppendMessage_RetriesSerializationFailures(t *testing.T) {
	const writers, each = 6, 10
	ctx := context.Background()
	admin := adminPool(t)
	schema := randomSchema()
	dropSchemaAtCleanup(t, admin, schema)
	dsn := withPoolSize(t, testDSN(t), writers)
	dsn += "&options=-c%20default_transaction_isolation%3Dserializable"
	st, err := Open(ctx, dsn, Options{Schema: schema, MaxRetries: 100})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	var level string
	require.NoError(t, st.pool.QueryRow(ctx, "SHOW transaction_isolation").Scan(&level))
	require.Equal(t, "serializable", level)

	start, err := st.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for n := range each {
				if _, err := st.AppendMessage(ctx, postParams(id, message.DataSource("d1"), fmt.Sprint(w, n), t0)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ms, err := st.MessagesAfter(ctx, message.After{ConversationID: id, Limit: 1000})
	require.NoError(t, err)
	require.Len(t, ms, 1+writers*each)
	for i, m := range ms {
		assert.Equal(t, int64(i+1), m.Seq)
	}
}
