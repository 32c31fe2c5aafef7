package storetest

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// listingOrder sorts cs the way ListConversations lists them.
func listingOrder(cs []conversation.Conversation) []conversation.Conversation {
	out := slices.Clone(cs)
	slices.SortFunc(out, func(a, b conversation.Conversation) int {
		if c := b.LastMessageAt.Compare(a.LastMessageAt); c != 0 {
			return c
		}
		switch {
		case a.ID > b.ID:
			return -1
		case a.ID < b.ID:
			return 1
		}
		return 0
	})
	return out
}

// matching returns the conversations of cs in channel ch that q's filter
// and types keep, in listing order: what ListConversations must return.
func matching(cs []conversation.Conversation, q store.ConversationQuery) []conversation.Conversation {
	var out []conversation.Conversation
	for _, c := range cs {
		if q.Matches(c) {
			out = append(out, c)
		}
	}
	return listingOrder(out)
}

// requireConvs checks a listing's items against want.
func requireConvs(t *testing.T, want, got []conversation.Conversation, msgAndArgs ...any) {
	t.Helper()
	for _, c := range got {
		requireUTC(t, "conversation", c.CreatedAt, c.ModifiedAt, c.LastMessageAt)
	}
	require.Equal(t, convIDs(want), convIDs(got), msgAndArgs...)
	if len(want) > 0 {
		require.Equal(t, want, got, msgAndArgs...)
	}
}

// pageAll lists every page of q, checking each, and returns the items.
func (h *harness) pageAll(q store.ConversationQuery, wantTotal int) []conversation.Conversation {
	h.t.Helper()
	var all []conversation.Conversation
	for page := 0; ; page++ {
		require.Less(h.t, page, 1000, "paging does not end")
		q.WithTotal = page%2 == 0
		p, err := h.s.ListConversations(h.ctx, q)
		require.NoError(h.t, err)
		require.LessOrEqual(h.t, len(p.Items), q.Limit, "page size")
		if q.WithTotal {
			require.Equal(h.t, int64(wantTotal), p.Total, "Total counts every match, ignoring After")
		} else {
			require.Equal(h.t, int64(-1), p.Total, "Total without WithTotal")
		}
		all = append(all, p.Items...)
		if !p.More {
			require.LessOrEqual(h.t, len(all), wantTotal)
			return all
		}
		require.Len(h.t, p.Items, q.Limit, "a page followed by another is full")
		last := p.Items[len(p.Items)-1]
		q.After = &store.ConversationCursor{LastMessageAt: last.LastMessageAt, ID: last.ID}
	}
}

func (f factory) testListConversations(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		h := f.new(t)
		p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: chMain, Limit: 10, WithTotal: true})
		require.NoError(t, err)
		require.Empty(t, p.Items)
		require.False(t, p.More)
		require.Equal(t, int64(0), p.Total)
	})

	t.Run("Order", func(t *testing.T) {
		h := f.new(t)
		var cs []conversation.Conversation
		for range 6 {
			cs = append(cs, h.create().Conversation)
		}
		// Newer activity in the first and the third moves them up.
		cs[2] = h.append(cs[2], conversation.SideSeller).Conversation
		cs[0] = h.append(cs[0], conversation.SideSeller).Conversation
		want := listingOrder(cs)
		require.Equal(t, []int64{cs[0].ID, cs[2].ID, cs[5].ID, cs[4].ID, cs[3].ID, cs[1].ID}, convIDs(want))

		p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: chMain, Limit: 10})
		require.NoError(t, err)
		requireConvs(t, want, p.Items)
		require.False(t, p.More)
		require.Equal(t, int64(-1), p.Total)
	})

	t.Run("Ties", func(t *testing.T) {
		h := f.new(t)
		at := h.tick()
		sameTime := func(c *conversation.Conversation) { c.CreatedAt = at }
		var cs []conversation.Conversation
		for range 5 {
			cs = append(cs, h.create(sameTime).Conversation)
		}
		cs = append(cs, h.create().Conversation) // newer
		want := listingOrder(cs)
		require.Equal(t, cs[5].ID, want[0].ID)
		require.Equal(t, cs[4].ID, want[1].ID, "ties on LastMessageAt broken by ID, descending")

		requireConvs(t, want, h.pageAll(store.ConversationQuery{Channel: chMain, Limit: 2}, len(cs)))

		// A cursor in the middle of the tie.
		p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{
			Channel: chMain, Limit: 10,
			After: &store.ConversationCursor{LastMessageAt: at, ID: cs[2].ID},
		})
		require.NoError(t, err)
		requireConvs(t, []conversation.Conversation{cs[1], cs[0]}, p.Items)
	})

	t.Run("Paging", func(t *testing.T) {
		h := f.new(t)
		cs := pagingFixture(h, 45)
		want := listingOrder(cs)

		for _, size := range []int{1, 7, 20, 45, 100} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				h := h.sub(t)
				got := h.pageAll(store.ConversationQuery{Channel: chMain, Limit: size}, len(cs))
				requireConvs(t, want, got, "pages of %d: no conversation lost or repeated", size)
			})
		}
		t.Run("Filtered", func(t *testing.T) {
			h := h.sub(t)
			q := store.ConversationQuery{Channel: chMain, Limit: 4, Filter: conversation.Filter{Type: conversation.TypeQuestion}}
			wantQ := matching(cs, q)
			require.Len(t, wantQ, 12)
			requireConvs(t, wantQ, h.pageAll(q, len(wantQ)))
		})
	})

	t.Run("LimitAboveTotal", func(t *testing.T) {
		h := f.new(t)
		for range 3 {
			h.create()
		}
		p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: chMain, Limit: 3, WithTotal: true})
		require.NoError(t, err)
		require.Len(t, p.Items, 3)
		require.False(t, p.More, "no more after an exactly full last page")
		require.Equal(t, int64(3), p.Total)
		p, err = h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: chMain, Limit: 1000})
		require.NoError(t, err)
		require.Len(t, p.Items, 3)
		require.False(t, p.More)
	})

	t.Run("Channel", func(t *testing.T) {
		h := f.new(t)
		a := h.create().Conversation
		b := h.create(func(c *conversation.Conversation) { c.Channel = chOther; c.UserID = a.UserID }).Conversation
		requireConvs(t, []conversation.Conversation{a}, h.listAll(chMain))
		requireConvs(t, []conversation.Conversation{b}, h.listAll(chOther))
		require.Empty(t, h.listAll("no-such-channel"))
	})

	t.Run("Filter", func(t *testing.T) {
		h := f.new(t)
		cs := filterFixture(h)
		all := matching(cs, store.ConversationQuery{Channel: chMain})
		require.Len(t, all, 6)
		at := func(i int) time.Time { return cs[i].CreatedAt }
		mod := func(i int) time.Time { return cs[i].ModifiedAt }
		us := time.Microsecond
		cases := []struct {
			name   string
			filter conversation.Filter
			want   []int // indexes into cs, when checked by hand
		}{
			{name: "UserID", filter: conversation.Filter{UserID: "u1"}, want: []int{0, 1}},
			{name: "DataSourceID", filter: conversation.Filter{DataSourceID: "d1"}, want: []int{0, 2, 4}},
			{name: "ProductID", filter: conversation.Filter{ProductID: "p1"}, want: []int{0, 5}},
			{name: "OrderItemID", filter: conversation.Filter{OrderItemID: "p1"}, want: []int{1}},
			{name: "ItemKind product", filter: conversation.Filter{ItemKind: conversation.ItemProduct}, want: []int{0, 4, 5}},
			{name: "ItemKind orderitem", filter: conversation.Filter{ItemKind: conversation.ItemOrderItem}, want: []int{1, 2}},
			{name: "Type", filter: conversation.Filter{Type: conversation.TypeReview}, want: []int{4, 5}},
			{name: "Status", filter: conversation.Filter{Status: conversation.StatusClosed}, want: []int{1}},
			{name: "Status open", filter: conversation.Filter{Status: conversation.StatusOpen}, want: []int{0, 2, 3, 4, 5}},
			{name: "ProductBaseCode", filter: conversation.Filter{ProductBaseCode: "BASE-1"}, want: []int{0, 5}},
			{name: "UserFirstName", filter: conversation.Filter{UserFirstName: "Ada"}, want: []int{0, 1, 5}},
			{name: "UserLastName", filter: conversation.Filter{UserLastName: "Lovelace"}, want: []int{0, 3}},
			{name: "OrderNumber", filter: conversation.Filter{OrderNumber: "ORD-7"}, want: []int{1}},
			{name: "CreatedFrom inclusive", filter: conversation.Filter{CreatedFrom: at(2)}, want: []int{2, 3, 4, 5}},
			{name: "CreatedFrom", filter: conversation.Filter{CreatedFrom: at(2).Add(us)}, want: []int{3, 4, 5}},
			{name: "CreatedTo inclusive", filter: conversation.Filter{CreatedTo: at(2)}, want: []int{0, 1, 2}},
			{name: "CreatedTo", filter: conversation.Filter{CreatedTo: at(2).Add(-us)}, want: []int{0, 1}},
			{name: "Created exactly", filter: conversation.Filter{CreatedFrom: at(3), CreatedTo: at(3)}, want: []int{3}},
			{name: "ModifiedFrom inclusive", filter: conversation.Filter{ModifiedFrom: mod(1)}, want: []int{1, 5}},
			{name: "ModifiedFrom", filter: conversation.Filter{ModifiedFrom: mod(1).Add(us)}, want: []int{5}},
			{name: "ModifiedTo inclusive", filter: conversation.Filter{ModifiedTo: mod(4)}, want: []int{0, 2, 3, 4}},
			{name: "ModifiedTo", filter: conversation.Filter{ModifiedTo: mod(4).Add(-us)}, want: []int{0, 2, 3}},
			{name: "Modified exactly", filter: conversation.Filter{ModifiedFrom: mod(1), ModifiedTo: mod(1)}, want: []int{1}},
			// Bounds between two microseconds keep what they keep at full
			// precision: a store rounds a From bound up and a To bound
			// down (store.NormalizeFilter), never the other way.
			{name: "CreatedFrom a nanosecond later", filter: conversation.Filter{CreatedFrom: at(2).Add(time.Nanosecond)}, want: []int{3, 4, 5}},
			{name: "CreatedFrom a nanosecond earlier", filter: conversation.Filter{CreatedFrom: at(2).Add(-time.Nanosecond)}, want: []int{2, 3, 4, 5}},
			{name: "CreatedTo a nanosecond earlier", filter: conversation.Filter{CreatedTo: at(2).Add(-time.Nanosecond)}, want: []int{0, 1}},
			{name: "CreatedTo a nanosecond later", filter: conversation.Filter{CreatedTo: at(2).Add(time.Nanosecond)}, want: []int{0, 1, 2}},
			{name: "ModifiedFrom a nanosecond later", filter: conversation.Filter{ModifiedFrom: mod(1).Add(time.Nanosecond)}, want: []int{5}},
			{name: "ModifiedTo a nanosecond earlier", filter: conversation.Filter{ModifiedTo: mod(4).Add(-time.Nanosecond)}, want: []int{0, 2, 3}},
			{name: "Created within a microsecond", filter: conversation.Filter{
				CreatedFrom: at(3).Add(time.Nanosecond), CreatedTo: at(3).Add(999 * time.Nanosecond),
			}, want: []int{}},
			{name: "nothing", filter: conversation.Filter{UserID: "nobody"}, want: []int{}},
			{name: "UserID+Type", filter: conversation.Filter{UserID: "u1", Type: conversation.TypeMessage}, want: []int{1}},
			{name: "DataSourceID+ItemKind+UserFirstName", filter: conversation.Filter{
				DataSourceID: "d1", ItemKind: conversation.ItemProduct, UserFirstName: "Ada",
			}, want: []int{0}},
			{name: "UserLastName+Created range", filter: conversation.Filter{
				UserLastName: "Turing", CreatedFrom: at(4), CreatedTo: at(5),
			}, want: []int{4, 5}},
			{name: "ProductID+ProductBaseCode+Modified range", filter: conversation.Filter{
				ProductID: "p1", ProductBaseCode: "BASE-1", ModifiedFrom: mod(0), ModifiedTo: mod(4),
			}, want: []int{0}},
			{name: "contradiction", filter: conversation.Filter{ProductID: "p1", ItemKind: conversation.ItemOrderItem}, want: []int{}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				h := h.sub(t)
				q := store.ConversationQuery{Channel: chMain, Filter: tc.filter, Limit: 100, WithTotal: true}
				want := matching(cs, q)
				var byHand []conversation.Conversation
				for _, i := range tc.want {
					byHand = append(byHand, cs[i])
				}
				require.Equal(t, convIDs(listingOrder(byHand)), convIDs(want), "the fixture is not what the case expects")
				p, err := h.s.ListConversations(h.ctx, q)
				require.NoError(t, err)
				requireConvs(t, want, p.Items)
				require.Equal(t, int64(len(want)), p.Total)
				require.False(t, p.More)
			})
		}
	})

	t.Run("Types", func(t *testing.T) {
		h := f.new(t)
		cs := filterFixture(h)
		for _, tc := range []struct {
			name   string
			types  []conversation.Type
			filter conversation.Filter
			want   int
		}{
			{"public", []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}, conversation.Filter{}, 3},
			{"message", []conversation.Type{conversation.TypeMessage}, conversation.Filter{}, 3},
			{"all", conversation.Types, conversation.Filter{}, 6},
			{"with Filter.Type", []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}, conversation.Filter{Type: conversation.TypeReview}, 2},
			{"disjoint from Filter.Type", []conversation.Type{conversation.TypeReview}, conversation.Filter{Type: conversation.TypeMessage}, 0},
			{"with UserID", []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}, conversation.Filter{UserID: "u3"}, 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := h.sub(t)
				q := store.ConversationQuery{Channel: chMain, Types: tc.types, Filter: tc.filter, Limit: 100, WithTotal: true}
				want := matching(cs, q)
				require.Len(t, want, tc.want)
				p, err := h.s.ListConversations(h.ctx, q)
				require.NoError(t, err)
				requireConvs(t, want, p.Items)
				require.Equal(t, int64(tc.want), p.Total)
			})
		}
	})
}

// pagingFixture stores n conversations in chMain, three to a time (ties
// broken by id), a quarter of them questions, five moved up by a later
// message, and one in chOther; it returns those of chMain as stored.
func pagingFixture(h *harness, n int) []conversation.Conversation {
	h.t.Helper()
	var cs []conversation.Conversation
	var at time.Time
	for i := range n {
		if i%3 == 0 {
			at = h.tick()
		}
		typ := conversation.TypeMessage
		if i%4 == 0 {
			typ = conversation.TypeQuestion
		}
		cs = append(cs, h.create(func(c *conversation.Conversation) { c.CreatedAt, c.Type = at, typ }).Conversation)
	}
	for _, i := range []int{4, 17, 30, 31, 2} {
		cs[i] = h.append(cs[i], conversation.SideSeller).Conversation
	}
	h.create(func(c *conversation.Conversation) { c.Channel = chOther })
	return cs
}

// filterFixture stores six conversations in chMain that differ in every
// filtered field, and one in chOther that matches every filter of the
// tests, and returns all seven as stored. Created and modified times
// increase with the index, except that conversation 1 is closed after
// conversation 4 is created and conversation 5 gets a message after that.
func filterFixture(h *harness) []conversation.Conversation {
	h.t.Helper()
	attrs := func(first, last, base, order string) conversation.Attributes {
		return conversation.Attributes{UserFirstName: first, UserLastName: last, ProductBaseCode: base, OrderNumber: order}
	}
	specs := []conversation.Conversation{
		{UserID: "u1", DataSourceID: "d1", Item: conversation.Product("p1"), Type: conversation.TypeQuestion, Attributes: attrs("Ada", "Lovelace", "BASE-1", "")},
		{UserID: "u1", DataSourceID: "d2", Item: conversation.OrderItem("p1"), Type: conversation.TypeMessage, Attributes: attrs("Ada", "Byron", "", "ORD-7")},
		{UserID: "u2", DataSourceID: "d1", Item: conversation.OrderItem("oi-2"), Type: conversation.TypeMessage, Attributes: attrs("Grace", "Hopper", "", "ORD-8")},
		{UserID: "u2", DataSourceID: "d2", Type: conversation.TypeMessage, Attributes: attrs("Grace", "Lovelace", "", "")},
		{UserID: "u3", DataSourceID: "d1", Item: conversation.Product("p2"), Type: conversation.TypeReview, Attributes: attrs("Alan", "Turing", "BASE-2", "")},
		{UserID: "u3", DataSourceID: "d3", Item: conversation.Product("p1"), Type: conversation.TypeReview, Attributes: attrs("Ada", "Turing", "BASE-1", "")},
		{Channel: chOther, UserID: "u1", DataSourceID: "d1", Item: conversation.Product("p1"), Type: conversation.TypeQuestion, Attributes: attrs("Ada", "Lovelace", "BASE-1", "ORD-7")},
	}
	var cs []conversation.Conversation
	for _, spec := range specs {
		cs = append(cs, h.create(func(c *conversation.Conversation) {
			if spec.Channel != "" {
				c.Channel = spec.Channel
			}
			c.UserID, c.DataSourceID, c.Item, c.Type, c.Attributes = spec.UserID, spec.DataSourceID, spec.Item, spec.Type, spec.Attributes
		}).Conversation)
	}
	closed, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: cs[1].ID, Status: conversation.StatusClosed, At: h.tick()})
	require.NoError(h.t, err)
	cs[1] = closed
	cs[5] = h.append(cs[5], conversation.SideSeller).Conversation
	return cs
}

func (f factory) testListMessages(t *testing.T) {
	// setup stores a conversation of 12 messages, interleaved with the
	// messages of another conversation, and returns its messages.
	setup := func(h *harness) []message.Message {
		c := h.create().Conversation
		other := h.create().Conversation
		for i := range 11 {
			c = h.append(c, []conversation.Side{conversation.SideSeller, conversation.SideUser}[i%2]).Conversation
			if i%3 == 0 {
				h.append(other, conversation.SideSeller)
			}
		}
		msgs := h.messages(c.ID)
		require.Len(h.t, msgs, 12)
		return msgs
	}

	t.Run("Paging", func(t *testing.T) {
		h := f.new(t)
		msgs := setup(h)
		convID := msgs[0].ConversationID
		for _, tc := range []struct {
			before    int64
			withTotal bool
			want      []message.Message
			more      bool
		}{
			{0, true, newestFirst(msgs[7:12], 5), true},
			{8, false, newestFirst(msgs[2:7], 5), true},
			{3, true, newestFirst(msgs[0:2], 2), false},
			{1, false, nil, false},
		} {
			p, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: convID, BeforeSeq: tc.before, Limit: 5, WithTotal: tc.withTotal})
			require.NoError(t, err)
			requireMsgs(t, tc.want, p.Items, "before %d", tc.before)
			require.Equal(t, tc.more, p.More, "before %d", tc.before)
			if tc.withTotal {
				require.Equal(t, int64(12), p.Total)
			} else {
				require.Equal(t, int64(-1), p.Total)
			}
		}
	})

	t.Run("PageSizes", func(t *testing.T) {
		h := f.new(t)
		msgs := setup(h)
		convID := msgs[0].ConversationID
		for _, size := range []int{1, 5, 11, 12, 13, 1000} {
			var got []message.Message
			var before int64
			for pages := 0; ; pages++ {
				require.Less(t, pages, 100, "paging does not end")
				p, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: convID, BeforeSeq: before, Limit: size})
				require.NoError(t, err)
				require.LessOrEqual(t, len(p.Items), size)
				got = append(got, p.Items...)
				if !p.More {
					break
				}
				require.Len(t, p.Items, size)
				before = p.Items[len(p.Items)-1].Seq
			}
			requireMsgs(t, newestFirst(msgs, len(msgs)), got, "pages of %d", size)
		}
	})

	t.Run("UnknownConversation", func(t *testing.T) {
		h := f.new(t)
		msgs := setup(h)
		p, err := h.s.ListMessages(h.ctx, store.MessageQuery{ConversationID: msgs[0].ConversationID + 1000, Limit: 10, WithTotal: true})
		require.NoError(t, err)
		require.Empty(t, p.Items)
		require.False(t, p.More)
		require.Equal(t, int64(0), p.Total)
	})
}

func (f factory) testMessagesAfter(t *testing.T) {
	// setup stores a conversation of 10 messages and another of 4,
	// interleaved, and returns the messages of each.
	setup := func(h *harness) (a, b []message.Message) {
		ca, cb := h.create().Conversation, h.create().Conversation
		for i := range 9 {
			ca = h.append(ca, []conversation.Side{conversation.SideSeller, conversation.SideUser}[i%2]).Conversation
			if i%3 == 0 {
				cb = h.append(cb, conversation.SideSeller).Conversation
			}
		}
		a, b = h.messages(ca.ID), h.messages(cb.ID)
		require.Equal(h.t, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, seqs(a))
		require.Equal(h.t, []int64{1, 2, 3, 4}, seqs(b))
		requireIncreasing(h.t, msgIDs(a), "a conversation's message ids in Seq order")
		return a, b
	}
	after := func(h *harness, q message.After) []message.Message {
		h.t.Helper()
		ms, err := h.s.MessagesAfter(h.ctx, q)
		require.NoError(h.t, err, "%+v", q)
		return ms
	}
	// want is what MessagesAfter must return: the messages of ms above
	// both bounds, the first limit of them.
	want := func(ms []message.Message, id, seq int64, limit int) []message.Message {
		var out []message.Message
		for _, m := range ms {
			if m.ID > id && m.Seq > seq && len(out) < limit {
				out = append(out, m)
			}
		}
		return out
	}

	t.Run("FromStart", func(t *testing.T) {
		h := f.new(t)
		a, b := setup(h)
		requireMsgs(t, a, after(h, message.After{ConversationID: a[0].ConversationID, Limit: 100}))
		requireMsgs(t, a[:4], after(h, message.After{ConversationID: a[0].ConversationID, Limit: 4}))
		requireMsgs(t, b, after(h, message.After{ConversationID: b[0].ConversationID, Limit: 1000}))
	})

	t.Run("AfterID", func(t *testing.T) {
		h := f.new(t)
		a, _ := setup(h)
		conv := a[0].ConversationID
		requireMsgs(t, a[4:], after(h, message.After{ConversationID: conv, ID: a[3].ID, Limit: 100}))
		requireMsgs(t, a[4:7], after(h, message.After{ConversationID: conv, ID: a[3].ID, Limit: 3}))
		requireMsgs(t, a[1:2], after(h, message.After{ConversationID: conv, ID: a[0].ID, Limit: 1}))
		require.Empty(t, after(h, message.After{ConversationID: conv, ID: a[9].ID, Limit: 100}), "after the last")
	})

	// Any id is a position: another conversation's message ids, and
	// numbers no message has, below, between and past this
	// conversation's messages.
	t.Run("AfterAnyID", func(t *testing.T) {
		h := f.new(t)
		a, b := setup(h)
		conv := a[0].ConversationID
		last := max(a[9].ID, b[3].ID)
		ids := []int64{0, 1, a[0].ID - 1, last + 1, last + 1000, math.MaxInt64}
		for _, m := range append(slices.Clone(a), b...) {
			ids = append(ids, m.ID, m.ID+1)
		}
		for _, id := range ids {
			requireMsgs(t, want(a, id, 0, 100), after(h, message.After{ConversationID: conv, ID: id, Limit: 100}), "after id %d", id)
		}
		require.Empty(t, after(h, message.After{ConversationID: conv, ID: last + 1, Limit: 100}), "past every message: none, no error")
		require.Less(t, a[0].ID, b[0].ID)
		require.Less(t, b[0].ID, a[1].ID)
		requireMsgs(t, a[1:], after(h, message.After{ConversationID: conv, ID: b[0].ID, Limit: 100}),
			"another conversation's message, between this one's first and second")
	})

	t.Run("AfterSeq", func(t *testing.T) {
		h := f.new(t)
		a, _ := setup(h)
		conv := a[0].ConversationID
		for seq := int64(0); seq <= 12; seq++ {
			requireMsgs(t, want(a, 0, seq, 100), after(h, message.After{ConversationID: conv, Seq: seq, Limit: 100}), "after seq %d", seq)
			requireMsgs(t, want(a, 0, seq, 2), after(h, message.After{ConversationID: conv, Seq: seq, Limit: 2}), "after seq %d, 2", seq)
		}
		require.Empty(t, after(h, message.After{ConversationID: conv, Seq: math.MaxInt64, Limit: 100}))
	})

	// Both bounds: the later one decides, whichever it is.
	t.Run("AfterIDAndSeq", func(t *testing.T) {
		h := f.new(t)
		a, b := setup(h)
		conv := a[0].ConversationID
		ids := []int64{0, max(a[9].ID, b[3].ID) + 1}
		for _, m := range append(slices.Clone(a), b...) {
			ids = append(ids, m.ID)
		}
		for _, id := range ids {
			for seq := int64(0); seq <= 11; seq++ {
				for _, limit := range []int{1, 3, 100} {
					requireMsgs(t, want(a, id, seq, limit), after(h, message.After{ConversationID: conv, ID: id, Seq: seq, Limit: limit}),
						"after id %d and seq %d, limit %d", id, seq, limit)
				}
			}
		}
	})

	t.Run("Poll", func(t *testing.T) {
		h := f.new(t)
		a, _ := setup(h)
		c := h.get(a[0].ConversationID)
		var got []message.Message
		last := int64(0)
		for range 20 {
			ms := after(h, message.After{ConversationID: c.ID, ID: last, Limit: 3})
			if len(ms) == 0 {
				break
			}
			got = append(got, ms...)
			last = ms[len(ms)-1].ID
		}
		requireMsgs(t, a, got)
		next := h.append(c, conversation.SideSeller).Message
		requireMsgs(t, []message.Message{next}, after(h, message.After{ConversationID: c.ID, ID: last, Limit: 3}), "a new message after the last seen")
		requireMsgs(t, []message.Message{next}, after(h, message.After{ConversationID: c.ID, Seq: c.LastSeq, Limit: 3}), "a new message after the last seq")
	})

	t.Run("UnknownConversation", func(t *testing.T) {
		h := f.new(t)
		a, b := setup(h)
		for _, q := range []message.After{
			{ConversationID: b[0].ConversationID + 1000, Limit: 10},
			{ConversationID: b[0].ConversationID + 1000, ID: a[0].ID, Seq: 1, Limit: 10},
			{ConversationID: 0, Limit: 10},
		} {
			require.Empty(t, after(h, q), "%+v", q)
		}
	})
}

func (f factory) testUnread(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		with := func(user, ds string, item conversation.Item, starter conversation.Side, channel string) func(*conversation.Conversation) {
			return func(c *conversation.Conversation) {
				c.UserID, c.DataSourceID, c.Item, c.StartedBy, c.Channel = user, ds, item, starter, channel
			}
		}
		// u1–d1: the user starts, the seller answers twice.
		c1 := h.create(with("u1", "d1", conversation.Item{}, conversation.SideUser, chMain)).Conversation
		c1 = h.append(c1, conversation.SideSeller).Conversation
		c1 = h.append(c1, conversation.SideSeller).Conversation
		// u1–d2: the user starts, no answer.
		h.create(with("u1", "d2", conversation.Item{}, conversation.SideUser, chMain))
		// u1–d1 about a product: the seller starts.
		h.create(with("u1", "d1", conversation.Product("p1"), conversation.SideSeller, chMain))
		// u1–d1 in the other channel: the seller answers.
		o := h.create(with("u1", "d1", conversation.Item{}, conversation.SideUser, chOther)).Conversation
		h.append(o, conversation.SideSeller)
		// u2–d1: the user starts.
		h.create(with("u2", "d1", conversation.Item{}, conversation.SideUser, chMain))

		unread := func(ch string, s conversation.Side, id string) store.UnreadSummary {
			t.Helper()
			u, err := h.s.Unread(h.ctx, store.UnreadQuery{Channel: ch, Side: s, PartyID: id})
			require.NoError(t, err)
			return u
		}
		require.Equal(t, store.UnreadSummary{Messages: 3, Conversations: 2}, unread(chMain, conversation.SideUser, "u1"))
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, unread(chMain, conversation.SideSeller, "d1"))
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, unread(chMain, conversation.SideSeller, "d2"))
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, unread(chOther, conversation.SideUser, "u1"))
		require.Equal(t, store.UnreadSummary{}, unread(chOther, conversation.SideSeller, "d1"))
		require.Equal(t, store.UnreadSummary{}, unread(chMain, conversation.SideUser, "d1"), "a data source id is not a user id")
		require.Equal(t, store.UnreadSummary{}, unread(chMain, conversation.SideUser, "nobody"))

		_, err := h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c1.ID, Side: conversation.SideUser, UpToMessageID: c1.LastMessageID})
		require.NoError(t, err)
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, unread(chMain, conversation.SideUser, "u1"))
	})
}
