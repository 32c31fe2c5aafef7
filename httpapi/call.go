package httpapi

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// Call is one request being served by a route.
type Call struct {
	// W and R are the request's writer and request.
	W http.ResponseWriter
	R *http.Request
	// Actor is the authenticated caller; zero on public routes.
	Actor parley.Actor
	// ID is the request id (the X-Request-Id header of the response).
	ID string
	// State is the dialect's own: a route may leave there what its
	// Render needs (seed 001 keeps the session token to send back).
	State any

	h *Handler
	d *Dialect
	// form is set by Body when the body is a form (Dialect.Forms).
	form bool
}

// JSONAppender is a response value that writes its own JSON, without
// reflection: Call.JSON uses AppendJSON instead of encoding/json. It must
// append exactly what encoding/json would write for the value (compact,
// without HTML escaping), or return an error.
type JSONAppender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// JSON writes v as the JSON response with the given status. Links and
// text keep their '&', '<' and '>' (the type is JSON, with nosniff). A
// value that is a JSONAppender writes itself.
func (c *Call) JSON(status int, v any) {
	buf, _ := c.h.bufs.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	b, err := encodeJSON((*buf)[:0], v)
	if err != nil {
		// Only the dialects' own types are written: this happens only if a
		// program's directory hands over values JSON cannot encode.
		p := NewProblem(CodeServerError)
		p.Err = err
		c.h.log(c, p)
		b, _ = encodeJSON(b[:0], map[string]string{"message": p.Message, "request_id": c.ID})
		status = http.StatusInternalServerError
	}
	ct := c.d.ContentType
	if ct == "" {
		ct = "application/json"
	}
	c.write(status, ct, b)
	if cap(b) <= maxPooledBuffer {
		*buf = b
		c.h.bufs.Put(buf)
	}
}

// encodeJSON appends v and a newline to b, as json.Encoder writes it
// without HTML escaping.
func encodeJSON(b []byte, v any) ([]byte, error) {
	if a, ok := v.(JSONAppender); ok {
		b, err := a.AppendJSON(b)
		return append(b, '\n'), err
	}
	b, err := wire.Marshal(b, v)
	return append(b, '\n'), err
}

func (c *Call) write(status int, contentType string, b []byte) {
	hd := c.W.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Length", strconv.Itoa(len(b)))
	hd.Set("X-Content-Type-Options", "nosniff")
	c.W.WriteHeader(status)
	_, _ = c.W.Write(b)
}

// fail answers the request with the Problem for err, in the dialect's
// words, and logs it. If the response was already started (a stream), it
// is only logged.
func (c *Call) fail(err error) {
	p := Classify(err, c.d.Fields)
	c.h.log(c, p)
	if rw, ok := c.W.(*responseWriter); ok && rw.status != 0 {
		return
	}
	if p.RetryAfter > 0 {
		c.W.Header().Set("Retry-After", strconv.Itoa(int((p.RetryAfter+time.Second-1)/time.Second)))
	}
	c.d.Render(c, p)
}

// Path returns the escaped path the client asked for. It is taken from
// the request line, which http.StripPrefix leaves as it was, so that links
// keep a prefix that was stripped before the handler saw the request.
func (c *Call) Path() string {
	if ru := c.R.RequestURI; ru != "" {
		if u, err := url.ParseRequestURI(ru); err == nil && u.Path != "" {
			return u.EscapedPath()
		}
	}
	return c.R.URL.EscapedPath()
}

// Link returns a link to path (escaped, as Path returns it) with query q:
// absolute under Config.BaseURL when it is set, else relative. It never
// uses the request's Host header.
func (c *Call) Link(path string, q url.Values) string {
	s := c.h.cfg.BaseURL + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// Body reads the request body: at most the body limit (413 beyond it),
// within Config.BodyTimeout (408 when it arrives more slowly), complete
// (400 when it ends before its Content-Length). A Content-Type, when
// given, must be JSON (application/json, text/json or a +json type), or,
// for a dialect that takes forms (Dialect.Forms),
// application/x-www-form-urlencoded in UTF-8: 415 otherwise. Object
// decodes either.
func (c *Call) Body() ([]byte, error) {
	if ct := c.R.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		switch {
		case err != nil:
			return nil, NewProblem(CodeUnsupportedMedia)
		case mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		case mt == formType && c.d.Forms && (params["charset"] == "" || strings.EqualFold(params["charset"], "utf-8")):
			c.form = true
		default:
			return nil, NewProblem(CodeUnsupportedMedia)
		}
	}
	limit := c.h.cfg.MaxBodyBytes
	if limit == 0 {
		limit = c.d.MaxBodyBytes
	}
	if limit == 0 {
		limit = DefaultMaxBodyBytes
	}
	rc := http.NewResponseController(c.W)
	deadline := rc.SetReadDeadline(time.Now().Add(c.h.cfg.BodyTimeout)) == nil
	b, err := io.ReadAll(http.MaxBytesReader(c.W, c.R.Body, limit))
	if err == nil {
		if deadline {
			_ = rc.SetReadDeadline(time.Time{})
		}
		return b, nil
	}
	// The connection is not reused: the server must not wait for the rest
	// of a body that is late, short or too large (the deadline stays).
	c.W.Header().Set("Connection", "close")
	var tooBig *http.MaxBytesError
	var ne net.Error
	var p *Problem
	switch {
	case errors.As(err, &tooBig):
		p = NewProblem(CodeBodyTooLarge)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		p = NewProblem(CodeBodyTimeout)
	default: // the client ended the body early or broke the connection
		p = NewProblem(CodeIncompleteBody)
	}
	p.Err = err
	return nil, p
}

// Object reads the request body and decodes it as one JSON object (see
// DecodeObject), or, when it is a form (Dialect.Forms), as form fields
// with the same names (see DecodeForm): a route reads both the same way.
func (c *Call) Object(foldCase bool) (*Object, error) {
	b, err := c.Body()
	if err != nil {
		return nil, err
	}
	if c.form {
		return DecodeForm(b, foldCase)
	}
	return DecodeObject(b, foldCase)
}

// formType is the media type of form bodies.
const formType = "application/x-www-form-urlencoded"
