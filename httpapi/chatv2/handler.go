package chatv2

import (
	_ "embed"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// basePath is seed 002's path of the chat API.
const basePath = "/api/v2/chat"

// OpenAPIPath is where the dialect's OpenAPI 3.1 description is served,
// below the kit's Prefix, without authentication.
const OpenAPIPath = basePath + "/openapi.json"

//go:embed openapi.json
var openAPI []byte

// dialect is seed 002's dialect over a Service.
type dialect struct {
	svc  *parley.Service
	opts Options
}

// Dialect returns seed 002's dialect over svc, to serve with httpapi.New
// alone or beside others.
func Dialect(svc *parley.Service, opts Options) (*httpapi.Dialect, error) {
	opts, err := opts.withDefaults(svc)
	if err != nil {
		return nil, err
	}
	d := &dialect{svc: svc, opts: opts}
	route := func(method, path string, serve func(c *httpapi.Call) error) httpapi.Route {
		return httpapi.Route{Method: method, Path: basePath + path, Admit: admit, Serve: serve}
	}
	return &httpapi.Dialect{
		Name: "chatv2",
		Routes: []httpapi.Route{
			route(http.MethodGet, "/conversations", d.conversations),
			route(http.MethodGet, "/messages/{conversation_id}", d.messages),
			route(http.MethodPost, "/create-conversation", d.createConversation),
			route(http.MethodPost, "/insert-message", d.insertMessage),
			route(http.MethodGet, "/get-new-messages/{conversation_id}/{last_message_id}", d.newMessages),
		},
		Render:      render,
		Fields:      fieldNames,
		ContentType: "application/json; charset=utf-8",
		OpenAPI:     openAPI,
		OpenAPIPath: OpenAPIPath,
	}, nil
}

// admit lets users (customers) and sellers call; an integration has no
// field to name the party it would act for.
func admit(c *httpapi.Call) error {
	if k := c.Actor.Kind(); k != parley.ActorUser && k != parley.ActorSeller {
		p := httpapi.NewProblem(httpapi.CodePermission)
		p.Err = &parley.PermissionError{Reason: k.String() + " cannot use the chat API"}
		return p
	}
	return nil
}

// side is the caller's side of its conversations.
func side(c *httpapi.Call) conversation.Side {
	if c.Actor.Kind() == parley.ActorSeller {
		return conversation.SideSeller
	}
	return conversation.SideUser
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
	parley.FieldChannel:          "channel",
	parley.FieldUser:             "user_id",
	parley.FieldDataSource:       fProductID,
	parley.FieldConversationType: "type",
	parley.FieldItemContent:      fProductID,
	parley.FieldItemID:           fProductID,
	parley.FieldSubject:          fTitle,
	parley.FieldMessageContent:   fMessage,
	parley.FieldLanguage:         "language",
	parley.FieldConversation:     fConversationID,
	parley.FieldMessage:          fLastMessageID,
	parley.FieldIdempotencyKey:   "Idempotency-Key",
	parley.FieldStaff:            "staff",
	parley.FieldReason:           "reason",
	parley.FieldNote:             "note",
	parley.FieldReport:           "report",
	parley.FieldOutcome:          "outcome",
	parley.FieldState:            "state",
	parley.FieldStatus:           "status",
	parley.FieldSender:           "user_id",
	parley.FieldLimit:            qPerPage,
	parley.FieldCursor:           qCursor,
	parley.FieldFilter:           "filter",
	parley.FieldPosition:         "Last-Event-ID",
	parley.FieldOffset:           qPage,
}

// render writes a Problem as Laravel does, with seed 002's result flag:
// invalid input is 422 with one sentence per field, an unauthenticated
// request 401 "Unauthenticated.", a server error "Server Error".
func render(c *httpapi.Call, p *httpapi.Problem) {
	status, body := p.Status, errorJSON{Message: p.Message}
	switch p.Code {
	case httpapi.CodeInvalid:
		status = http.StatusUnprocessableEntity // Laravel's validation status
		body.Message = "The given data was invalid."
		body.Errors = map[string][]string{}
		for field, reasons := range p.Fields {
			for _, r := range reasons {
				body.Errors[field] = append(body.Errors[field], sentence(field, r))
			}
		}
	case httpapi.CodeUnauthenticated:
		body.Message = "Unauthenticated."
	case httpapi.CodePermission:
		body.Message = "This action is unauthorized."
	case httpapi.CodeMethodNotAllowed:
		body.Message = fmt.Sprintf("The %s method is not supported for this route.", wire.Clip(c.R.Method, 20))
	case httpapi.CodeServerError:
		body.Message = "Server Error"
	}
	c.JSON(status, body)
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

// typeErrors adds an Object's type errors to fields.
func typeErrors(fields httpapi.Fields, errs []httpapi.TypeError) {
	for _, e := range errs {
		reason := "must be a string"
		switch e.Want {
		case httpapi.WantInteger:
			reason = "must be an integer"
		case httpapi.WantID:
			reason = "must be a string or an integer"
		}
		fields.Add(e.Field, reason)
	}
}
