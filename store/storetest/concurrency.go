package storetest

import (
	"errors"
	"fmt"
	"runtime"
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

// race runs fn(0..n-1) in n goroutines released together, and waits for
// them. fn must not call require (use assert or return values).
func race(n int, fn func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	done.Add(n)
	for i := range n {
		go func() {
			defer done.Done()
			start.Wait()
			fn(i)
		}()
	}
	start.Done()
	done.Wait()
}

// requireUnreadConsistent checks that each side's unread count is the
// number of the other side's messages after its read position.
func requireUnreadConsistent(t *testing.T, c conversation.Conversation, msgs []message.Message) {
	t.Helper()
	for _, s := range []conversation.Side{conversation.SideUser, conversation.SideSeller} {
		rs := c.Read(s)
		var unread int64
		for _, m := range msgs {
			if m.Seq > rs.ReadSeq && m.Sender.Kind == message.SenderKind(s.Other()) {
				unread++
			}
		}
		require.Equal(t, unread, rs.Unread, "side %s: unread must equal the recount (read state %+v)", s, rs)
		require.LessOrEqual(t, rs.ReadSeq, c.LastSeq)
	}
}

// requireDense checks that msgs are the messages 1..n of c, in order, each
// once, with ids growing with Seq, dated in Seq order, and that c agrees.
func requireDense(t *testing.T, c conversation.Conversation, msgs []message.Message, n int) {
	t.Helper()
	require.Len(t, msgs, n)
	for i, m := range msgs {
		require.Equal(t, int64(i+1), m.Seq, "Seq is dense")
		require.Equal(t, c.ID, m.ConversationID)
		if i > 0 {
			require.Greater(t, m.ID, msgs[i-1].ID, "ids grow with Seq (message %d)", m.Seq)
			require.False(t, m.CreatedAt.Before(msgs[i-1].CreatedAt),
				"message %d is dated %v, before message %d (%v): times must not decrease with Seq", m.Seq, m.CreatedAt, i, msgs[i-1].CreatedAt)
		}
	}
	require.Equal(t, int64(n), c.LastSeq)
	require.Equal(t, int64(n), c.MessageCount)
	require.Equal(t, msgs[n-1].ID, c.LastMessageID)
	require.True(t, msgs[n-1].CreatedAt.Equal(c.LastMessageAt))
}

func (f factory) testConcurrency(t *testing.T) {
	t.Run("CreateSameKey", func(t *testing.T) {
		h := f.new(t)
		const n = 50
		userID := h.unique("user")
		params := make([]store.CreateParams, n)
		for i := range params {
			params[i] = h.createParams(h.draft(func(c *conversation.Conversation) { c.UserID = userID }))
		}
		results := make([]store.CreateResult, n)
		errs := make([]error, n)
		race(n, func(i int) { results[i], errs[i] = h.s.CreateConversation(h.ctx, params[i]) })

		winner := -1
		for i, err := range errs {
			if err == nil {
				require.Equal(t, -1, winner, "two creates of one key succeeded")
				winner = i
			}
		}
		require.NotEqual(t, -1, winner, "no create succeeded: %v", errors.Join(errs...))
		id := results[winner].Conversation.ID
		for i, err := range errs {
			if i == winner {
				continue
			}
			var exists *store.ConversationExistsError
			require.ErrorAs(t, err, &exists, "goroutine %d", i)
			require.Equal(t, id, exists.ID, "goroutine %d", i)
		}
		require.Equal(t, []int64{id}, convIDs(h.listAll(chMain)))
		require.Len(t, h.messages(id), 1)
		evs := h.peekEvents()
		require.Len(t, evs, 1)
		require.Equal(t, params[winner].Events[0].ID, evs[0].ID)
	})

	t.Run("AppendSeq", func(t *testing.T) {
		h := f.new(t)
		const workers, each = 8, 25
		c := h.create().Conversation
		params := make([][]store.AppendParams, workers)
		for w := range params {
			side := []conversation.Side{conversation.SideUser, conversation.SideSeller}[w%2]
			for range each {
				params[w] = append(params[w], h.appendParams(c, side))
			}
		}
		results := make([][]message.Message, workers)
		errs := make([]error, workers)
		race(workers, func(w int) {
			for _, p := range params[w] {
				// Prepare sees the conversation as it is at some point
				// of the write, never a state after the message.
				var checked int64
				p = guarded(p, func(cur conversation.Conversation) error {
					runtime.Gosched()
					checked = cur.LastSeq
					return nil
				})
				res, err := h.s.AppendMessage(h.ctx, p)
				if err != nil {
					errs[w] = err
					return
				}
				if res.Message.Seq <= checked {
					errs[w] = fmt.Errorf("Prepare saw LastSeq %d, the message got Seq %d", checked, res.Message.Seq)
					return
				}
				results[w] = append(results[w], res.Message)
			}
		})
		require.NoError(t, errors.Join(errs...))

		final := h.get(c.ID)
		msgs := h.messages(c.ID)
		requireDense(t, final, msgs, 1+workers*each)
		byID := make(map[int64]message.Message)
		for _, m := range msgs {
			byID[m.ID] = m
		}
		for w, ms := range results {
			for i, m := range ms {
				requireMsg(t, byID[m.ID], m, "worker %d's message %d is stored as returned", w, i)
				if i > 0 {
					require.Greater(t, m.Seq, ms[i-1].Seq, "worker %d's messages in order", w)
				}
			}
		}
		requireUnreadConsistent(t, final, msgs)
		require.Len(t, h.peekEvents(), 1+workers*each)
	})

	t.Run("PollAfterLastSeen", func(t *testing.T) {
		h := f.new(t)
		const workers, each = 4, 25
		c := h.create().Conversation
		params := make([][]store.AppendParams, workers)
		for w := range params {
			for range each {
				params[w] = append(params[w], h.appendParams(c, conversation.SideSeller))
			}
		}
		done := make(chan struct{})
		errs := make([]error, workers)
		go func() {
			defer close(done)
			race(workers, func(w int) {
				for _, p := range params[w] {
					if _, err := h.s.AppendMessage(h.ctx, p); err != nil {
						errs[w] = err
						return
					}
				}
			})
		}()

		var seen []message.Message
		last := int64(0)
		for polls := 0; ; polls++ {
			require.Less(t, polls, 1_000_000, "the poller does not finish")
			finished := false
			select {
			case <-done:
				finished = true
			default:
			}
			ms, err := h.s.MessagesAfter(h.ctx, message.After{ConversationID: c.ID, ID: last, Limit: 7})
			require.NoError(t, err)
			for _, m := range ms {
				require.Equal(t, int64(len(seen)+1), m.Seq, "the poller sees every message once, in order")
				seen = append(seen, m)
			}
			if len(ms) > 0 {
				last = ms[len(ms)-1].ID
			} else if finished {
				break
			} else {
				runtime.Gosched()
			}
		}
		require.NoError(t, errors.Join(errs...))
		requireDense(t, h.get(c.ID), seen, 1+workers*each)
		requireMsgs(t, h.messages(c.ID), seen)
	})

	t.Run("IdempotentAppend", func(t *testing.T) {
		h := f.new(t)
		const n = 50
		c := h.create().Conversation
		params := make([]store.AppendParams, n)
		for i := range params {
			params[i] = h.appendParams(c, conversation.SideSeller)
			params[i].Idempotency = idem("ds:ds-1", "retry-key", "fp")
		}
		results := make([]store.AppendResult, n)
		errs := make([]error, n)
		race(n, func(i int) { results[i], errs[i] = h.s.AppendMessage(h.ctx, params[i]) })
		require.NoError(t, errors.Join(errs...))

		first := -1
		for i, r := range results {
			if !r.Replayed {
				require.Equal(t, -1, first, "two appends with one idempotency key were not replays")
				first = i
			}
		}
		require.NotEqual(t, -1, first)
		for i, r := range results {
			requireMsg(t, results[first].Message, r.Message, "goroutine %d gets the one message", i)
		}
		msgs := h.messages(c.ID)
		require.Len(t, msgs, 2)
		requireMsg(t, results[first].Message, msgs[1])
		require.Len(t, h.peekEvents(), 2)
	})

	t.Run("IdempotentCreate", func(t *testing.T) {
		h := f.new(t)
		const n = 50
		userID := h.unique("user")
		params := make([]store.CreateParams, n)
		for i := range params {
			params[i] = h.createParams(h.draft(func(c *conversation.Conversation) { c.UserID = userID }))
			params[i].Idempotency = idem("user:"+userID, "retry-key", "fp")
		}
		results := make([]store.CreateResult, n)
		errs := make([]error, n)
		race(n, func(i int) { results[i], errs[i] = h.s.CreateConversation(h.ctx, params[i]) })
		require.NoError(t, errors.Join(errs...), "a retry gets the first result, not ErrConversationExists")

		first := -1
		for i, r := range results {
			if !r.Replayed {
				require.Equal(t, -1, first, "two creates with one idempotency key were not replays")
				first = i
			}
		}
		require.NotEqual(t, -1, first)
		for i, r := range results {
			require.Equal(t, results[first].Conversation.ID, r.Conversation.ID, "goroutine %d", i)
			requireMsg(t, results[first].Message, r.Message, "goroutine %d", i)
		}
		require.Len(t, h.listAll(chMain), 1)
		require.Len(t, h.peekEvents(), 1)
	})

	t.Run("ClaimWorkers", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		var specs []due
		for i := range 48 {
			at := now.Add(-time.Duration(i%5) * time.Second)
			if i%6 == 5 {
				at = now.Add(time.Hour) // not due: claimed only with a digest
			}
			specs = append(specs, due{at, fmt.Sprintf("key-%d", i%8)})
		}
		var evs []notify.Event
		for i := 0; i < len(specs); i += 12 {
			evs = append(evs, h.storeEvents(specs[i:i+12]...)...)
		}
		const workers = 4
		claimed := make([][]notify.Event, workers)
		errs := make([]error, workers)
		race(workers, func(w int) {
			for range 100 {
				got, err := h.s.ClaimEvents(h.ctx, notify.ClaimParams{
					Worker: fmt.Sprintf("worker-%d", w), Now: now, Lease: time.Hour, Limit: 3, Digest: w%2 == 0,
				})
				if err != nil {
					errs[w] = err
					return
				}
				if len(got) == 0 {
					return
				}
				claimed[w] = append(claimed[w], got...)
			}
		})
		require.NoError(t, errors.Join(errs...))

		by := make(map[string]int)
		for w, got := range claimed {
			for _, e := range got {
				prev, dup := by[e.ID]
				require.False(t, dup, "event %s claimed by worker %d and worker %d", e.ID, prev, w)
				by[e.ID] = w
				require.Equal(t, 1, e.Attempts)
			}
		}
		for _, e := range evs {
			if !e.DueAt.After(now) {
				require.Contains(t, by, e.ID, "due event %s claimed", e.ID)
			}
		}
	})

	t.Run("MarkReadWhileAppending", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		const each = 15
		var params [][]store.AppendParams
		for _, s := range []conversation.Side{conversation.SideSeller, conversation.SideSeller, conversation.SideUser} {
			var ps []store.AppendParams
			for range each {
				ps = append(ps, h.appendParams(c, s))
			}
			params = append(params, ps)
		}
		var mu sync.Mutex
		var errs []error
		fail := func(err error) {
			mu.Lock()
			defer mu.Unlock()
			errs = append(errs, err)
		}
		race(len(params)+2, func(w int) {
			if w < len(params) {
				for _, p := range params[w] {
					if _, err := h.s.AppendMessage(h.ctx, p); err != nil {
						fail(err)
						return
					}
				}
				return
			}
			side := []conversation.Side{conversation.SideUser, conversation.SideSeller}[w-len(params)]
			for range each {
				cur, err := h.s.GetConversation(h.ctx, c.ID)
				if err != nil {
					fail(err)
					return
				}
				got, err := h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: side, UpToMessageID: cur.LastMessageID})
				if err != nil {
					fail(err)
					return
				}
				assert.GreaterOrEqual(t, got.Read(side).ReadSeq, cur.LastSeq, "read up to the message")
			}
		})
		require.NoError(t, errors.Join(errs...))
		final := h.get(c.ID)
		msgs := h.messages(c.ID)
		requireDense(t, final, msgs, 1+3*each)
		requireUnreadConsistent(t, final, msgs)
	})

	t.Run("PrepareIsAtomic", func(t *testing.T) {
		// Writers whose Prepare refuses a closed conversation race with a
		// party that closes and reopens it: no message may be stored
		// while it is closed, so each reopening finds the LastSeq its
		// closing left.
		h := f.new(t)
		c := h.create().Conversation
		errClosed := &errCheck{"closed"}
		open := func(cur conversation.Conversation) error {
			runtime.Gosched()
			if cur.Status != conversation.StatusOpen {
				return errClosed
			}
			return nil
		}
		const workers, each, toggles = 6, 10, 5
		var params [][]store.AppendParams
		for w := range workers {
			var ps []store.AppendParams
			for range each {
				p := h.appendParams(c, []conversation.Side{conversation.SideUser, conversation.SideSeller}[w%2])
				ps = append(ps, guarded(p, open))
			}
			params = append(params, ps)
		}
		var times []time.Time
		for range 2 * toggles {
			times = append(times, h.tick())
		}
		type pair struct{ closed, reopened conversation.Conversation }
		var pairs []pair
		var toggleErr error
		ok := make([]int, workers)
		errs := make([]error, workers)
		race(workers+1, func(w int) {
			if w == workers {
				for i := range toggles {
					runtime.Gosched()
					var p pair
					if p.closed, toggleErr = h.s.SetStatus(h.ctx, store.StatusParams{
						ConversationID: c.ID, Status: conversation.StatusClosed, At: times[2*i],
					}); toggleErr != nil {
						return
					}
					runtime.Gosched()
					if p.reopened, toggleErr = h.s.SetStatus(h.ctx, store.StatusParams{
						ConversationID: c.ID, Status: conversation.StatusOpen, At: times[2*i+1],
					}); toggleErr != nil {
						return
					}
					pairs = append(pairs, p)
				}
				return
			}
			for _, p := range params[w] {
				_, err := h.s.AppendMessage(h.ctx, p)
				switch {
				case err == nil:
					ok[w]++
				case err == error(errClosed):
				default:
					errs[w] = err
					return
				}
			}
		})
		require.NoError(t, toggleErr)
		require.NoError(t, errors.Join(errs...))
		for i, p := range pairs {
			require.Equal(t, conversation.StatusClosed, p.closed.Status)
			require.Equal(t, p.closed.LastSeq, p.reopened.LastSeq, "toggle %d: a message was stored while the conversation was closed", i)
		}
		total := 0
		for _, n := range ok {
			total += n
		}
		final := h.get(c.ID)
		require.Equal(t, int64(1+total), final.LastSeq, "every message whose Prepare passed was written")
		requireDense(t, final, h.messages(c.ID), 1+total)
		require.Len(t, h.peekEvents(), 1+total, "one event per message written, none for the refused")
	})
}
