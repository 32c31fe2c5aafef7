package chatv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// The tokens of the test world.
const (
	tokUser1   = kittest.TokUser1
	tokUser2   = kittest.TokUser2
	tokGuest   = kittest.TokGuest
	tokSeller1 = kittest.TokSeller1
	tokSeller2 = kittest.TokSeller2
	tokChannel = kittest.TokChannel
)

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

// env is the chat API on a real listener over a counting memory store.
type env struct {
	*kittest.Env
	t   *testing.T
	svc *parley.Service
	st  *kittest.CountingStore
	url string
}

type option = func(*parley.Options, *httpapi.Config, *chatv2.Options)

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	clock := func(po *parley.Options, _ *httpapi.Config, _ *chatv2.Options) {
		po.Now = kittest.StepClock(time.Date(2024, 1, 18, 7, 52, 37, 92395000, time.UTC))
	}
	e := kittest.Build(t, nil, chatv2.Options{Catalog: chatv2.CatalogFunc(testCatalog)}, chatv2.Dialect, append([]option{clock}, opts...)...)
	return &env{Env: e, t: t, svc: e.Svc, st: e.Store, url: e.URL}
}

// maxWait sets the longest wait.
func maxWait(d time.Duration) option {
	return func(_ *parley.Options, c *httpapi.Config, _ *chatv2.Options) {
		c.Waits = httpapi.NewWaits(httpapi.WaitLimits{MaxWait: d, PerActor: 2000, Total: 2000})
	}
}

type response = kittest.Response

// do sends a request; body is JSON-encoded unless it is a string.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	return e.Do(method, path, token, body, nil)
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

// harness speaks seed 002 to the shared hardening suite.
func harness() kittest.Harness {
	return kittest.Harness{
		NewEnv: func(t *testing.T, configure func(*httpapi.Config)) *kittest.Env {
			return newEnv(t, kittest.KitOnly[chatv2.Options](configure)).Env
		},
		Start: func(e *kittest.Env, i int) (string, int64) {
			return e.Created(e.Do(http.MethodPost, "/api/v2/chat/create-conversation", tokUser1,
				obj{"product_id": fmt.Sprintf("p%d", i), "message": "hello"}, nil), "conversation_id")
		},
		Post: func(ref, content string) (string, string, string) {
			return http.MethodPost, "/api/v2/chat/insert-message", `{"conversation_id": ` + ref + `, "message": ` + content + `}`
		},
		ContentField:  "message",
		InvalidStatus: http.StatusUnprocessableEntity,
		Read:          func(ref string, _ int64) string { return "/api/v2/chat/messages/" + ref },
		Listing:       "/api/v2/chat/conversations?per_page=1",
		Wait: func(_ string, ref string, _, after int64, seconds int) string {
			return fmt.Sprintf("/api/v2/chat/get-new-messages/%s/%d?wait=%d", ref, after, seconds)
		},
	}
}
