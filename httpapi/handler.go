package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"

	"github.com/parleyhq/parley"
)

// Handler serves seed 000's HTTP API over a parley.Service. Create it with
// New; it is safe for concurrent use.
type Handler struct {
	svc *parley.Service
	cfg Config
	mux *http.ServeMux
}

var _ http.Handler = (*Handler)(nil)

// New returns the Handler for svc. It validates cfg and fills its zero
// fields with the defaults.
func New(svc *parley.Service, cfg Config) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("httpapi: Service is nil")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, cfg: cfg, mux: http.NewServeMux()}
	h.routes()
	return h, nil
}

// scope is the part of the API a route belongs to; it decides who may call.
type scope uint8

const (
	scopeUser   scope = iota + 1 // /users/...: users (registered or guest)
	scopeRemote                  // /api/v1/remote/{channel}/...: sellers and integrations of the channel
	scopePublic                  // /public-...: anyone
)

// routes registers every route; see the package documentation's table.
func (h *Handler) routes() {
	p := h.cfg.Prefix
	remote := p + "/api/v1/remote/{channel}"
	users := p + "/users"
	for _, base := range []struct {
		path  string
		scope scope
	}{{remote, scopeRemote}, {users, scopeUser}} {
		s := base.scope
		h.handle("GET "+base.path+"/conversations/{$}", s, h.listConversations)
		h.handle("POST "+base.path+"/conversations/{$}", s, h.createConversation)
		h.handle("GET "+base.path+"/conversations/{id}/{$}", s, h.getConversation)
		h.handle("POST "+base.path+"/conversations/{id}/read/{$}", s, h.markRead)
		h.handle("GET "+base.path+"/messages/{$}", s, h.listMessages)
		h.handle("POST "+base.path+"/messages/{$}", s, h.postMessage)
		h.handle("GET "+base.path+"/unread/{$}", s, h.unread)
	}
	h.handle("GET "+p+"/public-questions/{$}", scopePublic, h.publicQuestions)
	h.handle("GET "+p+"/public-reviews/{$}", scopePublic, h.publicReviews)
}

// call is one request being served.
type call struct {
	w  http.ResponseWriter
	r  *http.Request
	id string // the request id
	// actor is the authenticated caller (zero for the public scope).
	actor   parley.Actor
	scope   scope
	channel string
}

// handle registers fn for pattern, behind authentication for scope s.
func (h *Handler) handle(pattern string, s scope, fn func(c *call) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, id: w.Header().Get(requestIDHeader), scope: s}
		if err := h.admit(c); err != nil {
			h.fail(c, err)
			return
		}
		if err := fn(c); err != nil {
			h.fail(c, err)
		}
	})
}

// admit authenticates the caller and checks that it may use the scope: the
// user side is for users; the remote side is for sellers and integrations
// of the channel named in the path (another channel is 404: channels do
// not see each other); the public side is for anyone.
func (h *Handler) admit(c *call) error {
	if c.scope == scopePublic {
		ch, err := h.publicChannel(c.r)
		c.channel = ch
		return err
	}
	a, err := h.cfg.Authenticator.Authenticate(c.r)
	if err != nil {
		return fmt.Errorf("%w: %w", errUnauthenticated, err)
	}
	c.actor, c.channel = a, a.Channel()
	switch c.scope {
	case scopeUser:
		if a.Kind() != parley.ActorUser {
			return &Error{Status: http.StatusForbidden, Body: bodyPermission}
		}
	case scopeRemote:
		if a.Kind() != parley.ActorSeller && a.Kind() != parley.ActorIntegration {
			return &Error{Status: http.StatusForbidden, Body: bodyPermission}
		}
		if c.r.PathValue("channel") != a.Channel() {
			return &Error{Status: http.StatusNotFound, Body: bodyNotFound}
		}
	}
	return nil
}

// ServeHTTP serves a request: it gives it a request id (the X-Request-Id
// header, echoed in the response), answers unknown paths 404 and known
// paths with another method 405 in JSON, and turns a panic into a logged
// 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(requestIDHeader)
	if !validRequestID(id) {
		id = h.cfg.NewRequestID()
	}
	w.Header().Set(requestIDHeader, id)
	c := &call{w: w, r: r, id: id}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "httpapi: panic",
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			c.json(http.StatusInternalServerError, map[string]string{"detail": bodyServerError, "request_id": id})
		}
	}()
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.noRoute(c)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// noRoute answers a request that no route matches: 405 with an Allow
// header if the path exists with other methods, else 404.
func (h *Handler) noRoute(c *call) {
	probe := &statusProbe{header: http.Header{}}
	fallback, _ := h.mux.Handler(c.r)
	fallback.ServeHTTP(probe, c.r)
	if probe.status == http.StatusMethodNotAllowed {
		c.w.Header().Set("Allow", probe.header.Get("Allow"))
		h.fail(c, &Error{Status: http.StatusMethodNotAllowed,
			Body: detail(fmt.Sprintf("Method %q not allowed.", clip(c.r.Method, 20)))})
		return
	}
	h.fail(c, &Error{Status: http.StatusNotFound, Body: bodyNotFound})
}

// statusProbe records the status and headers a handler writes.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// json writes v as the JSON response with the given status.
func (c *call) json(status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // links keep their '&'; the type is JSON, with nosniff
	if err := enc.Encode(v); err != nil {
		// Only the handler's own types are written: this cannot happen
		// unless a Directory returns Extras that JSON cannot encode.
		status = http.StatusInternalServerError
		buf.Reset()
		_ = enc.Encode(map[string]string{"detail": bodyServerError, "request_id": c.id})
	}
	b := buf.Bytes()
	hd := c.w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	hd.Set("X-Content-Type-Options", "nosniff")
	c.w.WriteHeader(status)
	_, _ = c.w.Write(b)
}

const requestIDHeader = "X-Request-Id"

// validRequestID reports whether a client's request id is safe to log and
// echo: 1 to 64 letters, digits, '.', '_' or '-'.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return false
		}
	}
	return true
}

// randomRequestID returns 16 random hex digits.
func randomRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
