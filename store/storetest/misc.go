package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

func (f factory) testRoundTrip(t *testing.T) {
	t.Run("AllFields", func(t *testing.T) {
		h := f.new(t)
		created := time.Date(2024, 12, 31, 23, 59, 59, 999999000, time.UTC)
		c := conversation.Conversation{
			Code:         newCode(),
			Channel:      "shop-ßtore",
			Type:         conversation.TypeReview,
			UserID:       "user-Ωmega",
			DataSourceID: "ds-ĳssel",
			Item:         conversation.OrderItem("oi-42/7"),
			Subject:      "Größe passt nicht – 🚲 «quoted» 'single' \"double\" \\ %_",
			Status:       conversation.StatusClosed,
			StartedBy:    conversation.SideSeller,
			Language:     "pt-BR",
			Attributes: conversation.Attributes{
				UserFirstName: "Zoë", UserLastName: "O'Brien-Łukasz", ProductBaseCode: "BC-001", OrderNumber: "N°12345",
			},
			CreatedAt: created,
		}
		p := h.createParams(c)
		p.Message.Content = "Line one\r\nLine two\t«tab» — 🚲 'quotes'; DROP TABLE x; --"
		p.Message.Language = "pt-BR"
		p.Events[0].CreatedAt = created.Add(-time.Microsecond)
		p.Events[0].DueAt = created.Add(time.Hour + time.Microsecond)
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		want := p.Conversation
		want.ID, want.LastMessageID = res.Conversation.ID, res.Message.ID
		requireConv(t, want, h.get(want.ID))
		requireConvs(t, []conversation.Conversation{want}, h.listAll(c.Channel))
		wantMsg := p.Message
		wantMsg.ID, wantMsg.ConversationID, wantMsg.Seq = res.Message.ID, want.ID, 1
		requireMsgs(t, []message.Message{wantMsg}, h.messages(want.ID))

		// A guest's answer, without a language.
		ap := h.appendParams(want, conversation.SideUser)
		ap.Message.Sender = message.User(want.UserID, message.UserGuest)
		ap.Message.Language = ""
		ares, err := h.s.AppendMessage(h.ctx, ap)
		require.NoError(t, err)
		wantReply := ap.Message
		wantReply.ID, wantReply.ConversationID, wantReply.Seq = ares.Message.ID, want.ID, 2
		requireMsgs(t, []message.Message{wantMsg, wantReply}, h.messages(want.ID))
		page, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: want.ID, Limit: 10})
		require.NoError(t, err)
		requireMsgs(t, []message.Message{wantReply, wantMsg}, page.Items)

		store.ApplyMessage(&want, &wantReply)
		requireConv(t, want, h.get(want.ID))

		wantEvents := append(stored(p.Events, want.ID, wantMsg.ID, 1), stored(h.prepared(ap, want), want.ID, wantReply.ID, 1)...)
		requireEvents(t, sortedByID(wantEvents), h.peekEvents())
	})

	t.Run("Limits", func(t *testing.T) {
		h := f.new(t)
		id := func(prefix string) string { return prefix + strings.Repeat("x", 64-len(prefix)) }
		c := h.draft(func(c *conversation.Conversation) {
			c.Channel, c.UserID, c.DataSourceID = id("ch"), id("u"), id("d")
			c.Item = conversation.Product(id("p"))
			c.Subject = strings.Repeat("🚲", 255)
			c.Language = "x-" + strings.Repeat("a", 33)
			c.Attributes = conversation.Attributes{
				UserFirstName: strings.Repeat("é", 32), UserLastName: strings.Repeat("é", 32),
				ProductBaseCode: id("b"), OrderNumber: id("o"),
			}
		})
		require.Len(t, c.Language, 35)
		p := h.createParams(c)
		p.Message.Content = strings.Repeat("🚲", 4000) // 16,000 bytes
		p.Message.Language = c.Language
		key := strings.Repeat("k", 255)
		p.Idempotency = idem("user:"+c.UserID, key, strings.Repeat("f", 64))
		res, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		want := p.Conversation
		want.ID, want.LastMessageID = res.Conversation.ID, res.Message.ID
		requireConv(t, want, h.get(want.ID))
		msgs := h.messages(want.ID)
		require.Len(t, msgs, 1)
		require.Equal(t, p.Message.Content, msgs[0].Content)

		replay, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		require.True(t, replay.Replayed, "the long idempotency key is kept whole")
		other := p
		other.Idempotency = idem("user:"+c.UserID, key[:254]+"K", strings.Repeat("f", 64))
		_, err = h.s.CreateConversation(h.ctx, other)
		require.ErrorIs(t, err, store.ErrConversationExists, "a key differing in its last byte is another key")
	})

	t.Run("TimePrecision", func(t *testing.T) {
		h := f.new(t)
		times := []time.Time{
			time.Date(2025, 1, 2, 3, 4, 5, 1000, time.UTC),      // one microsecond
			time.Date(2025, 1, 2, 3, 4, 5, 999999000, time.UTC), // the last microsecond of a second
			time.Date(1999, 12, 31, 23, 59, 59, 500000000, time.UTC),
			time.Date(2262, 4, 11, 0, 0, 0, 123000, time.UTC),
		}
		for _, at := range times {
			c := h.create(func(c *conversation.Conversation) { c.CreatedAt = at }).Conversation
			got := h.get(c.ID)
			requireConv(t, c, got)
			require.True(t, got.CreatedAt.Equal(at), "%v read back as %v", at, got.CreatedAt)
			require.True(t, got.LastMessageAt.Equal(at))
			ms := h.messages(c.ID)
			require.True(t, ms[0].CreatedAt.Equal(at), "%v read back as %v", at, ms[0].CreatedAt)

			// A microsecond on either side tells the times apart.
			for _, f := range []conversation.Filter{
				{CreatedFrom: at, CreatedTo: at},
				{ModifiedFrom: at, ModifiedTo: at},
			} {
				p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: chMain, Filter: f, Limit: 10})
				require.NoError(t, err)
				requireConvs(t, []conversation.Conversation{got}, p.Items, "exactly %v", at)
			}
			p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{
				Channel: chMain, Limit: 10,
				Filter: conversation.Filter{CreatedFrom: at.Add(time.Microsecond), CreatedTo: at.Add(time.Microsecond)},
			})
			require.NoError(t, err)
			require.Empty(t, p.Items, "a microsecond later than %v", at)
		}
	})

	t.Run("ZeroTime", func(t *testing.T) {
		h := f.new(t)
		p := h.createParams(h.draft())
		p.Events[0].CreatedAt = time.Time{}
		_, err := h.s.CreateConversation(h.ctx, p)
		require.NoError(t, err)
		evs := h.peekEvents()
		require.Len(t, evs, 1)
		require.True(t, evs[0].CreatedAt.IsZero(), "a zero time reads back as zero, got %v", evs[0].CreatedAt)
		requireUTC(t, "event", evs[0].CreatedAt)
	})
}

// callEveryMethod calls every method of the store with ctx, on the
// fixture of testContext and testClose, and returns the errors by method.
func (h *harness) callEveryMethod(ctx context.Context, fx fixture) map[string]error {
	s := h.s
	errs := make(map[string]error)
	_, errs["CreateConversation"] = s.CreateConversation(ctx, h.createParams(h.draft()))
	_, errs["AppendMessage"] = s.AppendMessage(ctx, h.appendParams(fx.conv, conversation.SideSeller))
	_, errs["SetStatus"] = s.SetStatus(ctx, store.StatusParams{ConversationID: fx.conv.ID, Status: conversation.StatusClosed, At: h.tick()})
	_, errs["MarkRead"] = s.MarkRead(ctx, store.ReadParams{ConversationID: fx.conv.ID, Side: conversation.SideUser, UpToMessageID: fx.conv.LastMessageID})
	_, _, errs["Replay"] = s.Replay(ctx, store.Idempotency{Scope: "user:u1", Key: "k", Fingerprint: "f"})
	_, errs["GetConversation"] = s.GetConversation(ctx, fx.conv.ID)
	_, errs["GetConversationByCode"] = s.GetConversationByCode(ctx, fx.conv.Code)
	_, errs["ListConversations"] = s.ListConversations(ctx, store.ConversationQuery{Channel: chMain, Limit: 10, WithTotal: true})
	_, errs["ListMessages"] = s.ListMessages(ctx, store.MessageQuery{ConversationID: fx.conv.ID, Limit: 10, WithTotal: true})
	_, errs["MessagesAfter"] = s.MessagesAfter(ctx, message.After{ConversationID: fx.conv.ID, Limit: 10})
	_, errs["MessageSets"] = s.MessageSets(ctx, store.MessageSetQuery{ConversationIDs: []int64{fx.conv.ID}, Limit: 10})
	_, errs["Unread"] = s.Unread(ctx, store.UnreadQuery{Channel: chMain, Side: conversation.SideUser, PartyID: fx.conv.UserID})
	_, errs["ClaimEvents"] = s.ClaimEvents(ctx, notify.ClaimParams{Worker: workerB, Now: fx.later, Lease: time.Minute, Limit: 10, Digest: true})
	errs["CompleteEvents"] = s.CompleteEvents(ctx, workerA, eventIDs(fx.claimed), fx.now)
	errs["FailEvent"] = s.FailEvent(ctx, workerA, fx.claimed[0].ID, "cancelled", fx.now, true)
	_, errs["ListDeadEvents"] = s.ListDeadEvents(ctx, "", 10)
	errs["RetryDeadEvent"] = s.RetryDeadEvent(ctx, fx.dead.ID, fx.now)
	_, errs["PruneEvents"] = s.PruneEvents(ctx, fx.later.Add(time.Hour), 10)
	errs["DeleteDeadEvent"] = s.DeleteDeadEvent(ctx, fx.dead.ID)
	return errs
}

// fixture is a store state on which every method has something to do.
type fixture struct {
	conv     conversation.Conversation // the user started, the seller answered
	now      time.Time
	later    time.Time      // when the claims of claimed have run out
	claimed  []notify.Event // claimed by workerA until later
	dead     notify.Event
	upcoming notify.Event // pending, due at later
}

func (h *harness) fixture() fixture {
	h.t.Helper()
	var fx fixture
	c := h.create().Conversation
	fx.conv = h.append(c, conversation.SideSeller).Conversation
	fx.now = h.tick()
	fx.later = fx.now.Add(time.Hour)
	fx.upcoming = h.storeEvents(due{fx.later, "up"})[0]
	dead := h.storeEvents(due{fx.now, "dead"})[0]
	claimed := h.claim(workerA, fx.now, time.Hour, 10, false)
	require.Len(h.t, claimed, 3, "the conversation's two events and the one to kill")
	for _, e := range claimed {
		if e.ID == dead.ID {
			require.NoError(h.t, h.s.FailEvent(h.ctx, workerA, e.ID, "dead", fx.now, true))
			e.State, e.LastError = notify.StateDead, "dead"
			fx.dead = e
		} else {
			fx.claimed = append(fx.claimed, e)
		}
	}
	return fx
}

// requireFixture checks that the store holds fx as it was made.
func (h *harness) requireFixture(fx fixture, before snapshot) {
	h.t.Helper()
	h.requireUnchanged(before, "nothing written")
	requireEvents(h.t, []notify.Event{fx.dead}, h.dead(), "the dead event is still dead")
	want := append(attempted(2, fx.claimed...), attempted(1, fx.upcoming)...)
	requireEvents(h.t, claimOrder(want...), h.claim(workerC, fx.later, time.Minute, 10, false),
		"claimed events neither completed nor failed nor claimed again, the upcoming one never claimed")
}

func (f factory) testContext(t *testing.T) {
	t.Run("Canceled", func(t *testing.T) {
		h := f.new(t)
		fx := h.fixture()
		before := h.snapshot()
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		for method, err := range h.callEveryMethod(ctx, fx) {
			require.ErrorIs(t, err, context.Canceled, method)
		}
		h.requireFixture(fx, before)
	})
}

func (f factory) testClose(t *testing.T) {
	t.Run("ErrClosed", func(t *testing.T) {
		h := f.new(t)
		fx := h.fixture()
		require.NoError(t, h.s.Close())
		for method, err := range h.callEveryMethod(h.ctx, fx) {
			require.ErrorIs(t, err, store.ErrClosed, method)
		}
		require.NoError(t, h.s.Close(), "closing twice is fine")
	})
}
