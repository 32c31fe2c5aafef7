package parley_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
)

// publicIDs returns the ids of the channel's public reviews and their
// public message counts.
func (h *harness) publicReviews(t *testing.T) map[int64]int64 {
	t.Helper()
	page, err := h.svc.PublicList(ctx, "1", conversation.TypeReview, conversation.Filter{}, parley.PageRequest{WithTotal: true})
	require.NoError(t, err)
	require.EqualValues(t, len(page.Items), page.Total)
	out := map[int64]int64{}
	for _, c := range page.Items {
		out[c.ID] = c.MessageCount
	}
	return out
}

func TestService_HideConversation(t *testing.T) {
	h := newHarness(t)
	review := func(a parley.Actor, text string) conversation.Conversation {
		return h.mustStart(t, a, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: text}).Conversation
	}
	rude, fine := review(alice, "The seller is an idiot."), review(bob, "Good value.")
	require.Equal(t, map[int64]int64{rude.ID: 1, fine.ID: 1}, h.publicReviews(t))

	got, err := h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: rude.ID, Reason: "insults the seller"})
	require.NoError(t, err)
	assert.True(t, got.Hidden)
	assert.Equal(t, map[int64]int64{fine.ID: 1}, h.publicReviews(t), "gone from the public listing at once")
	_, err = h.svc.PublicMessages(ctx, "1", rude.ID, parley.PageRequest{})
	assert.ErrorIs(t, err, parley.ErrNotFound, "and from its public message page")

	// The reviewer sees it, hidden, without its content; an operator reads it.
	mine, err := h.svc.Messages(ctx, alice, rude.ID, parley.PageRequest{})
	require.NoError(t, err)
	require.Len(t, mine.Items, 1)
	assert.True(t, mine.Items[0].Hidden)
	assert.Empty(t, mine.Items[0].Content)
	polled, err := h.svc.Poll(ctx, alice, rude.ID, 0, 0)
	require.NoError(t, err)
	assert.Empty(t, polled[0].Content)
	asStaff, err := h.svc.Messages(ctx, staff, rude.ID, parley.PageRequest{})
	require.NoError(t, err)
	assert.Equal(t, "The seller is an idiot.", asStaff.Items[0].Content, "content is kept")

	got, err = h.svc.Unhide(ctx, staff, parley.HideRequest{ConversationID: rude.ID, Reason: "the seller asked to restore it"})
	require.NoError(t, err)
	assert.False(t, got.Hidden)
	assert.Equal(t, map[int64]int64{rude.ID: 1, fine.ID: 1}, h.publicReviews(t), "back when unhidden")
	page, err := h.svc.PublicMessages(ctx, "1", rude.ID, parley.PageRequest{})
	require.NoError(t, err)
	assert.Equal(t, "The seller is an idiot.", page.Items[0].Content)

	trail, err := h.svc.Audit(ctx, staff, rude.ID, parley.PageRequest{})
	require.NoError(t, err)
	require.Len(t, trail.Items, 2)
	assert.Equal(t, moderation.ActionConversationHidden, trail.Items[0].Action)
	assert.Equal(t, "insults the seller", trail.Items[0].Reason)
	assert.Equal(t, "staff-7", trail.Items[0].Staff)
	assert.Equal(t, moderation.ActionConversationShown, trail.Items[1].Action)
	assert.False(t, trail.Items[1].At.Before(trail.Items[0].At))
}

func TestService_HideMessage(t *testing.T) {
	for _, show := range []bool{false, true} {
		h := newHarness(t, func(o *parley.Options) { o.ShowHiddenToParties = show })
		q := h.mustStart(t, alice, question("1", conversation.Product("1"), "Is it waterproof?")).Conversation
		leak := h.mustPost(t, shop1, q.ID, "Call me on +90 555 123 45 67").Message
		h.mustPost(t, shop1, q.ID, "Yes, it is.")

		got, err := h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: q.ID, MessageID: leak.ID, Reason: "phone number"})
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.HiddenMessages)
		assert.EqualValues(t, 3, got.MessageCount)
		_, err = h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: q.ID, MessageID: leak.ID, Reason: "again"})
		require.NoError(t, err)

		pub, err := h.svc.PublicMessages(ctx, "1", q.ID, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 2, pub.Total)
		for _, m := range pub.Items {
			assert.NotEqual(t, leak.ID, m.ID, "gone from the public page")
		}
		list, err := h.svc.PublicList(ctx, "1", "", conversation.Filter{}, parley.PageRequest{})
		require.NoError(t, err)
		require.Len(t, list.Items, 1)
		assert.EqualValues(t, 2, list.Items[0].MessageCount, "the public count leaves it out")

		for _, a := range []parley.Actor{alice, shop1} {
			page, err := h.svc.Messages(ctx, a, q.ID, parley.PageRequest{})
			require.NoError(t, err)
			require.Len(t, page.Items, 3)
			m := page.Items[1]
			require.Equal(t, leak.ID, m.ID)
			assert.True(t, m.Hidden, "shown to %s as hidden", a)
			if show {
				assert.Equal(t, leak.Content, m.Content, "the program opted to show it")
			} else {
				assert.Empty(t, m.Content, "without its content")
			}
			assert.Equal(t, "Yes, it is.", page.Items[0].Content)
		}
		ops, err := h.svc.Poll(ctx, staff, q.ID, 0, 0)
		require.NoError(t, err)
		assert.Equal(t, leak.Content, ops[1].Content)

		got, err = h.svc.Unhide(ctx, staff, parley.HideRequest{ConversationID: q.ID, MessageID: leak.ID, Reason: "false alarm"})
		require.NoError(t, err)
		assert.EqualValues(t, 0, got.HiddenMessages)
		pub, err = h.svc.PublicMessages(ctx, "1", q.ID, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 3, pub.Total)
		trail, err := h.svc.Audit(ctx, staff, q.ID, parley.PageRequest{})
		require.NoError(t, err)
		assert.Len(t, trail.Items, 3)
	}
}

func TestService_HidePermissions(t *testing.T) {
	h := newHarness(t)
	q := h.mustStart(t, alice, question("1", conversation.Product("1"), "q")).Conversation
	private := h.mustStart(t, bob, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hi"}).Conversation
	asShop, _ := channel.OnBehalfOf(message.DataSource("1"))
	for _, a := range []parley.Actor{alice, bob, shop1, guest, channel, asShop} {
		_, err := h.svc.Hide(ctx, a, parley.HideRequest{ConversationID: q.ID, Reason: "x"})
		assert.ErrorIs(t, err, parley.ErrPermission, a.String())
		_, err = h.svc.Hide(ctx, a, parley.HideRequest{ConversationID: q.ID, MessageID: q.LastMessageID, Reason: "x"})
		assert.ErrorIs(t, err, parley.ErrPermission, a.String())
		_, err = h.svc.Unhide(ctx, a, parley.HideRequest{ConversationID: q.ID, Reason: "x"})
		assert.ErrorIs(t, err, parley.ErrPermission, a.String())
	}
	_, err := h.svc.Hide(ctx, otherStaff, parley.HideRequest{ConversationID: q.ID, Reason: "x"})
	assert.ErrorIs(t, err, parley.ErrNotFound, "another channel's operator")
	_, err = h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: private.ID, Reason: "x"})
	assert.ErrorIs(t, err, parley.ErrInvalid, "a private conversation is not hidden whole")
	_, err = h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: q.ID, MessageID: private.LastMessageID, Reason: "x"})
	assert.ErrorIs(t, err, parley.ErrNotFound, "a message of another conversation")
	_, err = h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: q.ID})
	var ve *parley.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, parley.FieldReason, ve.Field, "a reason is required")

	got, err := h.svc.Get(ctx, alice, q.ID)
	require.NoError(t, err)
	assert.False(t, got.Hidden)
	assert.Zero(t, got.HiddenMessages)
	trail, err := h.svc.Audit(ctx, staff, 0, parley.PageRequest{})
	require.NoError(t, err)
	assert.Empty(t, trail.Items, "nothing was done")
	// A private conversation's message may be hidden.
	_, err = h.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: private.ID, MessageID: private.LastMessageID, Reason: "phone number"})
	require.NoError(t, err)
}
