package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
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
		code, raw := request(t, a, http.MethodGet, path, token, "")
		var body map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &body), raw)
		return code, body
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
	for _, want := range []string{"seed 000's API", "seed 002's chat API", "seed 001's guest API", "/api/v2/chat/", "/API/V40/Interactive/Messages/", "Q800T"} {
		assert.Contains(t, banner.String(), want, "the banner describes the three dialects and the world")
	}

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

	code, body := request(t, a, http.MethodPost, "/users/conversations/", "demo-user-545383",
		`{"conversation_type": "message", "user_type": "registered", "message_content": "Do you gift-wrap?",
		  "datasource": "2", "content_type": "user", "content_id": "545383", "user": "545383"}`)
	require.Equal(t, http.StatusOK, code, body)
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

// request sends a request to the app's handler; body, if not empty, is
// JSON.
func request(t *testing.T, a *app, method, path, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Token "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// listed returns the subjects' first messages of the conversations a
// seed 000 listing returns, sorted.
func listed(t *testing.T, a *app, query string) []string {
	t.Helper()
	code, body := request(t, a, http.MethodGet, "/api/v1/remote/1/conversations/?page_size=100&"+query, "demo-channel-1", "")
	require.Equal(t, http.StatusOK, code, body)
	var page struct {
		Count   int
		Results []struct {
			MessageSet []struct {
				MessageContent string `json:"message_content"`
			} `json:"message_set"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Equal(t, page.Count, len(page.Results))
	var out []string
	for _, r := range page.Results {
		require.NotEmpty(t, r.MessageSet)
		out = append(out, r.MessageSet[0].MessageContent)
	}
	slices.Sort(out)
	return out
}

// TestApp_WorldFilters: seed 000's filters on the attributes stored from
// the world (user names, order number, product base code) each return
// exactly the demo conversations that match.
func TestApp_WorldFilters(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := build(ctx, st, delivery{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)

	const (
		tvQuestion   = "Does the Q800T support HDMI 2.1?"
		shopMessage  = "Hello, this is a message."
		orderReview  = "Arrived in two days, the picture is superb."
		guestMessage = "Do you ship abroad?"
	)
	all := []string{orderReview, tvQuestion, guestMessage, shopMessage}
	slices.Sort(all)
	require.Equal(t, all, listed(t, a, ""))
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"user__first_name=Ada", []string{tvQuestion}},
		{"user__first_name=Sinan", []string{orderReview, shopMessage}},
		{"user__first_name=Guest", []string{guestMessage}},
		{"user__last_name=Kaya", []string{orderReview, shopMessage}},
		{"user__last_name=Demir", []string{tvQuestion}},
		{"order_number=ORD-1001", []string{orderReview}},
		{"product_base_code=Q800T", []string{orderReview, tvQuestion}},
		{"product_base_code=Q800T&user__first_name=Ada", []string{tvQuestion}},
		{"user__first_name=Nobody", nil},
		{"order_number=ORD-1002", nil},
		{"product_base_code=HWQ990", nil},
	} {
		assert.Equal(t, tc.want, listed(t, a, tc.query), tc.query)
	}
	// A conversation about the soundbar's order item now matches its
	// order number and base code.
	code, body := request(t, a, http.MethodPost, "/users/conversations/", "demo-user-545382",
		`{"conversation_type": "review", "message_content": "Loud and clear.", "datasource": "2", "item_content": "orderitem", "item_id": "2"}`)
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, []string{"Loud and clear."}, listed(t, a, "order_number=ORD-1002"))
	assert.Equal(t, []string{"Loud and clear."}, listed(t, a, "product_base_code=HWQ990"))
	assert.Equal(t, []string{tvQuestion, "Loud and clear."}, listed(t, a, "user__first_name=Ada"))
}

// TestApp_UnknownParties: in each dialect, a start naming a data source,
// product, order item or user that the world does not know is refused
// naming the field (400; seed 002 answers all invalid input 422), and
// nothing is written or sent.
func TestApp_UnknownParties(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	var logs strings.Builder
	a, err := build(ctx, st, delivery{}, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	_, err = a.worker.RunOnce(ctx)
	require.NoError(t, err)
	before := listed(t, a, "")

	for _, tc := range []struct {
		name, path, token, body, field string
		status                         int
	}{
		{"v1DataSource", "/users/conversations/", "demo-user-545382",
			`{"conversation_type": "message", "message_content": "Hi", "datasource": "999"}`, "datasource", 0},
		{"v1Product", "/users/conversations/", "demo-user-545382",
			`{"conversation_type": "question", "message_content": "Hi", "datasource": "1", "item_content": "product", "item_id": "999"}`, "item_id", 0},
		{"v1OrderItem", "/users/conversations/", "demo-user-545382",
			`{"conversation_type": "review", "message_content": "Hi", "datasource": "1", "item_content": "orderitem", "item_id": "999"}`, "item_id", 0},
		{"v1User", "/api/v1/remote/1/conversations/", "demo-seller-1",
			`{"conversation_type": "message", "message_content": "Hi", "user": "999"}`, "user", 0},
		{"v1UserOfIntegration", "/api/v1/remote/1/conversations/", "demo-channel-1",
			`{"conversation_type": "message", "message_content": "Hi", "datasource": "1", "user": "999", "content_type": "user", "content_id": "999"}`, "user", 0},
		{"v2Product", "/api/v2/chat/create-conversation", "demo-user-545382",
			`{"product_id": 999, "title": "T", "message": "Hi"}`, "product_id", http.StatusUnprocessableEntity},
		{"v40Outlet", "/API/V40/Interactive/Messages/Conversations", "demo-guest-1001",
			`{"message": "Hi", "outletCode": "999", "sessionToken": "t"}`, "outletCode", 0},
		{"v40Order", "/API/V40/Interactive/Messages/Conversations", "demo-guest-1001",
			`{"message": "Hi", "outletCode": "1", "orderCode": "999", "sessionToken": "t"}`, "orderCode", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := request(t, a, http.MethodPost, tc.path, tc.token, tc.body)
			want := cmp.Or(tc.status, http.StatusBadRequest)
			assert.Equal(t, want, code, body)
			assert.Contains(t, body, `"`+tc.field+`"`, "names the field")
		})
	}
	assert.Equal(t, before, listed(t, a, ""), "nothing written")
	n, err := a.worker.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing queued")
}

// TestWorld_Address: emails go only to the world's known addresses.
func TestWorld_Address(t *testing.T) {
	ctx := context.Background()
	w := world()
	for _, tc := range []struct {
		party      notify.Party
		name, addr string
	}{
		{notify.Party{Kind: message.SenderUser, ID: "545382"}, "Ada Demir", "akinon@hotmail.com"},
		{notify.Party{Kind: message.SenderDataSource, ID: "2"}, "Sin's Shop", "sin-shop@example.com"},
		{notify.Party{Kind: message.SenderUser, ID: "999"}, "", ""},
		{notify.Party{Kind: message.SenderDataSource, ID: "999"}, "", ""},
		{notify.Party{Kind: "robot", ID: "1"}, "", ""},
	} {
		name, addr, err := w.Address(ctx, channel, tc.party)
		require.NoError(t, err)
		assert.Equal(t, [2]string{tc.name, tc.addr}, [2]string{name, addr}, "%+v", tc.party)
	}
}
