package httpapi_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// toy is a dialect with a route that echoes its caller, one that panics,
// one that writes, and a case-folding sibling.
func toy(name string, fold bool, base string) *httpapi.Dialect {
	return &httpapi.Dialect{
		Name:     name,
		FoldCase: fold,
		Routes: []httpapi.Route{
			{Method: http.MethodGet, Path: base + "/Who/{id}", Serve: func(c *httpapi.Call) error {
				c.JSON(http.StatusOK, map[string]string{"actor": c.Actor.String(), "id": c.R.PathValue("id"), "dialect": name})
				return nil
			}},
			{Method: http.MethodPost, Path: base + "/Write", Serve: func(c *httpapi.Call) error {
				c.JSON(http.StatusCreated, map[string]string{"ok": "yes"})
				return nil
			}},
			{Method: http.MethodGet, Path: base + "/Panic", Public: true, Serve: func(*httpapi.Call) error { panic("boom") }},
		},
		Render: func(c *httpapi.Call, p *httpapi.Problem) {
			c.JSON(p.Status, map[string]string{"dialect": name, "code": string(p.Code)})
		},
	}
}

func serve(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "ok")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newKit(t *testing.T, logs io.Writer, mw ...func(http.Handler) http.Handler) *httpapi.Handler {
	t.Helper()
	h, err := httpapi.New(httpapi.Config{
		Authenticator: httpapi.AuthenticatorFunc(func(r *http.Request) (parley.Actor, error) {
			if r.Header.Get("Authorization") != "ok" {
				return parley.Actor{}, errors.New("no")
			}
			return parley.User("1", "7"), nil
		}),
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Middleware: mw,
	}, toy("plain", false, "/plain"), toy("folded", true, "/Folded/API"))
	require.NoError(t, err)
	return h
}

// TestHandler_Routing: several dialects under one handler; 404 and 405
// in the words of the dialect the path belongs to; case folding for the
// dialect that asks, keeping wildcard values as sent.
func TestHandler_Routing(t *testing.T) {
	h := newKit(t, io.Discard)
	rec := serve(t, h, http.MethodGet, "/folded/api/who/AbC")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"actor": "user user:7 in channel 1", "id": "AbC", "dialect": "folded"}`, rec.Body.String())
	assert.Equal(t, http.StatusNotFound, serve(t, h, http.MethodGet, "/plain/who/x").Code, "plain paths keep their case")

	rec = serve(t, h, http.MethodDelete, "/FOLDED/Api/Who/1")
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
	assert.JSONEq(t, `{"dialect": "folded", "code": "method_not_allowed"}`, rec.Body.String())

	rec = serve(t, h, http.MethodGet, "/plain/Nowhere")
	assert.JSONEq(t, `{"dialect": "plain", "code": "not_found"}`, rec.Body.String())
	rec = serve(t, h, http.MethodGet, "/elsewhere")
	assert.JSONEq(t, `{"dialect": "plain", "code": "not_found"}`, rec.Body.String(), "the first dialect answers the rest")

	req := httptest.NewRequest(http.MethodGet, "/plain/Who/1", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.JSONEq(t, `{"dialect": "plain", "code": "unauthenticated"}`, rec.Body.String())
	assert.NotEmpty(t, rec.Header().Get("X-Request-Id"))
}

// TestHandler_Panic: a panic is a logged 500 in the dialect's words.
func TestHandler_Panic(t *testing.T) {
	var logs bytes.Buffer
	h := newKit(t, &logs)
	rec := serve(t, h, http.MethodGet, "/folded/api/panic")
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"dialect": "folded", "code": "server_error"}`, rec.Body.String())
	assert.Contains(t, logs.String(), "level=ERROR")
	assert.Contains(t, logs.String(), "boom")
	assert.Contains(t, logs.String(), "request_id="+rec.Header().Get("X-Request-Id"))
}

// TestHandler_Middleware: a middleware sees every request, and adds a
// header after the route ran (as a consistency token after a write
// would be) through BeforeWriteHeader.
func TestHandler_Middleware(t *testing.T) {
	var seen []string
	token := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.URL.Path)
			wrote := ""
			ok := httpapi.BeforeWriteHeader(w, func(status int, h http.Header) {
				if status == http.StatusCreated {
					h.Set("X-Consistency-Token", "after-"+wrote)
				}
			})
			require.True(t, ok)
			wrote = "write"
			next.ServeHTTP(w, r)
		})
	}
	h := newKit(t, io.Discard, token)
	rec := serve(t, h, http.MethodPost, "/plain/Write")
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "after-write", rec.Header().Get("X-Consistency-Token"))
	rec = serve(t, h, http.MethodGet, "/plain/Who/1")
	assert.Empty(t, rec.Header().Get("X-Consistency-Token"))
	serve(t, h, http.MethodGet, "/nowhere")
	assert.Equal(t, []string{"/plain/Write", "/plain/Who/1", "/nowhere"}, seen)
	assert.False(t, httpapi.BeforeWriteHeader(httptest.NewRecorder(), func(int, http.Header) {}), "not a kit writer")
}

// TestDecodeObject: strict decoding of one JSON object.
func TestDecodeObject(t *testing.T) {
	for _, c := range []struct {
		body, field string
		fold        bool
	}{
		{`{"a": 1, "a": 2}`, "a", false},
		{`{"a": 1, "A": 2}`, "A", true},
		{`{"a": "\ud800"}`, "a", false},
		{`{"a": ["ok", {"b": "\udfff"}]}`, "a", false},
		{"{\"a\": \"\xff\"}", "a", false},
		{`{"\ud800": 1}`, "\uFFFD", false},
	} {
		_, err := httpapi.DecodeObject([]byte(c.body), c.fold)
		var p *httpapi.Problem
		require.ErrorAs(t, err, &p, c.body)
		assert.Equal(t, httpapi.CodeInvalid, p.Code, c.body)
		assert.Contains(t, p.Fields, c.field, c.body)
	}
	o, err := httpapi.DecodeObject([]byte(`{"a": "\ud83d\ude00", "A": 1, "n": null, "x": {"a": 1, "a": 2}}`), false)
	require.NoError(t, err, "case differs without folding; nested names are not read")
	assert.Equal(t, "😀", o.String("a"))
	assert.False(t, o.Has("n"))
	for _, body := range []string{``, `[]`, `{`, `{} {}`, `"x"`} {
		_, err := httpapi.DecodeObject([]byte(body), false)
		var p *httpapi.Problem
		require.ErrorAs(t, err, &p, body)
		assert.Equal(t, httpapi.CodeMalformed, p.Code, body)
	}
	assert.True(t, strings.HasPrefix(httpapi.ReasonRepeated, "is "))
}

// TestDecodeForm: form fields decode into the same Object as JSON, as
// strictly.
func TestDecodeForm(t *testing.T) {
	for _, c := range []struct {
		body, field string
		fold        bool
	}{
		{`a=1&a=2`, "a", false},
		{`a=1&A=2`, "A", true},
		{`a=%FF`, "a", false},
		{`a=%ED%A0%80`, "a", false}, // an encoded surrogate is not UTF-8
		{`%FF=1`, "\uFFFD", false},
	} {
		_, err := httpapi.DecodeForm([]byte(c.body), c.fold)
		var p *httpapi.Problem
		require.ErrorAs(t, err, &p, c.body)
		assert.Equal(t, httpapi.CodeInvalid, p.Code, c.body)
		assert.Contains(t, p.Fields, c.field, c.body)
	}
	o, err := httpapi.DecodeForm([]byte("Message=100%25+sure+%26+%F0%9F%98%80&a=1&A=x&empty=&bare&&id=42\n"), false)
	require.NoError(t, err, "case differs without folding; empty pairs are skipped")
	assert.Equal(t, "100% sure & 😀", o.String("Message"))
	assert.Equal(t, "", o.String("message"), "names are exact without folding")
	assert.True(t, o.Has("empty"))
	assert.True(t, o.Has("bare"), "a name without '=' is an empty value")
	assert.Equal(t, "", o.String("bare"))
	assert.Equal(t, int64(42), o.Int("id"), "integers take their digits")
	assert.Equal(t, "42", o.ID("id"))
	assert.Equal(t, int64(0), o.Int("A"))
	assert.Len(t, o.TypeErrors, 1, "a form value that is not an integer is a type error, as in JSON")
	folded, err := httpapi.DecodeForm([]byte("MESSAGE=hi"), true)
	require.NoError(t, err)
	assert.Equal(t, "hi", folded.String("message"))
	for _, body := range []string{``, ` `, `&&`, `a=%zz`, `a=%4`, `%=1`} {
		_, err := httpapi.DecodeForm([]byte(body), false)
		var p *httpapi.Problem
		require.ErrorAs(t, err, &p, body)
		assert.Equal(t, httpapi.CodeMalformed, p.Code, body)
	}
}
