package guestv40

import (
	_ "embed"
	"fmt"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// basePath is seed 001's path of conversations.
const basePath = "/API/V40/Interactive/Messages/Conversations"

// OpenAPIPath is where the dialect's OpenAPI 3.1 description is served,
// below the kit's Prefix, without authentication.
const OpenAPIPath = "/API/V40/Interactive/Messages/openapi.json"

//go:embed openapi.json
var openAPI []byte

// The names of the responses in an envelope.
const (
	respCreateConversation = "createConversationResponse"
	respGetConversation    = "getConversationResponse"
	respCreateMessage      = "createMessageResponse"
	respSetStatus          = "setConversationStatusResponse"
)

// dialect is seed 001's dialect over a Service.
type dialect struct {
	svc  *parley.Service
	opts Options
}

// Dialect returns seed 001's dialect over svc, to serve with httpapi.New
// alone or beside others. Its paths match without regard to case, as ASP.NET
// matches them.
func Dialect(svc *parley.Service, opts Options) (*httpapi.Dialect, error) {
	opts, err := opts.withDefaults(svc)
	if err != nil {
		return nil, err
	}
	d := &dialect{svc: svc, opts: opts}
	return &httpapi.Dialect{
		Name: "guestv40",
		Routes: []httpapi.Route{
			{Method: http.MethodPost, Path: basePath, Serve: d.createConversation},
			{Method: http.MethodGet, Path: basePath + "/{code}", Serve: d.getConversation},
			{Method: http.MethodPost, Path: basePath + "/{code}/Messages", Serve: d.createMessage},
			{Method: http.MethodPut, Path: basePath + "/{code}/Status", Serve: d.setStatus},
		},
		Render:      render,
		Fields:      fieldNames,
		FoldCase:    true,
		Forms:       true,
		ContentType: "application/json; charset=utf-8",
		OpenAPI:     openAPI,
		OpenAPIPath: OpenAPIPath,
	}, nil
}

// session checks the request's session token and returns the one to
// send back. A missing token is reported with the request's other field
// errors by the caller; here it is only checked.
func (d *dialect) session(c *httpapi.Call, token string) (string, error) {
	setToken(c, token)
	if d.opts.Session == nil {
		return token, nil
	}
	t, err := d.opts.Session(c.R.Context(), c.Actor, token)
	if err != nil {
		p := httpapi.NewProblem(httpapi.CodeUnauthenticated)
		p.Message, p.Err = "The session token is not valid.", err
		return "", p
	}
	setToken(c, t)
	return t, nil
}

// setToken records the session token that a response of the request,
// failed or not, sends back.
func setToken(c *httpapi.Call, token string) { c.State = token }

// token is the session token to send back ("" until known).
func token(c *httpapi.Call) string {
	t, _ := c.State.(string)
	return t
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
func succeed(c *httpapi.Call, name string, content any) {
	c.JSON(http.StatusOK, envelope{
		SessionToken: token(c), ResponsesIncluded: name,
		Responses: []map[string]responseJSON{{name: {Content: content, Succeeded: true}}},
		Status:    "Success",
	})
}

// fieldNames maps the Service's field names to seed 001's.
var fieldNames = map[string]string{
	parley.FieldChannel:          "channel",
	parley.FieldUser:             "guest",
	parley.FieldDataSource:       fOutletCode,
	parley.FieldConversationType: fConversationType,
	parley.FieldItemContent:      fOrderCode,
	parley.FieldItemID:           fOrderCode,
	parley.FieldSubject:          "subject",
	parley.FieldMessageContent:   fMessage,
	parley.FieldLanguage:         fLanguageCode,
	parley.FieldConversation:     "code",
	parley.FieldMessage:          "message",
	parley.FieldIdempotencyKey:   "Idempotency-Key",
	parley.FieldStaff:            "staff",
	parley.FieldReason:           "reason",
	parley.FieldNote:             "note",
	parley.FieldReport:           "report",
	parley.FieldOutcome:          "outcome",
	parley.FieldState:            "state",
	parley.FieldStatus:           fConversationStatus,
	parley.FieldSender:           fConversationType,
	parley.FieldLimit:            qPageSize,
	parley.FieldCursor:           qPageToken,
	parley.FieldFilter:           "filter",
	parley.FieldPosition:         "Last-Event-ID",
	parley.FieldOffset:           "page",
}

// render writes a Problem as seed 001's envelope: status "Failure", a
// message, and the wrong fields. Invalid input is 400.
func render(c *httpapi.Call, p *httpapi.Problem) {
	body := envelope{SessionToken: token(c), Responses: []map[string]responseJSON{}, Status: "Failure", Message: p.Message}
	switch p.Code {
	case httpapi.CodeInvalid:
		body.Message = "The request is invalid."
		body.Errors = map[string][]string{}
		for field, reasons := range p.Fields {
			for _, r := range reasons {
				body.Errors[field] = append(body.Errors[field], sentence(field, r))
			}
		}
	case httpapi.CodeUnauthenticated:
		if !p.OwnMessage() {
			body.Message = "Authorization has been denied for this request."
		}
	case httpapi.CodeNotFound:
		if !p.OwnMessage() {
			body.Message = "No HTTP resource was found that matches the request URI."
		}
	case httpapi.CodeMethodNotAllowed:
		body.Message = fmt.Sprintf("The requested resource does not support http method '%s'.", wire.Clip(c.R.Method, 20))
	case httpapi.CodeServerError:
		body.Message = "An error has occurred."
	}
	c.JSON(p.Status, body)
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
