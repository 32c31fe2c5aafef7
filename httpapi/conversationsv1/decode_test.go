package conversationsv1

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/httpapi"
)

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
		req, err := decodeBody(body)
		if err != nil {
			var p *httpapi.Problem
			require.True(t, errors.As(err, &p), "%T %v", err, err)
			require.Equal(t, http.StatusBadRequest, p.Status)
			b, jerr := json.Marshal(fieldBody(p.Fields))
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
		require.True(t, utf8.ValidString(req.MessageContent), "text is valid UTF-8 or refused")
	})
}

func decodeBody(body []byte) (writeRequest, error) {
	o, err := httpapi.DecodeObject(body, false)
	if err != nil {
		return writeRequest{}, err
	}
	return decodeObject(o)
}
