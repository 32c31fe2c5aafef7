package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// DefaultHeartbeat is how often an event stream with nothing to say
// writes a heartbeat comment, when the WaitLimits name no Heartbeat.
const DefaultHeartbeat = 15 * time.Second

// LastEventIDParam is the query parameter that stands for the
// Last-Event-ID header, for a client that cannot set headers on its first
// connection (a browser's EventSource sets the header only when it
// reconnects).
const LastEventIDParam = "last_event_id"

// streamRetry is the reconnection delay (ms) an event stream suggests.
const streamRetry = 2000

// ServeEvents answers the request with the actor's event stream
// (parley.Service.Stream) as server-sent events (text/event-stream):
//
//   - it resumes after the Last-Event-ID header (or the last_event_id
//     query parameter); without either it starts with what happens from
//     now on. A value that is not an event id is CodeInvalid, before
//     anything is sent;
//   - it first sends a "ready" event whose id is the position the stream
//     starts at (so that a client that reconnects resumes from there),
//     then one event per change: "id: <position>", "event: <kind>"
//     (conversation.started, message.posted, conversation.read,
//     conversation.status, or reload), "data: " and encode's JSON;
//   - it flushes after every event, and writes a heartbeat comment when
//     nothing happened for WaitLimits.Heartbeat, so that proxies keep the
//     connection;
//   - it takes one of the Waits' slots for as long as it lasts (429 with
//     Retry-After when the actor or the process has none left), and moves
//     the connection's write deadline forward before every write, as long
//     polls do, so that a server's WriteTimeout does not cut it;
//   - it ends when the client goes away, and cleanly (the response is
//     finished, the slot given back) when the program calls
//     Handler.EndStreams, which http.Server.RegisterOnShutdown can do.
//
// Errors before the stream starts (the actor, the position, the slot)
// are returned for the dialect to render.
func (c *Call) ServeEvents(svc *parley.Service, actor parley.Actor, encode func(parley.Event) any) error {
	after, err := lastEventID(c.R)
	if err != nil {
		return err
	}
	w := c.h.cfg.Waits
	release, err := w.Acquire(actor)
	if err != nil {
		return err
	}
	defer release()
	ctx, cancel := context.WithCancel(c.R.Context())
	defer cancel()
	if !w.track(ctx, cancel) {
		p := NewProblem(CodeTooManyWaits)
		p.RetryAfter = w.limits.RetryAfter
		return p
	}
	st, err := svc.Stream(ctx, actor, after)
	if err != nil {
		return err
	}
	defer st.Close()

	hd := c.W.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.W.WriteHeader(http.StatusOK)

	heartbeat := w.limits.Heartbeat
	rc := http.NewResponseController(c.W)
	var buf bytes.Buffer
	send := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(heartbeat + 10*time.Second))
		_, err := c.W.Write(buf.Bytes())
		buf.Reset()
		return err == nil && rc.Flush() == nil
	}
	buf.WriteString("retry: " + strconv.Itoa(streamRetry) + "\n")
	writeEvent(&buf, st.Position(), "ready", map[string]int64{"position": st.Position()})
	if !send() {
		return nil
	}
	for {
		hctx, hcancel := context.WithTimeout(ctx, heartbeat)
		ev, err := st.Next(hctx)
		hcancel()
		switch {
		case err == nil:
			var data any = map[string]int64{"position": ev.Position}
			if ev.Kind != parley.EventReload {
				data = encode(ev)
			}
			writeEvent(&buf, ev.Position, string(ev.Kind), data)
		case ctx.Err() != nil:
			return nil // the client left, or the server ends its streams
		case errors.Is(err, context.DeadlineExceeded):
			buf.WriteString(": heartbeat\n\n")
		default:
			return err // logged: the response has started
		}
		if !send() {
			return nil
		}
	}
}

// writeEvent appends one server-sent event to buf. JSON has no newline,
// so data is one line.
func writeEvent(buf *bytes.Buffer, id int64, name string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		b = []byte("null")
	}
	buf.WriteString("id: " + strconv.FormatInt(id, 10) + "\nevent: " + name + "\ndata: ")
	buf.Write(b)
	buf.WriteString("\n\n")
}

// lastEventID reads the position a stream resumes after: the
// Last-Event-ID header, else the last_event_id parameter, else 0.
func lastEventID(r *http.Request) (int64, error) {
	field, v := "Last-Event-ID", r.Header.Get("Last-Event-ID")
	if v == "" {
		field, v = LastEventIDParam, r.URL.Query().Get(LastEventIDParam)
	}
	if v == "" {
		return 0, nil
	}
	if !wire.Digits(v) || len(v) > 18 {
		return 0, Invalid(field, "must be an event id")
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

// track registers a stream's cancel function for EndStreams until ctx
// ends. It reports false once EndStreams has been called.
func (w *Waits) track(ctx context.Context, cancel context.CancelFunc) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return false
	}
	if w.streams == nil {
		w.streams = map[*context.CancelFunc]struct{}{}
	}
	key := &cancel
	w.streams[key] = struct{}{}
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.streams, key)
	})
	return true
}

// EndStreams ends every event stream of the Handlers sharing these Waits
// (their responses finish cleanly) and refuses new ones with 429, so that
// http.Server.Shutdown, which waits for responses to finish, does not
// wait for streams that never would.
func (w *Waits) EndStreams() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.ended = true
	for key := range w.streams {
		(*key)()
	}
}

// Streams returns how many event streams are open.
func (w *Waits) Streams() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.streams)
}

// EndStreams ends the Handler's event streams; see Waits.EndStreams.
// Register it with the server: srv.RegisterOnShutdown(h.EndStreams).
func (h *Handler) EndStreams() { h.cfg.Waits.EndStreams() }
