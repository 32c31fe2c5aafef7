package guestv40

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi/internal/dialect"
)

// basePath is seed 001's path of conversations.
const basePath = "/API/V40/Interactive/Messages/Conversations"

// The names of the responses in an envelope.
const (
	respCreateConversation = "createConversationResponse"
	respGetConversation    = "getConversationResponse"
	respCreateMessage      = "createMessageResponse"
)

// Handler serves seed 001's guest messaging API over a parley.Service.
// Create it with New; it is safe for concurrent use.
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
		return nil, errors.New("guestv40: Service is nil")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, cfg: cfg, mux: http.NewServeMux()}
	base := cfg.Prefix + basePath
	h.handle("POST "+base, h.createConversation)
	h.handle("GET "+base+"/{code}", h.getConversation)
	h.handle("POST "+base+"/{code}/Messages", h.createMessage)
	return h, nil
}

// call is one request being served.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	actor parley.Actor
	// token is the session token to send back (empty until known).
	token string
}

// handle registers fn for pattern, behind authentication.
func (h *Handler) handle(pattern string, fn func(c *call) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r}
		a, err := h.cfg.Authenticator.Authenticate(r)
		if err != nil {
			h.fail(c, &dialect.Problem{Status: http.StatusUnauthorized, Message: "Authorization has been denied for this request.", Err: err})
			return
		}
		c.actor = a
		if err := fn(c); err != nil {
			h.fail(c, err)
		}
	})
}

// session checks the request's session token and sets the one to send
// back. A missing token is reported with the request's other field errors
// by the caller; here it is only checked.
func (h *Handler) session(c *call, token string) error {
	c.token = token
	if h.cfg.Session == nil {
		return nil
	}
	t, err := h.cfg.Session(c.r.Context(), c.actor, token)
	if err != nil {
		return &dialect.Problem{Status: http.StatusUnauthorized, Message: "The session token is not valid.", Err: err}
	}
	c.token = t
	return nil
}

// ServeHTTP serves a request. The seed's path is matched without regard
// to case, as ASP.NET routes are. Unknown paths are 404 and known paths
// with another method 405; a panic becomes a logged 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r}
	defer dialect.Recover(h.cfg.Logger, r, func(p *dialect.Problem) { h.fail(c, p) })
	if base := h.cfg.Prefix + basePath; !strings.HasPrefix(r.URL.Path, base) &&
		len(r.URL.Path) >= len(base) && strings.EqualFold(r.URL.Path[:len(base)], base) {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = base+r.URL.Path[len(base):], ""
		r2.URL = &u
		r = r2
		c.r = r
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.noRoute(c)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// noRoute answers a request that no route matches: 405 with an Allow
// header if the path exists with other methods, else 404.
func (h *Handler) noRoute(c *call) {
	if allow := dialect.Allowed(h.mux, c.r); allow != "" {
		c.w.Header().Set("Allow", allow)
		h.fail(c, &dialect.Problem{Status: http.StatusMethodNotAllowed,
			Message: fmt.Sprintf("The requested resource does not support http method '%s'.", dialect.Clip(c.r.Method, 20))})
		return
	}
	h.fail(c, &dialect.Problem{Status: http.StatusNotFound, Message: "No HTTP resource was found that matches the request URI."})
}

// envelope is seed 001's ResponseContainerModel. On failure it carries no
// responses, status "Failure", a message and, for invalid input, the
// wrong fields.
type envelope struct {
	SessionToken      string                    `json:"sessionToken"`
	ResponsesIncluded string                    `json:"responsesIncluded"`
	Responses         []map[string]responseJSON `json:"responses"`
	Status            string                    `json:"status"`
	Message           string                    `json:"message,omitempty"`
	Errors            map[string][]string       `json:"errors,omitempty"`
}

// responseJSON is one response of an envelope.
type responseJSON struct {
	Content   any  `json:"content"`
	Succeeded bool `json:"succeeded"`
}

// succeed answers with one successful response named name.
func (h *Handler) succeed(c *call, name string, content any) {
	dialect.WriteJSON(c.w, http.StatusOK, envelope{
		SessionToken: c.token, ResponsesIncluded: name,
		Responses: []map[string]responseJSON{{name: {Content: content, Succeeded: true}}},
		Status:    "Success",
	})
}

// fieldNames maps the Service's field names to seed 001's.
var fieldNames = map[string]string{
	parley.FieldMessageContent: fMessage,
	parley.FieldDataSource:     fOutletCode,
	parley.FieldItemID:         fOrderCode,
	parley.FieldLanguage:       fLanguageCode,
	parley.FieldConversation:   "code",
	parley.FieldCursor:         qPageToken,
	parley.FieldLimit:          qPageSize,
	parley.FieldIdempotencyKey: "Idempotency-Key",
}

// fail answers a request with the response for err: status "Failure",
// a message, and the wrong fields.
func (h *Handler) fail(c *call, err error) {
	p := dialect.Classify(err)
	body := envelope{SessionToken: c.token, Responses: []map[string]responseJSON{}, Status: "Failure", Message: p.Message}
	if len(p.Fields) > 0 {
		body.Message = "The request is invalid."
		body.Errors = dialect.FieldErrors(err, p.Fields, fieldNames, sentence)
	}
	if p.Status == http.StatusInternalServerError {
		body.Message = "An error has occurred."
	}
	dialect.Log(c.r.Context(), h.cfg.Logger, c.r, p)
	dialect.WriteJSON(c.w, p.Status, body)
}

// sentence words a reason about a field: "The message field is
// required.", "The message field must not be empty." Reasons that are
// already sentences (they start with a capital) are kept.
func sentence(field, reason string) string {
	if reason != "" && reason[0] >= 'A' && reason[0] <= 'Z' {
		return reason
	}
	if reason == "is required" {
		return "The " + field + " field is required."
	}
	return "The " + field + " field " + strings.TrimSuffix(reason, ".") + "."
}

// invalid is the 400 for fields that failed decoding or a check of the
// handler's own.
func invalid(fields map[string][]string) error {
	return &dialect.Problem{Status: http.StatusBadRequest, Message: "The request is invalid.", Fields: fields}
}
