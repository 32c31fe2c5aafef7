package chatv2

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi/internal/dialect"
)

// Handler serves seed 002's chat API over a parley.Service. Create it with
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
		return nil, errors.New("chatv2: Service is nil")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	h := &Handler{svc: svc, cfg: cfg, mux: http.NewServeMux()}
	base := cfg.Prefix + "/api/v2/chat"
	h.handle("GET "+base+"/conversations", h.conversations)
	h.handle("GET "+base+"/messages/{conversation_id}", h.messages)
	h.handle("POST "+base+"/create-conversation", h.createConversation)
	h.handle("POST "+base+"/insert-message", h.insertMessage)
	h.handle("GET "+base+"/get-new-messages/{conversation_id}/{last_message_id}", h.newMessages)
	return h, nil
}

// call is one request being served.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	actor parley.Actor
}

// side is the caller's side of its conversations.
func (c *call) side() conversation.Side {
	if c.actor.Kind() == parley.ActorSeller {
		return conversation.SideSeller
	}
	return conversation.SideUser
}

// handle registers fn for pattern, behind authentication: users and
// sellers may call.
func (h *Handler) handle(pattern string, fn func(c *call) error) {
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r}
		a, err := h.cfg.Authenticator.Authenticate(r)
		if err != nil {
			h.fail(c, &dialect.Problem{Status: http.StatusUnauthorized, Message: "Unauthenticated.", Err: err})
			return
		}
		if a.Kind() != parley.ActorUser && a.Kind() != parley.ActorSeller {
			h.fail(c, &dialect.Problem{Status: http.StatusForbidden, Message: "This action is unauthorized.",
				Err: fmt.Errorf("%s may not use the chat API", a)})
			return
		}
		c.actor = a
		if err := fn(c); err != nil {
			h.fail(c, err)
		}
	})
}

// ServeHTTP serves a request. Unknown paths are 404 and known paths with
// another method 405, in JSON; a panic becomes a logged 500.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r}
	defer dialect.Recover(h.cfg.Logger, r, func(p *dialect.Problem) { h.fail(c, p) })
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
			Message: fmt.Sprintf("The %s method is not supported for this route.", dialect.Clip(c.r.Method, 20))})
		return
	}
	h.fail(c, &dialect.Problem{Status: http.StatusNotFound, Message: "Not found."})
}

// errorJSON is the body of every error: Laravel's {message, errors} with
// seed 002's result flag. Errors names each wrong field (422).
type errorJSON struct {
	Result  bool                `json:"result"`
	Message string              `json:"message"`
	Errors  map[string][]string `json:"errors,omitempty"`
}

// fieldNames maps the Service's field names to seed 002's.
var fieldNames = map[string]string{
	parley.FieldMessageContent: fMessage,
	parley.FieldSubject:        fTitle,
	parley.FieldItemID:         fProductID,
	parley.FieldDataSource:     fProductID,
	parley.FieldConversation:   fConversationID,
	parley.FieldMessage:        fLastMessageID,
	parley.FieldLimit:          qPerPage,
	parley.FieldCursor:         qCursor,
	parley.FieldIdempotencyKey: "Idempotency-Key",
}

// fail answers a request with the response for err. Validation errors are
// 422 with one sentence per field, as Laravel words them; server errors
// are logged and answered without detail.
func (h *Handler) fail(c *call, err error) {
	p := dialect.Classify(err)
	body := errorJSON{Message: p.Message}
	if p.Status == http.StatusBadRequest && len(p.Fields) > 0 {
		p.Status = http.StatusUnprocessableEntity // Laravel's validation status
	}
	if len(p.Fields) > 0 {
		body.Message = "The given data was invalid."
		body.Errors = dialect.FieldErrors(err, p.Fields, fieldNames, sentence)
	}
	if p.Status == http.StatusInternalServerError {
		body.Message = "Server Error"
	}
	dialect.Log(c.r.Context(), h.cfg.Logger, c.r, p)
	dialect.WriteJSON(c.w, p.Status, body)
}

// sentence words a reason about a field as Laravel does: "The message
// field is required.", "The title must be at most 255 characters."
// Reasons that are already sentences (they start with a capital) are kept.
func sentence(field, reason string) string {
	if reason != "" && reason[0] >= 'A' && reason[0] <= 'Z' {
		return reason
	}
	name := strings.ReplaceAll(field, "_", " ")
	if reason == "is required" {
		return "The " + name + " field is required."
	}
	return "The " + name + " " + strings.TrimSuffix(reason, ".") + "."
}

// invalid returns the 422 for fields that failed decoding or a check of
// the handler's own; reasons are worded by sentence.
func invalid(fields map[string][]string) error {
	return &dialect.Problem{Status: http.StatusUnprocessableEntity, Message: "The given data was invalid.", Fields: fields}
}

// typeErrors turns an Object's type errors into field reasons.
func typeErrors(errs []dialect.TypeError) map[string][]string {
	if len(errs) == 0 {
		return nil
	}
	out := map[string][]string{}
	for _, e := range errs {
		reason := "must be a string"
		switch e.Want {
		case dialect.WantInteger:
			reason = "must be an integer"
		case dialect.WantID:
			reason = "must be a string or an integer"
		}
		out[e.Field] = append(out[e.Field], reason)
	}
	return out
}
