// Package dialect holds what the handlers of seeds 001 and 002
// (httpapi/guestv40, httpapi/chatv2) share: reading and strictly decoding
// JSON request bodies, writing JSON, sorting the Service's errors into HTTP
// statuses, paging by number over cursors, and waiting for new messages.
//
// Each dialect renders errors in its own shape; this package only says
// which status an error deserves and which fields were wrong.
package dialect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/store"
)

// Problem is a request rejected before the Service was called, or an
// error of the Service sorted for an answer: the status, a sentence for
// people, and the fields that were wrong (keyed by the dialect's field
// names, each with sentences). Err is the cause, for logs.
type Problem struct {
	Status  int
	Message string
	Fields  map[string][]string
	Err     error
}

func (p *Problem) Error() string {
	if p.Err != nil {
		return fmt.Sprintf("%d %s: %v", p.Status, p.Message, p.Err)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Message)
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.Err }

// Field adds a sentence about a field.
func (p *Problem) Field(name, sentence string) {
	if p.Fields == nil {
		p.Fields = map[string][]string{}
	}
	p.Fields[name] = append(p.Fields[name], sentence)
}

// Classify sorts err into the Problem that answers it. Validation errors
// keep the Service's field names (parley.Field*) and reasons ("must not be
// empty"): the dialect renames and words them. A *Problem is returned as
// it is; an error the table does not know is a 500.
func Classify(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	var he *httpapi.Error
	if errors.As(err, &he) {
		return &Problem{Status: he.Status, Message: http.StatusText(he.Status), Err: err}
	}
	for _, row := range table {
		if errors.Is(err, row.target) {
			return &Problem{Status: row.status, Message: row.message, Err: err}
		}
	}
	if errors.Is(err, parley.ErrInvalid) {
		p := &Problem{Status: http.StatusBadRequest, Message: "The given data was invalid.", Err: err}
		for _, v := range parley.ValidationErrors(err) {
			p.Field(v.Field, v.Reason)
		}
		return p
	}
	return &Problem{Status: http.StatusInternalServerError, Message: "Server error.", Err: err}
}

// table maps the Service's errors to statuses, first match wins.
var table = []struct {
	target  error
	status  int
	message string
}{
	{parley.ErrInvalidCursor, http.StatusBadRequest, "The cursor is not valid."},
	{parley.ErrConversationExists, http.StatusConflict, "The conversation already exists."},
	{parley.ErrReviewReply, http.StatusForbidden, "A data source can't reply to a review."},
	{parley.ErrSellerStart, http.StatusForbidden, "A seller can only start message conversations."},
	{parley.ErrConversationClosed, http.StatusConflict, "The conversation is closed."},
	{parley.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, "This Idempotency-Key was used for a different request."},
	{parley.ErrPermission, http.StatusForbidden, "You do not have permission to perform this action."},
	{parley.ErrNotFound, http.StatusNotFound, "Not found."},
	{context.Canceled, http.StatusServiceUnavailable, "The request was cancelled."},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, "The request timed out."},
	{store.ErrClosed, http.StatusServiceUnavailable, "The service is unavailable."},
}

// Log logs a rejected request at debug level and a server error at error
// level (503s at warning level).
func Log(ctx context.Context, log *slog.Logger, r *http.Request, p *Problem) {
	level := slog.LevelDebug
	switch {
	case p.Status == http.StatusServiceUnavailable:
		level = slog.LevelWarn
	case p.Status >= 500:
		level = slog.LevelError
	}
	log.LogAttrs(ctx, level, "parley http: request failed",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", p.Status), slog.Any("error", p))
}

// WriteJSON writes v as the JSON response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"Server error."}`)
	}
	b = append(b, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// Recover turns a panic of the handler it is deferred in into a logged 500
// answered by fail.
func Recover(log *slog.Logger, r *http.Request, fail func(*Problem)) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	log.LogAttrs(r.Context(), slog.LevelError, "parley http: panic",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
	fail(&Problem{Status: http.StatusInternalServerError, Message: "Server error.", Err: fmt.Errorf("panic: %v", v)})
}

// ReadBody reads a request body of at most limit bytes. A Content-Type,
// when given, must be JSON (application/json, text/json or a +json type):
// anything else is 415. A larger body is 413.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "text/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &Problem{Status: http.StatusUnsupportedMediaType,
				Message: fmt.Sprintf("Unsupported media type %q: send application/json.", Clip(ct, 100))}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Problem{Status: http.StatusRequestEntityTooLarge,
				Message: fmt.Sprintf("The request body is larger than %d bytes.", limit)}
		}
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// Want is the JSON type a field should have had.
type Want string

// The types fields are decoded as.
const (
	WantString  Want = "string"
	WantInteger Want = "integer"
	WantID      Want = "string or integer"
)

// TypeError is a field of the wrong JSON type.
type TypeError struct {
	Field string // as the dialect names it
	Want  Want
}

// Object is one JSON object's fields, decoded one by one. Absent and null
// fields are zero; a field of the wrong type is recorded in Errs. With
// FoldCase, field names match case-insensitively (as ASP.NET binds them).
type Object struct {
	raw      map[string]json.RawMessage
	foldCase bool
	Errs     []TypeError
}

// DecodeObject parses body as one JSON object. An empty body, malformed
// JSON or another JSON value than an object is a 400 Problem.
func DecodeObject(body []byte, foldCase bool) (*Object, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &Problem{Status: http.StatusBadRequest, Message: "The request body is empty: send a JSON object."}
	}
	if !json.Valid(trimmed) {
		var syn *json.SyntaxError
		var v any
		if err := json.Unmarshal(trimmed, &v); errors.As(err, &syn) {
			return nil, &Problem{Status: http.StatusBadRequest, Message: fmt.Sprintf("The request body is not valid JSON (error at byte %d).", syn.Offset)}
		}
		return nil, &Problem{Status: http.StatusBadRequest, Message: "The request body is not valid JSON."}
	}
	if trimmed[0] != '{' {
		return nil, &Problem{Status: http.StatusBadRequest, Message: "The request body must be a JSON object."}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, &Problem{Status: http.StatusBadRequest, Message: "The request body is not valid JSON."}
	}
	return &Object{raw: raw, foldCase: foldCase}, nil
}

// get returns a field's raw value, or nil if it is absent or null.
func (o *Object) get(name string) json.RawMessage {
	v, ok := o.raw[name]
	if !ok && o.foldCase {
		for k, kv := range o.raw {
			if strings.EqualFold(k, name) {
				v, ok = kv, true
				break
			}
		}
	}
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

// Has reports whether the field is present and not null.
func (o *Object) Has(name string) bool { return o.get(name) != nil }

// String decodes a string field.
func (o *Object) String(name string) string {
	v := o.get(name)
	if v == nil {
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		o.Errs = append(o.Errs, TypeError{Field: name, Want: WantString})
		return ""
	}
	return s
}

// ID decodes an id given as a JSON string or a JSON integer.
func (o *Object) ID(name string) string {
	v := o.get(name)
	if v == nil {
		return ""
	}
	var id httpapi.FlexID
	if err := id.UnmarshalJSON(v); err != nil {
		o.Errs = append(o.Errs, TypeError{Field: name, Want: WantID})
		return ""
	}
	return string(id)
}

// Int decodes a positive integer id (of a conversation or a message),
// given as a JSON integer or a string of digits. Zero, negative numbers,
// fractions and other types are type errors.
func (o *Object) Int(name string) int64 {
	v := o.get(name)
	if v == nil {
		return 0
	}
	var id httpapi.FlexID
	n, ok := int64(0), id.UnmarshalJSON(v) == nil
	if ok {
		n, ok = PositiveInt(string(id))
	}
	if !ok {
		o.Errs = append(o.Errs, TypeError{Field: name, Want: WantInteger})
		return 0
	}
	return n
}

// PositiveInt parses a positive decimal integer written with digits only.
func PositiveInt(s string) (int64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// NonNegativeInt parses "0" or a positive decimal integer.
func NonNegativeInt(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	return PositiveInt(s)
}

// Clip shortens s to at most n bytes, on a character boundary, for an
// error message.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Allowed returns the Allow header for a request that no route of mux
// matches: the methods its path is served with, or "" if the path is not
// served at all (a 404 rather than a 405).
func Allowed(mux *http.ServeMux, r *http.Request) string {
	probe := &headerProbe{header: http.Header{}}
	fallback, _ := mux.Handler(r)
	fallback.ServeHTTP(probe, r)
	if probe.status != http.StatusMethodNotAllowed {
		return ""
	}
	return probe.header.Get("Allow")
}

// headerProbe records the status and headers a handler writes.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// FieldErrors words the wrong fields of a classified error for a dialect:
// the Service's field names (for errors wrapping parley.ErrInvalid) are
// renamed through names, and each reason becomes sentence(name, reason).
func FieldErrors(err error, fields map[string][]string, names map[string]string, sentence func(name, reason string) string) map[string][]string {
	out := make(map[string][]string, len(fields))
	fromService := errors.Is(err, parley.ErrInvalid)
	for field, reasons := range fields {
		name := field
		if n, ok := names[field]; ok && fromService {
			name = n
		}
		for _, r := range reasons {
			out[name] = append(out[name], sentence(name, r))
		}
	}
	return out
}
