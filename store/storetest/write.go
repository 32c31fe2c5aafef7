package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// requireRefused checks that the creates refused after before wrote
// nothing: the conversations and messages are as they were, and the outbox
// holds only the event of c, the first conversation.
func (h *harness) requireRefused(before snapshot, c conversation.Conversation) {
	h.t.Helper()
	h.requireUnchanged(before, "nothing written")
	evs := h.peekEvents()
	require.Len(h.t, evs, 1, "only the first conversation's event is stored")
	require.Equal(h.t, c.ID, evs[0].ConversationID)
}

func (f factory) testCreateConversation(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		require.False(t, res.Replayed)
		require.Positive(t, res.Conversation.ID)
		require.Positive(t, res.Message.ID)

		want := p.Conversation
		want.ID = res.Conversation.ID
		want.LastMessageID = res.Message.ID
		requireConv(t, want, res.Conversation)
		require.Equal(t, int64(1), res.Conversation.LastSeq)
		require.Equal(t, int64(1), res.Conversation.MessageCount)
		require.Equal(t, conversation.ReadState{ReadSeq: 1}, res.Conversation.UserRead)
		require.Equal(t, conversation.ReadState{Unread: 1}, res.Conversation.SellerRead)

		wantMsg := p.Message
		wantMsg.ID = res.Message.ID
		wantMsg.ConversationID = res.Conversation.ID
		wantMsg.Seq = 1
		requireMsg(t, wantMsg, res.Message)

		requireConv(t, want, h.get(want.ID), "read back")
		requireMsgs(t, []message.Message{wantMsg}, h.messages(want.ID), "read back")
		requireEvents(t, stored(p.Events, want.ID, wantMsg.ID, 1), h.peekEvents())
	})

	t.Run("FirstMessageApplied", func(t *testing.T) {
		// Whatever message state the caller passes, the store computes it
		// by applying the first message (store.ApplyFirst).
		h := f.new(t)
		p := h.createParams(h.draft())
		want := p.Conversation
		c := &p.Conversation
		c.LastSeq, c.MessageCount, c.LastMessageID = 7, 7, 99
		c.LastMessageAt, c.ModifiedAt = c.CreatedAt.Add(time.Hour), c.CreatedAt.Add(time.Hour)
		c.UserRead = conversation.ReadState{ReadSeq: 3, Unread: 2}
		c.SellerRead = conversation.ReadState{ReadSeq: 5, Unread: 5}
		p.Message.Seq, p.Message.ConversationID = 4, 12
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		want.ID, want.LastMessageID = res.Conversation.ID, res.Message.ID
		requireConv(t, want, res.Conversation)
		requireConv(t, want, h.get(want.ID), "read back")
		require.Equal(t, int64(1), res.Message.Seq)
		require.Equal(t, want.ID, res.Message.ConversationID)
		requireMsgs(t, []message.Message{res.Message}, h.messages(want.ID))
	})

	t.Run("StartedBySeller", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft(func(c *conversation.Conversation) { c.StartedBy = conversation.SideSeller }))
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		require.Equal(t, conversation.ReadState{Unread: 1}, res.Conversation.UserRead)
		require.Equal(t, conversation.ReadState{ReadSeq: 1}, res.Conversation.SellerRead)
		require.Equal(t, conversation.SideSeller, res.Conversation.StartedBy)
		require.Equal(t, message.DataSource("ds-1"), res.Message.Sender)
		requireConv(t, res.Conversation, h.get(res.Conversation.ID))
	})

	t.Run("IDsIncrease", func(t *testing.T) {
		h := f.new(t)
		var convs, msgs []int64
		for range 4 {
			res := h.create()
			convs = append(convs, res.Conversation.ID)
			msgs = append(msgs, res.Message.ID)
			msgs = append(msgs, h.append(res.Conversation, conversation.SideSeller).Message.ID)
		}
		requireIncreasing(t, convs, "conversation ids")
		requireIncreasing(t, msgs, "message ids, across conversations")
	})

	t.Run("ErrConversationExists", func(t *testing.T) {
		h := f.new(t)
		first := h.create(func(c *conversation.Conversation) { c.Item = conversation.Product("p-1") })
		c := first.Conversation
		before := h.snapshot()

		// Same key; every other field different.
		p := h.createParams(h.draft(func(d *conversation.Conversation) {
			d.UserID, d.Item = c.UserID, c.Item
			d.Subject, d.Language = "another subject", "fr"
			d.StartedBy = conversation.SideSeller
			d.Status = conversation.StatusClosed
			d.Attributes = conversation.Attributes{UserFirstName: "Grace"}
		}))
		_, err := h.s.CreateConversation(h.ctx, p)
		require.ErrorIs(t, err, store.ErrConversationExists)
		var exists *store.ConversationExistsError
		require.ErrorAs(t, err, &exists)
		require.Equal(t, c.ID, exists.ID)

		h.requireRefused(before, c)
	})

	t.Run("ErrDuplicateCode", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		before := h.snapshot()

		// Another key, the same code.
		p := h.createParams(h.draft(func(d *conversation.Conversation) { d.Code = c.Code }))
		_, err := h.s.CreateConversation(h.ctx, p)
		require.ErrorIs(t, err, store.ErrDuplicateCode)
		require.NotErrorIs(t, err, store.ErrConversationExists)
		h.requireUnchanged(before, "nothing written")

		// The same key and the same code: the key decides.
		p = h.createParams(h.draft(func(d *conversation.Conversation) { d.UserID, d.Code = c.UserID, c.Code }))
		_, err = h.s.CreateConversation(h.ctx, p)
		var exists *store.ConversationExistsError
		require.ErrorAs(t, err, &exists)
		require.Equal(t, c.ID, exists.ID)

		h.requireRefused(before, c)
		got, err := h.s.GetConversationByCode(h.ctx, c.Code)
		require.NoError(t, err)
		requireConv(t, c, got)
	})

	t.Run("KeyComponents", func(t *testing.T) {
		h := f.new(t)
		base := func(c *conversation.Conversation) {
			c.Channel, c.UserID, c.DataSourceID = chMain, "user-key", "ds-key"
			c.Type, c.Item = conversation.TypeQuestion, conversation.Product("item-1")
		}
		variants := map[string]func(*conversation.Conversation){
			"base":         func(*conversation.Conversation) {},
			"channel":      func(c *conversation.Conversation) { c.Channel = chOther },
			"user":         func(c *conversation.Conversation) { c.UserID = "user-key-2" },
			"data source":  func(c *conversation.Conversation) { c.DataSourceID = "ds-key-2" },
			"type":         func(c *conversation.Conversation) { c.Type = conversation.TypeReview },
			"item kind":    func(c *conversation.Conversation) { c.Item = conversation.OrderItem("item-1") },
			"item id":      func(c *conversation.Conversation) { c.Item = conversation.Product("item-2") },
			"no item":      func(c *conversation.Conversation) { c.Item = conversation.Item{} },
			"type+no item": func(c *conversation.Conversation) { c.Type, c.Item = conversation.TypeMessage, conversation.Item{} },
		}
		names := slices.Sorted(maps.Keys(variants))
		ids := make(map[string]int64)
		seen := make(map[int64]bool)
		for _, name := range names {
			res, err := h.s.CreateConversation(h.ctx, h.createParams(h.draft(base, variants[name])))
			require.NoError(t, err, "a different %s is a different key", name)
			require.False(t, seen[res.Conversation.ID], "conversation id %d assigned twice", res.Conversation.ID)
			seen[res.Conversation.ID] = true
			ids[name] = res.Conversation.ID
		}
		// Every key is now taken, each by its own conversation.
		for _, name := range names {
			_, err := h.s.CreateConversation(h.ctx, h.createParams(h.draft(base, variants[name])))
			var exists *store.ConversationExistsError
			require.ErrorAs(t, err, &exists, "key %s", name)
			require.Equal(t, ids[name], exists.ID, "key %s", name)
		}
		require.Len(t, h.listAll(chMain), len(variants)-1)
		require.Len(t, h.listAll(chOther), 1)
	})

	t.Run("Idempotent", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		p.Idempotency = idem("user:u1", "key-1", "fp-1")
		first, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		require.False(t, first.Replayed)
		later := h.append(first.Conversation, conversation.SideSeller)
		before := h.snapshot()

		// The retry carries new codes and event ids: a store that wrote
		// them would be caught.
		retry := h.createParams(h.draft(func(c *conversation.Conversation) { c.UserID = p.Conversation.UserID }))
		retry.Idempotency = idem("user:u1", "key-1", "fp-1")
		res, err := h.s.CreateConversation(h.ctx, retry)
		require.NoError(t, err)
		require.True(t, res.Replayed)
		requireMsg(t, first.Message, res.Message, "the original message")
		requireConv(t, later.Conversation, res.Conversation, "the current conversation")

		h.requireUnchanged(before, "a replay writes nothing")
		require.Len(t, h.peekEvents(), 2, "the create and append events only")
	})

	t.Run("ErrIdempotencyMismatch", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		p.Idempotency = idem("user:u1", "key-1", "fp-1")
		_, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		before := h.snapshot()

		other := h.createParams(h.draft())
		other.Idempotency = idem("user:u1", "key-1", "fp-2")
		_, err = h.s.CreateConversation(h.ctx, other)
		require.ErrorIs(t, err, store.ErrIdempotencyMismatch)

		h.requireUnchanged(before, "nothing written")
		require.Len(t, h.peekEvents(), 1)
	})

	t.Run("IdempotencyScopes", func(t *testing.T) {
		h := f.new(t)
		p1 := h.createParams(h.draft())
		p1.Idempotency = idem("user:u1", "same-key", "fp-1")
		p2 := h.createParams(h.draft())
		p2.Idempotency = idem("user:u2", "same-key", "fp-2")
		r1, err := h.s.CreateConversation(h.ctx, p1)
		require.NoError(t, err)
		r2, err := h.s.CreateConversation(h.ctx, p2)
		require.NoError(t, err, "keys of different scopes never collide")
		require.False(t, r2.Replayed)
		require.NotEqual(t, r1.Conversation.ID, r2.Conversation.ID)
		require.Len(t, h.listAll(chMain), 2)
	})

	t.Run("IdempotencyNotRecordedOnConflict", func(t *testing.T) {
		h := f.new(t)
		first := h.create()
		p := h.createParams(h.draft(func(c *conversation.Conversation) { c.UserID = first.Conversation.UserID }))
		p.Idempotency = idem("user:u1", "key-1", "fp-1")
		_, err := h.s.CreateConversation(h.ctx, p)
		require.ErrorIs(t, err, store.ErrConversationExists)

		// The key was not recorded: another request may use it.
		p2 := h.createParams(h.draft())
		p2.Idempotency = idem("user:u1", "key-1", "fp-2")
		res, err := h.s.CreateConversation(h.ctx, p2)
		require.NoError(t, err)
		require.False(t, res.Replayed)
	})

	t.Run("Events", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		second := h.event(p.Conversation, conversation.SideUser, p.Conversation.CreatedAt)
		second.DueAt = h.tick()
		second.DigestKey = "another-key"
		// The outbox bookkeeping is the store's: whatever the caller
		// passes, an event starts pending and not attempted.
		second.State, second.Attempts = notify.StateDone, 3
		p.Events = append(p.Events, second)
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)

		none := h.createParams(h.draft())
		none.Events = nil
		_, err = h.s.CreateConversation(h.ctx, none)
		require.NoError(t, err)

		requireEvents(t, sortedByID(stored(p.Events, res.Conversation.ID, res.Message.ID, 1)), h.peekEvents())
	})
}

func (f factory) testAppendMessage(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		cp, created := h.createP()
		c := created.Conversation
		p := h.appendParams(c, conversation.SideSeller)
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		require.False(t, res.Replayed)
		require.Greater(t, res.Message.ID, created.Message.ID)

		want, wantMsg := c, p.Message
		wantMsg.ID = res.Message.ID
		store.ApplyMessage(&want, &wantMsg)
		require.Equal(t, int64(2), wantMsg.Seq)
		require.Equal(t, c.ID, wantMsg.ConversationID)
		require.Equal(t, wantMsg.ID, want.LastMessageID)
		requireConv(t, want, res.Conversation)
		requireConv(t, want, h.get(c.ID), "read back")
		requireMsg(t, wantMsg, res.Message)
		requireMsgs(t, []message.Message{created.Message, wantMsg}, h.messages(c.ID), "read back")

		// The events are those Prepare built from the conversation.
		wantEvents := append(stored(cp.Events, c.ID, created.Message.ID, 1), stored(h.prepared(p, c), c.ID, wantMsg.ID, 1)...)
		requireEvents(t, sortedByID(wantEvents), h.peekEvents())
	})

	t.Run("SeqDense", func(t *testing.T) {
		h := f.new(t)
		created := h.create()
		want := created.Conversation
		wantMsgs := []message.Message{created.Message}
		sides := []conversation.Side{
			conversation.SideSeller, conversation.SideSeller, conversation.SideUser,
			conversation.SideSeller, conversation.SideUser, conversation.SideUser,
		}
		for i, s := range sides {
			p, res := h.appendP(want, s)
			require.Equal(t, int64(i+2), res.Message.Seq)
			m := p.Message
			m.ID = res.Message.ID
			store.ApplyMessage(&want, &m)
			require.Equal(t, m.Seq, res.Message.Seq)
			requireConv(t, want, res.Conversation, "after message %d", i+2)
			wantMsgs = append(wantMsgs, res.Message)
		}
		requireConv(t, want, h.get(want.ID))
		require.Equal(t, int64(7), want.LastSeq)
		require.Equal(t, int64(7), want.MessageCount)
		requireMsgs(t, wantMsgs, h.messages(want.ID))
	})

	t.Run("ActivityNeverBackwards", func(t *testing.T) {
		// A writer that read the clock before another writer's message
		// was applied passes an earlier time: the message is dated at the
		// conversation's last activity (store.ApplyMessage), so message
		// times never decrease with Seq and the conversation's times
		// never move backwards.
		h := f.new(t)
		c := h.create().Conversation
		late := h.appendParams(c, conversation.SideSeller)
		early := h.appendParams(c, conversation.SideUser)
		early.Message.CreatedAt = late.Message.CreatedAt.Add(-time.Second)
		first, err := h.s.AppendMessage(h.ctx, late)
		require.NoError(t, err)
		second, err := h.s.AppendMessage(h.ctx, early)
		require.NoError(t, err)
		at := late.Message.CreatedAt
		require.Equal(t, first.Message.Seq+1, second.Message.Seq)
		require.True(t, second.Message.CreatedAt.Equal(at), "the earlier message is dated %v, want %v", second.Message.CreatedAt, at)
		want := first.Conversation
		wantMsg := early.Message
		wantMsg.ID = second.Message.ID
		store.ApplyMessage(&want, &wantMsg)
		requireMsg(t, wantMsg, second.Message)
		requireConv(t, want, second.Conversation)
		requireConv(t, want, h.get(c.ID), "read back")
		requireMsgs(t, []message.Message{first.Message, second.Message}, h.messages(c.ID)[1:], "read back")

		// A status change leaves its time as the conversation's last
		// activity: a message read from the clock before it is dated at it.
		closedAt := h.tick()
		_, err = h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusClosed, At: closedAt})
		require.NoError(t, err)
		reopened, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusOpen, At: closedAt.Add(-time.Hour)})
		require.NoError(t, err)
		require.True(t, reopened.ModifiedAt.Equal(closedAt), "ModifiedAt moved back to %v", reopened.ModifiedAt)
		require.True(t, reopened.LastMessageAt.Equal(at))
		requireConv(t, reopened, h.get(c.ID), "read back")
		third := h.appendParams(c, conversation.SideSeller)
		third.Message.CreatedAt = at.Add(time.Millisecond) // after the last message, before the status change
		res, err := h.s.AppendMessage(h.ctx, third)
		require.NoError(t, err)
		require.True(t, res.Message.CreatedAt.Equal(closedAt), "dated %v, want the status change's %v", res.Message.CreatedAt, closedAt)
		require.True(t, res.Conversation.LastMessageAt.Equal(closedAt))
		require.True(t, res.Conversation.ModifiedAt.Equal(closedAt))
		requireMsgs(t, []message.Message{res.Message}, h.messages(c.ID)[3:], "read back")
	})

	t.Run("MessageIDsUniqueAcrossConversations", func(t *testing.T) {
		h := f.new(t)
		a, b := h.create().Conversation, h.create().Conversation
		var ids []int64
		for range 3 {
			ids = append(ids, h.append(a, conversation.SideSeller).Message.ID)
			ids = append(ids, h.append(b, conversation.SideUser).Message.ID)
		}
		requireIncreasing(t, ids, "message ids")
		require.Equal(t, []int64{1, 2, 3, 4}, seqs(h.messages(a.ID)))
		require.Equal(t, []int64{1, 2, 3, 4}, seqs(h.messages(b.ID)))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		before := h.snapshot()
		p := h.appendParams(c, conversation.SideSeller)
		p.ConversationID = c.ID + 1000
		called := false
		p = guarded(p, func(conversation.Conversation) error { called = true; return nil })
		_, err := h.s.AppendMessage(h.ctx, p)
		require.ErrorIs(t, err, store.ErrNotFound)
		require.False(t, called, "Prepare does not run for an unknown conversation")
		h.requireUnchanged(before)
		require.Len(t, h.peekEvents(), 1)
	})

	t.Run("Prepare", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		c = h.append(c, conversation.SideSeller).Conversation
		p := h.appendParams(c, conversation.SideUser)
		var seen []conversation.Conversation
		p = guarded(p, func(cur conversation.Conversation) error { seen = append(seen, cur); return nil })
		_, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		require.NotEmpty(t, seen)
		requireConv(t, c, seen[len(seen)-1], "Prepare sees the current conversation")
		require.Len(t, h.messages(c.ID), 3)
	})

	t.Run("NoPrepare", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		p := h.appendParams(c, conversation.SideSeller)
		p.Prepare = nil
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		require.Equal(t, int64(2), res.Message.Seq)
		require.Len(t, h.peekEvents(), 1, "no Prepare, no events: only the create's")
	})

	t.Run("PrepareError", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		before := h.snapshot()
		refused := &errCheck{"closed"}
		p := h.appendParams(c, conversation.SideSeller)
		p.Idempotency = idem("ds:ds-1", "key-1", "fp-1")
		refusing := guarded(p, func(conversation.Conversation) error { return refused })
		_, err := h.s.AppendMessage(h.ctx, refusing)
		requireCheckErr(t, refused, err)
		h.requireUnchanged(before, "nothing written")
		require.Len(t, h.peekEvents(), 1, "no event stored")

		// Not even the idempotency key: a retry that passes writes.
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		require.False(t, res.Replayed)
		require.Equal(t, int64(2), res.Message.Seq)
		require.Len(t, h.peekEvents(), 2, "the create event and the successful append's")
	})

	t.Run("Idempotent", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		p := h.appendParams(c, conversation.SideSeller)
		p.Idempotency = idem("ds:ds-1", "key-1", "fp-1")
		first, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		require.False(t, first.Replayed)
		later := h.append(first.Conversation, conversation.SideUser)
		before := h.snapshot()

		retry := h.appendParams(c, conversation.SideSeller) // new code and event ids
		retry.Idempotency = idem("ds:ds-1", "key-1", "fp-1")
		res, err := h.s.AppendMessage(h.ctx, retry)
		require.NoError(t, err)
		require.True(t, res.Replayed)
		requireMsg(t, first.Message, res.Message, "the original message")
		requireConv(t, later.Conversation, res.Conversation, "the current conversation")

		h.requireUnchanged(before, "a replay writes nothing")
		require.Len(t, h.peekEvents(), 3)
	})

	t.Run("IdempotencyBeforePrepare", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		p := h.appendParams(c, conversation.SideSeller)
		p.Idempotency = idem("ds:ds-1", "key-1", "fp-1")
		first, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)

		called := false
		p = guarded(p, func(conversation.Conversation) error { called = true; return &errCheck{"closed since"} })
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err, "a replay returns the first result without running Prepare")
		require.True(t, res.Replayed)
		require.False(t, called)
		requireMsg(t, first.Message, res.Message)
	})

	t.Run("ErrIdempotencyMismatch", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		p := h.appendParams(c, conversation.SideSeller)
		p.Idempotency = idem("ds:ds-1", "key-1", "fp-1")
		_, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		before := h.snapshot()

		other := h.appendParams(c, conversation.SideSeller)
		other.Idempotency = idem("ds:ds-1", "key-1", "fp-2")
		_, err = h.s.AppendMessage(h.ctx, other)
		require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
		h.requireUnchanged(before, "nothing written")
		require.Len(t, h.peekEvents(), 2)
	})

	t.Run("IdempotencyScopes", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		p1 := h.appendParams(c, conversation.SideSeller)
		p1.Idempotency = idem("ds:ds-1", "same-key", "fp-1")
		p2 := h.appendParams(c, conversation.SideUser)
		p2.Idempotency = idem("user:"+c.UserID, "same-key", "fp-2")
		r1, err := h.s.AppendMessage(h.ctx, p1)
		require.NoError(t, err)
		r2, err := h.s.AppendMessage(h.ctx, p2)
		require.NoError(t, err, "keys of different scopes never collide")
		require.False(t, r2.Replayed)
		require.NotEqual(t, r1.Message.ID, r2.Message.ID)
		require.Len(t, h.messages(c.ID), 3)
	})

	t.Run("IdempotencySharedWithCreate", func(t *testing.T) {
		h := f.new(t)
		cp := h.createParams(h.draft())
		cp.Idempotency = idem("user:u1", "key-1", "fp-create")
		created, err := h.s.CreateConversation(h.ctx, cp)
		require.NoError(t, err)
		before := h.snapshot()

		p := h.appendParams(created.Conversation, conversation.SideUser)
		p.Idempotency = idem("user:u1", "key-1", "fp-append")
		_, err = h.s.AppendMessage(h.ctx, p)
		require.ErrorIs(t, err, store.ErrIdempotencyMismatch, "create and append share the keys of a scope")
		h.requireUnchanged(before)

		// And the other way round.
		p.Idempotency = idem("user:u1", "key-2", "fp-append")
		_, err = h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		cp2 := h.createParams(h.draft())
		cp2.Idempotency = idem("user:u1", "key-2", "fp-create")
		_, err = h.s.CreateConversation(h.ctx, cp2)
		require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
		require.Len(t, h.listAll(chMain), 1)
	})

	t.Run("Events", func(t *testing.T) {
		h := f.new(t)
		cp, created := h.createP()
		c := created.Conversation
		p := h.appendParams(c, conversation.SideSeller)
		extra := h.event(c, conversation.SideSeller, p.Message.CreatedAt)
		extra.DueAt = h.tick()
		// The outbox bookkeeping is the store's: whatever Prepare returns,
		// an event starts pending and not attempted.
		extra.State, extra.Attempts, extra.LastError = notify.StateDone, 3, "earlier"
		evs := append(h.prepared(p, c), extra)
		p = withEvents(p, evs...)
		res, err := h.s.AppendMessage(h.ctx, p)
		require.NoError(t, err)
		none := withEvents(h.appendParams(c, conversation.SideUser))
		h.append(c, conversation.SideUser) // with its event
		_, err = h.s.AppendMessage(h.ctx, none)
		require.NoError(t, err)

		got := h.peekEvents()
		require.Len(t, got, 4)
		want := append(stored(cp.Events, c.ID, created.Message.ID, 1), stored(evs, c.ID, res.Message.ID, 1)...)
		for _, w := range want {
			i := slices.IndexFunc(got, func(e notify.Event) bool { return e.ID == w.ID })
			require.NotEqual(t, -1, i, "event %s stored", w.ID)
			requireEvents(t, []notify.Event{w}, got[i:i+1])
		}
	})
}

func (f factory) testSetStatus(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		c = h.append(c, conversation.SideSeller).Conversation
		at := h.tick()
		var seen conversation.Conversation
		got, err := h.s.SetStatus(h.ctx, store.StatusParams{
			ConversationID: c.ID, Status: conversation.StatusClosed, At: at,
			Check: func(cur conversation.Conversation) error { seen = cur; return nil },
		})
		require.NoError(t, err)
		requireConv(t, c, seen, "Check sees the current conversation")
		want := c
		want.Status, want.ModifiedAt = conversation.StatusClosed, at
		requireConv(t, want, got)
		requireConv(t, want, h.get(c.ID), "read back")
		require.True(t, got.LastMessageAt.Equal(c.LastMessageAt), "LastMessageAt unchanged")

		at = h.tick()
		got, err = h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusOpen, At: at})
		require.NoError(t, err)
		want.Status, want.ModifiedAt = conversation.StatusOpen, at
		requireConv(t, want, got)
		requireConv(t, want, h.get(c.ID), "read back")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		before := h.snapshot()
		called := false
		_, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID + 1000, Status: conversation.StatusClosed, At: h.tick(),
			Check: func(conversation.Conversation) error { called = true; return nil }})
		require.ErrorIs(t, err, store.ErrNotFound)
		require.False(t, called, "Check does not run for an unknown conversation")
		h.requireUnchanged(before)
	})

	t.Run("CheckError", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		before := h.snapshot()
		refused := &errCheck{"not allowed"}
		_, err := h.s.SetStatus(h.ctx, store.StatusParams{
			ConversationID: c.ID, Status: conversation.StatusClosed, At: h.tick(),
			Check: func(conversation.Conversation) error { return refused },
		})
		requireCheckErr(t, refused, err)
		h.requireUnchanged(before, "nothing written")
	})
}

func (f factory) testMarkRead(t *testing.T) {
	// setup: a user starts a conversation and the seller answers with four
	// messages (Seq 2..5).
	setup := func(h *harness) (conversation.Conversation, []message.Message) {
		c := h.create().Conversation
		for range 4 {
			c = h.append(c, conversation.SideSeller).Conversation
		}
		require.Equal(h.t, conversation.ReadState{ReadSeq: 1, Unread: 4}, c.UserRead)
		return c, h.messages(c.ID)
	}
	markRead := func(h *harness, c conversation.Conversation, s conversation.Side, m message.Message) conversation.Conversation {
		h.t.Helper()
		got, err := h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: s, UpToMessageID: m.ID})
		require.NoError(h.t, err)
		requireConv(h.t, got, h.get(c.ID), "read back")
		return got
	}

	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		c, msgs := setup(h)
		var seen conversation.Conversation
		got, err := h.s.MarkRead(h.ctx, store.ReadParams{
			ConversationID: c.ID, Side: conversation.SideUser, UpToMessageID: msgs[2].ID,
			Check: func(cur conversation.Conversation) error { seen = cur; return nil },
		})
		require.NoError(t, err)
		requireConv(t, c, seen, "Check sees the current conversation")
		want := c
		want.UserRead = conversation.ReadState{ReadSeq: 3, Unread: 2}
		requireConv(t, want, got, "read up to Seq 3; ModifiedAt unchanged")
		requireConv(t, want, h.get(c.ID), "read back")

		want.UserRead = conversation.ReadState{ReadSeq: 5, Unread: 0}
		requireConv(t, want, markRead(h, c, conversation.SideUser, msgs[4]), "read up to the last")
	})

	t.Run("ForwardOnly", func(t *testing.T) {
		h := f.new(t)
		c, msgs := setup(h)
		want := c
		want.UserRead = conversation.ReadState{ReadSeq: 4, Unread: 1}
		requireConv(t, want, markRead(h, c, conversation.SideUser, msgs[3]))
		requireConv(t, want, markRead(h, c, conversation.SideUser, msgs[1]), "a position behind is kept")
		requireConv(t, want, markRead(h, c, conversation.SideUser, msgs[3]), "the same position")
		requireConv(t, want, markRead(h, c, conversation.SideUser, msgs[0]), "own message")
	})

	t.Run("MixedSides", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation // user: 1
		sides := []conversation.Side{
			conversation.SideSeller, conversation.SideSeller, conversation.SideUser, // 2, 3, 4
			conversation.SideSeller, conversation.SideUser, conversation.SideSeller, // 5, 6, 7
		}
		for _, s := range sides {
			c = h.append(c, s).Conversation
		}
		msgs := h.messages(c.ID)
		require.Equal(t, conversation.ReadState{ReadSeq: 6, Unread: 1}, c.UserRead)
		require.Equal(t, conversation.ReadState{ReadSeq: 7}, c.SellerRead)

		// The seller side has read everything; mark its reads again as a
		// no-op, then check the user side's recount after a position.
		want := c
		requireConv(t, want, markRead(h, c, conversation.SideSeller, msgs[2]))
		want.UserRead = conversation.ReadState{ReadSeq: 7}
		requireConv(t, want, markRead(h, c, conversation.SideUser, msgs[6]))
	})

	t.Run("SellerSide", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		c = h.append(c, conversation.SideUser).Conversation
		c = h.append(c, conversation.SideUser).Conversation
		require.Equal(t, conversation.ReadState{Unread: 3}, c.SellerRead)
		msgs := h.messages(c.ID)
		want := c
		want.SellerRead = conversation.ReadState{ReadSeq: 1, Unread: 2}
		requireConv(t, want, markRead(h, c, conversation.SideSeller, msgs[0]))
		want.SellerRead = conversation.ReadState{ReadSeq: 3}
		requireConv(t, want, markRead(h, c, conversation.SideSeller, msgs[2]))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		c, msgs := setup(h)
		other := h.create().Conversation
		before := h.snapshot()
		for name, p := range map[string]store.ReadParams{
			"unknown conversation":              {ConversationID: other.ID + 1000, Side: conversation.SideUser, UpToMessageID: msgs[1].ID},
			"unknown message":                   {ConversationID: c.ID, Side: conversation.SideUser, UpToMessageID: msgs[4].ID + 1000},
			"message of another conversation":   {ConversationID: c.ID, Side: conversation.SideUser, UpToMessageID: other.LastMessageID},
			"message of another conversation 2": {ConversationID: other.ID, Side: conversation.SideUser, UpToMessageID: msgs[4].ID},
		} {
			_, err := h.s.MarkRead(h.ctx, p)
			require.ErrorIs(t, err, store.ErrNotFound, name)
		}
		h.requireUnchanged(before, "nothing written")
	})

	t.Run("CheckError", func(t *testing.T) {
		h := f.new(t)
		c, msgs := setup(h)
		before := h.snapshot()
		refused := &errCheck{"not a participant"}
		_, err := h.s.MarkRead(h.ctx, store.ReadParams{
			ConversationID: c.ID, Side: conversation.SideUser, UpToMessageID: msgs[4].ID,
			Check: func(conversation.Conversation) error { return refused },
		})
		requireCheckErr(t, refused, err)
		h.requireUnchanged(before, "nothing written")
	})
}

func (f factory) testGetConversation(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		a := h.create().Conversation
		b := h.create().Conversation
		requireConv(t, a, h.get(a.ID))
		requireConv(t, b, h.get(b.ID))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		for _, id := range []int64{0, -1, c.ID + 1} {
			_, err := h.s.GetConversation(h.ctx, id)
			require.ErrorIs(t, err, store.ErrNotFound, "id %d", id)
		}
	})
}

func (f factory) testGetConversationByCode(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		var convs []conversation.Conversation
		for i := range 5 {
			c := h.create(func(c *conversation.Conversation) {
				if i%2 == 1 {
					c.Channel = chOther
				}
			}).Conversation
			if i == 2 {
				c = h.append(c, conversation.SideSeller).Conversation
			}
			convs = append(convs, c)
		}
		for _, c := range convs {
			got, err := h.s.GetConversationByCode(h.ctx, c.Code)
			require.NoError(t, err)
			requireConv(t, c, got, "the conversation as it is now")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		other := c.Code
		other[15]++ // the same time, another code
		for _, code := range []uuid.UUID{uuid.Nil, newCode(), other} {
			_, err := h.s.GetConversationByCode(h.ctx, code)
			require.ErrorIs(t, err, store.ErrNotFound, "code %s", code)
		}
	})
}

// requireIncreasing checks that ids are strictly increasing.
func requireIncreasing(t *testing.T, ids []int64, what string) {
	t.Helper()
	for i := 1; i < len(ids); i++ {
		require.Less(t, ids[i-1], ids[i], "%s are not strictly increasing: %v", what, ids)
	}
}

// seqs returns the Seq of each message.
func seqs(ms []message.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func (f factory) testReplay(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		cp := h.createParams(h.draft())
		cp.Idempotency = idem("user:u1", "key-create", "fp-create")
		created, err := h.s.CreateConversation(h.ctx, cp)
		require.NoError(t, err)
		ap := h.appendParams(created.Conversation, conversation.SideSeller)
		ap.Idempotency = idem("ds:ds-1", "key-append", "fp-append")
		appended, err := h.s.AppendMessage(h.ctx, ap)
		require.NoError(t, err)
		later := h.append(appended.Conversation, conversation.SideUser)
		before := h.snapshot()

		res, ok, err := h.s.Replay(h.ctx, *idem("user:u1", "key-create", "fp-create"))
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, res.Replayed)
		requireMsg(t, created.Message, res.Message, "the create's message")
		requireConv(t, later.Conversation, res.Conversation, "the current conversation")

		res, ok, err = h.s.Replay(h.ctx, *idem("ds:ds-1", "key-append", "fp-append"))
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, res.Replayed)
		requireMsg(t, appended.Message, res.Message, "the append's message")
		requireConv(t, later.Conversation, res.Conversation, "the current conversation")

		h.requireUnchanged(before, "Replay writes nothing")
		require.Len(t, h.peekEvents(), 3)
	})

	t.Run("Unused", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		p.Idempotency = idem("user:u1", "key-1", "fp-1")
		_, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		for name, k := range map[string]*store.Idempotency{
			"another key":   idem("user:u1", "key-2", "fp-1"),
			"another scope": idem("user:u2", "key-1", "fp-1"),
		} {
			res, ok, err := h.s.Replay(h.ctx, *k)
			require.NoError(t, err, name)
			require.False(t, ok, name)
			require.Equal(t, store.CreateResult{}, res, name)
		}
	})

	t.Run("ErrIdempotencyMismatch", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		p.Idempotency = idem("user:u1", "key-1", "fp-1")
		_, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		_, ok, err := h.s.Replay(h.ctx, *idem("user:u1", "key-1", "fp-2"))
		require.ErrorIs(t, err, store.ErrIdempotencyMismatch)
		require.False(t, ok)
	})

	t.Run("NotRecordedOnRefusal", func(t *testing.T) {
		h := f.new(t)
		c := h.create().Conversation
		p := h.appendParams(c, conversation.SideSeller)
		p.Idempotency = idem("ds:ds-1", "key-1", "fp-1")
		refused := &errCheck{"closed"}
		_, err := h.s.AppendMessage(h.ctx, guarded(p, func(conversation.Conversation) error { return refused }))
		requireCheckErr(t, refused, err)
		_, ok, err := h.s.Replay(h.ctx, *p.Idempotency)
		require.NoError(t, err)
		require.False(t, ok, "a refused write records no key")
	})
}
