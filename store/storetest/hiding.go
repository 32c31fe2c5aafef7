package storetest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// hide hides (or shows) message msgID of c (0: c itself) and returns the
// conversation. It fails the test on error.
func (h *harness) hide(c conversation.Conversation, msgID int64, hidden bool) conversation.Conversation {
	h.t.Helper()
	action := moderation.ActionMessageHidden
	if msgID == 0 {
		action = moderation.ActionConversationHidden
	}
	e := h.entry(c, action)
	e.MessageID = msgID
	got, err := h.moderator().SetHidden(h.ctx, store.HideParams{ConversationID: c.ID, MessageID: msgID, Hidden: hidden, Audit: e})
	require.NoError(h.t, err)
	return got
}

// visible returns every message of conversation id that a Visible listing
// gives, newest first, paging two at a time, and the total it reports.
func (h *harness) visible(id int64) ([]message.Message, int64) {
	h.t.Helper()
	var out []message.Message
	q := store.MessageQuery{ConversationID: id, Limit: 2, Visible: true, WithTotal: true}
	total := int64(-1)
	for {
		page, err := h.s.ListMessages(h.ctx, q)
		require.NoError(h.t, err)
		require.LessOrEqual(h.t, len(page.Items), 2)
		if total == -1 {
			total = page.Total
		} else {
			require.Equal(h.t, total, page.Total, "the total ignores the cursor")
		}
		out = append(out, page.Items...)
		if !page.More {
			return out, total
		}
		q.BeforeSeq = page.Items[len(page.Items)-1].Seq
	}
}

func (f factory) testHiding(t *testing.T) {
	if _, ok := f.new(t).s.(store.Moderation); !ok {
		t.Skip("the store does not implement the optional store.Moderation")
	}

	t.Run("Message", func(t *testing.T) {
		h := f.new(t)
		c := h.create(func(c *conversation.Conversation) { c.Type = conversation.TypeQuestion }).Conversation
		for i := range 4 {
			c = h.append(c, []conversation.Side{conversation.SideSeller, conversation.SideUser}[i%2]).Conversation
		}
		msgs := h.messages(c.ID) // Seq 1..5
		before := h.get(c.ID)

		got := h.hide(c, msgs[1].ID, true)
		want := before
		want.HiddenMessages = 1
		requireConv(t, want, got, "only the count changes")
		requireConv(t, want, h.get(c.ID))
		got = h.hide(c, msgs[3].ID, true)
		got = h.hide(c, msgs[3].ID, true)
		want.HiddenMessages = 2
		requireConv(t, want, got, "hiding a hidden message changes nothing")

		all := h.messages(c.ID)
		for i, m := range all {
			hidden := i == 1 || i == 3
			assert.Equal(t, hidden, m.Hidden, "message %d", m.Seq)
			assert.Equal(t, msgs[i].Content, m.Content, "hidden content is kept")
		}
		after, err := h.s.MessagesAfter(h.ctx, message.After{ConversationID: c.ID, Limit: 10})
		require.NoError(t, err)
		requireMsgs(t, all, after, "MessagesAfter gives hidden messages as they are")
		vis, total := h.visible(c.ID)
		assert.Equal(t, []int64{5, 3, 1}, seqs(vis), "a Visible listing leaves them out, across pages")
		assert.EqualValues(t, 3, total)
		page, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: c.ID, Limit: 10, WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 5, page.Total, "a listing without Visible has them all")
		assert.Len(t, page.Items, 5)

		got = h.hide(c, msgs[1].ID, false)
		got = h.hide(c, msgs[1].ID, false)
		want.HiddenMessages = 1
		requireConv(t, want, got)
		vis, total = h.visible(c.ID)
		assert.Equal(t, []int64{5, 3, 2, 1}, seqs(vis))
		assert.EqualValues(t, 4, total)
		assert.Len(t, h.allAudit(store.AuditQuery{Channel: chMain, ConversationID: c.ID}), 5, "every action is audited")
	})

	t.Run("Conversation", func(t *testing.T) {
		h := f.new(t)
		public := func(c *conversation.Conversation) { c.Type = conversation.TypeReview }
		a, b, c := h.create(public).Conversation, h.create(public).Conversation, h.create(public).Conversation
		got := h.hide(b, 0, true)
		want := h.get(b.ID)
		assert.True(t, want.Hidden)
		requireConv(t, want, got)
		b.Hidden = true
		requireConv(t, b, got, "only Hidden changes")

		q := store.ConversationQuery{Channel: chMain, Types: []conversation.Type{conversation.TypeReview}, Visible: true, Limit: 1}
		assert.Equal(t, []int64{c.ID, a.ID}, convIDs(h.pageAll(q, 2)), "hidden conversations leave Visible listings at once")
		q.Filter.DataSourceID = "ds-1"
		assert.Equal(t, []int64{c.ID, a.ID}, convIDs(h.pageAll(q, 2)))
		q.Visible = false
		assert.Equal(t, []int64{c.ID, b.ID, a.ID}, convIDs(h.pageAll(q, 3)), "and stay in the others")

		h.hide(b, 0, false)
		q.Visible = true
		assert.Equal(t, []int64{c.ID, b.ID, a.ID}, convIDs(h.pageAll(q, 3)), "and come back when shown")
		assert.False(t, h.get(b.ID).Hidden)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		a, b := h.create().Conversation, h.create().Conversation
		before := h.snapshot()
		for _, p := range []store.HideParams{
			{ConversationID: b.ID + 100, Hidden: true},
			{ConversationID: b.ID + 100, MessageID: a.LastMessageID, Hidden: true},
			{ConversationID: a.ID, MessageID: b.LastMessageID, Hidden: true},
			{ConversationID: a.ID, MessageID: b.LastMessageID + 100, Hidden: true},
		} {
			p.Audit = h.entry(a, moderation.ActionMessageHidden)
			_, err := h.moderator().SetHidden(h.ctx, p)
			require.ErrorIs(t, err, store.ErrNotFound, "%+v", p)
		}
		h.requireUnchanged(before)
		assert.Empty(t, h.allAudit(store.AuditQuery{Channel: chMain}), "nothing audited")
	})

	t.Run("ConcurrentCounts", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		for range 7 {
			c = h.append(c, conversation.SideSeller).Conversation
		}
		msgs := h.messages(c.ID)
		m := h.moderator()
		// Every message is hidden by two writers at once, and every other
		// one shown again by a third.
		race(3*len(msgs), func(i int) {
			msg := msgs[i%len(msgs)]
			hidden := i < 2*len(msgs) || msg.Seq%2 == 1
			_, err := m.SetHidden(h.ctx, store.HideParams{ConversationID: c.ID, MessageID: msg.ID, Hidden: hidden,
				Audit: moderation.Entry{Channel: chMain, Staff: "s", Action: moderation.ActionMessageHidden, ConversationID: c.ID, MessageID: msg.ID, At: baseTime}})
			assert.NoError(t, err)
		})
		var hidden int64
		for _, msg := range h.messages(c.ID) {
			if msg.Hidden {
				hidden++
			}
		}
		assert.Equal(t, hidden, h.get(c.ID).HiddenMessages, "the count is the number of hidden messages")
		_, total := h.visible(c.ID)
		assert.Equal(t, int64(len(msgs))-hidden, total)
		assert.Len(t, h.allAudit(store.AuditQuery{Channel: chMain}), 3*len(msgs))
	})

	t.Run("Context", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		_, err := h.moderator().SetHidden(ctx, store.HideParams{ConversationID: c.ID, Hidden: true, Audit: h.entry(c, moderation.ActionConversationHidden)})
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, h.get(c.ID).Hidden)
	})
}
