package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 123000, time.UTC)

func TestApplyFirst(t *testing.T) {
	c := conversation.Conversation{ID: 4, LastSeq: 9, MessageCount: 9, LastMessageID: 77,
		LastMessageAt: t0.Add(time.Hour), ModifiedAt: t0.Add(time.Hour),
		UserRead: conversation.ReadState{ReadSeq: 2, Unread: 3}, SellerRead: conversation.ReadState{ReadSeq: 4, Unread: 5}}
	m := message.Message{ID: 10, Sender: message.DataSource("d"), CreatedAt: t0}
	store.ApplyFirst(&c, &m)
	assert.Equal(t, conversation.Conversation{ID: 4, LastSeq: 1, MessageCount: 1, LastMessageID: 10,
		LastMessageAt: t0, ModifiedAt: t0,
		UserRead: conversation.ReadState{Unread: 1}, SellerRead: conversation.ReadState{ReadSeq: 1}}, c)
	assert.Equal(t, message.Message{ID: 10, ConversationID: 4, Seq: 1, Sender: message.DataSource("d"), CreatedAt: t0}, m)
}

func TestApplyMessage(t *testing.T) {
	c := conversation.Conversation{ID: 4}
	user := message.User("u", message.UserRegistered)
	for i, s := range []message.Sender{user, message.DataSource("d"), message.DataSource("d"), user} {
		m := message.Message{ID: int64(10 + i), Sender: s, CreatedAt: t0.Add(time.Duration(i) * time.Second)}
		store.ApplyMessage(&c, &m)
		assert.Equal(t, int64(i+1), m.Seq)
		assert.Equal(t, int64(4), m.ConversationID)
		assert.Equal(t, m.ID, c.LastMessageID)
		assert.Equal(t, m.CreatedAt, c.LastMessageAt)
		assert.Equal(t, m.CreatedAt, c.ModifiedAt)
	}
	assert.Equal(t, int64(4), c.LastSeq)
	assert.Equal(t, int64(4), c.MessageCount)
	assert.Equal(t, conversation.ReadState{ReadSeq: 4}, c.UserRead, "the user wrote the last message")
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 1}, c.SellerRead)
}

func TestApplyMessage_NeverBackwards(t *testing.T) {
	c := conversation.Conversation{LastSeq: 1, MessageCount: 1, LastMessageAt: t0, ModifiedAt: t0.Add(time.Second)}
	m := message.Message{Sender: message.DataSource("d"), CreatedAt: t0.Add(-time.Minute)}
	store.ApplyMessage(&c, &m)
	assert.Equal(t, t0.Add(time.Second), m.CreatedAt, "dated at the last activity (a status change)")
	assert.Equal(t, t0.Add(time.Second), c.LastMessageAt)
	assert.Equal(t, t0.Add(time.Second), c.ModifiedAt)
	later := message.Message{Sender: message.DataSource("d"), CreatedAt: t0.Add(time.Hour)}
	store.ApplyMessage(&c, &later)
	assert.Equal(t, t0.Add(time.Hour), later.CreatedAt, "a later time is kept")
	assert.Equal(t, t0.Add(time.Hour), c.LastMessageAt)
}

func TestApplyStatus(t *testing.T) {
	c := conversation.Conversation{Status: conversation.StatusOpen, ModifiedAt: t0}
	store.ApplyStatus(&c, conversation.StatusClosed, t0.Add(time.Second))
	assert.Equal(t, conversation.StatusClosed, c.Status)
	assert.Equal(t, t0.Add(time.Second), c.ModifiedAt)
	store.ApplyStatus(&c, conversation.StatusOpen, t0)
	assert.Equal(t, conversation.StatusOpen, c.Status)
	assert.Equal(t, t0.Add(time.Second), c.ModifiedAt, "ModifiedAt never moves backwards")
}

func TestApplyRead(t *testing.T) {
	c := conversation.Conversation{LastSeq: 5,
		UserRead: conversation.ReadState{ReadSeq: 1, Unread: 4}, SellerRead: conversation.ReadState{ReadSeq: 5}}
	assert.True(t, store.ApplyRead(&c, conversation.SideUser, 3, 2))
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 2}, c.UserRead)
	assert.False(t, store.ApplyRead(&c, conversation.SideUser, 3, 0), "the same position")
	assert.False(t, store.ApplyRead(&c, conversation.SideUser, 2, 0), "a position behind")
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 2}, c.UserRead)
	assert.False(t, store.ApplyRead(&c, conversation.SideSeller, 4, 0))
	assert.Equal(t, conversation.ReadState{ReadSeq: 5}, c.SellerRead)
}

func TestNormalizeFilter(t *testing.T) {
	us := time.Microsecond
	f := store.NormalizeFilter(conversation.Filter{
		CreatedFrom: t0.Add(time.Nanosecond), CreatedTo: t0.Add(us - time.Nanosecond),
		ModifiedFrom: t0, ModifiedTo: t0, UserID: "u",
	})
	assert.Equal(t, conversation.Filter{
		CreatedFrom: t0.Add(us), CreatedTo: t0,
		ModifiedFrom: t0, ModifiedTo: t0, UserID: "u",
	}, f)
	assert.Equal(t, conversation.Filter{}, store.NormalizeFilter(conversation.Filter{}), "zero bounds stay open")
}

func TestConversationQuery_Matches(t *testing.T) {
	c := conversation.Conversation{
		Channel: "shop", Type: conversation.TypeQuestion, UserID: "u", DataSourceID: "d",
		Item: conversation.Product("p"), Status: conversation.StatusOpen,
		Attributes: conversation.Attributes{UserFirstName: "Ada", UserLastName: "L", ProductBaseCode: "B", OrderNumber: "O"},
		CreatedAt:  t0, ModifiedAt: t0.Add(time.Second),
	}
	q := func(f conversation.Filter, types ...conversation.Type) store.ConversationQuery {
		return store.ConversationQuery{Channel: "shop", Filter: f, Types: types}
	}
	for _, ok := range []store.ConversationQuery{
		q(conversation.Filter{}),
		q(conversation.Filter{}, conversation.TypeQuestion, conversation.TypeReview),
		q(conversation.Filter{CreatedFrom: t0, CreatedTo: t0}),
		q(conversation.Filter{ModifiedFrom: t0, ModifiedTo: t0.Add(time.Second)}),
		q(conversation.Filter{UserID: "u", DataSourceID: "d", ProductID: "p", ItemKind: conversation.ItemProduct,
			Type: conversation.TypeQuestion, Status: conversation.StatusOpen,
			ProductBaseCode: "B", UserFirstName: "Ada", UserLastName: "L", OrderNumber: "O"}),
	} {
		assert.True(t, ok.Matches(c), "%+v", ok)
	}
	for _, no := range []store.ConversationQuery{
		{Channel: "other"},
		q(conversation.Filter{}, conversation.TypeReview),
		q(conversation.Filter{CreatedFrom: t0.Add(time.Nanosecond)}),
		q(conversation.Filter{CreatedTo: t0.Add(-time.Nanosecond)}),
		q(conversation.Filter{ModifiedFrom: t0.Add(time.Second + time.Nanosecond)}),
		q(conversation.Filter{UserID: "v"}),
		q(conversation.Filter{DataSourceID: "e"}),
		q(conversation.Filter{ProductID: "q"}),
		q(conversation.Filter{OrderItemID: "p"}),
		q(conversation.Filter{ItemKind: conversation.ItemOrderItem}),
		q(conversation.Filter{Type: conversation.TypeMessage}),
		q(conversation.Filter{Status: conversation.StatusClosed}),
		q(conversation.Filter{ProductBaseCode: "b"}),
		q(conversation.Filter{UserFirstName: "ada"}),
		q(conversation.Filter{UserLastName: "M"}),
		q(conversation.Filter{OrderNumber: "P"}),
	} {
		assert.False(t, no.Matches(c), "%+v", no)
	}
}

func TestContribution(t *testing.T) {
	c := conversation.Conversation{UserRead: conversation.ReadState{ReadSeq: 1, Unread: 3}, SellerRead: conversation.ReadState{ReadSeq: 4}}
	assert.Equal(t, store.PartyTotals{Conversations: 1, UnreadMessages: 3, UnreadConversations: 1}, store.Contribution(c, conversation.SideUser))
	assert.Equal(t, store.PartyTotals{Conversations: 1}, store.Contribution(c, conversation.SideSeller))
}

func TestChange(t *testing.T) {
	c := conversation.Conversation{ID: 4}
	m := message.Message{Sender: message.User("u", message.UserRegistered), CreatedAt: t0}
	store.ApplyFirst(&c, &m)
	assert.Equal(t, store.PartyTotals{Conversations: 1, UnreadMessages: 1, UnreadConversations: 1}, store.Change(nil, c, conversation.SideSeller), "a new conversation")
	assert.Equal(t, store.PartyTotals{Conversations: 1}, store.Change(nil, c, conversation.SideUser))

	before := c
	m = message.Message{Sender: message.User("u", message.UserRegistered), CreatedAt: t0}
	store.ApplyMessage(&c, &m)
	assert.Equal(t, store.PartyTotals{UnreadMessages: 1}, store.Change(&before, c, conversation.SideSeller), "one more unread message, same conversation")
	assert.True(t, store.Change(&before, c, conversation.SideUser).IsZero())

	before = c
	m = message.Message{Sender: message.DataSource("d"), CreatedAt: t0}
	store.ApplyMessage(&c, &m)
	assert.Equal(t, store.PartyTotals{UnreadMessages: -2, UnreadConversations: -1}, store.Change(&before, c, conversation.SideSeller), "the seller answers: read")
	assert.Equal(t, store.PartyTotals{UnreadMessages: 1, UnreadConversations: 1}, store.Change(&before, c, conversation.SideUser))

	before = c
	store.ApplyStatus(&c, conversation.StatusClosed, t0)
	assert.True(t, store.Change(&before, c, conversation.SideUser).IsZero(), "a status changes no total")

	total := store.PartyTotals{}.Add(store.PartyTotals{1, 2, 3}).Sub(store.PartyTotals{1, 1, 1})
	assert.Equal(t, store.PartyTotals{0, 1, 2}, total)
	assert.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 2}, total.Unread())
}

func TestConversationQuery_InboxParty(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    store.ConversationQuery
		side conversation.Side
		id   string
	}{
		{"User", store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "u"}}, conversation.SideUser, "u"},
		{"Seller", store.ConversationQuery{Channel: "c", Filter: conversation.Filter{DataSourceID: "d"}, Limit: 5}, conversation.SideSeller, "d"},
		{"Both", store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "u", DataSourceID: "d"}}, "", ""},
		{"Channel", store.ConversationQuery{Channel: "c"}, "", ""},
		{"Status", store.ConversationQuery{Channel: "c", Filter: conversation.Filter{DataSourceID: "d", Status: conversation.StatusOpen}}, "", ""},
		{"Dates", store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "u", CreatedFrom: t0}}, "", ""},
		{"Types", store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "u"}, Types: []conversation.Type{conversation.TypeQuestion}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			side, id, ok := tc.q.InboxParty()
			assert.Equal(t, tc.side != "", ok)
			assert.Equal(t, tc.side, side)
			assert.Equal(t, tc.id, id)
		})
	}
}
