// Package kittest is the HTTP test kit that the dialects' test suites
// share: the test world's tokens, a running Handler over a counting
// memory store with a captured log, a client, and the suite (Hardening)
// that checks every hardening rule of the kit against a dialect. Every
// response an Env sees is validated against the dialect's OpenAPI
// description when the test ends.
package kittest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/sqlite"
)

// The tokens of the test world, as the example server's.
const (
	TokUser1   = "Token user-545382"
	TokUser2   = "Token user-545383"
	TokGuest   = "Token guest-1001"
	TokSeller1 = "Token seller-1"
	TokSeller2 = "Token seller-2"
	TokChannel = "Token channel-1"
	TokOther   = "Token channel-2" // an integration of another channel
)

// Auth maps the test tokens to actors of channel 1 (TokOther: channel 2).
func Auth(r *http.Request) (parley.Actor, error) {
	switch r.Header.Get("Authorization") {
	case TokUser1:
		return parley.User("1", "545382"), nil
	case TokUser2:
		return parley.User("1", "545383"), nil
	case TokGuest:
		return parley.Guest("1", "1001"), nil
	case TokSeller1:
		return parley.Seller("1", "1"), nil
	case TokSeller2:
		return parley.Seller("1", "2"), nil
	case TokChannel:
		return parley.Integration("1"), nil
	case TokOther:
		return parley.Integration("2"), nil
	}
	return parley.Actor{}, errors.New("unknown token")
}

// StepClock returns a clock that starts at start and moves one second at
// every reading, so that every write has its own time.
func StepClock(start time.Time) func() time.Time {
	var mu sync.Mutex
	t := start
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// CountingStore is a store that counts the reads a waiting client, a
// listing page or a page asked for by number could cost. It is a
// store.Seeker over stores that are (every Parley store).
type CountingStore struct {
	store.Store
	// After counts MessagesAfter, Get GetConversation, List
	// ListConversations, Messages ListMessages, Sets MessageSets and
	// ChangeReads the reads of the change log, Seek SeekConversations.
	After, Get, List, Messages, Sets atomic.Int64
	ChangeReads, Seek                atomic.Int64
}

// SeekConversations counts and seeks.
func (s *CountingStore) SeekConversations(ctx context.Context, q store.ConversationQuery, n int64) (store.ConversationCursor, bool, error) {
	s.Seek.Add(1)
	sk, ok := s.Store.(store.Seeker)
	if !ok {
		return store.ConversationCursor{}, false, errors.New("kittest: the store is not a store.Seeker")
	}
	return sk.SeekConversations(ctx, q, n)
}

// Reset sets every count to zero.
func (s *CountingStore) Reset() {
	for _, n := range []*atomic.Int64{&s.After, &s.Get, &s.List, &s.Messages, &s.Sets, &s.ChangeReads, &s.Seek} {
		n.Store(0)
	}
}

// Reads returns the counts by method name, for comparing in tests.
func (s *CountingStore) Reads() map[string]int64 {
	return map[string]int64{
		"MessagesAfter": s.After.Load(), "GetConversation": s.Get.Load(), "ListConversations": s.List.Load(),
		"ListMessages": s.Messages.Load(), "MessageSets": s.Sets.Load(), "SeekConversations": s.Seek.Load(),
	}
}

// ListConversations counts and reads.
func (s *CountingStore) ListConversations(ctx context.Context, q store.ConversationQuery) (store.Page[conversation.Conversation], error) {
	s.List.Add(1)
	return s.Store.ListConversations(ctx, q)
}

// ListMessages counts and reads.
func (s *CountingStore) ListMessages(ctx context.Context, q store.MessageQuery) (store.Page[message.Message], error) {
	s.Messages.Add(1)
	return s.Store.ListMessages(ctx, q)
}

// MessageSets counts and reads.
func (s *CountingStore) MessageSets(ctx context.Context, q store.MessageSetQuery) ([][]message.Message, error) {
	s.Sets.Add(1)
	return s.Store.MessageSets(ctx, q)
}

// Unwrap returns the counted store (store.Wrapper): the Service finds its
// optional interfaces through it.
func (s *CountingStore) Unwrap() store.Store { return s.Store }

// MessagesAfter counts and reads.
func (s *CountingStore) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	s.After.Add(1)
	return s.Store.MessagesAfter(ctx, q)
}

// GetConversation counts and reads.
func (s *CountingStore) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	s.Get.Add(1)
	return s.Store.GetConversation(ctx, id)
}

// Changes counts and reads the change log (of a store that keeps one).
func (s *CountingStore) Changes(ctx context.Context, q store.ChangeQuery) (store.ChangePage, error) {
	s.ChangeReads.Add(1)
	cl, ok := s.Store.(store.ChangeLog)
	if !ok {
		return store.ChangePage{}, errors.New("kittest: the store keeps no change log")
	}
	return cl.Changes(ctx, q)
}

// TrimChanges trims the change log (of a store that keeps one).
func (s *CountingStore) TrimChanges(ctx context.Context, before time.Time) (int64, error) {
	cl, ok := s.Store.(store.ChangeLog)
	if !ok {
		return 0, errors.New("kittest: the store keeps no change log")
	}
	return cl.TrimChanges(ctx, before)
}

// Stores are the backends a dialect's end-to-end tests run over, by
// name: each makes a fresh store for the test (a SQLite file in its
// temporary directory).
var Stores = map[string]func(t *testing.T) store.Store{
	"memory": func(*testing.T) store.Store { return memory.New() },
	"sqlite": func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), sqlite.DefaultOptions())
		require.NoError(t, err)
		return st
	},
}

// Env is a Handler serving one dialect on a real listener on 127.0.0.1.
type Env struct {
	T       *testing.T
	Svc     *parley.Service
	Store   *CountingStore
	Dialect *httpapi.Dialect
	Handler *httpapi.Handler
	Server  *httptest.Server
	URL     string
	// Logs is the handler's and the Service's log, at debug level.
	Logs *SyncBuffer

	spec *specCheck
}

// Options build an Env.
type Options struct {
	// Store is the store; nil is a memory store. NewEnv closes it.
	Store store.Store
	// Configure adjusts the Service's options and the kit's Config before
	// anything is built (the dialect's own options are the dialect
	// function's).
	Configure []func(*parley.Options, *httpapi.Config)
}

// NewEnv starts dialect's Handler over a fresh Service. Every response it
// serves to Do is validated against the dialect's OpenAPI description at
// the end of the test.
func NewEnv(t *testing.T, dialect func(*parley.Service) (*httpapi.Dialect, error), o Options) *Env {
	t.Helper()
	st := o.Store
	if st == nil {
		st = memory.New()
	}
	cs := &CountingStore{Store: st}
	t.Cleanup(func() { _ = st.Close() })
	logs := &SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	po := parley.DefaultOptions()
	po.Logger = logger
	po.Now = StepClock(time.Date(2023, 7, 19, 10, 25, 40, 208173000, time.UTC))
	cfg := httpapi.Config{Authenticator: httpapi.AuthenticatorFunc(Auth), Logger: logger}
	for _, fn := range o.Configure {
		fn(&po, &cfg)
	}
	svc, err := parley.New(cs, po)
	require.NoError(t, err)
	d, err := dialect(svc)
	require.NoError(t, err)
	h, err := httpapi.New(cfg, d)
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := &Env{T: t, Svc: svc, Store: cs, Dialect: d, Handler: h, Server: srv, URL: srv.URL, Logs: logs}
	if len(d.OpenAPI) > 0 {
		e.spec = newSpecCheck(t, d.OpenAPI, cfg.Prefix)
	}
	return e
}

// Response is a response read to its end.
type Response struct {
	Status int
	Header http.Header
	Raw    string
}

// JSON decodes the body into v.
func (r Response) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.Raw), v), "body: %s", r.Raw)
}

// Object decodes the body as a JSON object.
func (r Response) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request to the Env's server; path may carry a query. body is
// JSON-encoded unless it is a string or []byte, sent as it is (with
// Content-Type application/json either way).
func (e *Env) Do(method, path, token string, body any, header http.Header) Response {
	e.T.Helper()
	return e.DoURL(method, e.URL+path, token, body, header)
}

// DoURL is Do to a full URL (another server's too).
func (e *Env) DoURL(method, url, token string, body any, header http.Header) Response {
	e.T.Helper()
	req := NewRequest(e.T, method, url, token, body)
	for k, v := range header {
		req.Header[k] = v
	}
	return e.Send(req)
}

// NewRequest builds a request as Do sends it.
func NewRequest(t *testing.T, method, url, token string, body any) *http.Request {
	t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case neturl.Values: // a form
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
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
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// Send sends req with a real client, reads the response, and keeps both
// for the OpenAPI check when req went to the Env's server.
func (e *Env) Send(req *http.Request) Response {
	e.T.Helper()
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(e.T, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.T, err)
	r := Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if e.spec != nil && strings.HasPrefix(req.URL.String(), e.URL) {
		e.spec.add(req, reqBody, res, raw)
	}
	return r
}

// SyncBuffer is a bytes.Buffer safe for concurrent writes (the server's
// log).
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Build starts the dialect that build makes with options o, over st (nil:
// a memory store): each of opts adjusts, in order, the Service's options,
// the kit's Config and the dialect's options before anything is built.
func Build[O any](t *testing.T, st store.Store, o O, build func(*parley.Service, O) (*httpapi.Dialect, error),
	opts ...func(*parley.Options, *httpapi.Config, *O)) *Env {
	t.Helper()
	configure := func(po *parley.Options, cfg *httpapi.Config) {
		for _, fn := range opts {
			fn(po, cfg, &o)
		}
	}
	return NewEnv(t, func(svc *parley.Service) (*httpapi.Dialect, error) { return build(svc, o) },
		Options{Store: st, Configure: []func(*parley.Options, *httpapi.Config){configure}})
}

// KitOnly is an option of Build that adjusts only the kit's Config (nil:
// none).
func KitOnly[O any](configure func(*httpapi.Config)) func(*parley.Options, *httpapi.Config, *O) {
	return func(_ *parley.Options, c *httpapi.Config, _ *O) {
		if configure != nil {
			configure(c)
		}
	}
}

// Must returns a function that returns d, failing the test if err is set:
// kittest.Must(t)(chatv2.Dialect(svc, opts)).
func Must(t *testing.T) func(d *httpapi.Dialect, err error) *httpapi.Dialect {
	return func(d *httpapi.Dialect, err error) *httpapi.Dialect {
		t.Helper()
		require.NoError(t, err)
		return d
	}
}

// Created checks that r answers a successful start and returns the
// numeric id in its field, as a path reference and as an id.
func (e *Env) Created(r Response, field string) (string, int64) {
	e.T.Helper()
	require.Equal(e.T, http.StatusOK, r.Status, r.Raw)
	id, ok := r.Object(e.T)[field].(float64)
	require.True(e.T, ok, "no %s in %s", field, r.Raw)
	return strconv.FormatInt(int64(id), 10), int64(id)
}
