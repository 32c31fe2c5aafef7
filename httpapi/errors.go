package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store"
)

// Error is an error that carries the HTTP status and the JSON body that
// answer it. The handler uses it for the requests it rejects before
// calling the Service: malformed JSON, a field of the wrong type, a bad
// query parameter, a body too large. Its Error text is the status text.
type Error struct {
	Status int
	Body   any
}

func (e *Error) Error() string { return http.StatusText(e.Status) }

// detail is the body {"detail": text}.
func detail(text string) map[string]string { return map[string]string{"detail": text} }

// nonField is the body {"non_field_errors": [text]}.
func nonField(text string) map[string][]string {
	return map[string][]string{"non_field_errors": {text}}
}

// The bodies of seed 000 and Django REST framework.
var (
	bodyUnauthenticated = detail("Authentication credentials were not provided.")
	bodyPermission      = detail("You do not have permission to perform this action.")
	bodyNotFound        = detail("Not found.")
	bodyExists          = []string{"Conversation already exists"}
	bodyServerError     = "A server error occurred."
)

// errUnauthenticated is what an Authenticator's error becomes.
var errUnauthenticated = &Error{Status: http.StatusUnauthorized, Body: bodyUnauthenticated}

// errorTable maps the Service's errors to responses, first match wins.
// Validation errors (parley.ErrInvalid) are answered 400 with one key per
// field, built by validationBody; an *Error answers itself; anything else
// is a 500.
var errorTable = []struct {
	target error
	status int
	body   any
}{
	{parley.ErrInvalidCursor, http.StatusBadRequest, map[string][]string{"cursor": {"Invalid cursor."}}},
	{parley.ErrConversationExists, http.StatusBadRequest, bodyExists},
	{parley.ErrReviewReply, http.StatusBadRequest, nonField("DataSource can't reply to a review.")},
	{parley.ErrSellerStart, http.StatusBadRequest, nonField("A data source can only start message conversations.")},
	{parley.ErrConversationClosed, http.StatusBadRequest, nonField("The conversation is closed.")},
	{parley.ErrIdempotencyMismatch, http.StatusUnprocessableEntity, detail("This Idempotency-Key was used for a different request.")},
	{parley.ErrPermission, http.StatusForbidden, bodyPermission},
	{parley.ErrNotFound, http.StatusNotFound, bodyNotFound},
	{context.Canceled, http.StatusServiceUnavailable, detail("The request was cancelled.")},
	{context.DeadlineExceeded, http.StatusServiceUnavailable, detail("The request timed out.")},
	{store.ErrClosed, http.StatusServiceUnavailable, detail("The service is unavailable.")},
}

// response returns the status and body that answer err. It is the one
// place where errors become responses.
func response(err error) (int, any) {
	var e *Error
	if errors.As(err, &e) {
		return e.Status, e.Body
	}
	for _, row := range errorTable {
		if errors.Is(err, row.target) {
			return row.status, row.body
		}
	}
	if errors.Is(err, parley.ErrInvalid) {
		return http.StatusBadRequest, validationBody(err)
	}
	return http.StatusInternalServerError, nil
}

// validationBody renders the Service's validation errors with the field
// names as keys and lists of sentences as values.
func validationBody(err error) map[string][]string {
	body := map[string][]string{}
	for _, v := range parley.ValidationErrors(err) {
		field := v.Field
		if field == "" {
			field = "non_field_errors"
		}
		body[field] = append(body[field], sentence(v.Reason))
	}
	if len(body) == 0 {
		body["non_field_errors"] = []string{"Invalid input."}
	}
	return body
}

// sentence turns the Service's reasons ("is required", "must not be
// empty", `"x" is not a valid choice`) into sentences about "this field".
func sentence(reason string) string {
	reason = strings.TrimSpace(reason)
	if reason == "is required" {
		return msgRequired
	}
	first, _ := utf8.DecodeRuneInString(reason)
	for _, verb := range []string{"is ", "must ", "contains ", "cannot "} {
		if strings.HasPrefix(reason, verb) {
			reason = "This field " + reason
			break
		}
	}
	if unicode.IsLower(first) && !strings.HasPrefix(reason, "This field ") {
		reason = string(unicode.ToUpper(first)) + reason[utf8.RuneLen(first):]
	}
	if !strings.HasSuffix(reason, ".") {
		reason += "."
	}
	return reason
}

// fail answers a request with the response for err. Server errors are
// logged with the request id and answered without any detail.
func (h *Handler) fail(c *call, err error) {
	status, body := response(err)
	log := h.cfg.Logger
	attrs := []slog.Attr{
		slog.String("request_id", c.id), slog.String("method", c.r.Method),
		slog.String("path", c.r.URL.Path), slog.Int("status", status),
	}
	switch {
	case status >= 500:
		if body == nil {
			body = map[string]string{"detail": bodyServerError, "request_id": c.id}
		}
		level := slog.LevelError
		if status == http.StatusServiceUnavailable {
			level = slog.LevelWarn
		}
		log.LogAttrs(c.r.Context(), level, "httpapi: request failed", append(attrs, slog.Any("error", err))...)
	default:
		log.LogAttrs(c.r.Context(), slog.LevelDebug, "httpapi: request rejected", append(attrs, slog.Any("error", err))...)
	}
	if status == http.StatusUnauthorized {
		c.w.Header().Set("WWW-Authenticate", `Token realm="api"`)
	}
	c.json(status, body)
}
