package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// changeLog returns h's store as a store.ChangeLog.
func (h *harness) changeLog() store.ChangeLog { return h.s.(store.ChangeLog) }

// changes returns the page of q, failing the test on error.
func (h *harness) changes(q store.ChangeQuery) store.ChangePage {
	h.t.Helper()
	p, err := h.changeLog().Changes(h.ctx, q)
	require.NoError(h.t, err)
	return p
}

// allChanges returns every change of the log after after.
func (h *harness) allChanges(after int64) []store.ChangeEntry {
	h.t.Helper()
	return h.changes(store.ChangeQuery{After: after, Limit: 1 << 20}).Changes
}

// withoutPositions returns cs with their positions zeroed, checking on
// the way that the positions are positive and ascending.
func withoutPositions(t *testing.T, cs []store.ChangeEntry) []store.ChangeEntry {
	t.Helper()
	out := make([]store.ChangeEntry, len(cs))
	var last int64
	for i, c := range cs {
		require.Greater(t, c.Position, last, "positions ascend: %+v", cs)
		last = c.Position
		requireUTC(t, "change", c.At)
		c.Position = 0
		c.At = c.At.UTC()
		out[i] = c
	}
	return out
}

// testChangeLog checks the optional store.ChangeLog: what each write logs
// (and what it does not), the queries by channel and party, Head and
// Horizon, trimming, and readers that follow the log while writers
// commit concurrently.
func (f factory) testChangeLog(t *testing.T) {
	if _, ok := f.new(t).s.(store.ChangeLog); !ok {
		t.Skip("the store does not implement the optional store.ChangeLog")
	}

	t.Run("LogsWrites", func(t *testing.T) {
		h := f.new(t)
		empty := h.changes(store.ChangeQuery{Limit: 10})
		require.Empty(t, empty.Changes)
		require.Zero(t, empty.Head)
		require.Zero(t, empty.Horizon)

		created := h.create()
		c, first := created.Conversation, created.Message
		want := []store.ChangeEntry{store.ChangeOf(store.ChangeStarted, c, conversation.SideUser, first.ID, 1, first.CreatedAt)}

		posted := h.append(c, conversation.SideSeller)
		want = append(want, store.ChangeOf(store.ChangeMessage, posted.Conversation, conversation.SideSeller,
			posted.Message.ID, 2, posted.Message.CreatedAt))

		// A replay logs nothing.
		p := h.appendParams(c, conversation.SideUser)
		p.Idempotency = idem("user", "k1", "fp")
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		want = append(want, store.ChangeOf(store.ChangeMessage, res.Conversation, conversation.SideUser,
			res.Message.ID, 3, res.Message.CreatedAt))
		_, err = h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)

		// A refused write logs nothing.
		refuse := &errCheck{"no"}
		_, err = h.s.AppendMessage(h.ctx, guarded(h.appendParams(c, conversation.SideUser),
			func(conversation.Conversation) error { return refuse }))
		requireCheckErr(t, refuse, err)
		_, err = h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusClosed,
			At: h.tick(), Check: func(conversation.Conversation) error { return refuse }})
		requireCheckErr(t, refuse, err)

		// The seller reads up to the user's message: a receipt; reading
		// the same again moves nothing and logs nothing.
		readAt := h.tick()
		read, err := h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideSeller,
			UpToMessageID: res.Message.ID, At: readAt})
		require.NoError(t, err)
		want = append(want, store.ChangeOf(store.ChangeRead, read, conversation.SideSeller, res.Message.ID, 3, readAt))
		_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideSeller,
			UpToMessageID: first.ID, At: h.tick()})
		require.NoError(t, err)

		// Closing logs; closing again does not.
		closedAt := h.tick()
		closed, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusClosed,
			At: closedAt, Side: conversation.SideSeller})
		require.NoError(t, err)
		want = append(want, store.ChangeOf(store.ChangeStatus, closed, conversation.SideSeller, 0, 0, closedAt))
		_, err = h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusClosed, At: h.tick()})
		require.NoError(t, err)

		got := h.changes(store.ChangeQuery{Limit: 100})
		require.Equal(t, want, withoutPositions(t, got.Changes))
		require.Equal(t, got.Changes[len(got.Changes)-1].Position, got.Head, "Head is the newest position")
		require.Zero(t, got.Horizon)

		// After and Limit page through the log.
		var paged []store.ChangeEntry
		for after := int64(0); ; {
			pg := h.changes(store.ChangeQuery{After: after, Limit: 2})
			require.LessOrEqual(t, len(pg.Changes), 2)
			require.Equal(t, got.Head, pg.Head)
			if len(pg.Changes) == 0 {
				break
			}
			paged = append(paged, pg.Changes...)
			after = pg.Changes[len(pg.Changes)-1].Position
		}
		require.Equal(t, got.Changes, paged)
		require.Empty(t, h.changes(store.ChangeQuery{After: got.Head, Limit: 10}).Changes)
		require.Empty(t, h.changes(store.ChangeQuery{Limit: 0}).Changes, "limit 0 returns no changes")
	})

	t.Run("Parties", func(t *testing.T) {
		h := f.new(t)
		a := h.create().Conversation // user-1, ds-1, main
		b := h.create(func(c *conversation.Conversation) { c.DataSourceID = "ds-2" }).Conversation
		o := h.create(func(c *conversation.Conversation) { c.Channel = chOther; c.UserID = a.UserID }).Conversation
		h.append(a, conversation.SideSeller)
		h.append(b, conversation.SideSeller)
		h.append(o, conversation.SideSeller)

		convs := func(cs []store.ChangeEntry) []int64 {
			var ids []int64
			for _, c := range cs {
				ids = append(ids, c.ConversationID)
			}
			return ids
		}
		q := func(q store.ChangeQuery) []int64 { q.Limit = 100; return convs(h.changes(q).Changes) }
		require.Equal(t, []int64{a.ID, b.ID, o.ID, a.ID, b.ID, o.ID}, q(store.ChangeQuery{}))
		require.Equal(t, []int64{a.ID, b.ID, a.ID, b.ID}, q(store.ChangeQuery{Channel: chMain}))
		require.Equal(t, []int64{a.ID, a.ID}, q(store.ChangeQuery{Channel: chMain, UserID: a.UserID}))
		require.Equal(t, []int64{o.ID, o.ID}, q(store.ChangeQuery{Channel: chOther, UserID: a.UserID}))
		require.Equal(t, []int64{a.ID, a.ID}, q(store.ChangeQuery{Channel: chMain, DataSourceID: "ds-1"}))
		require.Equal(t, []int64{b.ID, b.ID}, q(store.ChangeQuery{Channel: chMain, DataSourceID: "ds-2"}))
		require.Empty(t, q(store.ChangeQuery{Channel: chMain, DataSourceID: "ds-3"}))
		require.Empty(t, q(store.ChangeQuery{Channel: "nowhere"}))

		// Limit counts the changes returned, not the ones passed over.
		pg := h.changes(store.ChangeQuery{Channel: chMain, DataSourceID: "ds-2", Limit: 1})
		require.Equal(t, []int64{b.ID}, convs(pg.Changes))
	})

	t.Run("ErrInvalidQuery", func(t *testing.T) {
		h := f.new(t)
		h.create()
		before := h.snapshot()
		for name, q := range map[string]store.ChangeQuery{
			"NegativeAfter": {After: -1, Limit: 1},
			"NegativeLimit": {Limit: -1},
			"BothParties":   {Channel: chMain, UserID: "u", DataSourceID: "d", Limit: 1},
			"NoChannel":     {UserID: "u", Limit: 1},
		} {
			_, err := h.changeLog().Changes(h.ctx, q)
			require.ErrorIs(t, err, store.ErrInvalidQuery, name)
		}
		h.requireUnchanged(before)
	})

	t.Run("TrimChanges", func(t *testing.T) {
		h := f.new(t)
		a := h.create().Conversation
		h.append(a, conversation.SideSeller)
		cut := h.tick()
		b := h.create().Conversation
		h.append(b, conversation.SideSeller)
		all := h.allChanges(0)
		require.Len(t, all, 4)

		n, err := h.changeLog().TrimChanges(h.ctx, cut)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		pg := h.changes(store.ChangeQuery{Limit: 10})
		require.Equal(t, all[2:], pg.Changes, "the changes at and after the cut stay")
		require.Equal(t, all[1].Position, pg.Horizon, "Horizon is the highest position removed")
		require.Equal(t, all[3].Position, pg.Head)

		// Trimming nothing keeps the horizon; trimming everything
		// keeps Head.
		n, err = h.changeLog().TrimChanges(h.ctx, cut)
		require.NoError(t, err)
		require.Zero(t, n)
		require.Equal(t, all[1].Position, h.changes(store.ChangeQuery{}).Horizon)
		n, err = h.changeLog().TrimChanges(h.ctx, h.tick())
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		pg = h.changes(store.ChangeQuery{Limit: 10})
		require.Empty(t, pg.Changes)
		require.Equal(t, all[3].Position, pg.Horizon)
		require.Equal(t, all[3].Position, pg.Head, "Head stays where the log was")

		// New changes continue above.
		h.append(b, conversation.SideUser)
		pg = h.changes(store.ChangeQuery{Limit: 10})
		require.Len(t, pg.Changes, 1)
		require.Greater(t, pg.Changes[0].Position, all[3].Position)
	})

	t.Run("ConcurrentReaders", func(t *testing.T) {
		// Writers post to many conversations while a reader follows the
		// log with the last position it saw: it must see every change
		// once, and each conversation's messages in Seq order, however
		// the writers' commits interleave.
		h := f.new(t)
		const convs, perConv = 8, 12
		cs := make([]conversation.Conversation, convs)
		for i := range cs {
			cs[i] = h.create().Conversation
		}
		start := h.changes(store.ChangeQuery{}).Head
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, convs*perConv)
		for i := range cs {
			for w := 0; w < 2; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < perConv/2; j++ {
						if _, err := h.s.AppendMessage(ctx, h.appendParams(cs[i], conversation.SideUser)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()

		var seen []store.ChangeEntry
		after := start
		follow := func() error {
			pg, err := h.changeLog().Changes(ctx, store.ChangeQuery{After: after, Limit: 7})
			if err != nil {
				return err
			}
			if len(pg.Changes) > 0 {
				after = pg.Changes[len(pg.Changes)-1].Position
				seen = append(seen, pg.Changes...)
			}
			return nil
		}
		guard := time.After(feedGuard)
	loop:
		for {
			require.NoError(t, follow())
			select {
			case <-done:
				break loop
			case <-guard:
				t.Fatal("the writers did not finish")
			default:
			}
		}
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		for len(seen) < convs*perConv {
			n := len(seen)
			require.NoError(t, follow())
			if len(seen) == n {
				break
			}
		}
		require.Len(t, seen, convs*perConv, "every change seen once")
		lastSeq := map[int64]int64{}
		ids := map[int64]bool{}
		for _, c := range seen {
			require.Equal(t, store.ChangeMessage, c.Kind)
			require.False(t, ids[c.MessageID], "message %d seen twice", c.MessageID)
			ids[c.MessageID] = true
			require.Greater(t, c.Seq, lastSeq[c.ConversationID], "a conversation's messages in order")
			lastSeq[c.ConversationID] = c.Seq
		}
		require.Equal(t, seen, h.allChanges(start), "a later read agrees with the follower")
	})

	t.Run("Closed", func(t *testing.T) {
		h := f.new(t)
		require.NoError(t, h.s.Close())
		_, err := h.changeLog().Changes(h.ctx, store.ChangeQuery{Limit: 1})
		require.True(t, errors.Is(err, store.ErrClosed), "got %v", err)
		_, err = h.changeLog().TrimChanges(h.ctx, time.Now())
		require.True(t, errors.Is(err, store.ErrClosed), "got %v", err)
	})
}
