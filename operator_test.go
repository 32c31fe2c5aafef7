package parley_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

var (
	staff      = parley.Operator("1", "staff-7")
	otherStaff = parley.Operator("2", "staff-7")
)

func TestService_Operator(t *testing.T) {
	h := newHarness(t)
	review := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "Broke after a week."}).Conversation
	private := h.mustStart(t, bob, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "2", Content: "Where is my parcel?"}).Conversation

	t.Run("ReadsItsChannel", func(t *testing.T) {
		for _, c := range []conversation.Conversation{review, private} {
			got, err := h.svc.Get(ctx, staff, c.ID)
			require.NoError(t, err)
			assert.Equal(t, c.ID, got.ID)
			_, err = h.svc.GetByCode(ctx, staff, c.Code)
			require.NoError(t, err)
			page, err := h.svc.Messages(ctx, staff, c.ID, parley.PageRequest{})
			require.NoError(t, err)
			assert.Len(t, page.Items, 1)
			msgs, err := h.svc.Poll(ctx, staff, c.ID, 0, 0)
			require.NoError(t, err)
			assert.Len(t, msgs, 1)
		}
		page, err := h.svc.List(ctx, staff, conversation.Filter{}, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 2, page.Total, "the whole channel")
	})
	t.Run("ClosesAndReopensAny", func(t *testing.T) {
		// A seller may not close a review; an operator may, and reopen it.
		_, err := h.svc.SetStatus(ctx, shop1, review.ID, conversation.StatusClosed)
		require.ErrorIs(t, err, parley.ErrReviewStatus)
		for c, party := range map[conversation.Conversation]parley.Actor{review: alice, private: bob} {
			got, err := h.svc.SetStatus(ctx, staff, c.ID, conversation.StatusClosed)
			require.NoError(t, err)
			assert.Equal(t, conversation.StatusClosed, got.Status)
			_, err = h.svc.Post(ctx, party, parley.PostRequest{ConversationID: c.ID, Content: "x"})
			assert.ErrorIs(t, err, parley.ErrConversationClosed)
			got, err = h.svc.SetStatus(ctx, staff, c.ID, conversation.StatusOpen)
			require.NoError(t, err)
			assert.Equal(t, conversation.StatusOpen, got.Status)
		}
	})
	t.Run("NeverWritesAsAParty", func(t *testing.T) {
		before := h.count(t)
		_, err := h.svc.Start(ctx, staff, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545382", DataSourceID: "1", Content: "hi"})
		assert.ErrorIs(t, err, parley.ErrPermission)
		_, err = h.svc.Post(ctx, staff, parley.PostRequest{ConversationID: review.ID, Content: "hi"})
		assert.ErrorIs(t, err, parley.ErrPermission)
		_, err = h.svc.MarkRead(ctx, staff, review.ID, review.LastMessageID)
		assert.ErrorIs(t, err, parley.ErrPermission)
		_, err = h.svc.Unread(ctx, staff)
		assert.ErrorIs(t, err, parley.ErrPermission)
		for _, s := range []message.Sender{message.User("545382", message.UserRegistered), message.DataSource("1")} {
			_, err = staff.OnBehalfOf(s)
			assert.ErrorIs(t, err, parley.ErrPermission)
		}
		got, err := h.svc.Get(ctx, staff, review.ID)
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.MessageCount, "nothing written")
		assert.Equal(t, before, h.count(t))
	})
	t.Run("NeverCrossesChannels", func(t *testing.T) {
		for _, c := range []conversation.Conversation{review, private} {
			_, err := h.svc.Get(ctx, otherStaff, c.ID)
			assert.ErrorIs(t, err, parley.ErrNotFound)
			_, err = h.svc.GetByCode(ctx, otherStaff, c.Code)
			assert.ErrorIs(t, err, parley.ErrNotFound)
			_, err = h.svc.Messages(ctx, otherStaff, c.ID, parley.PageRequest{})
			assert.ErrorIs(t, err, parley.ErrNotFound)
			_, err = h.svc.Poll(ctx, otherStaff, c.ID, 0, 0)
			assert.ErrorIs(t, err, parley.ErrNotFound)
			_, err = h.svc.SetStatus(ctx, otherStaff, c.ID, conversation.StatusClosed)
			assert.ErrorIs(t, err, parley.ErrNotFound)
		}
		page, err := h.svc.List(ctx, otherStaff, conversation.Filter{}, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		assert.Zero(t, page.Total)
		got, err := h.svc.Get(ctx, alice, review.ID)
		require.NoError(t, err)
		assert.Equal(t, conversation.StatusOpen, got.Status)
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := h.svc.Get(ctx, parley.Operator("1", ""), review.ID)
		var ve *parley.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, parley.FieldStaff, ve.Field)
		_, err = h.svc.SetStatus(ctx, parley.Operator("1", "has space"), review.ID, conversation.StatusClosed)
		assert.ErrorIs(t, err, parley.ErrInvalid)
	})
	t.Run("Actor", func(t *testing.T) {
		assert.Equal(t, parley.ActorOperator, staff.Kind())
		assert.Equal(t, "staff-7", staff.Staff())
		assert.Equal(t, "", alice.Staff())
		_, ok := staff.Sender()
		assert.False(t, ok)
		assert.Equal(t, "operator staff-7 of channel 1", staff.String())
		assert.Equal(t, "operator", parley.ActorOperator.String())
	})
}
