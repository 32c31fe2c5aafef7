package guestv40_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/guestv40"
)

const pConvs = "/API/V40/Interactive/Messages/Conversations"

func getPath(code string, q url.Values) string {
	return pConvs + "/" + code + "?" + q.Encode()
}

// dotnetTime is seed 001's time format.
var dotnetTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00$`)

// TestGuest_SeedFlow walks seed 001: a guest creates a conversation with
// the sample request's fields, the outlet reads it in its own language and
// answers, and the guest reads the answer in theirs.
func TestGuest_SeedFlow(t *testing.T) {
	e := newEnv(t)
	var code string
	var convID float64

	t.Run("CreateConversation", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs, tokGuest, obj{
			"message": "Can I get extra towels?", "conversationType": "guest", "outletCode": "", "orderCode": "",
			"sessionToken": "t-lbE5U33YgKAAAAAAAAAAAAAAA.nYNG4i",
		}, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		env := envelopeOf(t, r)
		assert.Equal(t, "t-lbE5U33YgKAAAAAAAAAAAAAAA.nYNG4i", env.SessionToken, "echoed")
		c := conversationOf(t, r, "createConversationResponse")
		code = c["code"].(string)
		_, err := uuid.Parse(code)
		require.NoError(t, err)
		msgs := messages(c)
		require.Len(t, msgs, 1)
		convID = msgs[0]["conversationId"].(float64)
		assert.Regexp(t, dotnetTime, msgs[0]["createDate"])
		_, err = uuid.Parse(msgs[0]["code"].(string))
		require.NoError(t, err)
		delete(msgs[0], "createDate")
		delete(msgs[0], "code")
		assert.Equal(t, map[string]any{
			"isRead": false, "serviceCenterName": "", "messageType": "guest", "content": "Can I get extra towels?",
			"firstName": "Ana", "lastName": "Lima", "languageCode": "pt", "isTranslated": false, "conversationId": convID,
		}, msgs[0])
		delete(c, "messages")
		assert.Equal(t, map[string]any{
			"code": code, "subject": "", "outletCode": "1", "orderCode": "", "outletName": "Front desk",
			"propertyCode": "HTL-1", "roomNumber": "214", "guestFirstName": "Ana", "guestLastName": "Lima",
			"guestLanguageCode": "pt", "conversationStatus": "open", "conversationType": "guest",
		}, c, "the first available outlet, and the program's fields")
	})

	t.Run("OutletReadsInItsLanguage", func(t *testing.T) {
		c := e.do(http.MethodGet, getPath(code, url.Values{"sessionToken": {"s1"}, "languageCode": {"en"}}), tokOutlet1, nil, nil).
			conversation(t, "getConversationResponse")
		m := messages(c)[0]
		assert.Equal(t, "[pt>en] CAN I GET EXTRA TOWELS?", m["content"])
		assert.Equal(t, true, m["isTranslated"])
		assert.Equal(t, "en", m["languageCode"])
		assert.Equal(t, true, m["isRead"], "the outlet has now read it")
	})

	t.Run("OutletAnswers", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokOutlet1,
			obj{"message": "On their way!", "sessionToken": "s1", "languageCode": "en"}, nil)
		c := conversationOf(t, r, "createMessageResponse")
		msgs := messages(c)
		require.Len(t, msgs, 1)
		assert.Equal(t, "outlet", msgs[0]["messageType"])
		assert.Equal(t, "Reception", msgs[0]["serviceCenterName"])
		assert.Equal(t, "", msgs[0]["firstName"], "a string, never null")
		assert.Equal(t, "", msgs[0]["lastName"])
		assert.Equal(t, false, msgs[0]["isRead"])
	})

	t.Run("GuestReadsTheAnswer", func(t *testing.T) {
		c := conversationOf(t, e.do(http.MethodGet, getPath(code, url.Values{"sessionToken": {"s2"}}), tokGuest, nil,
			http.Header{"Accept-Language": {"fr;q=0.5, pt-BR;q=0.4, pt;q=0.9"}}), "getConversationResponse")
		msgs := messages(c)
		require.Len(t, msgs, 2)
		assert.Equal(t, "Can I get extra towels?", msgs[0]["content"], "already in the reader's language")
		assert.Equal(t, false, msgs[0]["isTranslated"])
		assert.Equal(t, "[en>pt] ON THEIR WAY!", msgs[1]["content"], "in Accept-Language's preferred language")
		assert.Equal(t, true, msgs[1]["isTranslated"])
		assert.Equal(t, "pt", msgs[1]["languageCode"])
		assert.Equal(t, true, msgs[0]["isRead"], "read by the outlet")
		assert.Equal(t, true, msgs[1]["isRead"], "the guest has now read it")

		plain := e.do(http.MethodGet, getPath(fmt.Sprint(convID), url.Values{"sessionToken": {"s2"}}), tokGuest, nil, nil).
			conversation(t, "getConversationResponse")
		assert.Equal(t, "On their way!", messages(plain)[1]["content"], "as written, by numeric id")
		assert.Equal(t, false, messages(plain)[1]["isTranslated"])
	})

	t.Run("CreateAgainAddsToTheConversation", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs, tokGuest, obj{"Message": "And a pillow", "ConversationType": "guest", "SessionToken": "s3"}, nil)
		c := conversationOf(t, r, "createConversationResponse")
		assert.Equal(t, code, c["code"], "the existing conversation")
		msgs := messages(c)
		require.Len(t, msgs, 3)
		assert.Equal(t, "And a pillow", msgs[2]["content"])
	})

	t.Run("OrderConversationAsRegisteredUser", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs, tokUser, obj{
			"message": "Book a massage", "conversationType": "", "outletCode": "2", "orderCode": 7781, "sessionToken": "old",
		}, nil)
		assert.Equal(t, "renewed", envelopeOf(t, r).SessionToken, "the session may renew the token")
		c := conversationOf(t, r, "createConversationResponse")
		assert.NotEqual(t, code, c["code"])
		assert.Equal(t, "2", c["outletCode"])
		assert.Equal(t, "7781", c["orderCode"])
		assert.Equal(t, "Spa", c["outletName"])
		assert.Equal(t, "", c["conversationType"])
		assert.Equal(t, "108", c["roomNumber"])
		assert.Equal(t, "Sam", messages(c)[0]["firstName"])
		assert.Equal(t, "en", messages(c)[0]["languageCode"], "the guest's language by default")

		convs, err := e.svc.List(context.Background(), parley.Seller("1", "2"), conversation.Filter{}, parley.PageRequest{})
		require.NoError(t, err)
		require.Len(t, convs.Items, 1)
		assert.Equal(t, conversation.OrderItem("7781"), convs.Items[0].Item)
	})

	t.Run("PathCaseInsensitive", func(t *testing.T) {
		r := e.do(http.MethodGet, "/api/v40/interactive/messages/conversations/"+code+"?sessionToken=x", tokGuest, nil, nil)
		assert.Equal(t, code, conversationOf(t, r, "getConversationResponse")["code"])
	})

	t.Run("Paging", func(t *testing.T) {
		for i := range 4 {
			r := e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokOutlet1, obj{"message": fmt.Sprintf("update %d", i), "sessionToken": "s"}, nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
		}
		r := e.do(http.MethodGet, getPath(code, url.Values{"sessionToken": {"s"}, "pageSize": {"3"}}), tokGuest, nil, nil)
		c := conversationOf(t, r, "getConversationResponse")
		assert.Equal(t, []string{"update 1", "update 2", "update 3"}, contents(c), "the newest, oldest first")
		next := envelopeOf(t, r).Responses[0]["getConversationResponse"].Content.NextPageToken
		require.NotEmpty(t, next)
		r = e.do(http.MethodGet, getPath(code, url.Values{"sessionToken": {"s"}, "pageSize": {"3"}, "pageToken": {next}}), tokGuest, nil, nil)
		c = conversationOf(t, r, "getConversationResponse")
		assert.Equal(t, []string{"On their way!", "And a pillow", "update 0"}, contents(c))
		assert.Equal(t, "guest", c["conversationType"], "known without the first message in the page")
	})
}

func contents(c map[string]any) []string {
	var out []string
	for _, m := range messages(c) {
		out = append(out, m["content"].(string))
	}
	return out
}

// TestGuest_BadInput: clear 4xx, status "Failure", nothing written.
func TestGuest_BadInput(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "first", "conversationType": "guest", "sessionToken": "s"}, nil)
	code := conversationOf(t, r, "createConversationResponse")["code"].(string)
	long := strings.Repeat("ç", 4001)
	other := e.do(http.MethodPost, pConvs, tokUser, obj{"message": "mine", "outletCode": "2", "sessionToken": "s"}, nil).
		conversation(t, "createConversationResponse")["code"].(string)

	cases := []struct {
		name, method, path, token string
		body                      any
		header                    http.Header
		status                    int
		errors                    map[string][]string
	}{
		{"NoToken", http.MethodPost, pConvs, "", obj{"message": "x", "sessionToken": "s"}, nil, 401, nil},
		{"ExpiredSession", http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "expired"}, nil, 401, nil},
		{"MalformedJSON", http.MethodPost, pConvs, tokGuest, `{"message": "x", "sessionToken": "s"`, nil, 400, nil},
		{"EmptyBody", http.MethodPost, pConvs, tokGuest, "", nil, 400, nil},
		{"Array", http.MethodPost, pConvs, tokGuest, `[{"message": "x"}]`, nil, 400, nil},
		{"MissingSessionToken", http.MethodPost, pConvs, tokGuest, obj{"message": "x"}, nil, 400,
			map[string][]string{"sessionToken": {"The sessionToken field is required."}}},
		{"MissingMessage", http.MethodPost, pConvs, tokGuest, obj{"sessionToken": "s"}, nil, 400,
			map[string][]string{"message": {"The message field is required."}}},
		{"WrongTypes", http.MethodPost, pConvs, tokGuest, obj{"message": 5, "sessionToken": true, "outletCode": []int{1}}, nil, 400,
			map[string][]string{
				"message":      {"The message field must be a string."},
				"sessionToken": {"The sessionToken field must be a string."},
				"outletCode":   {"The outletCode field must be a string or an integer."},
			}},
		{"EmptyMessage", http.MethodPost, pConvs, tokGuest, obj{"message": " \n ", "sessionToken": "s"}, nil, 400,
			map[string][]string{"message": {"The message field must not be empty."}}},
		{"LongMessage", http.MethodPost, pConvs, tokGuest, obj{"message": long, "sessionToken": "s", "outletCode": "2"}, nil, 400,
			map[string][]string{"message": {"The message field must be at most 4000 characters."}}},
		{"BadConversationType", http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "s", "conversationType": "staff"}, nil, 400,
			map[string][]string{"conversationType": {`The conversationType field must be empty or "guest", not "staff".`}}},
		{"UnknownOutlet", http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "s", "outletCode": "99"}, nil, 400,
			map[string][]string{"outletCode": {`Unknown outlet "99".`}}},
		{"BadLanguage", http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "s", "outletCode": "2", "languageCode": "english please"}, nil, 400,
			map[string][]string{"languageCode": {"The languageCode field must be a language code such as en or pt-BR."}}},
		{"SellerCreates", http.MethodPost, pConvs, tokOutlet1, obj{"message": "x", "sessionToken": "s"}, nil, 403, nil},
		{"WrongContentType", http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "s"},
			http.Header{"Content-Type": {"text/plain"}}, 415, nil},
		{"TooLarge", http.MethodPost, pConvs, tokGuest, `{"sessionToken":"s","message":"` + strings.Repeat("x", 70<<10) + `"}`, nil, 413, nil},
		{"GetWithoutSessionToken", http.MethodGet, pConvs + "/" + code, tokGuest, nil, nil, 400,
			map[string][]string{"sessionToken": {"The sessionToken field is required."}}},
		{"GetBadLanguage", http.MethodGet, getPath(code, url.Values{"sessionToken": {"s"}, "languageCode": {"e"}}), tokGuest, nil, nil, 400, nil},
		{"GetBadPageSize", http.MethodGet, getPath(code, url.Values{"sessionToken": {"s"}, "pageSize": {"0"}}), tokGuest, nil, nil, 400, nil},
		{"GetBadPageToken", http.MethodGet, getPath(code, url.Values{"sessionToken": {"s"}, "pageToken": {"forged"}}), tokGuest, nil, nil, 400, nil},
		{"UnknownCode", http.MethodGet, getPath(uuid.Must(uuid.NewV7()).String(), url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil, 404, nil},
		{"NotACode", http.MethodGet, getPath("not-a-code", url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil, 404, nil},
		{"UnknownID", http.MethodGet, getPath("999", url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil, 404, nil},
		{"OthersConversationByCode", http.MethodGet, getPath(other, url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil, 403, nil},
		{"OthersConversationByID", http.MethodGet, getPath("2", url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil, 403, nil},
		{"OtherOutlet", http.MethodGet, getPath("1", url.Values{"sessionToken": {"s"}}), tokOutlet2, nil, nil, 403, nil},
		{"PostToUnknown", http.MethodPost, pConvs + "/" + uuid.NewString() + "/Messages", tokGuest, obj{"message": "x", "sessionToken": "s"}, nil, 404, nil},
		{"PostEmpty", http.MethodPost, pConvs + "/" + code + "/Messages", tokGuest, obj{"message": "", "sessionToken": "s"}, nil, 400, nil},
		{"PostNoSession", http.MethodPost, pConvs + "/" + code + "/Messages", tokGuest, obj{"message": "x"}, nil, 400, nil},
		{"WrongMethod", http.MethodDelete, pConvs + "/" + code, tokGuest, nil, nil, 405, nil},
		{"UnknownRoute", http.MethodGet, "/API/V40/Interactive/Messages/Nope", tokGuest, nil, nil, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.token, c.body, c.header)
			require.Equal(t, c.status, r.Status, r.Raw)
			env := envelopeOf(t, r)
			assert.Equal(t, "Failure", env.Status)
			assert.Empty(t, env.Responses)
			assert.NotNil(t, env.Responses, "responses is a list")
			assert.NotEmpty(t, env.Message)
			if c.errors != nil {
				assert.Equal(t, c.errors, env.Errors)
			}
		})
	}

	t.Run("SessionTokenEchoedOnFailure", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "", "sessionToken": "keep-me"}, nil)
		assert.Equal(t, "keep-me", envelopeOf(t, r).SessionToken)
	})

	t.Run("NothingWritten", func(t *testing.T) {
		ctx := context.Background()
		for _, a := range []parley.Actor{parley.Guest("1", "1001"), parley.User("1", "545382")} {
			convs, err := e.svc.List(ctx, a, conversation.Filter{}, parley.PageRequest{})
			require.NoError(t, err)
			require.Len(t, convs.Items, 1)
			assert.Equal(t, int64(1), convs.Items[0].MessageCount)
		}
	})
}

// TestGuest_NoDefaultOutlet: without Options.DefaultOutlet, a create that
// names no outlet is 400 on outletCode.
func TestGuest_NoDefaultOutlet(t *testing.T) {
	e := newEnv(t, func(_ *parley.Options, _ *httpapi.Config, c *guestv40.Options) { c.DefaultOutlet = nil })
	r := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "s", "outletCode": ""}, nil)
	require.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	assert.Contains(t, r.envelope(t).Errors, "outletCode")
	r = e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "x", "sessionToken": "s", "outletCode": "2"}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
}

// TestGuest_TranslatorFailure: a failing translator never blocks a
// message, over HTTP; the message is shown as written.
func TestGuest_TranslatorFailure(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "please fail to translate", "sessionToken": "s"},
		http.Header{"Accept-Language": {"en"}})
	c := conversationOf(t, r, "createConversationResponse")
	m := messages(c)[0]
	assert.Equal(t, "please fail to translate", m["content"])
	assert.Equal(t, false, m["isTranslated"])
	assert.Equal(t, "pt", m["languageCode"])

	r = e.do(http.MethodPost, pConvs+"/"+c["code"].(string)+"/Messages", tokGuest, obj{"message": "this works", "sessionToken": "s"}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	got := e.do(http.MethodGet, getPath(c["code"].(string), url.Values{"sessionToken": {"s"}, "languageCode": {"en"}}), tokOutlet1, nil, nil).
		conversation(t, "getConversationResponse")
	assert.Equal(t, []string{"please fail to translate", "[pt>en] THIS WORKS"}, contents(got), "stored, and the other one translated")
}

// TestGuest_CodeLookup: a code finds its conversation however far the
// time it carries is from the conversation's own, and however many newer
// conversations the caller has; with the rules of any other lookup.
func TestGuest_CodeLookup(t *testing.T) {
	// A clock years away from the codes' time.
	far := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, func(o *parley.Options, _ *httpapi.Config, _ *guestv40.Options) { o.Now = stepClock(far) })
	r := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "hi", "outletCode": "1", "sessionToken": "s"}, nil)
	code := r.conversation(t, "createConversationResponse")["code"].(string)
	// More newer conversations of the same guest and outlet than any scan
	// of them would look through.
	for i := range 1100 {
		_, err := e.svc.Start(context.Background(), parley.Guest("1", "1001"), parley.StartRequest{
			Type: conversation.TypeMessage, DataSourceID: "1", Item: conversation.OrderItem(fmt.Sprint(i)), Content: "more",
		})
		require.NoError(t, err)
	}

	for _, tok := range []string{tokGuest, tokOutlet1} {
		r = e.do(http.MethodGet, getPath(code, url.Values{"sessionToken": {"s"}}), tok, nil, nil)
		assert.Equal(t, code, r.conversation(t, "getConversationResponse")["code"], tok)
	}
	r = e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokOutlet1, obj{"message": "hello", "sessionToken": "s"}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = e.do(http.MethodGet, getPath(strings.ToUpper(code), url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil)
	assert.Equal(t, []string{"hi", "hello"}, contents(r.conversation(t, "getConversationResponse")), "any case of the code")
	r = e.do(http.MethodGet, getPath("1", url.Values{"sessionToken": {"s"}}), tokGuest, nil, nil)
	assert.Equal(t, code, r.conversation(t, "getConversationResponse")["code"], "the numeric id works too")

	for _, c := range []struct {
		tok, code string
		status    int
	}{
		{tokOutlet2, code, http.StatusForbidden},
		{tokOther, code, http.StatusForbidden},
		{tokGuest, uuid.Must(uuid.NewV7()).String(), http.StatusNotFound},
		{tokGuest, uuid.Nil.String(), http.StatusNotFound},
		{tokGuest, "not-a-code", http.StatusNotFound},
	} {
		r = e.do(http.MethodGet, getPath(c.code, url.Values{"sessionToken": {"s"}}), c.tok, nil, nil)
		assert.Equal(t, c.status, r.Status, "%s %s: %s", c.tok, c.code, r.Raw)
	}
}
