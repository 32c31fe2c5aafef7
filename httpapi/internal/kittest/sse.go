package kittest

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// SSEEvent is one server-sent event, or a comment (a heartbeat).
type SSEEvent struct {
	ID, Event, Data string
	Retry           string
	// Comment is the text of a comment line (": heartbeat"), which
	// comes alone.
	Comment string
}

// SSE is an open event stream.
type SSE struct {
	t      *testing.T
	Res    *http.Response
	cancel context.CancelFunc
	events chan SSEEvent
	done   chan error
}

// OpenSSE opens the event stream at url with token and the given headers
// (Last-Event-ID), and checks that it is one (200, text/event-stream).
// The stream is closed when the test ends.
func OpenSSE(t *testing.T, url, token string, header http.Header) *SSE {
	t.Helper()
	res, cancel := StartSSE(t, url, token, header)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	s := &SSE{t: t, Res: res, cancel: cancel, events: make(chan SSEEvent, 1024), done: make(chan error, 1)}
	go s.read()
	t.Cleanup(s.Close)
	return s
}

// StartSSE sends the stream's request and returns the response, whatever
// its status, and the function that ends it.
func StartSSE(t *testing.T, url, token string, header http.Header) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	return res, func() { cancel(); res.Body.Close() }
}

// read parses the stream into events until it ends.
func (s *SSE) read() {
	defer close(s.events)
	sc := bufio.NewScanner(s.Res.Body)
	var ev SSEEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev != (SSEEvent{}) {
				s.events <- ev
			}
			ev = SSEEvent{}
		case strings.HasPrefix(line, ":"):
			s.events <- SSEEvent{Comment: strings.TrimSpace(line[1:])}
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				ev.ID = v
			case "event":
				ev.Event = v
			case "data":
				ev.Data += v
			case "retry":
				ev.Retry = v
			}
		}
	}
	s.done <- sc.Err()
}

// Next returns the next event, skipping comments, failing the test after
// timeout or if the stream ends.
func (s *SSE) Next(timeout time.Duration) SSEEvent {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			require.True(s.t, ok, "the stream ended")
			if ev.Comment != "" {
				continue
			}
			return ev
		case <-deadline:
			s.t.Fatalf("no event within %v", timeout)
		}
	}
}

// NextAny returns the next event or comment, and false if the stream
// ended or nothing came within timeout.
func (s *SSE) NextAny(timeout time.Duration) (SSEEvent, bool) {
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(timeout):
		return SSEEvent{}, false
	}
}

// Ended waits up to timeout for the stream to end and reports whether it
// did.
func (s *SSE) Ended(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// Close ends the stream from the client's side.
func (s *SSE) Close() { s.cancel() }
