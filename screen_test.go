package parley_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/screen"
)

func TestService_Screener(t *testing.T) {
	contacts := screen.Contacts{Channels: map[string]screen.Rules{
		"strict": {Action: parley.Reject},
		"flag":   {Action: parley.Flag},
	}}
	withScreener := func(o *parley.Options) { o.Screener = contacts }

	t.Run("Mask", func(t *testing.T) {
		h := newHarness(t, withScreener)
		res, err := h.svc.Start(ctx, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1",
			Subject: "mail ada@example.com", Content: "Call me on 0555 123 45 67"})
		require.NoError(t, err)
		assert.Equal(t, "Call me on [contact removed]", res.Message.Content)
		assert.Equal(t, "mail [contact removed]", res.Conversation.Subject)
		post := h.mustPost(t, shop1, res.Conversation.ID, "Or write to shop at example dot com")
		assert.Equal(t, "Or write to [contact removed]", post.Message.Content)
		page, err := h.svc.Messages(ctx, staff, res.Conversation.ID, parley.PageRequest{})
		require.NoError(t, err)
		for _, m := range page.Items {
			assert.NotContains(t, m.Content, "0555", "stored masked; the original is not kept")
			assert.NotContains(t, m.Content, "example")
		}
	})
	t.Run("RejectWritesNothing", func(t *testing.T) {
		h := newHarness(t, withScreener)
		strict := parley.User("strict", "545382")
		_, err := h.svc.Start(ctx, strict, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "call 0555 123 45 67"})
		var ve *parley.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, parley.FieldMessageContent, ve.Field)
		page, err := h.svc.List(ctx, parley.Operator("strict", "s"), conversation.Filter{}, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		assert.Zero(t, page.Total, "nothing written")

		res := h.mustStart(t, strict, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hello"})
		_, err = h.svc.Post(ctx, strict, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "ada@example.com"})
		require.ErrorAs(t, err, &ve)
		got, err := h.svc.Get(ctx, strict, res.Conversation.ID)
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.MessageCount, "nothing written")
		assert.Empty(t, h.notes.Notifications()[1:], "no notification either")
	})
	t.Run("Flag", func(t *testing.T) {
		h := newHarness(t, withScreener)
		user := parley.User("flag", "545382")
		res := h.mustStart(t, user, parley.StartRequest{Type: conversation.TypeQuestion, DataSourceID: "1", Content: "see example.com"})
		assert.Equal(t, "see example.com", res.Message.Content, "written as it is")
		page, err := h.svc.Reports(ctx, parley.Operator("flag", "s"), parley.ReportFilter{State: moderation.StateOpen}, parley.PageRequest{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		r := page.Items[0]
		assert.Equal(t, res.Message.ID, r.MessageID)
		assert.Equal(t, moderation.ScreenerReporter, r.Reporter)
		assert.Equal(t, moderation.ReasonContactDetails, r.Reason)
	})
	t.Run("ScreenerError", func(t *testing.T) {
		boom := errors.New("screening service down")
		h := newHarness(t, func(o *parley.Options) {
			o.Screener = parley.ScreenerFunc(func(context.Context, parley.ScreenInput) (parley.Verdict, error) { return parley.Verdict{}, boom })
		})
		_, err := h.svc.Start(ctx, alice, question("1", conversation.Item{}, "q"))
		assert.ErrorIs(t, err, boom)
		assert.Zero(t, h.count(t))
	})
}
