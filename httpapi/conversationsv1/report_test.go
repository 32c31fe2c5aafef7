package conversationsv1_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/moderation"
)

// TestReport_HTTP: users and sellers report the messages of their
// conversations, and anyone of the channel a public review's; a second
// report by the same reporter answers the first; bad input is 400 naming
// the field; strangers and other channels are refused; every filed
// report reaches the operators' queue once.
func TestReport_HTTP(t *testing.T) {
	ctx := context.Background()
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, newStore(t))
			private, err := e.svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Item: conversation.Product("1"), Content: "Pay me by wire"})
			require.NoError(t, err)
			review, err := e.svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "The seller is an idiot."})
			require.NoError(t, err)
			userPath := func(m int64) string { return fmt.Sprintf("/users/messages/%d/report/", m) }
			remotePath := func(ch string, m int64) string { return fmt.Sprintf("/api/v1/remote/%s/messages/%d/report/", ch, m) }

			// The seller reports the user's message of their conversation.
			body := obj{"conversation": private.Conversation.ID, "reason": "spam", "note": "asks for a wire"}
			r := e.do(http.MethodPost, remotePath("1", private.Message.ID), tokSeller1, body)
			require.Equal(t, http.StatusCreated, r.Status, r.Raw)
			first := r.Object(t)
			assert.Equal(t, "spam", first["reason"])
			assert.Equal(t, "open", first["state"])
			assert.Equal(t, "asks for a wire", first["note"])
			r = e.do(http.MethodPost, remotePath("1", private.Message.ID), tokSeller1, obj{"conversation": private.Conversation.ID, "reason": "abuse"})
			require.Equal(t, http.StatusOK, r.Status, "a duplicate answers the first report: %s", r.Raw)
			assert.Equal(t, first, r.Object(t))

			// Anyone of the channel reports a public review; an integration
			// names the reporter.
			r = e.do(http.MethodPost, userPath(review.Message.ID), tokUser2, obj{"conversation": review.Conversation.ID, "reason": "abuse"})
			require.Equal(t, http.StatusCreated, r.Status, r.Raw)
			r = e.do(http.MethodPost, remotePath("1", review.Message.ID), tokChannel, obj{"conversation": review.Conversation.ID, "reason": "abuse", "content_type": "datasource", "content_id": "2"})
			require.Equal(t, http.StatusCreated, r.Status, r.Raw)
			r = e.do(http.MethodPost, remotePath("1", review.Message.ID), tokChannel, obj{"conversation": review.Conversation.ID, "reason": "abuse"})
			require.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
			assert.Contains(t, r.Object(t), "content_id", "an integration names the reporter")

			// Not a party to a private conversation, another channel, a
			// message of another conversation.
			r = e.do(http.MethodPost, userPath(private.Message.ID), tokUser2, obj{"conversation": private.Conversation.ID, "reason": "spam"})
			assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
			r = e.do(http.MethodPost, remotePath("1", private.Message.ID), tokSeller2, obj{"conversation": private.Conversation.ID, "reason": "spam"})
			assert.Equal(t, http.StatusForbidden, r.Status, r.Raw)
			r = e.do(http.MethodPost, remotePath("2", private.Message.ID), tokOther, obj{"conversation": private.Conversation.ID, "reason": "spam", "content_type": "datasource", "content_id": "1"})
			assert.Contains(t, []int{http.StatusForbidden, http.StatusNotFound}, r.Status, r.Raw)
			r = e.do(http.MethodPost, userPath(review.Message.ID), tokUser1, obj{"conversation": private.Conversation.ID, "reason": "spam"})
			assert.Equal(t, http.StatusNotFound, r.Status, "the message is not in the conversation: %s", r.Raw)
			r = e.do(http.MethodPost, userPath(private.Message.ID), "", obj{"conversation": private.Conversation.ID, "reason": "spam"})
			assert.Equal(t, http.StatusUnauthorized, r.Status, r.Raw)
			r = e.do(http.MethodPost, remotePath("1", private.Message.ID), tokUser1, obj{"conversation": private.Conversation.ID, "reason": "spam"})
			assert.Equal(t, http.StatusForbidden, r.Status, "users report on their own routes: %s", r.Raw)

			for _, c := range []struct {
				body  any
				field string
			}{
				{obj{"conversation": private.Conversation.ID}, "reason"},
				{obj{"conversation": private.Conversation.ID, "reason": "rude"}, "reason"},
				{obj{"conversation": private.Conversation.ID, "reason": 3}, "reason"},
				{obj{"reason": "spam"}, "conversation"},
				{obj{"conversation": private.Conversation.ID, "reason": "other", "note": "a\u0000b"}, "note"},
				{`{"conversation": 1, "reason": "spam", "reason": "abuse"}`, "reason"},
			} {
				r := e.do(http.MethodPost, userPath(private.Message.ID), tokUser1, c.body)
				assert.Equal(t, http.StatusBadRequest, r.Status, "%v: %s", c.body, r.Raw)
				assert.Contains(t, r.Object(t), c.field, "%v: %s", c.body, r.Raw)
			}
			assert.Equal(t, http.StatusNotFound, e.do(http.MethodPost, userPath(0), tokUser1, obj{"conversation": 1, "reason": "spam"}).Status)

			q, err := e.svc.Reports(ctx, parley.Operator("1", "staff-1"), parley.ReportFilter{}, parley.PageRequest{})
			require.NoError(t, err)
			var got []string
			for _, rep := range q.Items {
				got = append(got, fmt.Sprintf("%s:%s %d %s", rep.Reporter.Kind, rep.Reporter.ID, rep.MessageID, rep.Reason))
			}
			assert.Equal(t, []string{
				fmt.Sprintf("datasource:1 %d spam", private.Message.ID),
				fmt.Sprintf("user:545383 %d abuse", review.Message.ID),
				fmt.Sprintf("datasource:2 %d abuse", review.Message.ID),
			}, got, "each filed report once, nothing from the refused ones")
			assert.Equal(t, moderation.StateOpen, q.Items[0].State)
		})
	}
}
