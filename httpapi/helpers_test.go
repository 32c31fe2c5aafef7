package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/sqlite"
)

// The tokens of the test world, as the example server's.
const (
	tokUser1   = "Token user-545382"
	tokUser2   = "Token user-545383"
	tokGuest   = "Token guest-1001"
	tokSeller1 = "Token seller-1"
	tokSeller2 = "Token seller-2"
	tokChannel = "Token channel-1"
	tokOther   = "Token channel-2" // an integration of another channel
)

// testAuth maps the test tokens to actors.
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
	case tokOther:
		return parley.Integration("2"), nil
	}
	return parley.Actor{}, errors.New("unknown token")
}

// testDirectory is seed 000's example world.
func testDirectory() *httpapi.StaticDirectory {
	return &httpapi.StaticDirectory{
		UserMap: map[string]httpapi.User{
			"545382": {ID: "545382", Email: "akinon@hotmail.com"},
			"545383": {ID: "545383", FirstName: "Sin", Phone: "+90 555 000 0000"},
			"1001":   {ID: "1001", FirstName: "Guest"},
		},
		DataSourceMap: map[string]httpapi.DataSource{
			"1": {ID: "1", Name: "Test Shop", Slug: "test-shop", Title: "Test shopping", SupplierCode: "ard-123",
				Email: "shop@example.com", PhoneNumber: "+90 212 000 0000", PriceList: "1", StockList: "1", IsActive: true},
			"2": {ID: "2", Name: "Sin's Shop", Slug: "sin-shop", Title: "Sin's shopping", SupplierCode: "sin-123", IsActive: true},
		},
		ItemMap: map[conversation.Item]httpapi.Item{
			conversation.Product("1"):   {ID: "1", Name: "Q800T QLED 8K Smart TV", SKU: "328187", AbsoluteURL: "/product/1/"},
			conversation.OrderItem("1"): {ID: "1", Name: "Q800T QLED 8K Smart TV", SKU: "328187", AbsoluteURL: "/orders/1/items/1/"},
		},
	}
}

// stepClock returns a clock that starts at seed 000's time and moves one
// second at every reading, so that every write has its own time.
func stepClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2023, 7, 19, 10, 25, 40, 208173000, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

// env is a running API over a memory store.
type env struct {
	t    *testing.T
	svc  *parley.Service
	srv  *httptest.Server
	logs *syncBuffer
}

type envOption func(*parley.Options, *httpapi.Config)

// stores are the backends the end-to-end tests run over.
var stores = map[string]func(t *testing.T) store.Store{
	"memory": func(*testing.T) store.Store { return memory.New() },
	"sqlite": func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "parley.db"), sqlite.DefaultOptions())
		require.NoError(t, err)
		return st
	},
}

// newEnv starts the handler on a real listener on 127.0.0.1.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, stores["memory"](t), opts...)
}

// newEnvOn is newEnv over st, which it closes at the end of the test.
func newEnvOn(t *testing.T, st store.Store, opts ...envOption) *env {
	t.Helper()
	po := parley.DefaultOptions()
	po.Now = stepClock()
	logs := &syncBuffer{}
	po.Logger = slog.New(slog.NewTextHandler(logs, nil))
	cfg := httpapi.Config{
		Authenticator: httpapi.AuthenticatorFunc(testAuth),
		Directory:     testDirectory(),
		PublicChannel: "1",
		Logger:        po.Logger,
	}
	for _, o := range opts {
		o(&po, &cfg)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := parley.New(st, po)
	require.NoError(t, err)
	h, err := httpapi.New(svc, cfg)
	require.NoError(t, err)
	mux := http.NewServeMux()
	if cfg.Prefix != "" {
		mux.Handle(cfg.Prefix+"/", h)
	} else {
		mux.Handle("/", h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, svc: svc, srv: srv, logs: logs}
}

// response is a decoded response.
type response struct {
	Status int
	Header http.Header
	Raw    string
}

// JSON decodes the body into v.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(r.Raw), v), "body: %s", r.Raw)
}

// Object decodes the body as a JSON object.
func (r response) Object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// do sends a request with a real client; body is JSON-encoded unless it is
// a string or []byte, which are sent as they are.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return doURL(e.t, method, e.srv.URL+path, token, body)
}

func doURL(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
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
		req.Header.Set("Content-Type", "application/json")
	}
	return send(t, req)
}

// send sends req with a real client and reads the response.
func send(t *testing.T, req *http.Request) response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
}

// listPage is a decoded listing.
type listPage struct {
	Count    int64            `json:"count"`
	Next     *string          `json:"next"`
	Previous *string          `json:"previous"`
	Results  []map[string]any `json:"results"`
}

func (e *env) list(path, token string) listPage {
	e.t.Helper()
	r := e.do(http.MethodGet, path, token, nil)
	require.Equal(e.t, http.StatusOK, r.Status, r.Raw)
	var p listPage
	r.JSON(e.t, &p)
	return p
}

// ids returns the ids of a listing's results.
func ids(p listPage) []int64 {
	out := make([]int64, 0, len(p.Results))
	for _, r := range p.Results {
		out = append(out, int64(r["id"].(float64)))
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (the server's log).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// obj is a JSON object literal for request bodies.
type obj = map[string]any

// newServer serves h on a real listener on 127.0.0.1 and returns its URL.
func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
