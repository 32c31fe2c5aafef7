package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// cancelInStatement is the cancel function that the SQL function
// parley_test_cancel_at(i, at) calls when i equals at: a test cancels a
// context while a statement runs.
var cancelInStatement atomic.Pointer[context.CancelFunc]

func init() {
	sqlite.MustRegisterScalarFunction("parley_test_cancel_at", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if args[0] == args[1] {
			if cancel := cancelInStatement.Load(); cancel != nil {
				(*cancel)()
			}
		}
		return int64(1), nil
	})
}

// batches records the batches a Store's writer loop commits.
type batches struct {
	mu  sync.Mutex
	ran []int
}

func recordBatches(t *testing.T, s *Store) *batches {
	t.Helper()
	b := &batches{}
	s.onCommit = func(ran int, err error) {
		b.mu.Lock()
		b.ran = append(b.ran, ran)
		b.mu.Unlock()
	}
	t.Cleanup(func() { s.onCommit = nil })
	return b
}

// last returns the number of writes of the latest batch.
func (b *batches) last() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.ran) == 0 {
		return 0
	}
	return b.ran[len(b.ran)-1]
}

// holder holds the writer loop inside a write, so that the writes queued
// meanwhile form the next batch together.
type holder struct {
	holding chan struct{}
	release func()
	done    chan error
}

// hold starts a write to conversation conv whose Check waits for
// release, and returns once the Check runs.
func hold(t *testing.T, s *Store, conv int64) *holder {
	t.Helper()
	release := make(chan struct{})
	h := &holder{holding: make(chan struct{}), release: sync.OnceFunc(func() { close(release) }), done: make(chan error, 1)}
	t.Cleanup(h.release) // before the Store closes, should the test fail first
	p := withEvent(newAppend(conv, message.DataSource("d"), "holder", t0), func(conversation.Conversation) error {
		close(h.holding)
		<-release
		return nil
	})
	go func() {
		_, err := s.AppendMessage(context.Background(), p)
		h.done <- err
	}()
	<-h.holding
	return h
}

// finish lets the held write commit and checks it did.
func (h *holder) finish(t *testing.T) {
	t.Helper()
	h.release()
	require.NoError(t, <-h.done)
}

// queue starts fn in a goroutine and returns once its write is queued
// (the writer loop being held), so that writes queue in a known order.
func queue[T any](t *testing.T, s *Store, fn func() (T, error)) <-chan outcome[T] {
	t.Helper()
	n := s.gc.pending()
	ch := make(chan outcome[T], 1)
	go func() {
		v, err := fn()
		ch <- outcome[T]{v, err}
	}()
	require.Eventually(t, func() bool { return s.gc.pending() == n+1 }, 10*time.Second, time.Millisecond)
	return ch
}

// blocking returns the channels of a Check that blocks: in is closed by
// the Check, release by unblock or, should the test fail first, before the
// Store closes.
func blocking(t *testing.T) (in, release chan struct{}) {
	in, release = make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { unblock(release) })
	return in, release
}

func unblock(release chan struct{}) {
	select {
	case <-release:
	default:
		close(release)
	}
}

type outcome[T any] struct {
	v   T
	err error
}

// eventIDs returns the ids of the pending events of the store.
func eventIDs(t *testing.T, s *Store) map[string]bool {
	t.Helper()
	evs, err := s.ClaimEvents(context.Background(), claimAll(t0.Add(time.Hour)))
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, e := range evs {
		ids[e.ID] = true
	}
	return ids
}

// withEvent returns p with a Prepare that runs check (if not nil) and
// returns one event, whose id is eventID(p).
func withEvent(p store.AppendParams, check func(conversation.Conversation) error) store.AppendParams {
	return withEventID(p, eventID(p), check)
}

// withEventID is withEvent with an event id of the caller's.
func withEventID(p store.AppendParams, id string, check func(conversation.Conversation) error) store.AppendParams {
	ev := newEvent(notify.KindMessagePosted, "c", conversation.TypeMessage,
		notify.Party{Kind: message.SenderUser, ID: "u"}, notify.Party{Kind: message.SenderDataSource, ID: "d"}, t0)
	ev.ID = id
	p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
		if check != nil {
			if err := check(c); err != nil {
				return nil, err
			}
		}
		return []notify.Event{ev}, nil
	}
	return p
}

// eventID is the id of the event withEvent gives p.
func eventID(p store.AppendParams) string { return "posted-" + p.Message.Code.String() }

// TestGroupCommit_OneBatch queues writes that succeed and writes that fail
// in every way while the writer is held, so that they run in one
// transaction: each failing write is rolled back alone, with its own
// error, and the others commit, seeing what the earlier ones of the batch
// wrote.
func TestGroupCommit_OneBatch(t *testing.T) {
	for _, path := range []string{"", MemoryPath} {
		t.Run("DB"+path, func(t *testing.T) {
			s := MustOpen(t, path)
			ctx := context.Background()
			mk := func(user string) conversation.Conversation {
				res, err := s.CreateConversation(ctx, newCreate("c", user, "d", conversation.TypeMessage, conversation.Item{}, t0))
				require.NoError(t, err)
				return res.Conversation
			}
			open, closed := mk("open"), mk("closed")
			_, err := s.SetStatus(ctx, store.StatusParams{ConversationID: closed.ID, Status: conversation.StatusClosed, At: t0})
			require.NoError(t, err)
			batches := recordBatches(t, s)
			events := map[string]bool{} // the events of the writes expected to commit

			h := hold(t, s, open.ID)
			type ar = outcome[store.AppendResult]
			type cr = outcome[store.CreateResult]
			errClosed := errors.New("closed")
			notClosed := func(c conversation.Conversation) error {
				if c.Status == conversation.StatusClosed {
					return errClosed
				}
				return nil
			}
			appendTo := func(conv int64, content string, edit func(*store.AppendParams)) (<-chan ar, store.AppendParams) {
				p := withEvent(newAppend(conv, message.DataSource("d"), content, t0.Add(time.Second)), notClosed)
				if edit != nil {
					edit(&p)
				}
				return queue(t, s, func() (store.AppendResult, error) { return s.AppendMessage(ctx, p) }), p
			}
			key := func(k string) func(*store.AppendParams) {
				return func(p *store.AppendParams) {
					p.Idempotency = &store.Idempotency{Scope: "seller:d", Key: k, Fingerprint: p.Message.Content}
				}
			}
			ok1, p1 := appendTo(open.ID, "first", nil)
			checkFails, pc := appendTo(closed.ID, "into a closed conversation", nil)
			create := newCreate("c", "new", "d", conversation.TypeMessage, conversation.Item{}, t0)
			created := queue(t, s, func() (store.CreateResult, error) { return s.CreateConversation(ctx, create) })
			taken := newCreate("c", "new", "d", conversation.TypeMessage, conversation.Item{}, t0) // the same key
			keyTaken := queue(t, s, func() (store.CreateResult, error) { return s.CreateConversation(ctx, taken) })
			keyed, pk := appendTo(open.ID, "keyed", key("k1"))
			replayed, _ := appendTo(open.ID, "keyed", key("k1"))
			mismatch, pm := appendTo(open.ID, "other content", key("k1"))
			notFound, pn := appendTo(closed.ID+100, "nowhere", nil)
			// A unique violation after the message and the conversation
			// are written: its event's id is taken by the first write's.
			conflict, _ := appendTo(open.ID, "conflicting event", func(p *store.AppendParams) { *p = withEventID(*p, eventID(p1), nil) })
			ok2, p2 := appendTo(open.ID, "last", nil)
			const queued = 10
			h.finish(t)

			r1, rc, rcr, rkt, rk, rr, rm, rn, r2 := <-ok1, <-checkFails, <-created, <-keyTaken, <-keyed, <-replayed, <-mismatch, <-notFound, <-ok2
			rd := <-conflict
			require.Equal(t, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, driverCode(rd.err), "%v", rd.err)
			require.Equal(t, int64(5), r2.v.Message.Seq, "the conflicting write's seq is given back")
			require.Equal(t, queued, batches.last(), "the queued writes ran in one batch")

			require.NoError(t, r1.err)
			require.ErrorIs(t, rc.err, errClosed, "a Check's error comes back unchanged")
			require.NoError(t, rcr.err)
			var exists *store.ConversationExistsError
			require.ErrorAs(t, rkt.err, &exists)
			require.Equal(t, rcr.v.Conversation.ID, exists.ID, "the key taken earlier in the same batch")
			require.NoError(t, rk.err)
			require.NoError(t, rr.err)
			require.True(t, rr.v.Replayed, "replays the write made earlier in the same batch")
			require.Equal(t, rk.v.Message, rr.v.Message)
			require.ErrorIs(t, rm.err, store.ErrIdempotencyMismatch)
			require.ErrorIs(t, rn.err, store.ErrNotFound)
			require.NoError(t, r2.err)
			for _, p := range []store.AppendParams{p1, pk, p2} {
				events[eventID(p)] = true
			}
			events[create.Events[0].ID] = true

			// What is stored: the holder's and the three successful
			// appends in order, dense; nothing of the failed writes.
			ms, err := s.MessagesAfter(ctx, message.After{ConversationID: open.ID, Limit: 100})
			require.NoError(t, err)
			var contents []string
			for i, m := range ms {
				require.Equal(t, int64(i+1), m.Seq)
				contents = append(contents, m.Content)
			}
			require.Equal(t, []string{"hello from open", "holder", "first", "keyed", "last"}, contents)
			require.Equal(t, r1.v.Message, ms[2])
			require.Equal(t, rk.v.Message, ms[3])
			require.Equal(t, r2.v.Message, ms[4])
			got, err := s.GetConversation(ctx, open.ID)
			require.NoError(t, err)
			require.Equal(t, r2.v.Conversation, got, "the last write's result is the stored conversation")
			require.Equal(t, int64(5), got.MessageCount)
			c, err := s.GetConversation(ctx, closed.ID)
			require.NoError(t, err)
			require.Equal(t, int64(1), c.LastSeq, "nothing written to the closed conversation")
			page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "new"}, Limit: 10})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, rcr.v.Conversation, page.Items[0])
			got2, err := s.AppendMessage(ctx, pk)
			require.NoError(t, err)
			require.True(t, got2.Replayed, "the idempotency record committed")
			_, err = s.AppendMessage(ctx, pm)
			require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
			delete(events, "")
			for _, p := range []store.AppendParams{pc, pm, pn} {
				require.False(t, events[eventID(p)])
			}
			stored := eventIDs(t, s)
			for id := range events {
				require.True(t, stored[id], "event %s of a committed write", id)
			}
			for _, p := range []store.AppendParams{pc, pm, pn} {
				require.False(t, stored[eventID(p)], "no event of a failed write")
			}
		})
	}
}

// TestGroupCommit_CommitFails makes the COMMIT of a batch fail (a foreign
// key checked at commit): every write of the batch fails, those that
// would have succeeded and those that failed alone, and nothing is
// written. The next write commits.
func TestGroupCommit_CommitFails(t *testing.T) {
	s := MustOpen(t, "")
	ctx := context.Background()
	first := newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0)
	res, err := s.CreateConversation(ctx, first)
	require.NoError(t, err)
	conv := res.Conversation
	batches := recordBatches(t, s)

	h := hold(t, s, conv.ID)
	pok := withEvent(newAppend(conv.ID, message.DataSource("d"), "ok", t0), nil)
	ok := queue(t, s, func() (store.AppendResult, error) { return s.AppendMessage(ctx, pok) })
	breaks := queue(t, s, func() (struct{}, error) {
		return struct{}{}, s.write(ctx, func(t *wtx) error {
			// The violation is checked at COMMIT, not here.
			if _, err := t.b.tx.ExecContext(t.ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
				return err
			}
			_, err := t.b.tx.ExecContext(t.ctx, `INSERT INTO messages (conversation_id, seq, code, sender_kind, sender_id,
	sender_user_type, content, language, created_at) VALUES (999, 1, x'00', 'user', 'u', '', 'orphan', '', 0)`)
			return err
		})
	})
	fails := queue(t, s, func() (store.CreateResult, error) {
		return s.CreateConversation(ctx, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
	})
	created := queue(t, s, func() (store.CreateResult, error) {
		return s.CreateConversation(ctx, newCreate("c", "u2", "d", conversation.TypeMessage, conversation.Item{}, t0))
	})
	h.finish(t)
	for _, err := range []error{(<-ok).err, (<-breaks).err, (<-fails).err, (<-created).err} {
		require.Error(t, err)
		require.Equal(t, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, driverCode(err), "the commit's error: %v", err)
	}
	require.Equal(t, 4, batches.last())

	after, err := s.GetConversation(ctx, conv.ID)
	require.NoError(t, err)
	require.Equal(t, int64(2), after.LastSeq, "the first message and the holder's")
	var orphans int
	require.NoError(t, s.r.QueryRow("SELECT count(*) FROM messages WHERE content = 'orphan'").Scan(&orphans))
	require.Zero(t, orphans)
	page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "u2"}, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, page.Items)
	events := eventIDs(t, s)
	require.Len(t, events, 2, "the first start's and the holder's events only")
	require.True(t, events[first.Events[0].ID])
	require.False(t, events[eventID(pok)])

	_, err = s.AppendMessage(ctx, newAppend(conv.ID, message.DataSource("d"), "next", t0))
	require.NoError(t, err)
}

// TestGroupCommit_Cancel cancels writes of a batch at every point: before
// they are queued, while queued, in the batch before their turn, between
// the statements of their write, after their write and before the commit,
// and while the writer waits for another process's lock.
func TestGroupCommit_Cancel(t *testing.T) {
	bg := context.Background()
	setup := func(t *testing.T) (*Store, int64, *batches) {
		s := MustOpen(t, "")
		res, err := s.CreateConversation(bg, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		return s, res.Conversation.ID, recordBatches(t, s)
	}
	post := func(s *Store, ctx context.Context, conv int64, content string) func() (store.AppendResult, error) {
		return func() (store.AppendResult, error) {
			return s.AppendMessage(ctx, withEvent(newAppend(conv, message.DataSource("d"), content, t0), nil))
		}
	}
	contents := func(t *testing.T, s *Store, conv int64) []string {
		t.Helper()
		ms, err := s.MessagesAfter(bg, message.After{ConversationID: conv, Limit: 100})
		require.NoError(t, err)
		var out []string
		for i, m := range ms {
			require.Equal(t, int64(i+1), m.Seq)
			out = append(out, m.Content)
		}
		return out
	}

	t.Run("BeforeQueued", func(t *testing.T) {
		s, conv, _ := setup(t)
		ctx, cancel := context.WithCancel(bg)
		cancel()
		_, err := post(s, ctx, conv, "x")()
		require.ErrorIs(t, err, context.Canceled)
		require.Equal(t, []string{"hello from u"}, contents(t, s, conv))
	})

	t.Run("WhileQueued", func(t *testing.T) {
		s, conv, batches := setup(t)
		h := hold(t, s, conv)
		ctx, cancel := context.WithCancel(bg)
		a := queue(t, s, post(s, bg, conv, "a"))
		x := queue(t, s, post(s, ctx, conv, "cancelled"))
		b := queue(t, s, post(s, bg, conv, "b"))
		cancel()
		require.ErrorIs(t, (<-x).err, context.Canceled, "answered while the writer is still held")
		h.finish(t)
		require.NoError(t, (<-a).err)
		require.NoError(t, (<-b).err)
		require.Equal(t, 2, batches.last())
		require.Equal(t, []string{"hello from u", "holder", "a", "b"}, contents(t, s, conv))
	})

	t.Run("InTheBatchBeforeItsTurn", func(t *testing.T) {
		s, conv, batches := setup(t)
		h := hold(t, s, conv)
		// a, queued first, holds the next batch in its Check while x
		// waits for its turn in the same batch.
		inA, releaseA := blocking(t)
		pa := withEvent(newAppend(conv, message.DataSource("d"), "a", t0), func(conversation.Conversation) error {
			close(inA)
			<-releaseA
			return nil
		})
		a := queue(t, s, func() (store.AppendResult, error) { return s.AppendMessage(bg, pa) })
		ctx, cancel := context.WithCancel(bg)
		x := queue(t, s, post(s, ctx, conv, "cancelled"))
		h.finish(t)
		<-inA
		cancel()
		require.ErrorIs(t, (<-x).err, context.Canceled, "answered while the batch runs a")
		unblock(releaseA)
		require.NoError(t, (<-a).err)
		require.Equal(t, 1, batches.last(), "x did not run")
		require.Equal(t, []string{"hello from u", "holder", "a"}, contents(t, s, conv))
	})

	t.Run("DuringItsWrite", func(t *testing.T) {
		for _, alone := range []bool{false, true} {
			t.Run(fmt.Sprintf("Alone%v", alone), func(t *testing.T) {
				s, conv, batches := setup(t)
				ctx, cancel := context.WithCancel(bg)
				s.hook = func(c context.Context, point string) {
					if c == ctx && point == "append:message" {
						cancel() // the message is inserted; the conversation not yet updated
					}
				}
				defer func() { s.hook = nil }()
				if alone {
					_, err := post(s, ctx, conv, "cancelled")()
					require.ErrorIs(t, err, context.Canceled)
					require.Equal(t, []string{"hello from u"}, contents(t, s, conv))
					return
				}
				h := hold(t, s, conv)
				a := queue(t, s, post(s, bg, conv, "a"))
				x := queue(t, s, post(s, ctx, conv, "cancelled"))
				b := queue(t, s, post(s, bg, conv, "b"))
				h.finish(t)
				require.NoError(t, (<-a).err)
				require.ErrorIs(t, (<-x).err, context.Canceled)
				rb := <-b
				require.NoError(t, rb.err)
				require.Equal(t, int64(4), rb.v.Message.Seq, "b takes the place x gave back")
				require.Equal(t, 3, batches.last())
				require.Equal(t, []string{"hello from u", "holder", "a", "b"}, contents(t, s, conv))
			})
		}
	})

	t.Run("DuringAStatement", func(t *testing.T) {
		// x's context ends while one of its statements runs (the
		// statement itself cancels it, a thousand rows in): the statement
		// runs to its end (the driver would interrupt it, and SQLite
		// would roll back the whole transaction, a's write with it), then
		// x is rolled back alone.
		s, conv, batches := setup(t)
		ctx, cancel := context.WithCancel(bg)
		cancelInStatement.Store(&cancel)
		defer cancelInStatement.Store(nil)
		slow, err := s.w.Prepare(`INSERT INTO idempotency (scope, key, fingerprint, conversation_id, message_id)
SELECT 'slow', i, '', 0, 0 FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
SELECT i FROM n) WHERE parley_test_cancel_at(i, 1000) AND i % 1000 = 0`)
		require.NoError(t, err)
		defer slow.Close()
		h := hold(t, s, conv)
		a := queue(t, s, post(s, bg, conv, "a"))
		x := queue(t, s, func() (struct{}, error) {
			return struct{}{}, s.write(ctx, func(t *wtx) error {
				_, err := t.stmt(slow).ExecContext(ctx)
				return err
			})
		})
		b := queue(t, s, post(s, bg, conv, "b"))
		h.finish(t)
		require.ErrorIs(t, (<-x).err, context.Canceled)
		require.NoError(t, (<-a).err)
		require.NoError(t, (<-b).err)
		require.Equal(t, 3, batches.last())
		require.Equal(t, []string{"hello from u", "holder", "a", "b"}, contents(t, s, conv))
		var n int
		require.NoError(t, s.r.QueryRow("SELECT count(*) FROM idempotency WHERE scope = 'slow'").Scan(&n))
		require.Zero(t, n)
	})

	t.Run("AfterItsWriteBeforeTheCommit", func(t *testing.T) {
		// x's write is done and kept in the transaction when its context
		// ends; b, after it in the batch, holds the commit back. x's
		// caller waits for the commit and is told the truth: it
		// committed.
		s, conv, _ := setup(t)
		h := hold(t, s, conv)
		ctx, cancel := context.WithCancel(bg)
		x := queue(t, s, post(s, ctx, conv, "x"))
		inB, releaseB := blocking(t)
		pb := withEvent(newAppend(conv, message.DataSource("d"), "b", t0), func(conversation.Conversation) error {
			close(inB)
			<-releaseB
			return nil
		})
		b := queue(t, s, func() (store.AppendResult, error) { return s.AppendMessage(bg, pb) })
		h.finish(t)
		<-inB
		cancel()
		time.Sleep(20 * time.Millisecond) // give x's caller the chance to return early; it must not
		select {
		case r := <-x:
			t.Fatalf("x answered before its batch committed: %v", r.err)
		default:
		}
		unblock(releaseB)
		rx := <-x
		require.NoError(t, rx.err, "x committed")
		require.NoError(t, (<-b).err)
		require.Equal(t, []string{"hello from u", "holder", "x", "b"}, contents(t, s, conv))
		ms, err := s.MessagesAfter(bg, message.After{ConversationID: conv, Limit: 100})
		require.NoError(t, err)
		require.Equal(t, rx.v.Message, ms[2])
	})

	t.Run("WaitingForAnotherWriter", func(t *testing.T) {
		// Another Store on the file (as another process would) holds the
		// write lock; this Store's writer waits for it in BEGIN. A write
		// queued meanwhile can still give up.
		path := filepath.Join(t.TempDir(), "parley.db")
		other, s := MustOpen(t, path), MustOpen(t, path)
		res, err := s.CreateConversation(bg, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		conv := res.Conversation.ID
		h := hold(t, other, conv)
		ctx, cancel := context.WithCancel(bg)
		x := make(chan error, 1)
		go func() {
			_, err := post(s, ctx, conv, "x")()
			x <- err
		}()
		time.Sleep(20 * time.Millisecond) // let it reach BEGIN; the outcome does not depend on it
		cancel()
		require.ErrorIs(t, <-x, context.Canceled, "answered while the other writer holds the lock")
		h.finish(t)
		require.Equal(t, []string{"hello from u", "holder"}, contents(t, s, conv))
		_, err = post(s, bg, conv, "y")()
		require.NoError(t, err)
	})
}

// TestGroupCommit_Panic: a write that panics in a batch is rolled back
// alone, its caller gets the panic, and the others commit.
func TestGroupCommit_Panic(t *testing.T) {
	s := MustOpen(t, "")
	ctx := context.Background()
	res, err := s.CreateConversation(ctx, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	conv := res.Conversation.ID
	h := hold(t, s, conv)
	a := queue(t, s, func() (store.AppendResult, error) {
		return s.AppendMessage(ctx, newAppend(conv, message.DataSource("d"), "a", t0))
	})
	panicked := queue(t, s, func() (v any, err error) {
		defer func() { v = recover() }()
		p := withEvent(newAppend(conv, message.DataSource("d"), "panics", t0), func(conversation.Conversation) error { panic("check panicked") })
		_, err = s.AppendMessage(ctx, p)
		return nil, err
	})
	b := queue(t, s, func() (store.AppendResult, error) {
		return s.AppendMessage(ctx, newAppend(conv, message.DataSource("d"), "b", t0))
	})
	h.finish(t)
	require.NoError(t, (<-a).err)
	require.Equal(t, "check panicked", (<-panicked).v)
	require.NoError(t, (<-b).err)
	ms, err := s.MessagesAfter(ctx, message.After{ConversationID: conv, Limit: 10})
	require.NoError(t, err)
	require.Len(t, ms, 4)
	require.Equal(t, "b", ms[3].Content)
}

// TestGroupCommit_Close: Close lets the running batch commit and fails the
// writes still queued with ErrClosed.
func TestGroupCommit_Close(t *testing.T) {
	s := MustOpen(t, "")
	ctx := context.Background()
	res, err := s.CreateConversation(ctx, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	h := hold(t, s, res.Conversation.ID)
	queued := queue(t, s, func() (store.AppendResult, error) {
		return s.AppendMessage(ctx, newAppend(res.Conversation.ID, message.DataSource("d"), "queued", t0))
	})
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	require.ErrorIs(t, (<-queued).err, store.ErrClosed)
	h.finish(t)
	require.NoError(t, <-closed)
	_, err = s.AppendMessage(ctx, newAppend(res.Conversation.ID, message.DataSource("d"), "late", t0))
	require.ErrorIs(t, err, store.ErrClosed)
}

// TestGroupCommit_ManyWriters runs 32 goroutines of writes of every kind,
// succeeding and failing, some cancelled at random moments, and checks
// that the database holds exactly the writes acknowledged as done, whole.
func TestGroupCommit_ManyWriters(t *testing.T) {
	s := MustOpen(t, "")
	ctx := context.Background()
	batches := recordBatches(t, s)
	var convs []int64
	for i := range 4 {
		res, err := s.CreateConversation(ctx, newCreate("c", fmt.Sprintf("shared%d", i), "d", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		convs = append(convs, res.Conversation.ID)
	}
	_, err := s.SetStatus(ctx, store.StatusParams{ConversationID: convs[3], Status: conversation.StatusClosed, At: t0})
	require.NoError(t, err)
	errClosed := errors.New("closed")

	type write struct {
		code    uuid.UUID // of the message
		eventID string
		ok      bool
	}
	var (
		mu     sync.Mutex
		writes []write
		failed atomic.Int64
	)
	const workers, ops = 32, 30
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range ops {
				wctx, cancel := ctx, context.CancelFunc(func() {})
				if rng.IntN(5) == 0 {
					wctx, cancel = context.WithTimeout(ctx, time.Duration(rng.IntN(3000))*time.Microsecond)
				}
				var (
					wr  write
					err error
				)
				switch k := rng.IntN(10); {
				case k < 6: // append, to the closed one sometimes
					conv := convs[rng.IntN(len(convs))]
					p := withEvent(newAppend(conv, message.DataSource("d"), "m", t0), func(c conversation.Conversation) error {
						if c.Status == conversation.StatusClosed {
							return errClosed
						}
						return nil
					})
					if rng.IntN(4) == 0 { // a key used by other workers too
						p.Idempotency = &store.Idempotency{Scope: "s", Key: fmt.Sprint(rng.IntN(20)), Fingerprint: "f"}
					}
					wr.code, wr.eventID = p.Message.Code, eventID(p)
					var res store.AppendResult
					res, err = s.AppendMessage(wctx, p)
					if err == nil && res.Replayed {
						wr.ok = false // nothing new written
					} else {
						wr.ok = err == nil
					}
					if errors.Is(err, errClosed) {
						assert.Equal(t, convs[3], conv)
					}
				case k < 8: // start a conversation, its key often taken
					p := newCreate("c", fmt.Sprintf("u%d", rng.IntN(40)), "d", conversation.TypeMessage, conversation.Item{}, t0)
					wr.code, wr.eventID = p.Message.Code, p.Events[0].ID
					_, err = s.CreateConversation(wctx, p)
					wr.ok = err == nil
					if err != nil && !errors.Is(err, store.ErrConversationExists) && wctx.Err() == nil {
						assert.NoError(t, err)
					}
				case k < 9: // read up to the last message
					conv := convs[rng.IntN(3)]
					c, gerr := s.GetConversation(ctx, conv)
					if assert.NoError(t, gerr) {
						_, err = s.MarkRead(wctx, store.ReadParams{ConversationID: conv, Side: conversation.SideUser, UpToMessageID: c.LastMessageID})
						assert.True(t, err == nil || wctx.Err() != nil, "%v", err)
					}
					cancel()
					continue
				default: // an append to a conversation that does not exist
					p := withEvent(newAppend(1<<40, message.DataSource("d"), "m", t0), nil)
					wr.code, wr.eventID = p.Message.Code, eventID(p)
					_, err = s.AppendMessage(wctx, p)
					assert.True(t, errors.Is(err, store.ErrNotFound) || wctx.Err() != nil, "%v", err)
				}
				cancel()
				if err != nil {
					failed.Add(1)
					if wctx.Err() == nil {
						assert.True(t, errors.Is(err, errClosed) || errors.Is(err, store.ErrConversationExists) ||
							errors.Is(err, store.ErrNotFound), "unexpected error %v", err)
					}
				}
				mu.Lock()
				writes = append(writes, wr)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.Positive(t, failed.Load())

	// Every message stored is an acknowledged write's (or a first
	// message of the set-up), and every acknowledged write is stored,
	// with its event.
	codes := map[uuid.UUID]bool{}
	rows, err := s.r.Query("SELECT code FROM messages")
	require.NoError(t, err)
	for rows.Next() {
		var c []byte
		require.NoError(t, rows.Scan(&c))
		codes[uuid.UUID(c)] = true
	}
	require.NoError(t, rows.Err())
	events := eventIDs(t, s)
	acked := 0
	for _, w := range writes {
		assert.Equal(t, w.ok, codes[w.code], "message stored if and only if acknowledged")
		assert.Equal(t, w.ok, events[w.eventID], "event stored if and only if acknowledged")
		if w.ok {
			acked++
		}
	}
	require.Equal(t, acked+len(convs), len(codes), "no message but the acknowledged ones")
	require.Equal(t, acked+len(convs), len(events), "no event but the acknowledged ones")

	// Each conversation is consistent: dense, counted, unread recounted.
	page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Limit: 100})
	require.NoError(t, err)
	for _, c := range page.Items {
		ms := allMessages(t, s, c.ID)
		require.Equal(t, int64(len(ms)), c.LastSeq)
		require.Equal(t, int64(len(ms)), c.MessageCount)
		var unread [2]int64
		for _, m := range ms {
			if m.Sender.Kind == message.SenderDataSource && m.Seq > c.UserRead.ReadSeq {
				unread[0]++
			}
			if m.Sender.Kind == message.SenderUser && m.Seq > c.SellerRead.ReadSeq {
				unread[1]++
			}
		}
		require.Equal(t, unread, [2]int64{c.UserRead.Unread, c.SellerRead.Unread}, "conversation %d", c.ID)
	}
	batches.mu.Lock()
	defer batches.mu.Unlock()
	largest := 0
	for _, n := range batches.ran {
		largest = max(largest, n)
	}
	t.Logf("%d writes, %d acknowledged, %d failed, %d batches, the largest of %d", len(writes), acked, failed.Load(), len(batches.ran), largest)
}
