package httpapi_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/store"
)

// TestHandler_Consistency: the kit gives every route a store.Session at
// the position of the Parley-Consistency header, and sends the position
// back when a route (a write, in a store with replicas) moved it.
func TestHandler_Consistency(t *testing.T) {
	ran := 0
	d := &httpapi.Dialect{
		Name: "c",
		Routes: []httpapi.Route{
			{Method: http.MethodPost, Path: "/c/write", Public: true, Serve: func(c *httpapi.Call) error {
				ran++
				store.SessionFrom(c.R.Context()).Advance(0x2a) // what a store's write does
				c.JSON(http.StatusCreated, map[string]string{})
				return nil
			}},
			{Method: http.MethodGet, Path: "/c/read", Public: true, Serve: func(c *httpapi.Call) error {
				ran++
				c.JSON(http.StatusOK, map[string]string{"position": store.SessionFrom(c.R.Context()).Position().String()})
				return nil
			}},
		},
		Render: func(c *httpapi.Call, p *httpapi.Problem) {
			c.JSON(p.Status, map[string]string{"code": string(p.Code), "message": p.Message})
		},
	}
	h, err := httpapi.New(httpapi.Config{
		Authenticator: httpapi.AuthenticatorFunc(func(*http.Request) (parley.Actor, error) { return parley.Actor{}, errors.New("no") }),
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, d)
	require.NoError(t, err)
	call := func(method, path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, nil)
		if token != "" {
			req.Header.Set(httpapi.ConsistencyHeader, token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := call(http.MethodPost, "/c/write", "")
	require.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "2a", rec.Header().Get(httpapi.ConsistencyHeader), "a write sends its position")

	rec = call(http.MethodGet, "/c/read", "2a")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"position": "2a"}`, rec.Body.String(), "a read carries the token it was sent")
	assert.Empty(t, rec.Header().Get(httpapi.ConsistencyHeader), "a read moves nothing")

	rec = call(http.MethodGet, "/c/read", "")
	assert.JSONEq(t, `{"position": "0"}`, rec.Body.String())

	rec = call(http.MethodPost, "/c/write", "ff")
	require.Equal(t, http.StatusCreated, rec.Code)
	assert.Empty(t, rec.Header().Get(httpapi.ConsistencyHeader), "a session already past the write is not moved back")

	before := ran
	for _, bad := range []string{"zz", "-1", "12345678901234567", "0x10"} {
		rec = call(http.MethodGet, "/c/read", bad)
		require.Equal(t, http.StatusBadRequest, rec.Code, bad)
		assert.Contains(t, rec.Body.String(), `"code":"malformed"`, bad)
		assert.Contains(t, rec.Body.String(), httpapi.ConsistencyHeader, bad)
	}
	assert.Equal(t, before, ran, "a malformed token runs no route")
}
