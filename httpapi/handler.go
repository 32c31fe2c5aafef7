package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/parleyhq/parley"
)

// Dialect is one HTTP API that a Handler speaks: its routes, the names of
// its fields, and how its errors look. A dialect package builds one (over
// a parley.Service) and hands it to New; everything else (authentication,
// routing, 404 and 405, panics, bodies, JSON, links, long polls, request
// ids and logs) is the kit's.
type Dialect struct {
	// Name identifies the dialect in logs, such as "chatv2".
	Name string

	// Routes are the dialect's routes. Required.
	Routes []Route

	// Render writes a Problem as the dialect's error body, with
	// c.JSON. It may change the status (a dialect whose clients expect
	// 400 for what the kit answers 409) and set headers. Required.
	Render func(c *Call, p *Problem)

	// Fields maps the Service's field names (the parley.Field*
	// constants) to the dialect's wire names, for validation errors.
	Fields map[string]string

	// MaxBodyBytes is the dialect's body limit when Config.MaxBodyBytes
	// is zero; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// FoldCase makes the literal segments of the dialect's paths match
	// without regard to case (as ASP.NET routes do); wildcard values keep
	// the case the client sent.
	FoldCase bool

	// Forms makes the dialect take application/x-www-form-urlencoded
	// request bodies as well as JSON (seed 001 lists both): Call.Object
	// reads a form's name=value pairs as the string fields of an object,
	// with the same names, so that a route validates both alike, and the
	// kit's rules for bodies (limits, repeated names, invalid text) hold
	// for forms too. Without it a form is 415.
	Forms bool

	// ContentType is the Content-Type of JSON responses; empty means
	// "application/json".
	ContentType string

	// OpenAPI, if set, is the dialect's OpenAPI description, served as
	// it is (JSON) at OpenAPIPath below the Prefix, without
	// authentication.
	OpenAPI     []byte
	OpenAPIPath string
}

// Route is one method and path of a dialect.
type Route struct {
	// Method is the HTTP method, such as http.MethodGet.
	Method string
	// Path is the path below Config.Prefix, in http.ServeMux's pattern
	// syntax: "/users/conversations/{id}/{$}".
	Path string
	// Public routes are served without calling the Authenticator.
	Public bool
	// Admit, if set, decides whether the authenticated caller (c.Actor)
	// may use the route at all; its error answers the request.
	Admit func(c *Call) error
	// Serve serves the request. An error answers it through the
	// dialect's Render, unless a response was already started.
	Serve func(c *Call) error
}

// Handler serves one or more dialects under one Config. Create it with
// New; it is safe for concurrent use.
type Handler struct {
	cfg      Config
	dialects []*Dialect
	mux      *http.ServeMux
	chain    http.Handler
	// spaces are the literal path prefixes of every route, to tell which
	// dialect answers a path that no route matches, and to match the
	// paths of case-folding dialects.
	spaces []space
	// bufs are the buffers responses are encoded into (Call.JSON).
	bufs sync.Pool
}

// maxPooledBuffer is the largest response buffer kept for another
// response; larger ones are left to the garbage collector.
const maxPooledBuffer = 1 << 20

// space is the literal start of a route's path, and its dialect.
type space struct {
	prefix   string
	segments []string // the route's path segments, for case folding
	d        *Dialect
}

var _ http.Handler = (*Handler)(nil)

// New returns a Handler serving the dialects under cfg: it validates cfg
// and fills its zero fields with the defaults. The first dialect answers
// the paths that belong to none. Two dialects may not serve the same
// method and path.
func New(cfg Config, dialects ...*Dialect) (h *Handler, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(dialects) == 0 {
		return nil, errors.New("httpapi: no dialect")
	}
	h = &Handler{cfg: cfg, dialects: dialects, mux: http.NewServeMux()}
	defer func() {
		// http.ServeMux panics on a malformed or conflicting pattern.
		if v := recover(); v != nil {
			h, err = nil, fmt.Errorf("httpapi: %v", v)
		}
	}()
	for _, d := range dialects {
		if d == nil || d.Render == nil || len(d.Routes) == 0 {
			return nil, errors.New("httpapi: a dialect needs routes and a Render function")
		}
		routes := d.Routes
		if d.OpenAPI != nil {
			spec := d.OpenAPI
			routes = append(routes[:len(routes):len(routes)], Route{Method: http.MethodGet, Path: d.OpenAPIPath, Public: true,
				Serve: func(c *Call) error { c.write(http.StatusOK, "application/json", spec); return nil }})
		}
		for _, rt := range routes {
			if rt.Serve == nil || rt.Method == "" || !strings.HasPrefix(rt.Path, "/") {
				return nil, fmt.Errorf("httpapi: dialect %s: route %s %q needs a method, a path and Serve", d.Name, rt.Method, rt.Path)
			}
			path := cfg.Prefix + rt.Path
			h.mux.Handle(rt.Method+" "+path, h.route(d, rt))
			lit, _, _ := strings.Cut(path, "{")
			h.spaces = append(h.spaces, space{prefix: lit, segments: strings.Split(path, "/"), d: d})
		}
	}
	var next http.Handler = http.HandlerFunc(h.dispatch)
	for i := len(cfg.Middleware) - 1; i >= 0; i-- {
		next = cfg.Middleware[i](next)
	}
	h.chain = next
	return h, nil
}

// Waits returns the Waits that bound the Handler's long polls.
func (h *Handler) Waits() *Waits { return h.cfg.Waits }

// ServeHTTP serves a request: it gives it a request id (the X-Request-Id
// header, echoed in the response and put in the context, see
// RequestID), recovers a panic as a logged 500, and passes the request
// through the Middleware to its route.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(requestIDHeader)
	if !validRequestID(id) {
		id = h.cfg.NewRequestID()
	}
	rw := &responseWriter{ResponseWriter: w}
	rw.Header().Set(requestIDHeader, id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		c := &Call{W: rw, R: r, ID: id, h: h, d: h.dialectOf(r.URL.Path)}
		h.cfg.Logger.LogAttrs(r.Context(), slog.LevelError, "parley http: panic",
			slog.String("dialect", c.d.Name), slog.String("request_id", id), slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
		if rw.status == 0 {
			p := NewProblem(CodeServerError)
			p.Err = fmt.Errorf("panic: %v", v)
			c.d.Render(c, p)
		}
	}()
	h.chain.ServeHTTP(rw, r)
}

// dispatch routes a request: paths of case-folding dialects are first
// spelt as their routes spell them; a request that no route matches is
// 405 with an Allow header if its path is served with other methods, else
// 404, in the words of the dialect the path belongs to.
func (h *Handler) dispatch(w http.ResponseWriter, r *http.Request) {
	r = h.foldPath(r)
	if _, pattern := h.mux.Handler(r); pattern != "" {
		h.mux.ServeHTTP(w, r)
		return
	}
	c := &Call{W: w, R: r, ID: RequestID(r.Context()), h: h, d: h.dialectOf(r.URL.Path)}
	probe := &statusProbe{header: http.Header{}}
	fallback, _ := h.mux.Handler(r)
	fallback.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		c.fail(NewProblem(CodeMethodNotAllowed))
		return
	}
	c.fail(NewProblem(CodeNotFound))
}

// route returns the http.Handler of one route: authentication, the
// route's admission check, then the route.
func (h *Handler) route(d *Dialect, rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := withSession(w, r)
		c := &Call{W: w, R: r, ID: RequestID(r.Context()), h: h, d: d}
		if err != nil {
			c.fail(err)
			return
		}
		if !rt.Public {
			a, err := h.cfg.Authenticator.Authenticate(r)
			if err != nil {
				p := NewProblem(CodeUnauthenticated)
				p.Err = err
				c.fail(p)
				return
			}
			c.Actor = a
			if rt.Admit != nil {
				if err := rt.Admit(c); err != nil {
					c.fail(err)
					return
				}
			}
		}
		if err := rt.Serve(c); err != nil {
			c.fail(err)
		}
	})
}

// foldPath returns r with its path spelt as a route of a case-folding
// dialect spells it, when it matches one without regard to case.
func (h *Handler) foldPath(r *http.Request) *http.Request {
	segs := strings.Split(r.URL.Path, "/")
	for _, s := range h.spaces {
		if !s.d.FoldCase || !foldMatch(s.segments, segs) {
			continue
		}
		out := make([]string, len(segs))
		for i, seg := range segs {
			if i < len(s.segments) && !isWildcard(s.segments[i]) {
				seg = s.segments[i]
			}
			out[i] = seg
		}
		path := strings.Join(out, "/")
		if path == r.URL.Path {
			return r
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = path, ""
		return r2
	}
	return r
}

// foldMatch reports whether a path's segments match a route's, literal
// segments without regard to case.
func foldMatch(route, path []string) bool {
	if n := len(route); n > 0 && route[n-1] == "{$}" {
		route = route[:n-1]
		if len(path) != n || path[n-1] != "" {
			return false
		}
		path = path[:n-1]
	}
	if len(route) != len(path) {
		return false
	}
	for i, seg := range route {
		if !isWildcard(seg) && !strings.EqualFold(seg, path[i]) {
			return false
		}
		if isWildcard(seg) && path[i] == "" {
			return false
		}
	}
	return true
}

func isWildcard(seg string) bool { return strings.HasPrefix(seg, "{") }

// dialectOf returns the dialect a path belongs to: the one with the
// longest route prefix that the path starts with, or the first dialect.
func (h *Handler) dialectOf(path string) *Dialect {
	best, n := h.dialects[0], 0
	for _, s := range h.spaces {
		p := s.prefix
		ok := strings.HasPrefix(path, p)
		if !ok && s.d.FoldCase {
			ok = len(path) >= len(p) && strings.EqualFold(path[:len(p)], p)
		}
		if ok && len(p) > n {
			best, n = s.d, len(p)
		}
	}
	return best
}

// statusProbe records the status and headers a handler writes.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// The request id header, and its context key.
const requestIDHeader = "X-Request-Id"

type requestIDKey struct{}

// RequestID returns the id of the request whose context ctx is (the
// X-Request-Id of its response), or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

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

// log logs a failed request: a server error at error level (503 at
// warning level), a refusal (403) at info level with the Service's
// reason, anything else at debug level. The cause's text is logged, never
// a body or a message's content.
func (h *Handler) log(c *Call, p *Problem) {
	level := slog.LevelDebug
	switch {
	case p.Status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case p.Status >= 500:
		level = slog.LevelError
	case p.Code == CodePermission:
		level = slog.LevelInfo
	}
	ctx := c.R.Context()
	if !h.cfg.Logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("dialect", c.d.Name), slog.String("request_id", c.ID), slog.String("method", c.R.Method),
		slog.String("path", c.R.URL.Path), slog.Int("status", p.Status), slog.String("code", string(p.Code)),
	}
	var pe *parley.PermissionError
	if errors.As(p, &pe) {
		attrs = append(attrs, slog.String("reason", pe.Reason))
	}
	if c.Actor.Kind() != 0 {
		attrs = append(attrs, slog.String("actor", c.Actor.String()))
	}
	if p.Err != nil {
		attrs = append(attrs, slog.String("error", p.Err.Error()))
	}
	h.cfg.Logger.LogAttrs(ctx, level, "parley http: request failed", attrs...)
}
