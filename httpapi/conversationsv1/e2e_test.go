package conversationsv1_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

const (
	remoteConvs = "/api/v1/remote/1/conversations/"
	remoteMsgs  = "/api/v1/remote/1/messages/"
	userConvs   = "/users/conversations/"
	userMsgs    = "/users/messages/"
)

// seedRemote is the body of seed 000's remote create requests, sent by the
// channel's integration on behalf of user 545382. (The seed's own example
// names content_id "1" with user "545382": a sender who is not the
// conversation's user, which Parley refuses with 403; see
// TestE2E_SeedFlows/LiteralSeedSenderMismatch.)
func seedRemote(typ, itemContent string) obj {
	return obj{
		"conversation_type": typ, "user_type": "guest", "message_content": "Hello, this is the first message.",
		"datasource": "1", "content_type": "user", "content_id": "545382", "user": "545382",
		"item_id": "1", "item_content": itemContent,
	}
}

// seedUser is the body of seed 000's user-side create requests (user 545383, no item).
func seedUser(typ, content string) obj {
	return obj{
		"conversation_type": typ, "user_type": "registered", "message_content": content,
		"datasource": "1", "content_type": "user", "content_id": "545383", "user": "545383",
	}
}

func TestE2E_SeedFlows(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) { seedFlows(t, newEnvOn(t, newStore(t))) })
	}
}

// seedFlows walks seed 000's flows and error cases against e.
func seedFlows(t *testing.T, e *env) {
	created := map[string]int64{}

	t.Run("RemoteProductAndOrderBased", func(t *testing.T) {
		for _, c := range []struct{ typ, item string }{
			{"message", "product"}, {"message", "orderitem"}, {"question", "product"}, {"review", "product"},
		} {
			r := e.do(http.MethodPost, remoteConvs, tokChannel, seedRemote(c.typ, c.item))
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			got := r.Object(t)
			id := got["id"].(float64)
			assert.Equal(t, map[string]any{
				"id": id, "datasource": 1.0, "user": 545382.0, "subject": nil,
				"item_content": c.item, "item_id": 1.0, "conversation_type": c.typ,
				"message_content": "Hello, this is the first message.", "user_type": "guest",
				"content_id": 545382.0, "content_type": "user", "message": got["message"],
			}, got)
			created[c.typ+"/"+c.item] = int64(id)
		}
	})

	t.Run("DuplicateStart", func(t *testing.T) {
		r := e.do(http.MethodPost, remoteConvs, tokChannel, seedRemote("message", "product"))
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `["Conversation already exists"]`, r.Raw)
	})

	t.Run("LiteralSeedSenderMismatch", func(t *testing.T) {
		body := seedRemote("question", "orderitem")
		body["content_id"] = "1" // as in the seed: a sender other than the user
		r := e.do(http.MethodPost, remoteConvs, tokChannel, body)
		assert.Equal(t, http.StatusForbidden, r.Status)
		assert.JSONEq(t, `{"detail": "You do not have permission to perform this action."}`, r.Raw)
	})

	t.Run("UserSideWithoutItem", func(t *testing.T) {
		for _, typ := range []string{"message", "question", "review"} {
			content := "Hello, this is a " + typ + "."
			r := e.do(http.MethodPost, userConvs, tokUser2, seedUser(typ, content))
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			got := r.Object(t)
			assert.Equal(t, 1.0, got["datasource"])
			assert.Equal(t, 545383.0, got["user"])
			assert.Equal(t, typ, got["conversation_type"])
			assert.Equal(t, content, got["message_content"])
			assert.Equal(t, "registered", got["user_type"])
			assert.Equal(t, 545383.0, got["content_id"])
			assert.Equal(t, "user", got["content_type"])
			assert.NotContains(t, got, "item_id")
			created["user/"+typ] = int64(got["id"].(float64))
		}
	})

	t.Run("SellerCannotReplyToReview", func(t *testing.T) {
		want := `{"non_field_errors": ["DataSource can't reply to a review."]}`
		// Into the user's review, through the conversation endpoint...
		r := e.do(http.MethodPost, remoteConvs, tokChannel, obj{
			"conversation_type": "review", "conversation": created["user/review"], "message_content": "Thanks!",
			"content_type": "datasource", "content_id": "1",
		})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, want, r.Raw)
		// ... the messages endpoint, as the seller itself ...
		r = e.do(http.MethodPost, remoteMsgs, tokSeller1, obj{
			"conversation": created["review/product"], "message_content": "Thanks!",
			"content_type": "datasource", "content_id": "1",
		})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, want, r.Raw)
		// ... or by starting one.
		r = e.do(http.MethodPost, remoteConvs, tokSeller1, obj{
			"conversation_type": "review", "message_content": "Hello", "user": "545383",
			"content_type": "datasource", "content_id": "1",
		})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, want, r.Raw)
	})

	t.Run("AddMessageWithConversation", func(t *testing.T) {
		id := created["user/review"]
		r := e.do(http.MethodPost, userConvs, tokUser2, obj{
			"conversation_type": "review", "conversation": id, "user_type": "registered",
			"message_content": "This is the second message.", "datasource": "1", "content_type": "user",
			"content_id": "545383", "user": "545383", "item_id": "1", "item_content": "product",
		})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		got := r.Object(t)
		assert.Equal(t, float64(id), got["id"])
		assert.Equal(t, 1.0, got["datasource"])
		assert.Equal(t, 545383.0, got["user"])
		assert.Equal(t, "review", got["conversation_type"])
		assert.Equal(t, "This is the second message.", got["message_content"])
		assert.Equal(t, 545383.0, got["content_id"])
		assert.NotContains(t, got, "item_id", "the review is about no item; the body's item is ignored")
	})

	t.Run("MessagesEndpoint", func(t *testing.T) {
		// Seed 000's example: a message to conversation "9" as user 545383,
		// sent by the channel's integration (here to the user's question).
		id := created["user/question"]
		r := e.do(http.MethodPost, remoteMsgs, tokChannel, obj{
			"conversation_type": "question", "user_type": "guest",
			"message_content": "Your question has been answered by the seller.", "datasource": "1",
			"content_type": "user", "content_id": "545383", "user": "545383", "conversation": fmt.Sprint(id),
		})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		got := r.Object(t)
		assert.Equal(t, float64(id), got["conversation"])
		assert.Equal(t, "Your question has been answered by the seller.", got["message_content"])
		assert.Equal(t, "guest", got["user_type"], "an integration says what the user is")
		assert.Equal(t, 545383.0, got["content_id"])
		assert.Equal(t, "user", got["content_type"])

		// The seller answers.
		r = e.do(http.MethodPost, remoteMsgs, tokSeller1, obj{
			"conversation": id, "message_content": "Yes, it is.", "content_type": "datasource", "content_id": 1,
		})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Nil(t, r.Object(t)["user_type"])

		// Both sides list the messages, newest first.
		for _, c := range []struct{ path, token string }{{remoteMsgs, tokSeller1}, {userMsgs, tokUser2}, {remoteMsgs, tokChannel}} {
			p := e.list(c.path+"?conversation="+fmt.Sprint(id), c.token)
			require.Equal(t, int64(3), p.Count)
			require.Len(t, p.Results, 3)
			assert.Equal(t, "Yes, it is.", p.Results[0]["message_content"])
			assert.Equal(t, "datasource", p.Results[0]["content_type"])
			assert.Equal(t, "Test Shop", p.Results[0]["content_object"].(map[string]any)["name"])
			assert.Equal(t, "Hello, this is a question.", p.Results[2]["message_content"])
			assert.Equal(t, float64(id), p.Results[2]["conversation"])
		}

		// The user side posts through /users/messages/ too.
		r = e.do(http.MethodPost, userMsgs, tokUser2, obj{"conversation": id, "message_content": "Thanks."})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
	})

	t.Run("ListFilters", func(t *testing.T) {
		// Seed 000's commerce examples.
		p := e.list(userConvs, tokUser2)
		assert.Equal(t, int64(3), p.Count)
		assert.Nil(t, p.Next)
		assert.Nil(t, p.Previous)
		p = e.list(userConvs+"?data_source_id=1", tokUser2)
		assert.Equal(t, int64(3), p.Count)
		p = e.list(userConvs+"?data_source_id=1&conversation_type=question", tokUser2)
		require.Equal(t, int64(1), p.Count)
		assert.Equal(t, float64(created["user/question"]), p.Results[0]["id"])

		// Seed 000's Omnitron example, as the integration and as the seller.
		for _, tok := range []string{tokChannel, tokSeller1} {
			p = e.list(remoteConvs+"?data_source_id=1&conversation_type=question", tok)
			assert.Equal(t, int64(2), p.Count)
		}
		p = e.list(remoteConvs, tokChannel)
		assert.Equal(t, int64(7), p.Count)
		assert.Nil(t, p.Next)
		assert.Nil(t, p.Previous)

		// The list item carries seed 000's fields and objects.
		p = e.list(remoteConvs+"?product=1&conversation_type=question", tokSeller1)
		require.Len(t, p.Results, 1)
		it := p.Results[0]
		for _, k := range []string{"id", "user", "datasource", "item_object", "message_set", "conversation_type",
			"last_message_date", "unread_count", "subject", "status", "created_date", "modified_date"} {
			assert.Contains(t, it, k)
		}
		assert.Equal(t, map[string]any{"id": 545382.0, "first_name": "", "last_name": "",
			"email": "akinon@hotmail.com", "phone": nil, "gender": nil}, it["user"])
		assert.Equal(t, map[string]any{"pk": 1.0, "name": "Q800T QLED 8K Smart TV", "sku": "328187",
			"absolute_url": "/product/1/"}, it["item_object"])
		ds := it["datasource"].(map[string]any)
		assert.Equal(t, "test-shop", ds["slug"])
		assert.Equal(t, map[string]any{}, ds["extras"])
		assert.Equal(t, 1.0, ds["price_list"])
		assert.Nil(t, ds["address"])
		set := it["message_set"].([]any)
		require.Len(t, set, 1)
		m := set[0].(map[string]any)
		assert.Equal(t, "Hello, this is the first message.", m["message_content"])
		assert.Equal(t, "guest", m["user_type"])
		assert.Equal(t, 545382.0, m["content_object"].(map[string]any)["id"])
		assert.Equal(t, 1.0, it["unread_count"], "the seller has not read the user's message")
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`, it["last_message_date"])

		// Other filters.
		assert.Equal(t, int64(1), e.list(remoteConvs+"?order_item=1", tokChannel).Count)
		assert.Equal(t, int64(3), e.list(remoteConvs+"?item_type=product", tokChannel).Count)
		assert.Equal(t, int64(4), e.list(remoteConvs+"?user_id=545382", tokChannel).Count)
		assert.Equal(t, int64(7), e.list(remoteConvs+"?created_date=2023-07-19", tokChannel).Count)
		assert.Equal(t, int64(0), e.list(remoteConvs+"?created_date=2023-07-20", tokChannel).Count)
		assert.Equal(t, int64(7), e.list(remoteConvs+"?modified_date__gte=2023-07-19&modified_date__lte=2023-07-19", tokChannel).Count)
		assert.Equal(t, int64(0), e.list(remoteConvs+"?modified_date__gte=2023-07-20T00:00:00Z", tokChannel).Count)
		assert.Equal(t, int64(7), e.list(remoteConvs+"?status=open", tokChannel).Count)
		assert.Equal(t, int64(0), e.list(remoteConvs+"?user__first_name=Nobody", tokChannel).Count)
		assert.Equal(t, int64(0), e.list(userConvs+"?user_id=545382", tokUser2).Count, "another user's filter matches nothing")
	})

	t.Run("GetConversation", func(t *testing.T) {
		id := created["user/question"]
		for _, c := range []struct{ path, token string }{
			{userConvs, tokUser2}, {remoteConvs, tokSeller1}, {remoteConvs, tokChannel},
		} {
			r := e.do(http.MethodGet, c.path+fmt.Sprint(id)+"/", c.token, nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			got := r.Object(t)
			assert.Equal(t, float64(id), got["id"])
			assert.Len(t, got["message_set"], 4)
		}
	})

	t.Run("ReadState", func(t *testing.T) {
		id := created["user/question"]
		// The user has read nothing the seller wrote: one unread message.
		r := e.do(http.MethodGet, "/users/unread/", tokUser2, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.JSONEq(t, `{"messages": 0, "conversations": 0}`, r.Raw, "the user wrote last, which reads everything before")

		r = e.do(http.MethodGet, "/api/v1/remote/1/unread/", tokSeller1, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		before := r.Object(t)
		assert.Greater(t, before["messages"], 0.0)

		p := e.list(remoteMsgs+"?conversation="+fmt.Sprint(id), tokSeller1)
		newest := p.Results[0]["id"]
		r = e.do(http.MethodPost, remoteConvs+fmt.Sprint(id)+"/read/", tokSeller1, obj{"message": newest})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, 0.0, r.Object(t)["unread_count"])
		r = e.do(http.MethodGet, "/api/v1/remote/1/unread/", tokSeller1, nil)
		after := r.Object(t)
		assert.Equal(t, before["conversations"].(float64)-1, after["conversations"])

		// The integration reads for a named party.
		r = e.do(http.MethodGet, "/api/v1/remote/1/unread/?content_type=datasource&content_id=1", tokChannel, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, after, r.Object(t))
		r = e.do(http.MethodGet, "/api/v1/remote/1/unread/", tokChannel, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `{"content_type": ["This field is required."], "content_id": ["This field is required."]}`, r.Raw)

		// An empty body reads everything; the list item shows it.
		rid := created["review/product"]
		r = e.do(http.MethodPost, remoteConvs+fmt.Sprint(rid)+"/read/", tokChannel,
			obj{"content_type": "datasource", "content_id": "1"})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		r = e.do(http.MethodGet, remoteConvs+fmt.Sprint(rid)+"/", tokSeller1, nil)
		assert.Equal(t, 0.0, r.Object(t)["unread_count"])

		// A message of another conversation is not found.
		r = e.do(http.MethodPost, userConvs+fmt.Sprint(created["user/message"])+"/read/", tokUser2, obj{"message": newest})
		assert.Equal(t, http.StatusNotFound, r.Status)
	})

	t.Run("Public", func(t *testing.T) {
		for _, c := range []struct {
			path string
			typ  string
			n    int64
		}{{"/public-questions/", "question", 2}, {"/public-reviews/", "review", 2}} {
			r := e.do(http.MethodGet, c.path, "", nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			var p listPage
			r.JSON(t, &p)
			assert.Equal(t, c.n, p.Count)
			for _, it := range p.Results {
				assert.Equal(t, c.typ, it["conversation_type"])
				assert.IsType(t, 0.0, it["user"], "public users are bare ids")
				assert.NotContains(t, it, "unread_count")
				ds := it["datasource"].(map[string]any)
				assert.ElementsMatch(t, []string{"pk", "name", "slug", "title", "is_active"}, keys(ds))
				for _, m := range it["message_set"].([]any) {
					co := m.(map[string]any)["content_object"].(map[string]any)
					assert.Subset(t, []string{"id", "first_name", "pk", "name", "slug", "title", "is_active"}, keys(co))
				}
			}
			for _, secret := range []string{"email", "phone", "@", "+90", "supplier_code", "extras"} {
				assert.NotContains(t, r.Raw, secret)
			}
		}
		// Seed 000's public filters.
		p := e.list("/public-questions/?data_source_id=1&product=1", "")
		assert.Equal(t, int64(1), p.Count)
		p = e.list("/public-reviews/?user_id=545383&created_date=2023-07-19", "")
		assert.Equal(t, int64(1), p.Count)
		// Private filters are not public.
		r := e.do(http.MethodGet, "/public-questions/?user__first_name=Sin", "", nil)
		assert.Equal(t, http.StatusBadRequest, r.Status)
	})

	t.Run("SellerOfAnotherDataSourceSeesNothing", func(t *testing.T) {
		p := e.list(remoteConvs, tokSeller2)
		assert.Equal(t, int64(0), p.Count)
		assert.Empty(t, p.Results)
		assert.Equal(t, int64(0), e.list(remoteConvs+"?data_source_id=1", tokSeller2).Count)
		for _, id := range created {
			r := e.do(http.MethodGet, remoteConvs+fmt.Sprint(id)+"/", tokSeller2, nil)
			assert.Equal(t, http.StatusForbidden, r.Status)
			assert.JSONEq(t, `{"detail": "You do not have permission to perform this action."}`, r.Raw)
			r = e.do(http.MethodGet, remoteMsgs+"?conversation="+fmt.Sprint(id), tokSeller2, nil)
			assert.Equal(t, http.StatusForbidden, r.Status)
		}
		r := e.do(http.MethodPost, remoteMsgs, tokSeller2, obj{"conversation": created["message/product"], "message_content": "Hi"})
		assert.Equal(t, http.StatusForbidden, r.Status)
		r = e.do(http.MethodGet, "/api/v1/remote/1/unread/", tokSeller2, nil)
		assert.JSONEq(t, `{"messages": 0, "conversations": 0}`, r.Raw)
	})

	t.Run("Errors", func(t *testing.T) {
		count := func() int64 { return e.list(remoteConvs, tokChannel).Count }
		messages := func(id int64) int64 {
			return e.list(remoteMsgs+"?conversation="+fmt.Sprint(id), tokChannel).Count
		}
		n := count()
		qid := created["user/question"]
		m := messages(qid)

		// 401 without credentials, on every private route.
		for _, path := range []string{userConvs, remoteConvs, userMsgs + "?conversation=1", "/users/unread/"} {
			r := e.do(http.MethodGet, path, "", nil)
			assert.Equal(t, http.StatusUnauthorized, r.Status, path)
			assert.JSONEq(t, `{"detail": "Authentication credentials were not provided."}`, r.Raw)
			assert.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
		}
		r := e.do(http.MethodGet, userConvs, "Token forged", nil)
		assert.Equal(t, http.StatusUnauthorized, r.Status)

		// 403: not yours.
		r = e.do(http.MethodGet, userConvs+fmt.Sprint(qid)+"/", tokUser1, nil)
		assert.Equal(t, http.StatusForbidden, r.Status)
		assert.JSONEq(t, `{"detail": "You do not have permission to perform this action."}`, r.Raw)
		r = e.do(http.MethodPost, userMsgs, tokUser1, obj{"conversation": qid, "message_content": "Hi"})
		assert.Equal(t, http.StatusForbidden, r.Status)

		// 403: a user or a seller naming anyone else writes nothing.
		for _, c := range []struct {
			path, token string
			body        obj
		}{
			{userConvs, tokUser1, seedUser("message", "posing as 545383")},
			{userConvs, tokUser1, obj{"conversation_type": "message", "message_content": "for 545383",
				"datasource": "1", "user": "545383"}},
			{userConvs, tokUser2, obj{"conversation_type": "message", "message_content": "as the shop",
				"datasource": "1", "user": "545383", "content_type": "datasource", "content_id": "1"}},
			{remoteConvs, tokSeller2, obj{"conversation_type": "message", "message_content": "as shop 1",
				"user": "545382", "content_type": "datasource", "content_id": "1"}},
			{remoteConvs, tokSeller2, obj{"conversation_type": "message", "message_content": "for shop 1",
				"user": "545382", "datasource": "1"}},
			{remoteMsgs, tokSeller1, obj{"conversation": qid, "message_content": "as the user",
				"content_type": "user", "content_id": "545383"}},
			{userMsgs, tokUser2, obj{"conversation": qid, "message_content": "as the shop",
				"content_type": "datasource", "content_id": "1"}},
		} {
			r := e.do(http.MethodPost, c.path, c.token, c.body)
			assert.Equal(t, http.StatusForbidden, r.Status, "%s %v: %s", c.path, c.body, r.Raw)
		}
		assert.Equal(t, n, count(), "nothing was started")
		assert.Equal(t, m, messages(qid), "nothing was posted")

		// 403: a user on the remote API, a seller on the user API.
		assert.Equal(t, http.StatusForbidden, e.do(http.MethodGet, remoteConvs, tokUser1, nil).Status)
		assert.Equal(t, http.StatusForbidden, e.do(http.MethodGet, userConvs, tokSeller1, nil).Status)
		// 404: another channel's remote API.
		r = e.do(http.MethodGet, "/api/v1/remote/2/conversations/", tokChannel, nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
		r = e.do(http.MethodGet, remoteConvs, tokOther, nil)
		assert.Equal(t, http.StatusNotFound, r.Status)
		// ... and its conversations are not found by its own integration.
		r = e.do(http.MethodGet, "/api/v1/remote/2/conversations/"+fmt.Sprint(qid)+"/", tokOther, nil)
		assert.Equal(t, http.StatusNotFound, r.Status)

		// 404: unknown ids.
		for _, path := range []string{userConvs + "999999/", userConvs + "abc/", userConvs + "0/", "/nowhere/"} {
			r = e.do(http.MethodGet, path, tokUser2, nil)
			assert.Equal(t, http.StatusNotFound, r.Status, path)
			assert.JSONEq(t, `{"detail": "Not found."}`, r.Raw)
		}
		r = e.do(http.MethodPost, userMsgs, tokUser2, obj{"conversation": 999999, "message_content": "Hi"})
		assert.Equal(t, http.StatusNotFound, r.Status)
		// 405 with Allow.
		r = e.do(http.MethodDelete, userConvs, tokUser2, nil)
		assert.Equal(t, http.StatusMethodNotAllowed, r.Status)
		assert.Contains(t, r.Header.Get("Allow"), "POST")
		assert.JSONEq(t, `{"detail": "Method \"DELETE\" not allowed."}`, r.Raw)

		// 400: a closed conversation takes no messages.
		_, err := e.svc.SetStatus(context.Background(), parley.User("1", "545383"), created["user/message"], conversation.StatusClosed)
		require.NoError(t, err)
		r = e.do(http.MethodPost, userMsgs, tokUser2, obj{"conversation": created["user/message"], "message_content": "Hi"})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `{"non_field_errors": ["The conversation is closed."]}`, r.Raw)

		// 400: a seller starts only messages.
		r = e.do(http.MethodPost, remoteConvs, tokSeller1, obj{"conversation_type": "question",
			"message_content": "Q?", "user": "545382"})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.Contains(t, r.Raw, "non_field_errors")
		// A seller starts a message with a user.
		r = e.do(http.MethodPost, remoteConvs, tokSeller1, obj{"conversation_type": "message",
			"message_content": "Your order is out of stock.", "user": "545382", "item_content": "orderitem", "item_id": 2})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, "datasource", r.Object(t)["content_type"])
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestE2E_Paging walks 35 conversations page by page: forwards with next
// and back with previous, and by ?page=N, seeing every conversation
// exactly once each way, with the exact count on every page.
func TestE2E_Paging(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			paging(t, newEnvOn(t, newStore(t), func(_ *parley.Options, c *httpapi.Config, _ *conversationsv1.Options) {
				c.Prefix = "/parley"
			}))
		})
	}
}

func paging(t *testing.T, e *env) {
	const n = 35
	want := map[int64]bool{}
	for i := range n {
		r := e.do(http.MethodPost, "/parley"+remoteConvs, tokChannel, obj{
			"conversation_type": "question", "message_content": fmt.Sprintf("Question %d", i),
			"datasource": "1", "user": fmt.Sprint(700000 + i), "content_type": "user", "content_id": fmt.Sprint(700000 + i),
		})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		want[int64(r.Object(t)["id"].(float64))] = true
	}
	for _, path := range []string{"/parley" + remoteConvs + "?page_size=10&conversation_type=question", "/parley/public-questions/?page_size=10"} {
		get := func(link string) listPage {
			t.Helper()
			require.True(t, strings.HasPrefix(link, "/parley/"), "links are relative without a BaseURL: %s", link)
			r := e.do(http.MethodGet, link, tokChannel, nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.NotContains(t, r.Raw, `\u0026`, "links are written as they are")
			var p listPage
			r.JSON(t, &p)
			assert.Equal(t, int64(n), p.Count)
			return p
		}
		walk := func(start string, step func(listPage) *string) [][]int64 {
			var pages [][]int64
			for link := &start; link != nil; {
				p := get(*link)
				pages = append(pages, ids(p))
				link = step(p)
			}
			return pages
		}
		forward := walk(path, func(p listPage) *string { return p.Next })
		require.Len(t, forward, 4)
		seen := map[int64]bool{}
		var order []int64
		for _, page := range forward {
			for _, id := range page {
				assert.False(t, seen[id], "conversation %d repeated", id)
				seen[id] = true
				order = append(order, id)
			}
		}
		assert.Equal(t, want, seen)
		for i := 1; i < len(order); i++ {
			assert.Greater(t, order[i-1], order[i], "newest first")
		}

		// Back from the last page by previous: the same pages, reversed.
		last := path + "&page=4"
		backward := walk(last, func(p listPage) *string { return p.Previous })
		slices.Reverse(backward)
		assert.Equal(t, forward, backward)

		// By number.
		for i, page := range forward {
			p := get(path + fmt.Sprintf("&page=%d", i+1))
			assert.Equal(t, page, ids(p), "page %d", i+1)
			assert.Equal(t, i == 0, p.Previous == nil)
			assert.Equal(t, i == len(forward)-1, p.Next == nil)
		}
		p := get(path + "&page=9")
		assert.Empty(t, p.Results, "a page past the end is empty")
		assert.Nil(t, p.Next)
	}
}

// TestE2E_StripPrefix mounts the handler with http.StripPrefix: next links
// keep the prefix.
func TestE2E_StripPrefix(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		r := e.do(http.MethodPost, remoteConvs, tokChannel, obj{
			"conversation_type": "message", "message_content": "Hi", "datasource": "1",
			"user": fmt.Sprint(i + 1), "content_type": "user", "content_id": fmt.Sprint(i + 1),
		})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
	}
	h, err := httpapi.New(httpapi.Config{Authenticator: httpapi.AuthenticatorFunc(testAuth)},
		kittest.Must(t)(conversationsv1.Dialect(e.svc, conversationsv1.Options{})))
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/chat/", http.StripPrefix("/chat", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	r := e.DoURL(http.MethodGet, srv.URL+"/chat"+remoteConvs+"?page_size=2", tokChannel, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	var p listPage
	r.JSON(t, &p)
	require.NotNil(t, p.Next)
	u, err := url.Parse(*p.Next)
	require.NoError(t, err)
	assert.Equal(t, "/chat"+remoteConvs, u.Path)
	r = e.DoURL(http.MethodGet, srv.URL+*p.Next, tokChannel, nil, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r.JSON(t, &p)
	assert.Len(t, p.Results, 1)
	assert.Nil(t, p.Next)
}

// TestE2E_ServerError: a failing World is a 500 that says nothing but
// the request id, which the log carries with the error.
func TestE2E_ServerError(t *testing.T) {
	w := &failingWorld{StaticWorld: testWorld()}
	e := newEnv(t, func(po *parley.Options, _ *httpapi.Config, _ *conversationsv1.Options) { po.World = w })
	r := e.do(http.MethodPost, userConvs, tokUser2, seedUser("message", "Hello"))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	w.failing.Store(true)
	r = e.do(http.MethodGet, userConvs, tokUser2, nil)
	assert.Equal(t, http.StatusInternalServerError, r.Status)
	got := r.Object(t)
	id := r.Header.Get("X-Request-Id")
	require.NotEmpty(t, id)
	assert.Equal(t, map[string]any{"detail": "A server error occurred.", "request_id": id}, got)
	assert.NotContains(t, r.Raw, "secret")
	assert.Contains(t, e.logs.String(), "request_id="+id)
	assert.Contains(t, e.logs.String(), "secret table exploded")

	// A client's request id is echoed and logged.
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+userConvs, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", tokUser2)
	req.Header.Set("X-Request-Id", "client-chosen-42")
	r = e.send(req)
	assert.Equal(t, "client-chosen-42", r.Header.Get("X-Request-Id"))
	assert.Contains(t, e.logs.String(), "request_id=client-chosen-42")
}

// failingWorld is testWorld until failing is set; then its tables cannot
// be read.
type failingWorld struct {
	*parley.StaticWorld
	failing atomic.Bool
}

func (w *failingWorld) Users(ctx context.Context, ch string, ids []string) (map[string]parley.UserInfo, error) {
	if w.failing.Load() {
		return nil, errors.New("secret table exploded")
	}
	return w.StaticWorld.Users(ctx, ch, ids)
}

func (w *failingWorld) DataSources(ctx context.Context, ch string, ids []string) (map[string]parley.DataSourceInfo, error) {
	if w.failing.Load() {
		return nil, errors.New("secret table exploded")
	}
	return w.StaticWorld.DataSources(ctx, ch, ids)
}

func (w *failingWorld) Items(ctx context.Context, ch string, items []conversation.Item) (map[conversation.Item]parley.ItemInfo, error) {
	if w.failing.Load() {
		return nil, errors.New("secret table exploded")
	}
	return w.StaticWorld.Items(ctx, ch, items)
}

// TestE2E_UnknownParties: with the Service's World, a start naming a data
// source, product, order item or user it does not know is a 400 naming
// seed 000's field, and the listing afterwards shows nothing new.
func TestE2E_UnknownParties(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, userConvs, tokUser2, seedUser("message", "Hello"))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	count := func() float64 {
		r := e.do(http.MethodGet, remoteConvs, tokChannel, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		return r.Object(t)["count"].(float64)
	}
	for _, tc := range []struct {
		name, token, path string
		body              obj
		want              string
	}{
		{"DataSource", tokUser1, userConvs, obj{"conversation_type": "message", "message_content": "Hi", "datasource": "999"},
			`{"datasource": ["Unknown data source \"999\"."]}`},
		{"Product", tokUser1, userConvs, obj{"conversation_type": "question", "message_content": "Hi", "datasource": "1",
			"item_content": "product", "item_id": "p-999"}, `{"item_id": ["Unknown product \"p-999\"."]}`},
		{"OrderItem", tokUser1, userConvs, obj{"conversation_type": "review", "message_content": "Hi", "datasource": "1",
			"item_content": "orderitem", "item_id": "o-999"}, `{"item_id": ["Unknown order item \"o-999\"."]}`},
		{"UserOfSeller", tokSeller1, remoteConvs, obj{"conversation_type": "message", "message_content": "Hi", "user": "999"},
			`{"user": ["Unknown user \"999\"."]}`},
		{"Both", tokChannel, remoteConvs, obj{"conversation_type": "message", "message_content": "Hi", "datasource": "998",
			"user": "999", "content_type": "user", "content_id": "999"},
			`{"user": ["Unknown user \"999\"."], "datasource": ["Unknown data source \"998\"."]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(http.MethodPost, tc.path, tc.token, tc.body)
			assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
			assert.JSONEq(t, tc.want, r.Raw)
			assert.EqualValues(t, 1, count(), "nothing written")
		})
	}
}

// TestE2E_StoreReadsPerPage counts the store reads of a listing page: one
// listing and one read of all the page's message sets, whatever the page
// size; no conversation is read again and no message set read on its own.
func TestE2E_StoreReadsPerPage(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, newStore(t))
			var first int64
			for i := range 45 {
				uid := fmt.Sprint(700000 + i)
				r := e.do(http.MethodPost, remoteConvs, tokChannel, obj{
					"conversation_type": "question", "message_content": "Question", "datasource": "1",
					"user": uid, "content_type": "user", "content_id": uid,
				})
				_, id := e.Created(r, "id")
				if first == 0 {
					first = id
				}
				r = e.do(http.MethodPost, remoteConvs, tokSeller1, obj{"conversation": id, "message_content": "Answer"})
				require.Equal(t, http.StatusOK, r.Status, r.Raw)
			}
			reads := func(path, token string, items int) map[string]int64 {
				t.Helper()
				e.Store.Reset()
				p := e.list(path, token)
				require.Len(t, p.Results, items, path)
				for _, r := range p.Results {
					require.Len(t, r["message_set"], 2, "%s: each conversation with its messages", path)
				}
				return e.Store.Reads()
			}
			onePage := map[string]int64{"ListConversations": 1, "MessageSets": 1, "GetConversation": 0, "ListMessages": 0, "MessagesAfter": 0, "SeekConversations": 0}
			for _, size := range []int{1, 5, 20, 45} {
				for _, tc := range []struct{ path, token string }{
					{remoteConvs, tokSeller1},
					{remoteConvs, tokChannel},
					{"/public-questions/", tokUser1},
				} {
					path := tc.path + fmt.Sprintf("?page_size=%d", size)
					assert.Equal(t, onePage, reads(path, tc.token, size), "%s as %s", path, tc.token)
				}
			}
			// Page 3 by number seeks where it starts (store.Seeker), then
			// reads the page and its sets.
			want := map[string]int64{"ListConversations": 1, "MessageSets": 1, "GetConversation": 0, "ListMessages": 0, "MessagesAfter": 0, "SeekConversations": 1}
			assert.Equal(t, want, reads(remoteConvs+"?page_size=20&page=3", tokSeller1, 5))
			// The detail: the conversation, then its set.
			e.Store.Reset()
			r := e.do(http.MethodGet, remoteConvs+fmt.Sprint(first)+"/", tokSeller1, nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			want = map[string]int64{"ListConversations": 0, "MessageSets": 1, "GetConversation": 1, "ListMessages": 0, "MessagesAfter": 0, "SeekConversations": 0}
			assert.Equal(t, want, e.Store.Reads())
		})
	}
}
