package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store"
)

// Code names a kind of problem, the same in every dialect; each dialect
// chooses how to word it.
type Code string

// The problems. The Service's errors map to them in one table (see
// Classify); the others come from the kit and the dialects' own checks.
const (
	CodeInvalid             Code = "invalid"              // fields failed validation (Problem.Fields)
	CodeMalformed           Code = "malformed"            // the body is not a JSON object
	CodeInvalidCursor       Code = "invalid_cursor"       // parley.ErrInvalidCursor
	CodeConversationExists  Code = "conversation_exists"  // parley.ErrConversationExists
	CodeReviewReply         Code = "review_reply"         // parley.ErrReviewReply
	CodeSellerStart         Code = "seller_start"         // parley.ErrSellerStart
	CodeConversationClosed  Code = "conversation_closed"  // parley.ErrConversationClosed
	CodeIdempotencyMismatch Code = "idempotency_mismatch" // parley.ErrIdempotencyMismatch
	CodeUnauthenticated     Code = "unauthenticated"      // the Authenticator refused the request
	CodePermission          Code = "permission_denied"    // parley.ErrPermission, or a route's own refusal
	CodeNotFound            Code = "not_found"            // parley.ErrNotFound, an unknown path or id
	CodeMethodNotAllowed    Code = "method_not_allowed"   // a known path with another method
	CodeBodyTooLarge        Code = "body_too_large"       // more than the body limit
	CodeUnsupportedMedia    Code = "unsupported_media"    // a Content-Type that is not JSON
	CodeIncompleteBody      Code = "incomplete_body"      // the body ended before its Content-Length
	CodeBodyTimeout         Code = "body_timeout"         // the body arrived too slowly
	CodeTooManyWaits        Code = "too_many_waits"       // the long-poll bounds are reached
	CodeReportResolved      Code = "report_resolved"      // parley.ErrReportResolved
	CodeUnsupported         Code = "unsupported"          // parley.ErrUnsupported: the store lacks the feature
	CodeUnavailable         Code = "unavailable"          // cancelled, timed out, store closed
	CodeServerError         Code = "server_error"         // anything else
)

// Problem is how a request fails: a Code, the HTTP status, a sentence for
// people (the kit's words; a dialect may use its own), the fields that
// were wrong, and the cause, for logs only. Fields are keyed by the
// dialect's wire names; each holds reasons in the Service's style ("is
// required", "must not be empty"), which the dialect turns into its
// sentences.
type Problem struct {
	Code    Code
	Status  int
	Message string
	Fields  map[string][]string
	// RetryAfter, if set, is sent as the Retry-After header (429, 503).
	RetryAfter time.Duration
	Err        error
}

func (p *Problem) Error() string {
	if p.Err != nil {
		return fmt.Sprintf("%d %s: %v", p.Status, p.Message, p.Err)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Message)
}

// Unwrap returns the cause.
func (p *Problem) Unwrap() error { return p.Err }

// Field adds a reason about a field.
func (p *Problem) Field(name, reason string) *Problem {
	if p.Fields == nil {
		p.Fields = map[string][]string{}
	}
	p.Fields[name] = append(p.Fields[name], reason)
	return p
}

// NewProblem returns the Problem of a code with the kit's status and
// message for it.
func NewProblem(code Code) *Problem {
	for _, row := range table {
		if row.code == code {
			return &Problem{Code: code, Status: row.status, Message: row.message}
		}
	}
	if k, ok := kitProblems[code]; ok {
		return &Problem{Code: code, Status: k.status, Message: k.message}
	}
	return &Problem{Code: CodeServerError, Status: http.StatusInternalServerError, Message: "Server error."}
}

// OwnMessage reports whether p's Message was set by whoever raised it,
// rather than being the kit's default for its code: a dialect keeps such
// a message and words the defaults its own way.
func (p *Problem) OwnMessage() bool { return p.Message != NewProblem(p.Code).Message }

// Invalid returns a 400 CodeInvalid Problem with one reason about field.
func Invalid(field, reason string) *Problem {
	return NewProblem(CodeInvalid).Field(field, reason)
}

// Fields is a set of field reasons collected by a handler's own checks;
// Err returns the 400 Problem holding them, or nil if there are none.
type Fields map[string][]string

// Add adds a reason about a field.
func (f Fields) Add(field, reason string) { f[field] = append(f[field], reason) }

// Err returns the Problem for the collected reasons, or nil.
func (f Fields) Err() error {
	if len(f) == 0 {
		return nil
	}
	p := NewProblem(CodeInvalid)
	p.Fields = f
	return p
}

// table is the one mapping from the Service's errors to problems, first
// match wins. Every dialect answers through it, so a Service error gets
// the same status in every dialect unless a dialect's renderer says
// otherwise for its code.
var table = []struct {
	target  error
	code    Code
	status  int
	message string
}{
	{parley.ErrInvalidCursor, CodeInvalidCursor, http.StatusBadRequest, "The cursor is not valid."},
	{parley.ErrConversationExists, CodeConversationExists, http.StatusConflict, "The conversation already exists."},
	{parley.ErrReviewReply, CodeReviewReply, http.StatusForbidden, "A data source can't reply to a review."},
	{parley.ErrSellerStart, CodeSellerStart, http.StatusForbidden, "A data source can only start message conversations."},
	{parley.ErrConversationClosed, CodeConversationClosed, http.StatusConflict, "The conversation is closed."},
	{parley.ErrIdempotencyMismatch, CodeIdempotencyMismatch, http.StatusUnprocessableEntity, "This Idempotency-Key was used for a different request."},
	{parley.ErrReportResolved, CodeReportResolved, http.StatusConflict, "The report was resolved already."},
	{parley.ErrUnsupported, CodeUnsupported, http.StatusNotImplemented, "This server's store does not support this."},
	{parley.ErrPermission, CodePermission, http.StatusForbidden, "You do not have permission to perform this action."},
	{parley.ErrNotFound, CodeNotFound, http.StatusNotFound, "Not found."},
	{context.Canceled, CodeUnavailable, http.StatusServiceUnavailable, "The request was cancelled."},
	{context.DeadlineExceeded, CodeUnavailable, http.StatusServiceUnavailable, "The request timed out."},
	{store.ErrClosed, CodeUnavailable, http.StatusServiceUnavailable, "The service is unavailable."},
}

// kitProblems are the problems the kit and the dialects raise themselves.
var kitProblems = map[Code]struct {
	status  int
	message string
}{
	CodeInvalid:          {http.StatusBadRequest, "The request is invalid."},
	CodeMalformed:        {http.StatusBadRequest, "The request body is not a JSON object."},
	CodeUnauthenticated:  {http.StatusUnauthorized, "Authentication credentials were not provided."},
	CodeMethodNotAllowed: {http.StatusMethodNotAllowed, "Method not allowed."},
	CodeBodyTooLarge:     {http.StatusRequestEntityTooLarge, "The request body is too large."},
	CodeUnsupportedMedia: {http.StatusUnsupportedMediaType, "Unsupported media type: send application/json."},
	CodeIncompleteBody:   {http.StatusBadRequest, "The request body ended before its Content-Length."},
	CodeBodyTimeout:      {http.StatusRequestTimeout, "The request body did not arrive in time."},
	CodeTooManyWaits:     {http.StatusTooManyRequests, "Too many requests are waiting: retry later."},
	CodeServerError:      {http.StatusInternalServerError, "Server error."},
}

// Classify returns the Problem that answers err: a *Problem as it is (its
// validation fields renamed through names), a Service error through the
// table, a validation error (parley.ErrInvalid) as CodeInvalid with the
// Service's field names renamed through names, and anything else as a
// 500. names maps the parley.Field* constants to the dialect's wire
// names; a name it lacks is kept as it is.
func Classify(err error, names map[string]string) *Problem {
	var rn *renamed
	rename := func(field string) string {
		if rn != nil {
			if n, ok := rn.names[field]; ok {
				return n
			}
		}
		if n, ok := names[field]; ok {
			return n
		}
		return field
	}
	errors.As(err, &rn)
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	for _, row := range table {
		if errors.Is(err, row.target) {
			return &Problem{Code: row.code, Status: row.status, Message: row.message, Err: err}
		}
	}
	if errors.Is(err, parley.ErrInvalid) {
		p := NewProblem(CodeInvalid)
		p.Err = err
		for _, v := range parley.ValidationErrors(err) {
			p.Field(rename(v.Field), v.Reason)
		}
		if len(p.Fields) == 0 {
			p.Field("", "is invalid")
		}
		return p
	}
	p = NewProblem(CodeServerError)
	p.Err = err
	return p
}

// renamed carries the field names a route uses for the Service's fields
// when they differ from its dialect's usual ones (a listing's query
// parameters).
type renamed struct {
	err   error
	names map[string]string
}

func (r *renamed) Error() string { return r.err.Error() }
func (r *renamed) Unwrap() error { return r.err }

// Rename returns err marked so that its validation fields are named
// through names rather than the dialect's Fields (for a route whose input
// names differ, such as a listing's query parameters). nil stays nil.
func Rename(err error, names map[string]string) error {
	if err == nil {
		return nil
	}
	return &renamed{err: err, names: names}
}
