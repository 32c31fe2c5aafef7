package conversationsv1_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// eventWait bounds every wait for an event: a hang becomes a failure.
const eventWait = 10 * time.Second

// withWaits sets the kit's wait limits.
func withWaits(l httpapi.WaitLimits) envOption {
	return func(_ *parley.Options, c *httpapi.Config, _ *conversationsv1.Options) { c.Waits = httpapi.NewWaits(l) }
}

// open opens an event stream of the env, ready: its "ready" event read.
func (e *env) open(path, token string, header http.Header) (*kittest.SSE, kittest.SSEEvent) {
	e.t.Helper()
	s := kittest.OpenSSE(e.t, e.srv.URL+path, token, header)
	ready := s.Next(eventWait)
	require.Equal(e.t, "ready", ready.Event)
	require.Equal(e.t, "2000", ready.Retry)
	return s, ready
}

// data decodes an event's data.
func data(t *testing.T, ev kittest.SSEEvent) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(ev.Data), &m), ev.Data)
	return m
}

// quiet checks that only heartbeats (or nothing) come for a while.
func quiet(t *testing.T, s *kittest.SSE, d time.Duration) {
	t.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		ev, ok := s.NextAny(time.Until(end))
		if !ok {
			return
		}
		require.NotEmpty(t, ev.Comment, "unexpected event %+v", ev)
	}
}

func (e *env) start(token, ds, item, text string) (conv, msg int64) {
	e.t.Helper()
	r := e.do(http.MethodPost, "/users/conversations/", token, obj{"conversation_type": "message",
		"message_content": text, "datasource": ds, "item_content": "product", "item_id": item})
	require.Equal(e.t, http.StatusOK, r.Status, r.Raw)
	return int64(r.Object(e.t)["id"].(float64)), int64(r.Object(e.t)["message"].(float64))
}

func (e *env) reply(conv int64, text string) int64 {
	e.t.Helper()
	r := e.do(http.MethodPost, "/api/v1/remote/1/messages/", tokSeller1, obj{"conversation": conv, "message_content": text})
	require.Equal(e.t, http.StatusOK, r.Status, r.Raw)
	return int64(r.Object(e.t)["id"].(float64))
}

// TestE2E_Events: the events routes stream each party's changes, with
// their data in seed 000's words, and never another party's.
func TestE2E_Events(t *testing.T) {
	e := newEnv(t, withWaits(httpapi.WaitLimits{Heartbeat: 50 * time.Millisecond}))
	user, _ := e.open("/users/events/", tokUser1, nil)
	seller, _ := e.open("/api/v1/remote/1/events/", tokSeller1, nil)
	other, _ := e.open("/api/v1/remote/1/events/", tokSeller2, nil)
	otherUser, _ := e.open("/users/events/", tokUser2, nil)
	otherChannel, _ := e.open("/api/v1/remote/2/events/", tokOther, nil)
	channel, _ := e.open("/api/v1/remote/1/events/", tokChannel, nil)
	asShop2, _ := e.open("/api/v1/remote/1/events/?content_type=datasource&content_id=2", tokChannel, nil)
	require.Equal(t, "no-cache", user.Res.Header.Get("Cache-Control"))

	conv, first := e.start(tokUser1, "1", "1", "<script>alert(1)</script>")
	for _, s := range []*kittest.SSE{user, seller, channel} {
		ev := s.Next(eventWait)
		assert.Equal(t, "conversation.started", ev.Event)
		d := data(t, ev)
		assert.Equal(t, ev.ID, strconv.FormatInt(int64(d["id"].(float64)), 10), "the data's id is the event id")
		assert.EqualValues(t, conv, d["conversation"])
		assert.EqualValues(t, first, d["message"])
		assert.EqualValues(t, 545382, d["user"], "ids as seed 000 writes them")
		assert.EqualValues(t, 1, d["datasource"])
		assert.Equal(t, "user", d["content_type"])
		assert.Nil(t, d["status"])
	}
	answer := e.reply(conv, "yes")
	r := e.do(http.MethodPost, fmt.Sprintf("/users/conversations/%d/read/", conv), tokUser1, obj{"message": answer})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r = e.do(http.MethodPatch, fmt.Sprintf("/api/v1/remote/1/conversations/%d/", conv), tokSeller1, obj{"status": "closed"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	for _, s := range []*kittest.SSE{user, seller, channel} {
		ev := s.Next(eventWait)
		require.Equal(t, "message.posted", ev.Event)
		assert.EqualValues(t, answer, data(t, ev)["message"])
		assert.Equal(t, "datasource", data(t, ev)["content_type"])
		ev = s.Next(eventWait)
		require.Equal(t, "conversation.read", ev.Event, "the seller sees the read receipt")
		assert.EqualValues(t, answer, data(t, ev)["message"])
		assert.Equal(t, "user", data(t, ev)["content_type"])
		ev = s.Next(eventWait)
		require.Equal(t, "conversation.status", ev.Event)
		assert.Equal(t, "closed", data(t, ev)["status"])
	}
	// Every stream heartbeats; the others see nothing else.
	for _, s := range []*kittest.SSE{other, otherUser, otherChannel, asShop2, user} {
		ev, ok := s.NextAny(eventWait)
		require.True(t, ok)
		require.Equal(t, "heartbeat", ev.Comment)
		quiet(t, s, 200*time.Millisecond)
	}
}

// TestE2E_EventsResume: a client that reconnects with Last-Event-ID (or
// last_event_id) gets what it missed, once; one whose position the log no
// longer holds gets "reload".
func TestE2E_EventsResume(t *testing.T) {
	e := newEnv(t)
	conv, _ := e.start(tokUser1, "1", "1", "hello")
	s, ready := e.open("/users/events/", tokUser1, nil)
	e.reply(conv, "one")
	got := s.Next(eventWait)
	require.Equal(t, "message.posted", got.Event)
	s.Close()
	e.reply(conv, "two")
	e.reply(conv, "three")

	for _, resume := range []struct {
		path   string
		header http.Header
	}{
		{"/users/events/", http.Header{"Last-Event-Id": {got.ID}}},
		{"/users/events/?last_event_id=" + got.ID, nil},
	} {
		s2, ready2 := e.open(resume.path, tokUser1, resume.header)
		assert.Equal(t, got.ID, ready2.ID, "the stream starts where the client was")
		var seqs []any
		for range 2 {
			ev := s2.Next(eventWait)
			require.Equal(t, "message.posted", ev.Event)
			seqs = append(seqs, data(t, ev)["seq"])
		}
		assert.Equal(t, []any{3.0, 4.0}, seqs, "two and three, once each")
		quiet(t, s2, 100*time.Millisecond)
		s2.Close()
	}
	// From the first ready's position: everything since.
	s3, _ := e.open("/users/events/", tokUser1, http.Header{"Last-Event-Id": {ready.ID}})
	assert.Equal(t, got.ID, s3.Next(eventWait).ID)

	for _, bad := range []string{"x", "-1", "1.5", "9999999999999999999"} {
		r := e.Do(http.MethodGet, "/users/events/", tokUser1, nil, http.Header{"Last-Event-Id": {bad}})
		assert.Equal(t, http.StatusBadRequest, r.Status, bad+": "+r.Raw)
		assert.Contains(t, r.Raw, "Last-Event-ID", bad)
	}

	// Trimmed: reload, then the stream goes on.
	_, err := e.svc.TrimEvents(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	s4, _ := e.open("/users/events/", tokUser1, http.Header{"Last-Event-Id": {got.ID}})
	ev := s4.Next(eventWait)
	require.Equal(t, "reload", ev.Event)
	e.reply(conv, "four")
	ev = s4.Next(eventWait)
	require.Equal(t, "message.posted", ev.Event)
	assert.EqualValues(t, 5, data(t, ev)["seq"])
}

// TestE2E_EventsBounds: streams take the long polls' slots (429 with
// Retry-After beyond an actor's), and the routes are the parties'.
func TestE2E_EventsBounds(t *testing.T) {
	e := newEnv(t, withWaits(httpapi.WaitLimits{PerActor: 2, RetryAfter: 7 * time.Second}))
	a, _ := e.open("/users/events/", tokUser1, nil)
	e.open("/users/events/", tokUser1, nil)
	r := e.do(http.MethodGet, "/users/events/", tokUser1, nil)
	require.Equal(t, http.StatusTooManyRequests, r.Status, r.Raw)
	assert.Equal(t, "7", r.Header.Get("Retry-After"))
	e.open("/users/events/", tokUser2, nil) // another actor has its own
	a.Close()
	require.Eventually(t, func() bool { return e.Handler.Waits().Streams() == 2 }, eventWait, 10*time.Millisecond)
	e.open("/users/events/", tokUser1, nil)

	for _, c := range []struct {
		path, token string
		status      int
	}{
		{"/api/v1/remote/1/events/", tokUser1, http.StatusForbidden},
		{"/users/events/", tokSeller1, http.StatusForbidden},
		{"/api/v1/remote/2/events/", tokSeller1, http.StatusNotFound},
		{"/api/v1/remote/1/events/?content_type=datasource&content_id=2", tokSeller1, http.StatusForbidden},
		{"/api/v1/remote/1/events/?content_type=robot&content_id=2", tokChannel, http.StatusBadRequest},
		{"/api/v1/remote/1/events/?page=2", tokSeller1, http.StatusBadRequest},
		{"/users/events/", "", http.StatusUnauthorized},
	} {
		r := e.do(http.MethodGet, c.path, c.token, nil)
		assert.Equal(t, c.status, r.Status, c.path+" "+c.token+": "+r.Raw)
	}
}

// TestE2E_EventsServer: behind a server with a WriteTimeout shorter than
// the stream, the stream lives on (each write moves the deadline); the
// server's Shutdown ends it cleanly.
func TestE2E_EventsServer(t *testing.T) {
	e := newEnv(t, withWaits(httpapi.WaitLimits{Heartbeat: 100 * time.Millisecond}))
	srv := httptest.NewUnstartedServer(e.Handler)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Config.RegisterOnShutdown(e.Handler.EndStreams)
	srv.Start()
	t.Cleanup(srv.Close)

	s := kittest.OpenSSE(t, srv.URL+"/users/events/", tokUser1, nil)
	require.Equal(t, "ready", s.Next(eventWait).Event)
	conv, _ := e.start(tokUser1, "1", "1", "hello")
	time.Sleep(time.Second) // three write timeouts
	e.reply(conv, "still there?")
	require.Equal(t, "conversation.started", s.Next(eventWait).Event)
	require.Equal(t, "message.posted", s.Next(eventWait).Event)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, srv.Config.Shutdown(ctx), "Shutdown waits for no stream")
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.True(t, s.Ended(eventWait), "the stream ended")
	assert.Zero(t, e.Handler.Waits().Waiting(), "the slot was given back")
	r := e.DoURL(http.MethodGet, e.srv.URL+"/users/events/", tokUser1, nil, nil)
	assert.Equal(t, http.StatusTooManyRequests, r.Status, "no new stream once ended")
}
