package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
)

func TestFlexID_JSON(t *testing.T) {
	t.Run("Unmarshal", func(t *testing.T) {
		for in, want := range map[string]FlexID{
			`"545382"`: "545382", `545382`: "545382", `"abc-1"`: "abc-1", `null`: "", `""`: "", `0`: "0",
			`"\u00e9"`: "é",
		} {
			var id FlexID
			require.NoError(t, json.Unmarshal([]byte(in), &id), in)
			assert.Equal(t, want, id, in)
		}
		for _, in := range []string{`1.5`, `-1`, `1e3`, `true`, `{}`, `[]`, `"unterminated`} {
			var id FlexID
			assert.Error(t, json.Unmarshal([]byte(in), &id), in)
		}
	})
	t.Run("Marshal", func(t *testing.T) {
		for in, want := range map[FlexID]string{
			"545382": `545382`, "0": `0`, "007": `"007"`, "abc": `"abc"`, "": `""`, "-1": `"-1"`,
			"9007199254740991": `9007199254740991`, "9007199254740992": `"9007199254740992"`,
			"99999999999999999999": `"99999999999999999999"`,
		} {
			b, err := json.Marshal(in)
			require.NoError(t, err)
			assert.Equal(t, want, string(b), in)
		}
	})
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"is required":                           "This field is required.",
		"must not be empty":                     "This field must not be empty.",
		"contains the control character U+0000": "This field contains the control character U+0000.",
		`"x" is not a valid choice (a, b)`:      `"x" is not a valid choice (a, b).`,
		"a sender needs a kind":                 "A sender needs a kind.",
		"Already a sentence.":                   "Already a sentence.",
	} {
		assert.Equal(t, want, sentence(in), in)
	}
}

func TestResponse_Table(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{&parley.ValidationError{Field: "user", Reason: "is required"}, http.StatusBadRequest},
		{errors.Join(&parley.ValidationError{Field: "a", Reason: "x"}, &parley.ValidationError{Field: "b", Reason: "y"}), http.StatusBadRequest},
		{parley.ErrInvalidCursor, http.StatusBadRequest},
		{&parley.ConversationExistsError{ID: 3}, http.StatusBadRequest},
		{parley.ErrReviewReply, http.StatusBadRequest},
		{parley.ErrSellerStart, http.StatusBadRequest},
		{parley.ErrConversationClosed, http.StatusBadRequest},
		{&parley.PermissionError{Reason: "secret reason"}, http.StatusForbidden},
		{parley.ErrNotFound, http.StatusNotFound},
		{parley.ErrIdempotencyMismatch, http.StatusUnprocessableEntity},
		{errors.New("secret"), http.StatusInternalServerError},
	} {
		status, body := response(c.err)
		assert.Equal(t, c.status, status, "%v", c.err)
		b, _ := json.Marshal(body)
		assert.NotContains(t, string(b), "secret")
	}
	_, body := response(errors.Join(&parley.ValidationError{Field: "a", Reason: "x"}, &parley.ValidationError{Field: "b", Reason: "y"}))
	assert.Equal(t, map[string][]string{"a": {"X."}, "b": {"Y."}}, body)
}

func TestConfig_Validate(t *testing.T) {
	auth := AuthenticatorFunc(func(*http.Request) (parley.Actor, error) { return parley.Actor{}, nil })
	for name, cfg := range map[string]Config{
		"NoAuthenticator":    {},
		"PrefixNoSlash":      {Authenticator: auth, Prefix: "parley"},
		"PrefixTrailing":     {Authenticator: auth, Prefix: "/parley/"},
		"PrefixPattern":      {Authenticator: auth, Prefix: "/{x}"},
		"NegativeBody":       {Authenticator: auth, MaxBodyBytes: -1},
		"MessageSetTooBig":   {Authenticator: auth, MessageSetSize: MaxPageSize + 1},
		"BaseURLNotHTTP":     {Authenticator: auth, BaseURL: "ftp://x"},
		"BaseURLWithQuery":   {Authenticator: auth, BaseURL: "https://x/?a=b"},
		"BaseURLWithoutHost": {Authenticator: auth, BaseURL: "https://"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := cfg.withDefaults()
			assert.Error(t, err)
		})
	}
	t.Run("Defaults", func(t *testing.T) {
		c, err := Config{Authenticator: auth, BaseURL: "https://api.example.com/"}.withDefaults()
		require.NoError(t, err)
		assert.Equal(t, int64(DefaultMaxBodyBytes), c.MaxBodyBytes)
		assert.Equal(t, DefaultMessageSetSize, c.MessageSetSize)
		assert.Equal(t, "https://api.example.com", c.BaseURL)
		assert.NotNil(t, c.Logger)
		assert.True(t, validRequestID(c.NewRequestID()))
	})
	t.Run("NilService", func(t *testing.T) {
		_, err := New(nil, Config{Authenticator: auth})
		assert.Error(t, err)
	})
}

func TestValidRequestID(t *testing.T) {
	for id, ok := range map[string]bool{
		"abc-123_x.y": true, "": false, "a b": false, "a\nb": false, string(make([]byte, 65)): false,
		"<script>": false,
	} {
		assert.Equal(t, ok, validRequestID(id), "%q", id)
	}
}

// FuzzDecodeWrite checks that decoding any body either fails with a 400
// *Error whose body encodes as JSON, or yields a request whose fields hold
// only valid values. The seed corpus runs with the normal tests.
func FuzzDecodeWrite(f *testing.F) {
	for _, s := range []string{
		`{"conversation_type": "message", "user_type": "guest", "message_content": "Hello, this is the first message.",
		  "datasource": "1", "content_type": "user", "content_id": "1", "user": "545382", "item_id": "1", "item_content": "product"}`,
		`{"conversation_type": "review", "conversation": 9, "user_type": "registered", "message_content": "This is the second message.",
		  "datasource": "1", "content_type": "user", "content_id": "545383", "user": "545383", "item_id": "1", "item_content": "product"}`,
		`{"conversation": "9", "message_content": "x", "content_type": "datasource", "content_id": 1}`,
		`{"message": 12}`, `{"message": "12"}`, `{"message": -1}`,
		`{"conversation_type": "chat"}`, `{"conversation": 1.5}`, `{"conversation": "99999999999999999999"}`,
		`{"message_content": 5}`, `{"user": [1]}`, `{"datasource": {"pk": 1}}`, `{"subject": null}`,
		`[]`, `null`, `"s"`, `1`, `true`, ``, `{`, `{"a":}`, `{} {}`, "{\"message_content\": \"\xff\"}",
		`{"message_content": "\ud800"}`, `{"user_type": "` + string(make([]byte, 60)) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeWrite(body)
		if err != nil {
			var e *Error
			require.True(t, errors.As(err, &e), "%T %v", err, err)
			require.Equal(t, http.StatusBadRequest, e.Status)
			b, jerr := json.Marshal(e.Body)
			require.NoError(t, jerr)
			require.True(t, utf8.Valid(b))
			return
		}
		require.True(t, req.ConversationType == "" || req.ConversationType.Valid(), req.ConversationType)
		require.True(t, req.UserType == "" || req.UserType.Valid(), req.UserType)
		require.True(t, req.ContentType == "" || req.ContentType.Valid(), req.ContentType)
		require.True(t, req.ItemContent.Valid(), req.ItemContent)
		require.GreaterOrEqual(t, req.Conversation, int64(0))
		require.GreaterOrEqual(t, req.Message, int64(0))
		for name := range req.present {
			require.Contains(t, []string{fConversationType, fUserType, fMessageContent, fDataSource, fContentType,
				fContentID, fUser, fItemID, fItemContent, fSubject, fLanguage, fConversation, fMessage}, name)
		}
	})
}
