package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

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

// TestClassify_Table: every Service error has its problem, and no cause's
// text reaches the Problem's message.
func TestClassify_Table(t *testing.T) {
	names := map[string]string{parley.FieldMessageContent: "message"}
	for _, c := range []struct {
		err    error
		code   Code
		status int
	}{
		{&parley.ValidationError{Field: parley.FieldUser, Reason: "is required"}, CodeInvalid, http.StatusBadRequest},
		{parley.ErrInvalidCursor, CodeInvalidCursor, http.StatusBadRequest},
		{&parley.ConversationExistsError{ID: 3}, CodeConversationExists, http.StatusConflict},
		{parley.ErrReviewReply, CodeReviewReply, http.StatusForbidden},
		{parley.ErrSellerStart, CodeSellerStart, http.StatusForbidden},
		{parley.ErrConversationClosed, CodeConversationClosed, http.StatusConflict},
		{&parley.PermissionError{Reason: "secret reason"}, CodePermission, http.StatusForbidden},
		{parley.ErrNotFound, CodeNotFound, http.StatusNotFound},
		{parley.ErrIdempotencyMismatch, CodeIdempotencyMismatch, http.StatusUnprocessableEntity},
		{fmt.Errorf("report 7: %w", parley.ErrReportResolved), CodeReportResolved, http.StatusConflict},
		{fmt.Errorf("*mystore does not implement store.Moderation: %w", parley.ErrUnsupported), CodeUnsupported, http.StatusNotImplemented},
		{errors.New("secret"), CodeServerError, http.StatusInternalServerError},
	} {
		p := Classify(c.err, names)
		assert.Equal(t, c.code, p.Code, "%v", c.err)
		assert.Equal(t, c.status, p.Status, "%v", c.err)
		assert.NotContains(t, p.Message, "secret")
		assert.ErrorIs(t, p, c.err)
	}
	two := errors.Join(&parley.ValidationError{Field: parley.FieldMessageContent, Reason: "x"},
		&parley.ValidationError{Field: parley.FieldSubject, Reason: "y"})
	assert.Equal(t, map[string][]string{"message": {"x"}, parley.FieldSubject: {"y"}}, Classify(two, names).Fields)
	renamed := Rename(two, map[string]string{parley.FieldSubject: "title"})
	assert.Equal(t, map[string][]string{"message": {"x"}, "title": {"y"}}, Classify(renamed, names).Fields,
		"a route's names come first, the dialect's fill the rest")
}

func TestConfig_Validate(t *testing.T) {
	auth := AuthenticatorFunc(func(*http.Request) (parley.Actor, error) { return parley.Actor{}, nil })
	for name, cfg := range map[string]Config{
		"NoAuthenticator":    {},
		"PrefixNoSlash":      {Authenticator: auth, Prefix: "parley"},
		"PrefixTrailing":     {Authenticator: auth, Prefix: "/parley/"},
		"PrefixPattern":      {Authenticator: auth, Prefix: "/{x}"},
		"NegativeBody":       {Authenticator: auth, MaxBodyBytes: -1},
		"NegativeTimeout":    {Authenticator: auth, BodyTimeout: -time.Second},
		"NilMiddleware":      {Authenticator: auth, Middleware: []func(http.Handler) http.Handler{nil}},
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
		assert.Equal(t, DefaultBodyTimeout, c.BodyTimeout)
		assert.Equal(t, "https://api.example.com", c.BaseURL)
		assert.Equal(t, DefaultWaitLimits(), c.Waits.Limits())
		assert.NotNil(t, c.Logger)
		assert.True(t, validRequestID(c.NewRequestID()))
	})
	t.Run("NoDialect", func(t *testing.T) {
		_, err := New(Config{Authenticator: auth})
		assert.Error(t, err)
	})
	t.Run("ConflictingRoutes", func(t *testing.T) {
		d := func() *Dialect {
			return &Dialect{Name: "x", Render: func(*Call, *Problem) {},
				Routes: []Route{{Method: http.MethodGet, Path: "/a", Serve: func(*Call) error { return nil }}}}
		}
		_, err := New(Config{Authenticator: auth}, d(), d())
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

func TestFoldMatch(t *testing.T) {
	route := []string{"", "API", "V40", "Conversations", "{code}"}
	for path, ok := range map[string]bool{
		"/api/v40/conversations/ABC": true, "/API/V40/Conversations/x": true, "/api/v40/conversations/": false,
		"/api/v40/conversations": false, "/api/v40/conversations/x/y": false, "/api/v41/conversations/x": false,
	} {
		assert.Equal(t, ok, foldMatch(route, splitPath(path)), path)
	}
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}
