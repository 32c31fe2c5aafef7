package chatv2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/memory"
)

// The tokens of the test world.
const (
	tokUser1   = "Token user-545382"
	tokUser2   = "Token user-545383"
	tokGuest   = "Token guest-1001"
	tokSeller1 = "Token seller-1"
	tokSeller2 = "Token seller-2"
	tokChannel = "Token channel-1"
)

func testAuth(r *http.Request) (parley.Actor, error) {
	switch r.Header.Get("Authorization") {
	case tokUser1:
		return parley.User("1", "545382"), nil
	case tokUser2:
		return parley.User("1", "545383"), nil
	case tokGuest:
		return parley.Guest("1", "1001"), nil
	case tokSeller1:
		return parley.Seller("1", "1"), nil
	case tokSeller2:
		return parley.Seller("1", "2"), nil
	case tokChannel:
		return parley.Integration("1"), nil
	}
	return parley.Actor{}, errors.New("unknown token")
}

// testCatalog: product 1 and products p1, p2, ... are Test Shop's (data
// source 1), product 2 is Sin's Shop's, product 9 is the marketplace's
// own (data source "house"); "broken" fails.
func testCatalog(_ context.Context, channel, id string) (chatv2.Product, error) {
	if channel != "1" {
		return chatv2.Product{}, fmt.Errorf("product %s: %w", id, chatv2.ErrUnknownProduct)
	}
	switch {
	case id == "1" || strings.HasPrefix(id, "p"):
		return chatv2.Product{DataSourceID: "1", ShopName: "Test Shop", ShopLogo: "https://shop.example/logo.png"}, nil
	case id == "2":
		return chatv2.Product{DataSourceID: "2", ShopName: "Sin's Shop"}, nil
	case id == "9":
		return chatv2.Product{DataSourceID: "house", InHouse: true}, nil
	case id == "broken":
		return chatv2.Product{}, errors.New("catalog database down")
	}
	return chatv2.Product{}, fmt.Errorf("product %s: %w", id, chatv2.ErrUnknownProduct)
}

// stepClock starts at a fixed time and moves one second at every reading.
func stepClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2024, 1, 18, 7, 52, 37, 92395000, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// env is the chat API on a real listener over a memory store.
type env struct {
	t   *testing.T
	svc *parley.Service
	st  *countingStore
	url string
}

// countingStore is a memory store that counts the reads waiting clients
// would cost.
type countingStore struct {
	*memory.Store
	after, get atomic.Int64
}

func (s *countingStore) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	s.after.Add(1)
	return s.Store.MessagesAfter(ctx, q)
}

func (s *countingStore) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	s.get.Add(1)
	return s.Store.GetConversation(ctx, id)
}

func newEnv(t *testing.T, opts ...func(*parley.Options, *chatv2.Config)) *env {
	t.Helper()
	po := parley.DefaultOptions()
	po.Now = stepClock()
	po.Logger = slog.New(slog.DiscardHandler)
	cfg := chatv2.Config{
		Authenticator: httpapi.AuthenticatorFunc(testAuth),
		Catalog:       chatv2.CatalogFunc(testCatalog),
		Logger:        po.Logger,
	}
	for _, o := range opts {
		o(&po, &cfg)
	}
	st := &countingStore{Store: memory.New()}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := parley.New(st, po)
	require.NoError(t, err)
	h, err := chatv2.New(svc, cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, st: st, url: srv.URL}
}

type response struct {
	Status int
	Header http.Header
	Raw    string
}

func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.Raw), v), "body: %s", r.Raw)
}

func (r response) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// do sends a request; body is JSON-encoded unless it is a string.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return doReq(e.t, method, e.url+path, token, body, nil)
}

func doReq(t *testing.T, method, url, token string, body any, header http.Header) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, rd)
	require.NoError(t, err)
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
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
}

// page is a decoded listing.
type page struct {
	CurrentPage *int             `json:"current_page"`
	Data        []map[string]any `json:"data"`
	Path        string           `json:"path"`
	PerPage     int              `json:"per_page"`
	NextCursor  *string          `json:"next_cursor"`
	NextPageURL *string          `json:"next_page_url"`
	PrevCursor  *string          `json:"prev_cursor"`
	PrevPageURL *string          `json:"prev_page_url"`
}

func (e *env) list(path, token string) page {
	e.t.Helper()
	r := e.do(http.MethodGet, path, token, nil)
	require.Equal(e.t, http.StatusOK, r.Status, r.Raw)
	var p page
	r.JSON(e.t, &p)
	return p
}

// data decodes {"data": [...]}.
func data(t *testing.T, r response) []map[string]any {
	t.Helper()
	var d struct {
		Data []map[string]any `json:"data"`
	}
	r.JSON(t, &d)
	require.NotNil(t, d.Data, "data must be a list: %s", r.Raw)
	return d.Data
}

func ids(items []map[string]any) []int64 {
	out := make([]int64, 0, len(items))
	for _, it := range items {
		out = append(out, int64(it["id"].(float64)))
	}
	return out
}

type obj = map[string]any
