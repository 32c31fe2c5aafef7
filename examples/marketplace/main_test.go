package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/store/memory"
)

func TestApp_Request(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := build(ctx, st, delivery{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, seed(ctx, a.svc), "seeding twice must not fail")

	get := func(path, token string) (int, map[string]any) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Token "+token)
		}
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		var body map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), rec.Body.String())
		return rec.Code, body
	}
	code, body := get("/users/conversations/", "demo-user-545382")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 1.0, body["count"], "seeding twice wrote nothing twice")
	code, body = get("/api/v1/remote/1/conversations/", "demo-channel-1")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 4.0, body["count"])
	code, _ = get("/api/v1/remote/1/conversations/", "demo-seller-2")
	assert.Equal(t, http.StatusOK, code)
	code, _ = get("/users/conversations/", "")
	assert.Equal(t, http.StatusUnauthorized, code)
	code, body = get("/public-questions/", "")
	require.Equal(t, http.StatusOK, code)
	assert.Equal(t, 2.0, body["count"])
}

// TestApp_ReopenFile starts the app twice over the same SQLite file: the
// second start seeds again without failing and without writing twice.
func TestApp_ReopenFile(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "demo.db")
	for range 2 {
		a, err := newApp(ctx, path, delivery{}, slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodGet, "/api/v1/remote/1/conversations/", nil)
		req.Header.Set("Authorization", "Token demo-channel-1")
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var body struct{ Count int }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.Equal(t, 4, body.Count)
		require.NoError(t, a.Close())
	}
}

// TestRun serves on a free port, answers one request and shuts down when
// its context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-db", filepath.Join(t.TempDir(), "demo.db")}, w, io.Discard)
		w.Close()
	}()
	var banner strings.Builder
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		banner.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "Try:") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	base := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(banner.String())
	require.NotEmpty(t, base, banner.String())
	assert.Contains(t, banner.String(), "demo-channel-1")
	assert.Contains(t, banner.String(), "DEMO TOKENS")

	res, err := http.Get(base + "/public-questions/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	cancel()
	require.NoError(t, <-done)
}

// TestApp_Delivery: a user's question is delivered to the shop as an
// email through the outbox and the worker (logged, since no -smtp is set).
func TestApp_Delivery(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	var logs strings.Builder
	a, err := build(ctx, st, delivery{}, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	// Deliver what seeding caused, then start from a clean log.
	_, err = a.worker.RunOnce(ctx)
	require.NoError(t, err)
	logs.Reset()

	req := httptest.NewRequest(http.MethodPost, "/users/conversations/", strings.NewReader(
		`{"conversation_type": "message", "user_type": "registered", "message_content": "Do you gift-wrap?",
		  "datasource": "2", "content_type": "user", "content_id": "545383", "user": "545383"}`))
	req.Header.Set("Authorization", "Token demo-user-545383")
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.NotContains(t, logs.String(), "email", "nothing is sent before the worker runs")

	n, err := a.worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Contains(t, logs.String(), "sin-shop@example.com")
	n, err = a.worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "delivered once")
}

// TestApp_Dialects: seeds 001 and 002 are served beside seed 000 by one
// kit handler.
func TestApp_Dialects(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := build(ctx, st, delivery{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	send := func(path, token, contentType, body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Token "+token)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	post := func(path, token, body string) (int, string) { return send(path, token, "application/json", body) }
	code, body := post("/api/v2/chat/create-conversation", "demo-user-545382", `{"product_id": 1, "title": "Q800T delivery", "message": "Does it ship today?"}`)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"shop_name":"Test Shop"`)
	code, body = post("/API/V40/Interactive/Messages/Conversations", "demo-guest-1001",
		`{"message": "Can I pick up my order?", "conversationType": "guest", "outletCode": "", "orderCode": "1", "sessionToken": "t-demo"}`)
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, `"outletName":"Test Shop"`, "an empty outletCode goes to the first outlet")
	assert.Contains(t, body, `"status":"Success"`)
	code, body = post("/Api/v40/interactive/messages/CONVERSATIONS", "demo-guest-1001",
		`{"message": "Any spelling?", "outletCode": "2", "sessionToken": "t-demo"}`)
	assert.Equal(t, http.StatusOK, code, "seed 001's paths match without regard to case through the kit: %s", body)
	code, body = send("/Api/V40/Interactive/Messages/Conversations", "demo-guest-1001", "application/x-www-form-urlencoded",
		"Message=By+form%3F&OutletCode=2&SessionToken=t-demo")
	assert.Equal(t, http.StatusOK, code, "seed 001 takes forms: %s", body)
	assert.Contains(t, body, `"content":"By form?"`)
	code, body = send("/api/v2/chat/create-conversation", "demo-user-545382", "application/x-www-form-urlencoded", "product_id=1&message=x")
	assert.Equal(t, http.StatusUnsupportedMediaType, code, "seed 002 does not: %s", body)

	// Each dialect serves its OpenAPI description, without credentials.
	for _, path := range []string{"/api/v1/openapi.json", "/api/v2/chat/openapi.json", "/API/V40/Interactive/Messages/openapi.json"} {
		rec := httptest.NewRecorder()
		a.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Contains(t, rec.Body.String(), `"openapi": "3.1.0"`, path)
	}
	// A path of no dialect is seed 000's 404.
	code, body = post("/nowhere", "demo-user-545382", `{}`)
	assert.Equal(t, http.StatusNotFound, code)
	assert.JSONEq(t, `{"detail": "Not found."}`, body)
}
