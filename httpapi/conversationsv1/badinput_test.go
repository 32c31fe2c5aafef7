package conversationsv1_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/message"
)

// startMany starts n question conversations with data source 1, one per
// user, through the Service.
func startMany(t *testing.T, svc *parley.Service, n int) {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		uid := fmt.Sprint(800000 + i)
		a, err := parley.Integration("1").OnBehalfOf(message.User(uid, message.UserRegistered))
		require.NoError(t, err)
		_, err = svc.Start(ctx, a, parley.StartRequest{
			Type: conversation.TypeQuestion, UserID: uid, DataSourceID: "1",
			Item: conversation.Product("1"), Content: fmt.Sprintf("Question %d", i),
		})
		require.NoError(t, err)
	}
}

func TestHandler_BadInput(t *testing.T) {
	e := newEnv(t)
	post := func(path, token string, body any) response { return e.do(http.MethodPost, path, token, body) }

	t.Run("MalformedJSON", func(t *testing.T) {
		for _, c := range []struct{ body, want string }{
			{`{"conversation_type": "message",`, `{"detail": "The request body is not valid JSON (error at byte 32)."}`},
			{`{"conversation_type": message}`, `{"detail": "The request body is not valid JSON (error at byte 23)."}`},
			{`{} {}`, `{"detail": "The request body is not valid JSON (error at byte 4)."}`},
			{`  {"a" 1}`, `{"detail": "The request body is not valid JSON (error at byte 8)."}`},
			{``, `{"detail": "The request body is empty: send a JSON object."}`},
			{`   `, `{"detail": "The request body is empty: send a JSON object."}`},
			{`["message"]`, `{"detail": "The request body must be a JSON object, not a list."}`},
			{`"message"`, `{"detail": "The request body must be a JSON object, not a string."}`},
			{`null`, `{"detail": "The request body must be a JSON object, not null."}`},
			{`42`, `{"detail": "The request body must be a JSON object, not a number."}`},
		} {
			r := post(userConvs, tokUser2, c.body)
			assert.Equal(t, http.StatusBadRequest, r.Status, c.body)
			assert.JSONEq(t, c.want, r.Raw, c.body)
		}
	})

	t.Run("WrongJSONType", func(t *testing.T) {
		r := post(userConvs, tokUser2, obj{
			"conversation_type": 1, "message_content": 5, "datasource": true, "user": []int{1},
			"item_id": obj{}, "subject": 1.5, "conversation": "abc", "user_type": false, "content_id": 1.5,
		})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `{
			"conversation_type": ["Not a valid string."],
			"message_content": ["Not a valid string."],
			"datasource": ["Incorrect type. Expected a string or an integer id."],
			"user": ["Incorrect type. Expected a string or an integer id."],
			"item_id": ["Incorrect type. Expected a string or an integer id."],
			"subject": ["Not a valid string."],
			"conversation": ["A valid integer is required."],
			"user_type": ["Not a valid string."],
			"content_id": ["Incorrect type. Expected a string or an integer id."]
		}`, r.Raw)
		for _, conv := range []any{-1, 0, "0", "1e3", 1.5, "9999999999999999999999"} {
			r = post(userMsgs, tokUser2, obj{"conversation": conv, "message_content": "Hi"})
			assert.Equal(t, http.StatusBadRequest, r.Status, "%v", conv)
			assert.JSONEq(t, `{"conversation": ["A valid integer is required."]}`, r.Raw, "%v", conv)
		}
	})

	t.Run("UnknownEnums", func(t *testing.T) {
		r := post(userConvs, tokUser2, obj{
			"conversation_type": "chat", "user_type": "vip", "content_type": "admin", "item_content": "car",
			"message_content": "Hi", "datasource": "1",
		})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `{
			"conversation_type": ["\"chat\" is not a valid choice."],
			"user_type": ["\"vip\" is not a valid choice."],
			"content_type": ["\"admin\" is not a valid choice."],
			"item_content": ["\"car\" is not a valid choice."]
		}`, r.Raw)
		r = post(userConvs, tokUser2, obj{"conversation_type": strings.Repeat("x", 1000), "message_content": "Hi"})
		assert.JSONEq(t, `{"conversation_type": ["Not a valid choice."]}`, r.Raw, "long values are not echoed")
		r = e.do(http.MethodGet, userConvs+"?conversation_type=chat&item_type=car&status=gone", tokUser2, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `{"conversation_type": ["\"chat\" is not a valid choice."],
			"item_type": ["\"car\" is not a valid choice."], "status": ["\"gone\" is not a valid choice."]}`, r.Raw)
	})

	t.Run("RequiredFields", func(t *testing.T) {
		r := post(userConvs, tokUser2, obj{})
		assert.Equal(t, http.StatusBadRequest, r.Status)
		assert.JSONEq(t, `{"conversation_type": ["This field is required."], "message_content": ["This field is required."]}`, r.Raw)
		r = post(userConvs, tokUser2, obj{"conversation_type": "message", "message_content": "Hi"})
		assert.JSONEq(t, `{"datasource": ["This field is required."]}`, r.Raw)
		r = post(userMsgs, tokUser2, obj{"message_content": nil})
		assert.JSONEq(t, `{"conversation": ["This field is required."], "message_content": ["This field is required."]}`, r.Raw)
		r = post(remoteConvs, tokChannel, obj{"conversation_type": "message", "message_content": "Hi", "datasource": "1", "user": "1"})
		assert.JSONEq(t, `{"content_type": ["This field is required."], "content_id": ["This field is required."]}`, r.Raw,
			"an integration must name the sender")
		r = post(remoteConvs, tokChannel, obj{"conversation_type": "message", "message_content": "Hi", "content_type": "user"})
		assert.JSONEq(t, `{"content_id": ["This field is required."]}`, r.Raw)
		r = post(userConvs, tokUser2, obj{"conversation_type": "message", "message_content": "Hi", "datasource": "1", "item_content": "product"})
		assert.JSONEq(t, `{"item_id": ["This field is required with an item kind."]}`, r.Raw)
	})

	t.Run("EmptyOrOverLongMessage", func(t *testing.T) {
		for _, c := range []struct {
			content any
			want    string
		}{
			{"", `{"message_content": ["This field must not be empty."]}`},
			{" \n\t ", `{"message_content": ["This field must not be empty."]}`},
			{strings.Repeat("é", 4001), `{"message_content": ["This field must be at most 4000 characters."]}`},
			{strings.Repeat("€", 4000) + strings.Repeat("a", 5000), `{"message_content": ["This field must be at most 16384 bytes."]}`},
			{"a\x00b", `{"message_content": ["This field contains the control character U+0000."]}`},
		} {
			r := post(userConvs, tokUser2, obj{"conversation_type": "message", "message_content": c.content, "datasource": "1"})
			assert.Equal(t, http.StatusBadRequest, r.Status)
			assert.JSONEq(t, c.want, r.Raw)
		}
		r := post(userConvs, tokUser2, obj{"conversation_type": "message", "message_content": "Hi", "datasource": "1",
			"subject": strings.Repeat("s", 256)})
		assert.JSONEq(t, `{"subject": ["This field must be at most 255 characters."]}`, r.Raw)
		r = post(userConvs, tokUser2, obj{"conversation_type": "message", "message_content": "Hi",
			"datasource": strings.Repeat("1", 65)})
		assert.JSONEq(t, `{"datasource": ["This field must be at most 64 bytes."]}`, r.Raw)
		assert.Equal(t, int64(0), e.list(userConvs, tokUser2).Count, "nothing was written")
	})

	t.Run("BodyTooLarge", func(t *testing.T) {
		big := `{"conversation_type": "message", "datasource": "1", "message_content": "` + strings.Repeat("a", 1<<20) + `"}`
		r := post(userConvs, tokUser2, big)
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
		assert.JSONEq(t, `{"detail": "The request body is too large."}`, r.Raw)

		small := newEnv(t, func(_ *parley.Options, c *httpapi.Config, _ *conversationsv1.Options) { c.MaxBodyBytes = 64 })
		r = small.do(http.MethodPost, userConvs, tokUser2, obj{"conversation_type": "message", "datasource": "1",
			"message_content": strings.Repeat("a", 100)})
		assert.Equal(t, http.StatusRequestEntityTooLarge, r.Status)
	})

	t.Run("UnsupportedMediaType", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+userConvs, strings.NewReader("conversation_type=message"))
		require.NoError(t, err)
		req.Header.Set("Authorization", tokUser2)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := e.send(req)
		assert.Equal(t, http.StatusUnsupportedMediaType, r.Status)
		assert.JSONEq(t, `{"detail": "Unsupported media type \"application/x-www-form-urlencoded\" in request."}`, r.Raw)
	})

	t.Run("UserTypeIsTheActors", func(t *testing.T) {
		body := seedUser("question", "Am I a guest?")
		body["user_type"] = "guest"
		r := post(userConvs, tokUser2, body)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, "registered", r.Object(t)["user_type"], "a user cannot change what it is")
		r = post(userConvs, tokGuest, obj{"conversation_type": "question", "message_content": "Hi", "datasource": 2})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, "guest", r.Object(t)["user_type"])
	})

	t.Run("IdempotencyKey", func(t *testing.T) {
		send := func(content string) response {
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+userConvs,
				strings.NewReader(`{"conversation_type": "review", "datasource": "2", "message_content": "`+content+`"}`))
			require.NoError(t, err)
			req.Header.Set("Authorization", tokUser1)
			req.Header.Set("Idempotency-Key", "review-2-once")
			return e.send(req)
		}
		first, again := send("Great"), send("Great")
		require.Equal(t, http.StatusOK, first.Status, first.Raw)
		assert.JSONEq(t, first.Raw, again.Raw, "a retry gets the first answer")
		other := send("Bad")
		assert.Equal(t, http.StatusUnprocessableEntity, other.Status)
	})
}

func TestHandler_ListParams(t *testing.T) {
	e := newEnv(t)
	startMany(t, e.svc, 101)

	t.Run("PageSizeCapped", func(t *testing.T) {
		for _, q := range []string{"page_size=1000", "limit=1000", "page_size=99999999999999999999999"} {
			p := e.list(remoteConvs+"?"+q, tokChannel)
			assert.Equal(t, int64(101), p.Count)
			assert.Len(t, p.Results, 100, q)
			require.NotNil(t, p.Next)
			assert.Contains(t, *p.Next, "page_size=100", q)
			assert.NotContains(t, *p.Next, "limit=", q)
		}
		p := e.list(remoteConvs, tokChannel)
		assert.Len(t, p.Results, conversationsv1.DefaultPageSize)
		assert.Contains(t, *p.Next, fmt.Sprintf("page_size=%d", conversationsv1.DefaultPageSize))
		for _, q := range []string{"page_size=0", "page_size=-5", "page_size=ten", "limit=1.5"} {
			r := e.do(http.MethodGet, remoteConvs+"?"+q, tokChannel, nil)
			assert.Equal(t, http.StatusBadRequest, r.Status, q)
			assert.Contains(t, r.Raw, "A positive integer is required.")
		}
	})

	t.Run("UnknownFilterNames", func(t *testing.T) {
		for _, c := range []struct{ path, want string }{
			{remoteConvs + "?conversation_typ=question", `{"conversation_typ": ["Unknown query parameter."]}`},
			{remoteConvs + "?ordering=-id", `{"ordering": ["Unknown query parameter."]}`},
			{remoteConvs + "?page=0", `{"page": ["A positive integer is required."]}`},
			{remoteConvs + "?user_id=1&user_id=2", `{"user_id": ["Only one value is allowed."]}`},
			{remoteConvs + "?format=xml", `{"format": ["Only json is supported."]}`},
			{remoteConvs + "?data_source=1&data_source_id=2", `{"data_source": ["Must equal data_source_id when both are given."]}`},
			{"/public-questions/?conversation_type=review", `{"conversation_type": ["Unknown query parameter."]}`},
			{"/public-questions/?channel=2", `{"channel": ["Unknown query parameter."]}`},
			{remoteMsgs + "?conversation=1&user_id=1", `{"user_id": ["Unknown query parameter."]}`},
			{remoteMsgs, `{"conversation": ["This field is required."]}`},
			{remoteConvs + "?created_date=2023-13-45", `{"created_date": ["Enter a valid date (YYYY-MM-DD) or date and time (RFC 3339)."]}`},
		} {
			r := e.do(http.MethodGet, c.path, tokChannel, nil)
			assert.Equal(t, http.StatusBadRequest, r.Status, c.path)
			assert.JSONEq(t, c.want, r.Raw, c.path)
		}
		// Standard parameters are allowed.
		p := e.list(remoteConvs+"?page=1&format=json&page_size=5&user_id=", tokChannel)
		assert.Len(t, p.Results, 5)
	})

	t.Run("SQLLookingValues", func(t *testing.T) {
		values := []string{`' OR 1=1 --`, `1; DROP TABLE conversations; --`, `%`, `_`, `1' UNION SELECT * FROM messages --`, `"`, `\`}
		params := []string{"user_id", "product", "order_item", "data_source_id", "data_source", "product_base_code",
			"user__first_name", "user__last_name", "order_number"}
		for _, v := range values {
			for _, name := range params {
				for _, base := range []string{remoteConvs, userConvs, "/public-questions/"} {
					if base == "/public-questions/" && strings.HasPrefix(name, "user__") || name == "order_number" && base == "/public-questions/" {
						continue
					}
					tok := tokChannel
					if base == userConvs {
						tok = tokUser2
					}
					r := e.do(http.MethodGet, base+"?"+name+"="+url.QueryEscape(v), tok, nil)
					require.Equal(t, http.StatusOK, r.Status, "%s=%s: %s", name, v, r.Raw)
					var p listPage
					r.JSON(t, &p)
					assert.Equal(t, int64(0), p.Count, "%s=%s", name, v)
					assert.NotContains(t, strings.ToLower(r.Raw), "sql")
				}
			}
			for _, name := range []string{"conversation_type", "item_type", "created_date", "modified_date__gte"} {
				r := e.do(http.MethodGet, remoteConvs+"?"+name+"="+url.QueryEscape(v), tokChannel, nil)
				assert.Equal(t, http.StatusBadRequest, r.Status, "%s=%s", name, v)
				assert.NotContains(t, strings.ToLower(r.Raw), "sql")
			}
			r := e.do(http.MethodGet, remoteMsgs+"?conversation="+url.QueryEscape(v), tokChannel, nil)
			assert.JSONEq(t, `{"conversation": ["A valid integer is required."]}`, r.Raw)
		}
		r := e.do(http.MethodGet, remoteConvs+"?user_id="+url.QueryEscape("a\x00b"), tokChannel, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, "control characters are refused")
		assert.Equal(t, int64(101), e.list(remoteConvs, tokChannel).Count, "nothing changed")
	})

	t.Run("TamperedCursor", func(t *testing.T) {
		p := e.list(remoteConvs+"?page_size=10", tokChannel)
		require.NotNil(t, p.Next)
		u, err := url.Parse(*p.Next)
		require.NoError(t, err)
		cur := u.Query().Get("cursor")
		require.NotEmpty(t, cur)
		flip := []byte(cur)
		if flip[2] == 'A' {
			flip[2] = 'B'
		} else {
			flip[2] = 'A'
		}
		msgPage := e.list(remoteMsgs+"?conversation=1", tokChannel)
		require.Nil(t, msgPage.Next)
		for _, bad := range []string{string(flip), cur[:len(cur)-1], cur + "A", "not-a-cursor", "%%%", "' OR 1=1 --"} {
			r := e.do(http.MethodGet, remoteConvs+"?page_size=10&cursor="+url.QueryEscape(bad), tokChannel, nil)
			assert.Equal(t, http.StatusBadRequest, r.Status, bad)
			assert.JSONEq(t, `{"cursor": ["Invalid cursor."]}`, r.Raw)
		}
		// A conversations cursor is not a messages cursor.
		r := e.do(http.MethodGet, remoteMsgs+"?conversation=1&cursor="+url.QueryEscape(cur), tokChannel, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status)
		// The untouched cursor works.
		r = e.do(http.MethodGet, *p.Next, tokChannel, nil)
		assert.Equal(t, http.StatusOK, r.Status)
	})
}
