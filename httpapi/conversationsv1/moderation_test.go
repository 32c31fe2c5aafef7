package conversationsv1_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
)

// TestPublic_HiddenContent: what an operator hides leaves the public
// listings in the same request cycle, and comes back when shown.
func TestPublic_HiddenContent(t *testing.T) {
	ctx := context.Background()
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, newStore(t))
			staff := parley.Operator("1", "staff-1")
			rude, err := e.svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "The seller is an idiot."})
			require.NoError(t, err)
			fine, err := e.svc.Start(ctx, parley.User("1", "545383"), parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "Good value."})
			require.NoError(t, err)
			q, err := e.svc.Start(ctx, parley.User("1", "545383"), parley.StartRequest{Type: conversation.TypeQuestion, DataSourceID: "1", Item: conversation.Product("1"), Content: "Is it 8K?"})
			require.NoError(t, err)
			leak, err := e.svc.Post(ctx, parley.User("1", "545383"), parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Call me on 0555 123 45 67"})
			require.NoError(t, err)

			require.ElementsMatch(t, []int64{rude.Conversation.ID, fine.Conversation.ID}, ids(e.list("/public-reviews/", "")))

			_, err = e.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: rude.Conversation.ID, Reason: "insults"})
			require.NoError(t, err)
			p := e.list("/public-reviews/", "")
			assert.Equal(t, []int64{fine.Conversation.ID}, ids(p), "gone at once")
			assert.EqualValues(t, 1, p.Count)

			_, err = e.svc.Hide(ctx, staff, parley.HideRequest{ConversationID: q.Conversation.ID, MessageID: leak.Message.ID, Reason: "phone number"})
			require.NoError(t, err)
			r := e.do(http.MethodGet, "/public-questions/", "", nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.NotContains(t, r.Raw, "0555", "a hidden message leaves the message_set")
			assert.Contains(t, r.Raw, "Is it 8K?")

			_, err = e.svc.Unhide(ctx, staff, parley.HideRequest{ConversationID: rude.Conversation.ID, Reason: "restored"})
			require.NoError(t, err)
			assert.ElementsMatch(t, []int64{rude.Conversation.ID, fine.Conversation.ID}, ids(e.list("/public-reviews/", "")), "back when shown")
			assert.True(t, strings.Contains(e.do(http.MethodGet, "/public-reviews/", "", nil).Raw, "idiot"))
		})
	}
}
