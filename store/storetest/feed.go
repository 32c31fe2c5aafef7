package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// feedGuard bounds every wait for the feed: it turns a feed that reports
// nothing into a failure instead of a hang; no test depends on it.
const feedGuard = 20 * time.Second

// watching runs WatchMessages on h's store until the test ends and
// returns the channel of reported conversation ids and the channel of its
// result.
func (h *harness) watching(ctx context.Context) (ids <-chan int64, done <-chan error) {
	feed := h.s.(store.MessageFeed)
	idc := make(chan int64, 4096)
	donec := make(chan error, 1)
	go func() { donec <- feed.WatchMessages(ctx, func(id int64) { idc <- id }) }()
	return idc, donec
}

// awaitReported waits until every conversation of want has been
// reported, ignoring others.
func awaitReported(t *testing.T, ids <-chan int64, want ...int64) {
	t.Helper()
	missing := make(map[int64]bool, len(want))
	for _, id := range want {
		missing[id] = true
	}
	guard := time.After(feedGuard)
	for len(missing) > 0 {
		select {
		case id := <-ids:
			delete(missing, id)
		case <-guard:
			t.Fatalf("conversations %v never reported", missing)
		}
	}
}

// testMessageFeed checks the optional store.MessageFeed: what is appended
// after the feed has started is reported, by conversation id; the feed
// ends with its context; a closed store has no feed.
func (f factory) testMessageFeed(t *testing.T) {
	if _, ok := f.new(t).s.(store.MessageFeed); !ok {
		t.Skip("the store does not implement the optional store.MessageFeed")
	}

	t.Run("ReportsAppends", func(t *testing.T) {
		h := f.new(t)
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		a := h.create().Conversation
		ids, done := h.watching(ctx)

		// The feed reports what is appended from when it has started,
		// which the caller cannot observe: append until it reports.
		started := false
		for attempt := 0; attempt < 50 && !started; attempt++ {
			h.append(a, conversation.SideSeller)
			select {
			case id := <-ids:
				require.Equal(t, a.ID, id)
				started = true
			case <-time.After(feedGuard / 50):
			}
		}
		require.True(t, started, "the feed never reported an append")

		b, c := h.create().Conversation, h.create().Conversation
		h.append(b, conversation.SideSeller)
		h.append(c, conversation.SideUser)
		h.append(b, conversation.SideUser)
		awaitReported(t, ids, b.ID, c.ID)

		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled, "the feed returns its context's error")
		case <-time.After(feedGuard):
			t.Fatal("the feed did not end with its context")
		}
	})

	t.Run("ReportsChanges", func(t *testing.T) {
		h := f.new(t)
		if _, ok := h.s.(store.ChangeLog); !ok {
			t.Skip("the store keeps no change log")
		}
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		a := h.create().Conversation
		ids, _ := h.watching(ctx)
		started := false
		for attempt := 0; attempt < 50 && !started; attempt++ {
			h.append(a, conversation.SideSeller)
			select {
			case <-ids:
				started = true
			case <-time.After(feedGuard / 50):
			}
		}
		require.True(t, started, "the feed never reported an append")

		// A status change and a read receipt are reported without a
		// message. (Their starts are reported first: wait for those.)
		b, cr := h.create().Conversation, h.create()
		c, first := cr.Conversation, cr.Message
		awaitReported(t, ids, b.ID, c.ID)
		_, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: b.ID, Status: conversation.StatusClosed, At: h.tick()})
		require.NoError(t, err)
		awaitReported(t, ids, b.ID)
		_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideSeller, UpToMessageID: first.ID, At: h.tick()})
		require.NoError(t, err)
		awaitReported(t, ids, c.ID)
	})

	t.Run("ErrClosed", func(t *testing.T) {
		h := f.new(t)
		require.NoError(t, h.s.Close())
		err := h.s.(store.MessageFeed).WatchMessages(h.ctx, func(int64) { t.Error("a closed store reported a message") })
		require.True(t, errors.Is(err, store.ErrClosed), "got %v", err)
	})
}
