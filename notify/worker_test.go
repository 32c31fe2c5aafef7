package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// Every store is a Source and an Outbox.
var (
	_ notify.Source = store.Store(nil)
	_ notify.Outbox = store.Store(nil)
)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a memory store written to the way the parley Service writes to
// it: each message carries an event for the other side, due DigestWindow
// after it was written.
type env struct {
	t      testing.TB
	st     *memory.Store
	src    notify.Source // what workers read from: st, or a wrapper
	clock  *clock
	window time.Duration
}

func newEnv(t testing.TB, window time.Duration) *env {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	return &env{
		t: t, st: st, src: st, window: window,
		clock: &clock{now: time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)},
	}
}

func (e *env) now() time.Time { return e.clock.Now().UTC().Truncate(store.TimePrecision) }

func newCode() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func seller(c conversation.Conversation) notify.Party {
	return notify.Party{Kind: message.SenderDataSource, ID: c.DataSourceID}
}

func user(c conversation.Conversation) notify.Party {
	return notify.Party{Kind: message.SenderUser, ID: c.UserID}
}

// event returns the event of a message by sender in c, for the other side.
func (e *env) event(kind notify.Kind, c conversation.Conversation, sender message.Sender) notify.Event {
	recipient := seller(c)
	if sender.Kind == message.SenderDataSource {
		recipient = user(c)
	}
	now := e.now()
	return notify.Event{
		ID: newCode().String(), Kind: kind, Channel: c.Channel, ConversationType: c.Type,
		Recipient: recipient, Sender: notify.Party{Kind: sender.Kind, ID: sender.ID},
		CreatedAt: now, DueAt: now.Add(e.window),
		DigestKey: string(recipient.Kind) + ":" + recipient.ID + "|" + c.Code.String(),
		State:     notify.StatePending,
	}
}

// start has user userID start a conversation with data source ds1.
func (e *env) start(userID, content string) (conversation.Conversation, message.Message) {
	e.t.Helper()
	now := e.now()
	c := conversation.Conversation{
		Code: newCode(), Channel: "shop", Type: conversation.TypeMessage,
		UserID: userID, DataSourceID: "ds1", Subject: "About " + userID,
		Status: conversation.StatusOpen, StartedBy: conversation.SideUser, CreatedAt: now,
	}
	sender := message.User(userID, message.UserRegistered)
	res, err := e.st.CreateConversation(context.Background(), store.CreateParams{
		Conversation: c,
		Message:      message.Message{Code: newCode(), Sender: sender, Content: content, CreatedAt: now},
		Events:       []notify.Event{e.event(notify.KindConversationStarted, c, sender)},
	})
	require.NoError(e.t, err)
	return res.Conversation, res.Message
}

// post adds a message by sender to conversation id.
func (e *env) post(id int64, sender message.Sender, content string) message.Message {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.st.GetConversation(ctx, id)
	require.NoError(e.t, err)
	res, err := e.st.AppendMessage(ctx, store.AppendParams{
		ConversationID: id,
		Message:        message.Message{Code: newCode(), Sender: sender, Content: content, CreatedAt: e.now()},
		Prepare: func(conversation.Conversation) ([]notify.Event, error) {
			return []notify.Event{e.event(notify.KindMessagePosted, c, sender)}, nil
		},
	})
	require.NoError(e.t, err)
	return res.Message
}

// postSilently adds a message that notifies nobody.
func (e *env) postSilently(id int64, sender message.Sender, content string) {
	e.t.Helper()
	_, err := e.st.AppendMessage(context.Background(), store.AppendParams{
		ConversationID: id,
		Message:        message.Message{Code: newCode(), Sender: sender, Content: content, CreatedAt: e.now()},
	})
	require.NoError(e.t, err)
}

// read marks conversation id read by side up to message upTo.
func (e *env) read(id int64, side conversation.Side, upTo int64) {
	e.t.Helper()
	_, err := e.st.MarkRead(context.Background(), store.ReadParams{ConversationID: id, Side: side, UpToMessageID: upTo})
	require.NoError(e.t, err)
}

// worker returns a worker on the env's store and clock, without jitter,
// with a 1s backoff base, a one minute lease and the env's digest window.
func (e *env) worker(name string, n notify.Notifier, configure ...func(*notify.WorkerConfig)) *notify.Worker {
	e.t.Helper()
	cfg := notify.DefaultWorkerConfig()
	cfg.Name = name
	cfg.Now = e.clock.Now
	cfg.Jitter = func(d time.Duration) time.Duration { return d }
	cfg.BackoffBase, cfg.BackoffMax = time.Second, time.Hour
	cfg.Lease, cfg.NotifyTimeout = time.Minute, 10*time.Second
	cfg.DigestWindow = e.window
	for _, f := range configure {
		f(&cfg)
	}
	w, err := notify.NewWorker(e.st, e.src, n, cfg)
	require.NoError(e.t, err)
	return w
}

// runOnce runs one cycle of w, which must succeed, and returns how many
// notifications it delivered.
func runOnce(t *testing.T, w *notify.Worker) int {
	t.Helper()
	n, err := w.RunOnce(context.Background())
	require.NoError(t, err)
	return n
}

func contents(msgs []message.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Content
	}
	return out
}

func eventIDs(evs []notify.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// flaky is a Notifier that fails its first failures calls, then succeeds.
type flaky struct {
	mu       sync.Mutex
	failures int
	calls    []notify.Notification
	ok       []notify.Notification
}

func (f *flaky) Notify(_ context.Context, n notify.Notification) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, n)
	if len(f.calls) <= f.failures {
		return fmt.Errorf("smtp: 451 try again later (call %d)", len(f.calls))
	}
	f.ok = append(f.ok, n)
	return nil
}

func TestWorker_Retry(t *testing.T) {
	t.Run("FailsKTimesThenSucceedsAfterBackoff", func(t *testing.T) {
		e := newEnv(t, 0)
		conv, m := e.start("u1", "hello")
		n := &flaky{failures: 3}
		w := e.worker("w1", n, func(c *notify.WorkerConfig) { c.MaxAttempts = 5; c.BackoffMax = 3 * time.Second })

		assert.Equal(t, 0, runOnce(t, w), "attempt 1 fails")
		// The n-th failure waits 1s * 2^(n-1), at most BackoffMax (3s).
		for i, wait := range []time.Duration{time.Second, 2 * time.Second, 3 * time.Second} {
			e.clock.Advance(wait - time.Microsecond)
			assert.Equal(t, 0, runOnce(t, w), "retry %d is not due before its backoff", i+1)
			assert.Len(t, n.calls, i+1)
			e.clock.Advance(time.Microsecond)
			got := runOnce(t, w)
			require.Len(t, n.calls, i+2, "retry %d is due after its backoff", i+1)
			if i < 2 {
				assert.Equal(t, 0, got)
			} else {
				assert.Equal(t, 1, got, "the fourth attempt delivers")
			}
		}
		e.clock.Advance(24 * time.Hour)
		assert.Equal(t, 0, runOnce(t, w))
		require.Len(t, n.ok, 1, "exactly one successful delivery")
		assert.Len(t, n.calls, 4)
		for _, c := range n.calls {
			assert.Equal(t, n.calls[0].Key, c.Key, "every attempt has the same idempotency key")
		}
		assert.Equal(t, []string{"hello"}, contents(n.ok[0].Messages))
		assert.Equal(t, conv.ID, n.ok[0].Conversation.ID)
		assert.Equal(t, m.ID, n.ok[0].Events[0].MessageID)
		assert.Equal(t, n.ok[0].Events[0].ID, n.ok[0].Key)
		dead, err := w.DeadEvents(context.Background(), "", 10)
		require.NoError(t, err)
		assert.Empty(t, dead)
	})

	t.Run("DeadAfterMaxAttemptsThenRetried", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		var deadSeen []notify.Event
		rec := &notify.Recorder{Err: errors.New("mailbox unavailable")}
		w := e.worker("w1", rec, func(c *notify.WorkerConfig) {
			c.MaxAttempts = 3
			c.OnDead = func(_ context.Context, ev notify.Event) { deadSeen = append(deadSeen, ev) }
		})
		for range 3 {
			assert.Equal(t, 0, runOnce(t, w))
			e.clock.Advance(time.Hour)
		}
		require.Len(t, rec.Notifications(), 3)
		assert.Equal(t, 0, runOnce(t, w), "a dead event is not delivered")
		assert.Len(t, rec.Notifications(), 3)

		dead, err := w.DeadEvents(context.Background(), "", 10)
		require.NoError(t, err)
		require.Len(t, dead, 1)
		assert.Equal(t, notify.StateDead, dead[0].State)
		assert.Equal(t, 3, dead[0].Attempts)
		assert.Equal(t, "mailbox unavailable", dead[0].LastError)
		assert.Equal(t, rec.Notifications()[0].Key, dead[0].ID)
		require.Len(t, deadSeen, 1, "OnDead is called once")
		assert.Equal(t, dead[0].ID, deadSeen[0].ID)

		require.NoError(t, w.RetryDeadEvent(context.Background(), dead[0].ID))
		rec.Err = nil
		assert.Equal(t, 1, runOnce(t, w), "a retried event is due at once")
		notes := rec.Notifications()
		require.Len(t, notes, 4)
		assert.Equal(t, dead[0].ID, notes[3].Key)
		dead, err = w.DeadEvents(context.Background(), "", 10)
		require.NoError(t, err)
		assert.Empty(t, dead)
		err = w.RetryDeadEvent(context.Background(), notes[3].Key)
		assert.ErrorIs(t, err, store.ErrNotFound, "a delivered event is not dead")
	})

	t.Run("PermanentErrorIsDeadAtOnce", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		rec := &notify.Recorder{Err: notify.Permanent(errors.New("invalid header"))}
		w := e.worker("w1", rec)
		assert.Equal(t, 0, runOnce(t, w))
		dead, err := w.DeadEvents(context.Background(), "", 10)
		require.NoError(t, err)
		require.Len(t, dead, 1)
		assert.Equal(t, 1, dead[0].Attempts)
	})

	t.Run("SourceErrorIsRetried", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		failing := &failingSource{Source: e.st, err: errors.New("replica lagging")}
		e.src = failing
		rec := &notify.Recorder{}
		w := e.worker("w1", rec)
		assert.Equal(t, 0, runOnce(t, w))
		assert.Empty(t, rec.Notifications())
		failing.err = nil
		e.clock.Advance(time.Second)
		assert.Equal(t, 1, runOnce(t, w))
	})
}

// failingSource fails GetConversation with err while err is set.
type failingSource struct {
	notify.Source
	err error
}

func (s *failingSource) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	if s.err != nil {
		return conversation.Conversation{}, s.err
	}
	return s.Source.GetConversation(ctx, id)
}

func TestWorker_Crash(t *testing.T) {
	t.Run("KilledBetweenSendAndDoneIsSentAgainWithSameKey", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		first := &notify.Recorder{}
		crashing := notify.Func(func(ctx context.Context, n notify.Notification) error {
			_ = first.Notify(ctx, n) // the email went out...
			panic("process killed")  // ...and the process died before marking it done
		})
		w1 := e.worker("w1", crashing)
		assert.Panics(t, func() { _, _ = w1.RunOnce(context.Background()) })
		require.Len(t, first.Notifications(), 1)

		second := &notify.Recorder{}
		w2 := e.worker("w2", second)
		assert.Equal(t, 0, runOnce(t, w2), "the event is held by w1's lease")
		e.clock.Advance(time.Minute) // the lease runs out
		assert.Equal(t, 1, runOnce(t, w2))
		require.Len(t, second.Notifications(), 1)
		assert.Equal(t, first.Notifications()[0].Key, second.Notifications()[0].Key, "same idempotency key")

		e.clock.Advance(time.Hour)
		assert.Equal(t, 0, runOnce(t, w2), "delivered and done")
	})

	t.Run("StalledWorkerLosesItsLease", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		entered, release := make(chan struct{}), make(chan struct{})
		first := &notify.Recorder{}
		stalling := notify.Func(func(ctx context.Context, n notify.Notification) error {
			_ = first.Notify(ctx, n)
			close(entered)
			<-release
			return nil
		})
		w1 := e.worker("w1", stalling)
		type result struct {
			n   int
			err error
		}
		done := make(chan result)
		go func() {
			n, err := w1.RunOnce(context.Background())
			done <- result{n, err}
		}()
		<-entered
		e.clock.Advance(time.Minute) // w1 stalls past its lease

		second := &notify.Recorder{}
		w2 := e.worker("w2", second)
		assert.Equal(t, 1, runOnce(t, w2), "another worker delivers the event again")
		close(release)
		r := <-done
		require.NoError(t, r.err)
		assert.Equal(t, 1, r.n, "w1 did send it")
		require.Len(t, second.Notifications(), 1)
		assert.Equal(t, first.Notifications()[0].Key, second.Notifications()[0].Key)

		e.clock.Advance(time.Hour)
		assert.Equal(t, 0, runOnce(t, w1))
		assert.Equal(t, 0, runOnce(t, w2))
	})

	t.Run("ShutdownAfterSendStillMarksDone", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		ctx, cancel := context.WithCancel(context.Background())
		rec := &notify.Recorder{}
		w1 := e.worker("w1", notify.Func(func(c context.Context, n notify.Notification) error {
			_ = rec.Notify(c, n)
			cancel() // the program shuts down while the email is being sent
			return nil
		}))
		_, err := w1.RunOnce(ctx)
		require.ErrorIs(t, err, context.Canceled)
		w2 := e.worker("w2", rec)
		e.clock.Advance(time.Hour)
		assert.Equal(t, 0, runOnce(t, w2), "the sent event was marked done")
		assert.Len(t, rec.Notifications(), 1)
	})

	t.Run("ShutdownBeforeSendReleasesTheRest", func(t *testing.T) {
		e := newEnv(t, 0)
		for i := range 3 {
			e.start(fmt.Sprint("u", i), "hello")
		}
		ctx, cancel := context.WithCancel(context.Background())
		rec := &notify.Recorder{}
		w1 := e.worker("w1", notify.Func(func(c context.Context, n notify.Notification) error {
			_ = rec.Notify(c, n)
			cancel()
			return nil
		}))
		_, err := w1.RunOnce(ctx)
		require.ErrorIs(t, err, context.Canceled)
		require.Len(t, rec.Notifications(), 1)
		w2 := e.worker("w2", rec)
		assert.Equal(t, 2, runOnce(t, w2), "the unsent events were released, due now, without waiting for the lease")
	})

	t.Run("LeaseTooShortForTheBatchReleasesTheRest", func(t *testing.T) {
		e := newEnv(t, 0)
		for i := range 3 {
			e.start(fmt.Sprint("u", i), "hello")
		}
		rec := &notify.Recorder{}
		slow := notify.Func(func(ctx context.Context, n notify.Notification) error {
			e.clock.Advance(45 * time.Second) // each delivery takes three quarters of the lease
			return rec.Notify(ctx, n)
		})
		w := e.worker("w1", slow, func(c *notify.WorkerConfig) { c.NotifyTimeout = 20 * time.Second })
		assert.Equal(t, 1, runOnce(t, w), "after one delivery, a second could outlast the lease")
		assert.Equal(t, 1, runOnce(t, w))
		assert.Equal(t, 1, runOnce(t, w))
		assert.Equal(t, 0, runOnce(t, w))
		keys := map[string]bool{}
		for _, n := range rec.Notifications() {
			keys[n.Key] = true
		}
		assert.Len(t, keys, 3, "each event delivered once")
	})
}

// counter counts deliveries per event id.
type counter struct {
	mu     sync.Mutex
	events map[string]int
	notes  int
}

func (c *counter) Notify(_ context.Context, n notify.Notification) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.notes++
	for _, e := range n.Events {
		c.events[e.ID]++
	}
	return nil
}

func TestWorker_Concurrent(t *testing.T) {
	for name, window := range map[string]time.Duration{"NoDigest": 0, "Digest": time.Minute} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, window)
			events := 0
			for i := range 60 {
				conv, _ := e.start(fmt.Sprint("u", i), "first")
				events++
				for j := range i % 3 {
					e.post(conv.ID, message.User(conv.UserID, message.UserRegistered), fmt.Sprint("more ", j))
					events++
				}
			}
			e.clock.Advance(window)

			c := &counter{events: map[string]int{}}
			var wg sync.WaitGroup
			for i := range 2 {
				w := e.worker(fmt.Sprint("w", i), c, func(c *notify.WorkerConfig) { c.BatchSize = 7 })
				wg.Go(func() {
					for {
						n, err := w.RunOnce(context.Background())
						if err != nil {
							t.Error(err)
							return
						}
						if n == 0 {
							return
						}
					}
				})
			}
			wg.Wait()
			c.mu.Lock()
			defer c.mu.Unlock()
			require.Len(t, c.events, events, "every event delivered")
			for id, n := range c.events {
				assert.Equal(t, 1, n, "event %s delivered once", id)
			}
			if window > 0 {
				assert.Equal(t, 60, c.notes, "one notification per conversation")
			} else {
				assert.Equal(t, events, c.notes)
			}
		})
	}
}

// countingSource is a store that records every message the worker reads
// from it.
type countingSource struct {
	*memory.Store
	mu    sync.Mutex
	calls int
	read  []message.Message
}

func (s *countingSource) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	ms, err := s.Store.MessagesAfter(ctx, q)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	s.read = append(s.read, ms...)
	return ms, err
}

// seqsRead returns the Seq of every message read so far.
func (s *countingSource) seqsRead() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int64, len(s.read))
	for i, m := range s.read {
		out[i] = m.Seq
	}
	return out
}

func TestWorker_Digest(t *testing.T) {
	const window = 10 * time.Minute
	sources := map[string]func(e *env){
		"Store":    func(e *env) {},
		"Counting": func(e *env) { e.src = &countingSource{Store: e.st} },
	}
	for srcName, useSource := range sources {
		t.Run(srcName, func(t *testing.T) {
			// burst has the user start a conversation and send four more
			// messages, a minute apart, all within the window.
			burst := func(e *env) (conversation.Conversation, []message.Message) {
				conv, m := e.start("u1", "message 1")
				msgs := []message.Message{m}
				for i := 2; i <= 5; i++ {
					e.clock.Advance(time.Minute)
					msgs = append(msgs, e.post(conv.ID, message.User("u1", message.UserRegistered), fmt.Sprint("message ", i)))
				}
				return conv, msgs
			}

			t.Run("FiveMessagesOneNotification", func(t *testing.T) {
				e := newEnv(t, window)
				useSource(e)
				t0 := e.now()
				conv, msgs := burst(e)
				rec := &notify.Recorder{}
				w := e.worker("w1", rec)

				e.clock.Advance(t0.Add(window).Sub(e.now()) - time.Microsecond)
				assert.Equal(t, 0, runOnce(t, w), "the window of the first message is still open")
				e.clock.Advance(time.Microsecond)
				assert.Equal(t, 1, runOnce(t, w))

				notes := rec.Notifications()
				require.Len(t, notes, 1)
				n := notes[0]
				assert.Equal(t, []string{"message 1", "message 2", "message 3", "message 4", "message 5"}, contents(n.Messages))
				require.Len(t, n.Events, 5)
				assert.Equal(t, n.Events[0].ID, n.Key, "the key is the first event's id")
				assert.Equal(t, notify.KindConversationStarted, n.Events[0].Kind)
				assert.True(t, slices.IsSorted(eventIDs(n.Events)))
				assert.Equal(t, seller(conv), n.Recipient)
				assert.Equal(t, conv.ID, n.Conversation.ID)
				assert.Equal(t, int64(5), n.Conversation.LastSeq)
				for i, m := range n.Messages {
					assert.Equal(t, msgs[i].ID, m.ID)
				}

				e.clock.Advance(time.Hour)
				assert.Equal(t, 0, runOnce(t, w), "the later events went with the first")
				assert.Len(t, rec.Notifications(), 1)
			})

			t.Run("ReadMessagesAreLeftOut", func(t *testing.T) {
				e := newEnv(t, window)
				useSource(e)
				conv, msgs := burst(e)
				e.read(conv.ID, conversation.SideSeller, msgs[2].ID) // the seller has read up to message 3
				rec := &notify.Recorder{}
				w := e.worker("w1", rec)
				e.clock.Advance(window)
				assert.Equal(t, 1, runOnce(t, w))
				notes := rec.Notifications()
				require.Len(t, notes, 1)
				assert.Equal(t, []string{"message 4", "message 5"}, contents(notes[0].Messages))
				assert.Len(t, notes[0].Events, 5, "all events are settled by the notification")
			})

			t.Run("EverythingReadNothingSent", func(t *testing.T) {
				e := newEnv(t, window)
				useSource(e)
				conv, msgs := burst(e)
				e.read(conv.ID, conversation.SideSeller, msgs[4].ID)
				rec := &notify.Recorder{}
				w := e.worker("w1", rec)
				e.clock.Advance(window)
				assert.Equal(t, 0, runOnce(t, w))
				e.clock.Advance(time.Hour)
				assert.Equal(t, 0, runOnce(t, w))
				assert.Empty(t, rec.Notifications())
				dead, err := w.DeadEvents(context.Background(), "", 10)
				require.NoError(t, err)
				assert.Empty(t, dead, "the events are done, not dead")
			})

			t.Run("AReplyMeansTheSellerHasRead", func(t *testing.T) {
				e := newEnv(t, window)
				useSource(e)
				conv, _ := e.start("u1", "question")
				e.clock.Advance(time.Minute)
				e.post(conv.ID, message.DataSource("ds1"), "answer")
				rec := &notify.Recorder{}
				w := e.worker("w1", rec)
				e.clock.Advance(window - time.Minute)
				assert.Equal(t, 0, runOnce(t, w), "the seller answered: no email about the question")
				e.clock.Advance(time.Minute)
				assert.Equal(t, 1, runOnce(t, w))
				notes := rec.Notifications()
				require.Len(t, notes, 1)
				assert.Equal(t, user(conv), notes[0].Recipient)
				assert.Equal(t, []string{"answer"}, contents(notes[0].Messages))
			})

			t.Run("EventsAfterAFailedAttemptGoSeparately", func(t *testing.T) {
				e := newEnv(t, window)
				useSource(e)
				conv, _ := e.start("u1", "one")
				e.post(conv.ID, message.User("u1", message.UserRegistered), "two")
				n := &flaky{failures: 1}
				w := e.worker("w1", n)
				e.clock.Advance(window)
				assert.Equal(t, 0, runOnce(t, w), "the first attempt fails")
				require.Len(t, n.calls, 1)
				failedKey := n.calls[0].Key

				e.post(conv.ID, message.User("u1", message.UserRegistered), "three")
				e.clock.Advance(time.Second) // the retry is due; "three" is pulled in
				assert.Equal(t, 2, runOnce(t, w))
				require.Len(t, n.ok, 2)
				assert.Equal(t, failedKey, n.ok[0].Key, "the retry has the key and the events of the failed attempt")
				assert.Equal(t, []string{"one", "two"}, contents(n.ok[0].Messages))
				assert.Equal(t, eventIDs(n.calls[0].Events), eventIDs(n.ok[0].Events))
				assert.NotEqual(t, failedKey, n.ok[1].Key, "a receiver that has seen the first key still gets \"three\"")
				assert.Equal(t, []string{"three"}, contents(n.ok[1].Messages))
			})
		})
	}

	// The worker reads from the later of the recipient's read position
	// and the first message of its events, and stops at the last.
	t.Run("ReadsOnlyWhatItNeeds", func(t *testing.T) {
		e := newEnv(t, window)
		cs := &countingSource{Store: e.st}
		e.src = cs
		conv, _ := e.start("u1", "one")
		for i := range 150 {
			e.post(conv.ID, message.DataSource("ds1"), fmt.Sprint("reply ", i)) // the seller reads as it writes
		}
		for i := range 40 {
			e.postSilently(conv.ID, message.User("u1", message.UserRegistered), fmt.Sprint("unnotified ", i))
		}
		e.clock.Advance(time.Minute)
		var burst []message.Message
		for i := range 10 {
			burst = append(burst, e.post(conv.ID, message.User("u1", message.UserRegistered), fmt.Sprint("burst ", i)))
		}
		e.postSilently(conv.ID, message.User("u1", message.UserRegistered), "after the burst")
		e.read(conv.ID, conversation.SideSeller, burst[3].ID) // read past the first four of the burst
		cs.mu.Lock()
		cs.read = nil
		cs.mu.Unlock()

		rec := &notify.Recorder{}
		w := e.worker("w1", rec)
		e.clock.Advance(window)
		for runOnce(t, w) > 0 {
		}
		var toSeller []notify.Notification
		for _, n := range rec.Notifications() {
			if n.Recipient.Kind == message.SenderDataSource {
				toSeller = append(toSeller, n)
			}
		}
		require.Len(t, toSeller, 1, "\"one\" and the burst go together")
		assert.Equal(t, []string{"burst 4", "burst 5", "burst 6", "burst 7", "burst 8", "burst 9"}, contents(toSeller[0].Messages),
			"the seller read \"one\" by answering it, and the first four of the burst")
		assert.Len(t, toSeller[0].Events, 11)

		// Not one message at or before the read position: not "one", the
		// replies, the silent messages or the first of the burst.
		seqs := cs.seqsRead()
		require.GreaterOrEqual(t, len(seqs), 6)
		for i, m := range burst[4:] {
			assert.Equal(t, m.Seq, seqs[i])
		}
		assert.LessOrEqual(t, len(seqs), 11, "at most one page of as many messages as there are events: %v", seqs)
		for _, seq := range seqs {
			assert.Greater(t, seq, burst[3].Seq, "read at or before the read position")
		}
	})
}

func TestWorker_Run(t *testing.T) {
	e := newEnv(t, 0)
	e.start("u1", "hello")
	got := make(chan notify.Notification, 1)
	w := e.worker("w1", notify.Func(func(_ context.Context, n notify.Notification) error {
		got <- n
		return nil
	}), func(c *notify.WorkerConfig) { c.PollInterval = time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	select {
	case n := <-got:
		assert.Equal(t, []string{"hello"}, contents(n.Messages))
	case <-time.After(time.Minute):
		t.Fatal("Run delivered nothing") // a guard against a hang, not a timing assertion
	}
	cancel()
	require.NoError(t, <-done, "Run returns nil when its context ends")
}

func TestWorkerConfig_Validate(t *testing.T) {
	require.NoError(t, notify.DefaultWorkerConfig().Validate())
	assert.NotEqual(t, notify.DefaultWorkerConfig().Name, notify.DefaultWorkerConfig().Name, "random names")
	for name, f := range map[string]func(*notify.WorkerConfig){
		"PollInterval":  func(c *notify.WorkerConfig) { c.PollInterval = 0 },
		"BatchSize":     func(c *notify.WorkerConfig) { c.BatchSize = 0 },
		"LeaseTooShort": func(c *notify.WorkerConfig) { c.Lease = c.NotifyTimeout },
		"NotifyTimeout": func(c *notify.WorkerConfig) { c.NotifyTimeout = 0 },
		"MaxAttempts":   func(c *notify.WorkerConfig) { c.MaxAttempts = 0 },
		"BackoffBase":   func(c *notify.WorkerConfig) { c.BackoffBase = 0 },
		"BackoffMax":    func(c *notify.WorkerConfig) { c.BackoffMax = c.BackoffBase - 1 },
		"DigestWindow":  func(c *notify.WorkerConfig) { c.DigestWindow = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := notify.DefaultWorkerConfig()
			f(&cfg)
			require.ErrorIs(t, cfg.Validate(), notify.ErrInvalidConfig)
			_, err := notify.NewWorker(memory.New(), memory.New(), notify.Nop{}, cfg)
			require.ErrorIs(t, err, notify.ErrInvalidConfig)
		})
	}
	t.Run("MissingParts", func(t *testing.T) {
		_, err := notify.NewWorker(nil, memory.New(), notify.Nop{}, notify.DefaultWorkerConfig())
		require.ErrorIs(t, err, notify.ErrInvalidConfig)
	})
	t.Run("DefaultJitterStaysWithinHalfAndAll", func(t *testing.T) {
		e := newEnv(t, 0)
		e.start("u1", "hello")
		rec := &notify.Recorder{Err: errors.New("down")}
		w := e.worker("w1", rec, func(c *notify.WorkerConfig) { c.Jitter = nil; c.BackoffBase = time.Minute })
		assert.Equal(t, 0, runOnce(t, w))
		e.clock.Advance(30*time.Second - time.Microsecond)
		assert.Equal(t, 0, runOnce(t, w))
		assert.Len(t, rec.Notifications(), 1, "not due before half the backoff")
		e.clock.Advance(30*time.Second + time.Microsecond)
		assert.Equal(t, 0, runOnce(t, w))
		assert.Len(t, rec.Notifications(), 2, "due after the whole backoff")
	})
}
