package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// newestFirst returns ms (oldest first) newest first, at most k of them.
func newestFirst(ms []message.Message, k int) []message.Message {
	out := slices.Clone(ms[max(len(ms)-k, 0):])
	slices.Reverse(out)
	return out
}

func (f factory) testMessageSets(t *testing.T) {
	// setup stores conversations of 1 to n messages, written interleaved
	// (so that a conversation's ids are not contiguous), and returns them
	// with their messages, oldest first.
	setup := func(h *harness, n int) ([]conversation.Conversation, [][]message.Message) {
		cs := make([]conversation.Conversation, n)
		for i := range cs {
			cs[i] = h.create().Conversation
		}
		for round := 1; round < n; round++ {
			for i := round; i < n; i++ {
				cs[i] = h.append(cs[i], []conversation.Side{conversation.SideSeller, conversation.SideUser}[(i+round)%2]).Conversation
			}
		}
		msgs := make([][]message.Message, n)
		for i, c := range cs {
			msgs[i] = h.messages(c.ID)
			require.Len(h.t, msgs[i], i+1)
		}
		return cs, msgs
	}
	sets := func(h *harness, ids []int64, k int) [][]message.Message {
		h.t.Helper()
		got, err := h.s.MessageSets(h.ctx, store.MessageSetQuery{ConversationIDs: ids, Limit: k})
		require.NoError(h.t, err)
		require.Len(h.t, got, len(ids), "one set per id")
		return got
	}

	t.Run("NewestFirst", func(t *testing.T) {
		h := f.new(t)
		cs, msgs := setup(h, 6)
		// Listing order, not id order: the sets follow the ids given.
		ids := []int64{cs[3].ID, cs[0].ID, cs[5].ID, cs[1].ID, cs[4].ID, cs[2].ID}
		order := []int{3, 0, 5, 1, 4, 2}
		for _, k := range []int{1, 2, 3, 5, 6, 7, 1000} {
			got := sets(h, ids, k)
			for j, i := range order {
				want := newestFirst(msgs[i], k)
				requireMsgs(t, want, got[j], "conversation %d of %d messages, k=%d", cs[i].ID, i+1, k)
				page, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: cs[i].ID, Limit: k})
				require.NoError(t, err)
				requireMsgs(t, page.Items, got[j], "the first page of ListMessages, k=%d", k)
			}
		}
	})

	t.Run("UnknownIDs", func(t *testing.T) {
		h := f.new(t)
		cs, msgs := setup(h, 3)
		ids := []int64{0, cs[2].ID, -1, cs[2].ID + 1000, cs[0].ID, 1 << 62}
		got := sets(h, ids, 2)
		for _, i := range []int{0, 2, 3, 5} {
			require.Empty(t, got[i], "id %d is no conversation", ids[i])
		}
		requireMsgs(t, newestFirst(msgs[2], 2), got[1])
		requireMsgs(t, newestFirst(msgs[0], 2), got[4])

		got = sets(h, []int64{cs[2].ID + 1000}, 5)
		require.Empty(t, got[0], "only unknown ids")
	})

	t.Run("Empty", func(t *testing.T) {
		h := f.new(t)
		require.Empty(t, sets(h, nil, 5), "no ids, empty store")
		setup(h, 2)
		require.Empty(t, sets(h, nil, 5), "no ids")
		require.Empty(t, sets(h, []int64{}, 5), "no ids")
	})

	t.Run("RepeatedIDs", func(t *testing.T) {
		h := f.new(t)
		cs, msgs := setup(h, 4)
		got := sets(h, []int64{cs[3].ID, cs[1].ID, cs[3].ID, cs[3].ID}, 3)
		for _, i := range []int{0, 2, 3} {
			requireMsgs(t, newestFirst(msgs[3], 3), got[i], "set %d", i)
		}
		requireMsgs(t, newestFirst(msgs[1], 3), got[1])
		got[0][0].Content = "changed by the caller"
		require.NotEqual(t, got[0][0].Content, got[2][0].Content, "each set is its own copy")
	})

	t.Run("ManyIDs", func(t *testing.T) {
		h := f.new(t)
		// 100 conversations of 1 to 3 messages, asked for with every id
		// twice, unknown ids between them.
		var cs []conversation.Conversation
		for i := range 100 {
			c := h.create().Conversation
			for range i % 3 {
				c = h.append(c, conversation.SideSeller).Conversation
			}
			cs = append(cs, c)
		}
		var ids []int64
		for _, c := range slices.Backward(cs) {
			ids = append(ids, c.ID, c.ID+1<<40)
		}
		for _, c := range cs {
			ids = append(ids, c.ID)
		}
		got := sets(h, ids, 2)
		for i, id := range ids {
			if id >= 1<<40 {
				require.Empty(t, got[i], "id %d is no conversation", id)
				continue
			}
			want := newestFirst(h.messages(id), 2)
			requireMsgs(t, want, got[i], "conversation %d", id)
		}
	})

	t.Run("Visible", func(t *testing.T) {
		// With Visible, a set is the newest visible messages: hidden ones
		// are skipped, not counted. (Hiding is the optional
		// store.Moderation.)
		h := f.new(t)
		cs, msgs := setup(h, 6)
		c := cs[5]
		for _, m := range []message.Message{msgs[5][5], msgs[5][3], msgs[5][2]} {
			c = h.hide(c, m.ID, true)
		}
		ids := []int64{c.ID, cs[1].ID}
		for _, k := range []int{1, 2, 3, 10} {
			got, err := h.s.MessageSets(h.ctx, store.MessageSetQuery{ConversationIDs: ids, Limit: k, Visible: true})
			require.NoError(t, err)
			var want []message.Message
			for _, m := range slices.Backward(h.messages(c.ID)) {
				if !m.Hidden && len(want) < k {
					want = append(want, m)
				}
			}
			requireMsgs(t, want, got[0], "k=%d", k)
			page, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: c.ID, Limit: k, Visible: true})
			require.NoError(t, err)
			requireMsgs(t, page.Items, got[0], "the first page of a Visible ListMessages, k=%d", k)
			requireMsgs(t, newestFirst(msgs[1], k), got[1], "a conversation without hidden messages, k=%d", k)

			all, err := h.s.MessageSets(h.ctx, store.MessageSetQuery{ConversationIDs: ids, Limit: k})
			require.NoError(t, err)
			requireMsgs(t, newestFirst(h.messages(c.ID), k), all[0], "without Visible, hidden messages count, k=%d", k)
		}
	})

	t.Run("BadLimit", func(t *testing.T) {
		h := f.new(t)
		cs, _ := setup(h, 2)
		for _, k := range []int{0, -1} {
			got, err := h.s.MessageSets(h.ctx, store.MessageSetQuery{ConversationIDs: []int64{cs[1].ID}, Limit: k})
			require.Error(t, err, fmt.Sprintf("limit %d", k))
			require.Nil(t, got)
		}
	})
}
