package conversationsv1_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// The tokens of the test world, as the example server's.
const (
	tokUser1   = kittest.TokUser1
	tokUser2   = kittest.TokUser2
	tokGuest   = kittest.TokGuest
	tokSeller1 = kittest.TokSeller1
	tokSeller2 = kittest.TokSeller2
	tokChannel = kittest.TokChannel
	tokOther   = kittest.TokOther
)

var testAuth = kittest.Auth

// testWorld is seed 000's example world, with the many users and items
// the tests that write in bulk name: users 1-10, 700000-700099 and
// 800000-801099, products and order items 0-499.
func testWorld() *parley.StaticWorld {
	w := seedWorld()
	for _, r := range [][2]int{{1, 10}, {700000, 700099}, {800000, 801099}} {
		for i := r[0]; i <= r[1]; i++ {
			id := fmt.Sprint(i)
			w.UserMap[id] = parley.UserInfo{ID: id}
		}
	}
	for i := range 500 {
		for _, it := range []conversation.Item{conversation.Product(fmt.Sprint(i)), conversation.OrderItem(fmt.Sprint(i))} {
			if _, ok := w.ItemMap[it]; !ok {
				w.ItemMap[it] = parley.ItemInfo{Item: it}
			}
		}
	}
	return w
}

// seedWorld is seed 000's example world.
func seedWorld() *parley.StaticWorld {
	return &parley.StaticWorld{
		UserMap: map[string]parley.UserInfo{
			"545382": {ID: "545382", Email: "akinon@hotmail.com"},
			"545383": {ID: "545383", FirstName: "Sin", Phone: "+90 555 000 0000"},
			"1001":   {ID: "1001", FirstName: "Guest", Guest: true},
		},
		DataSourceMap: map[string]parley.DataSourceInfo{
			"1": {ID: "1", Name: "Test Shop", Slug: "test-shop", Title: "Test shopping", SupplierCode: "ard-123",
				Email: "shop@example.com", PhoneNumber: "+90 212 000 0000", PriceList: "1", StockList: "1", IsActive: true},
			"2": {ID: "2", Name: "Sin's Shop", Slug: "sin-shop", Title: "Sin's shopping", SupplierCode: "sin-123", IsActive: true},
		},
		ItemMap: map[conversation.Item]parley.ItemInfo{
			conversation.Product("1"):   {Item: conversation.Product("1"), Name: "Q800T QLED 8K Smart TV", SKU: "328187", AbsoluteURL: "/product/1/", DataSourceID: "1", BaseCode: "Q800T"},
			conversation.OrderItem("1"): {Item: conversation.OrderItem("1"), Name: "Q800T QLED 8K Smart TV", SKU: "328187", AbsoluteURL: "/orders/1/items/1/", DataSourceID: "1", BaseCode: "Q800T", OrderNumber: "ORD-1"},
		},
	}
}

// env is a running API over a store.
type env struct {
	*kittest.Env
	t    *testing.T
	svc  *parley.Service
	srv  *httptest.Server
	logs *kittest.SyncBuffer
}

type envOption = func(*parley.Options, *httpapi.Config, *conversationsv1.Options)

// stores are the backends the end-to-end tests run over.
var stores = kittest.Stores

// newEnv starts the handler on a real listener on 127.0.0.1.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	return newEnvOn(t, memory.New(), opts...)
}

// newEnvOn is newEnv over st, which it closes at the end of the test.
func newEnvOn(t *testing.T, st store.Store, opts ...envOption) *env {
	t.Helper()
	world := func(po *parley.Options, _ *httpapi.Config, _ *conversationsv1.Options) { po.World = testWorld() }
	e := kittest.Build(t, st, conversationsv1.Options{PublicChannel: "1"}, conversationsv1.Dialect, append([]envOption{world}, opts...)...)
	return &env{Env: e, t: t, svc: e.Svc, srv: e.Server, logs: e.Logs}
}

type response = kittest.Response

// do sends a request with a real client; body is JSON-encoded unless it is
// a string or []byte, which are sent as they are.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return e.Do(method, path, token, body, nil)
}

// send sends req and reads the response.
func (e *env) send(req *http.Request) response {
	e.t.Helper()
	return e.Send(req)
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

// obj is a JSON object literal for request bodies.
type obj = map[string]any

// newServer serves h on a real listener on 127.0.0.1 and returns its URL.
func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// harness speaks seed 000 to the shared hardening suite.
func harness() kittest.Harness {
	return kittest.Harness{
		NewEnv: func(t *testing.T, configure func(*httpapi.Config)) *kittest.Env {
			return newEnv(t, kittest.KitOnly[conversationsv1.Options](configure)).Env
		},
		Start: func(e *kittest.Env, i int) (string, int64) {
			return e.Created(e.Do(http.MethodPost, "/users/conversations/", tokUser1, map[string]any{"conversation_type": "message",
				"message_content": "hello", "datasource": "1", "item_content": "product", "item_id": fmt.Sprint(i)}, nil), "id")
		},
		Post: func(ref, content string) (string, string, string) {
			return http.MethodPost, "/users/messages/", `{"conversation": ` + ref + `, "message_content": ` + content + `}`
		},
		ContentField: "message_content",
		Read:         func(ref string, _ int64) string { return "/users/conversations/" + ref + "/" },
		Listing:      "/users/conversations/?page_size=1",
		Wait: func(token, ref string, _, after int64, seconds int) string {
			base := "/users"
			if token == tokSeller1 {
				base = "/api/v1/remote/1"
			}
			return fmt.Sprintf("%s/messages/?conversation=%s&after=%d&wait=%d", base, ref, after, seconds)
		},
	}
}
