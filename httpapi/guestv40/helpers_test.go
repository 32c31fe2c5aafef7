package guestv40_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/guestv40"
	"github.com/parleyhq/parley/store/memory"
)

const (
	tokGuest   = "Token guest-1001"
	tokUser    = "Token user-545382"
	tokOther   = "Token user-545383"
	tokOutlet1 = "Token seller-1"
	tokOutlet2 = "Token seller-2"
)

func testAuth(r *http.Request) (parley.Actor, error) {
	switch r.Header.Get("Authorization") {
	case tokGuest:
		return parley.Guest("1", "1001"), nil
	case tokUser:
		return parley.User("1", "545382"), nil
	case tokOther:
		return parley.User("1", "545383"), nil
	case tokOutlet1:
		return parley.Seller("1", "1"), nil
	case tokOutlet2:
		return parley.Seller("1", "2"), nil
	}
	return parley.Actor{}, errors.New("unknown token")
}

// testDirectory: outlet 1 is the front desk, outlet 2 the spa; guest 1001
// is Ana Lima in room 214 (Portuguese), user 545382 Sam Reed (English).
func testDirectory() *guestv40.StaticDirectory {
	return &guestv40.StaticDirectory{
		Outlets: map[string]guestv40.Outlet{
			"1": {Name: "Front desk", PropertyCode: "HTL-1", ServiceCenterName: "Reception"},
			"2": {Name: "Spa", PropertyCode: "HTL-1", ServiceCenterName: "Wellness"},
		},
		Guests: map[string]guestv40.Guest{
			"1001":   {FirstName: "Ana", LastName: "Lima", LanguageCode: "pt", RoomNumber: "214"},
			"545382": {FirstName: "Sam", LastName: "Reed", LanguageCode: "en", RoomNumber: "108"},
		},
	}
}

// testTranslator marks what it translates and fails on "fail".
func testTranslator(_ context.Context, text, from, to string) (string, error) {
	if strings.Contains(text, "fail") {
		return "", errors.New("translation service down")
	}
	return "[" + from + ">" + to + "] " + strings.ToUpper(text), nil
}

// testSession accepts every token but "expired", and renews "old".
func testSession(_ context.Context, _ parley.Actor, token string) (string, error) {
	switch token {
	case "expired":
		return "", errors.New("session expired")
	case "old":
		return "renewed", nil
	}
	return token, nil
}

func stepClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

type env struct {
	t   *testing.T
	svc *parley.Service
	url string
}

func newEnv(t *testing.T, opts ...func(*parley.Options, *guestv40.Config)) *env {
	t.Helper()
	po := parley.DefaultOptions()
	po.Logger = slog.New(slog.DiscardHandler)
	po.Translator = parley.TranslatorFunc(testTranslator)
	cfg := guestv40.Config{
		Authenticator: httpapi.AuthenticatorFunc(testAuth),
		DefaultOutlet: func(context.Context, string, string) (string, error) { return "1", nil },
		Directory:     testDirectory(),
		Session:       testSession,
		Logger:        po.Logger,
	}
	for _, o := range opts {
		o(&po, &cfg)
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	svc, err := parley.New(st, po)
	require.NoError(t, err)
	h, err := guestv40.New(svc, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, url: srv.URL}
}

type response struct {
	Status int
	Header http.Header
	Raw    string
}

// envelope is a decoded response envelope.
type envelope struct {
	SessionToken      string                    `json:"sessionToken"`
	ResponsesIncluded string                    `json:"responsesIncluded"`
	Responses         []map[string]responseJSON `json:"responses"`
	Status            string                    `json:"status"`
	Message           string                    `json:"message"`
	Errors            map[string][]string       `json:"errors"`
}

type responseJSON struct {
	Content struct {
		Conversation  map[string]any `json:"conversation"`
		NextPageToken string         `json:"nextPageToken"`
	} `json:"content"`
	Succeeded bool `json:"succeeded"`
}

func (r response) envelope(t *testing.T) envelope {
	t.Helper()
	var e envelope
	require.NoError(t, json.Unmarshal([]byte(r.Raw), &e), r.Raw)
	return e
}

// conversation returns the one conversation of a successful response.
func (r response) conversation(t *testing.T, name string) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	e := r.envelope(t)
	require.Equal(t, "Success", e.Status, r.Raw)
	require.Equal(t, name, e.ResponsesIncluded)
	require.Len(t, e.Responses, 1)
	resp, ok := e.Responses[0][name]
	require.True(t, ok, r.Raw)
	require.True(t, resp.Succeeded)
	return resp.Content.Conversation
}

func messages(c map[string]any) []map[string]any {
	var out []map[string]any
	for _, m := range c["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

func (e *env) do(method, path, token string, body any, header http.Header) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, e.url+path, rd)
	require.NoError(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
}

type obj = map[string]any
