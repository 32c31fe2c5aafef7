package parley_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// callCounter is a store that counts its listing reads.
type callCounter struct {
	store.Store
	lists, sets, gets, messages atomic.Int64
}

func (c *callCounter) ListConversations(ctx context.Context, q store.ConversationQuery) (store.Page[conversation.Conversation], error) {
	c.lists.Add(1)
	return c.Store.ListConversations(ctx, q)
}

func (c *callCounter) MessageSets(ctx context.Context, q store.MessageSetQuery) ([][]message.Message, error) {
	c.sets.Add(1)
	return c.Store.MessageSets(ctx, q)
}

func (c *callCounter) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	c.gets.Add(1)
	return c.Store.GetConversation(ctx, id)
}

func (c *callCounter) ListMessages(ctx context.Context, q store.MessageQuery) (store.Page[message.Message], error) {
	c.messages.Add(1)
	return c.Store.ListMessages(ctx, q)
}

// requireSets checks a page with messages against List (or PublicList)
// and Messages: the same conversations, each with its own newest n
// messages.
func requireSets(t *testing.T, h *harness, a parley.Actor, convs []conversation.Conversation, got parley.Page[parley.ConversationMessages], n int) {
	t.Helper()
	require.Len(t, got.Items, len(convs))
	for i, item := range got.Items {
		assert.Equal(t, convs[i], item.Conversation)
		want, err := h.svc.Messages(ctx, a, item.Conversation.ID, parley.PageRequest{Limit: n})
		require.NoError(t, err)
		if n == 0 {
			assert.Empty(t, item.Messages)
			continue
		}
		assert.Equal(t, want.Items, item.Messages, "conversation %d", item.Conversation.ID)
		for _, m := range item.Messages {
			assert.Equal(t, item.Conversation.ID, m.ConversationID, "a message of another conversation")
		}
	}
}

func TestService_ListWithMessages(t *testing.T) {
	h := newHarness(t)
	var all []int64
	for i, a := range []parley.Actor{alice, bob, alice, bob, alice} {
		ds := fmt.Sprint(i%2 + 1)
		res := h.mustStart(t, a, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: ds, Item: conversation.Product(fmt.Sprint(i)), Content: "hello"})
		for j := range i {
			h.mustPost(t, parley.Seller("1", ds), res.Conversation.ID, fmt.Sprint("answer ", j))
		}
		all = append(all, res.Conversation.ID)
	}
	h.mustStart(t, parley.User("2", "545382"), question("1", conversation.Item{}, "another channel"))

	for _, tc := range []struct {
		name  string
		actor parley.Actor
		f     conversation.Filter
		want  int
	}{
		{"User", alice, conversation.Filter{}, 3},
		{"OtherUser", bob, conversation.Filter{}, 2},
		{"Seller", shop1, conversation.Filter{}, 3},
		{"OtherSeller", shop2, conversation.Filter{}, 2},
		{"Integration", channel, conversation.Filter{}, 5},
		{"FilterOnAnotherParty", alice, conversation.Filter{UserID: "545383"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, n := range []int{0, 1, 2, 10} {
				list, err := h.svc.List(ctx, tc.actor, tc.f, parley.PageRequest{WithTotal: true})
				require.NoError(t, err)
				require.Len(t, list.Items, tc.want)
				got, err := h.svc.ListWithMessages(ctx, tc.actor, tc.f, parley.PageRequest{WithTotal: true}, n)
				require.NoError(t, err)
				assert.Equal(t, list.Total, got.Total)
				assert.Equal(t, list.Next, got.Next)
				requireSets(t, h, tc.actor, list.Items, got, n)
				s, _ := tc.actor.Sender()
				for _, item := range got.Items {
					c := item.Conversation
					if s.Kind == message.SenderUser {
						assert.Equal(t, s.ID, c.UserID, "another user's conversation")
					} else if s.Kind == message.SenderDataSource {
						assert.Equal(t, s.ID, c.DataSourceID, "another seller's conversation")
					}
					assert.Equal(t, "1", c.Channel, "another channel's conversation")
				}
			}
		})
	}

	t.Run("Paging", func(t *testing.T) {
		var seen []int64
		p := parley.PageRequest{Limit: 2}
		for {
			got, err := h.svc.ListWithMessages(ctx, channel, conversation.Filter{}, p, 3)
			require.NoError(t, err)
			for _, item := range got.Items {
				seen = append(seen, item.Conversation.ID)
				assert.Len(t, item.Messages, min(3, int(item.Conversation.MessageCount)))
			}
			if got.Next == "" {
				break
			}
			p.Cursor = got.Next
		}
		assert.ElementsMatch(t, all, seen)
	})

	t.Run("SetSizeCapped", func(t *testing.T) {
		h := newHarness(t, func(o *parley.Options) { o.Limits.MaxPageSize, o.Limits.DefaultPageSize = 2, 2 })
		res := h.mustStart(t, alice, question("1", conversation.Item{}, "q"))
		for range 4 {
			h.mustPost(t, shop1, res.Conversation.ID, "a")
		}
		got, err := h.svc.ListWithMessages(ctx, alice, conversation.Filter{}, parley.PageRequest{}, 1000)
		require.NoError(t, err)
		require.Len(t, got.Items, 1)
		assert.Len(t, got.Items[0].Messages, 2, "capped to MaxPageSize")
	})

	t.Run("BadInput", func(t *testing.T) {
		_, err := h.svc.ListWithMessages(ctx, alice, conversation.Filter{}, parley.PageRequest{}, -1)
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.ListWithMessages(ctx, alice, conversation.Filter{Status: "x"}, parley.PageRequest{}, 1)
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.ListWithMessages(ctx, alice, conversation.Filter{}, parley.PageRequest{Cursor: "nope"}, 1)
		assert.ErrorIs(t, err, parley.ErrInvalidCursor)
		_, err = h.svc.ListWithMessages(ctx, parley.Actor{}, conversation.Filter{}, parley.PageRequest{}, 1)
		assert.ErrorIs(t, err, parley.ErrPermission)
		_, err = h.svc.PublicListWithMessages(ctx, "1", "", conversation.Filter{}, parley.PageRequest{}, -1)
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.PublicListWithMessages(ctx, "1", conversation.TypeMessage, conversation.Filter{}, parley.PageRequest{}, 1)
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.GetWithMessages(ctx, alice, all[0], -1)
		assert.ErrorIs(t, err, parley.ErrInvalid)
	})
}

func TestService_PublicListWithMessages(t *testing.T) {
	h := newHarness(t)
	q := h.mustStart(t, alice, question("1", conversation.Product("1"), "q")).Conversation
	h.mustPost(t, shop1, q.ID, "a")
	h.mustStart(t, bob, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "r"})
	h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "private"})
	h.mustStart(t, parley.User("2", "545382"), question("1", conversation.Product("1"), "another channel"))

	for _, typ := range []conversation.Type{"", conversation.TypeQuestion, conversation.TypeReview} {
		list, err := h.svc.PublicList(ctx, "1", typ, conversation.Filter{}, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		got, err := h.svc.PublicListWithMessages(ctx, "1", typ, conversation.Filter{}, parley.PageRequest{WithTotal: true}, 5)
		require.NoError(t, err)
		assert.Equal(t, list.Total, got.Total)
		requireSets(t, h, channel, list.Items, got, 5)
		for _, item := range got.Items {
			assert.True(t, item.Conversation.Type.Public(), "a private conversation")
			assert.Zero(t, item.Conversation.UserRead, "no private data")
			for _, m := range item.Messages {
				assert.NotEqual(t, "private", m.Content)
			}
		}
	}
	got, err := h.svc.PublicListWithMessages(ctx, "3", "", conversation.Filter{}, parley.PageRequest{}, 5)
	require.NoError(t, err)
	assert.Empty(t, got.Items)
}

func TestService_GetWithMessages(t *testing.T) {
	h := newHarness(t)
	res := h.mustStart(t, alice, question("1", conversation.Item{}, "q"))
	id := res.Conversation.ID
	h.mustPost(t, shop1, id, "a")
	got, err := h.svc.GetWithMessages(ctx, shop1, id, 10)
	require.NoError(t, err)
	want, err := h.svc.Messages(ctx, shop1, id, parley.PageRequest{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, want.Items, got.Messages)
	assert.Equal(t, id, got.Conversation.ID)

	_, err = h.svc.GetWithMessages(ctx, bob, id, 10)
	assert.ErrorIs(t, err, parley.ErrPermission, "another user's conversation")
	_, err = h.svc.GetWithMessages(ctx, shop2, id, 10)
	assert.ErrorIs(t, err, parley.ErrPermission, "another seller's conversation")
	_, err = h.svc.GetWithMessages(ctx, parley.Integration("2"), id, 10)
	assert.ErrorIs(t, err, parley.ErrNotFound, "another channel's conversation")
}

// TestService_ListWithMessagesReads checks that a page with its message
// sets costs the same store reads whatever its size: one listing and one
// read of every set, no conversation read again.
func TestService_ListWithMessagesReads(t *testing.T) {
	h := newHarness(t)
	st := &callCounter{Store: h.store}
	svc, err := parley.New(st, parley.DefaultOptions())
	require.NoError(t, err)
	for i := range 40 {
		res := h.mustStart(t, parley.User("1", fmt.Sprint(1000+i)), question("1", conversation.Item{}, "q"))
		h.mustPost(t, shop1, res.Conversation.ID, "a")
	}
	for _, size := range []int{1, 5, 20, 40} {
		for name, list := range map[string]func() (parley.Page[parley.ConversationMessages], error){
			"private": func() (parley.Page[parley.ConversationMessages], error) {
				return svc.ListWithMessages(ctx, shop1, conversation.Filter{}, parley.PageRequest{Limit: size}, 3)
			},
			"public": func() (parley.Page[parley.ConversationMessages], error) {
				return svc.PublicListWithMessages(ctx, "1", "", conversation.Filter{}, parley.PageRequest{Limit: size}, 3)
			},
		} {
			st.lists.Store(0)
			st.sets.Store(0)
			st.gets.Store(0)
			st.messages.Store(0)
			page, err := list()
			require.NoError(t, err)
			require.Len(t, page.Items, size)
			for _, item := range page.Items {
				require.Len(t, item.Messages, 2)
			}
			assert.EqualValues(t, 1, st.lists.Load(), "%s page of %d: listings", name, size)
			assert.EqualValues(t, 1, st.sets.Load(), "%s page of %d: message set reads", name, size)
			assert.Zero(t, st.gets.Load(), "%s page of %d: conversation reads", name, size)
			assert.Zero(t, st.messages.Load(), "%s page of %d: message listings", name, size)
		}
	}
}

// TestService_ListWithMessagesHidden checks that the sets show what an
// operator hid as Messages and PublicMessages do: to the parties as hidden
// without content, not at all in the public listings.
func TestService_ListWithMessagesHidden(t *testing.T) {
	h := newHarness(t)
	q := h.mustStart(t, alice, question("1", conversation.Product("1"), "q"))
	leak := h.mustPost(t, shop1, q.Conversation.ID, "call me on +90 555").Message
	h.mustPost(t, alice, q.Conversation.ID, "thanks")
	_, err := h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: q.Conversation.ID, MessageID: leak.ID, Reason: "phone number"})
	require.NoError(t, err)

	got, err := h.svc.ListWithMessages(ctx, alice, conversation.Filter{}, parley.PageRequest{}, 10)
	require.NoError(t, err)
	require.Len(t, got.Items, 1)
	want, err := h.svc.Messages(ctx, alice, q.Conversation.ID, parley.PageRequest{Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, want.Items, got.Items[0].Messages)
	require.Len(t, got.Items[0].Messages, 3)
	assert.True(t, got.Items[0].Messages[1].Hidden)
	assert.Empty(t, got.Items[0].Messages[1].Content, "a hidden message's content is not shown to the parties")

	pub, err := h.svc.PublicListWithMessages(ctx, "1", "", conversation.Filter{}, parley.PageRequest{}, 2)
	require.NoError(t, err)
	require.Len(t, pub.Items, 1)
	wantPub, err := h.svc.PublicMessages(ctx, "1", q.Conversation.ID, parley.PageRequest{Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, wantPub.Items, pub.Items[0].Messages)
	require.Len(t, pub.Items[0].Messages, 2, "the newest two visible messages")
	for _, m := range pub.Items[0].Messages {
		assert.NotEqual(t, leak.ID, m.ID, "a hidden message in a public listing")
	}
}
