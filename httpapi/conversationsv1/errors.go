package conversationsv1

import (
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// fieldNames maps the Service's field names to seed 000's request fields.
var fieldNames = map[string]string{
	parley.FieldChannel:          qChannel,
	parley.FieldUser:             fUser,
	parley.FieldDataSource:       fDataSource,
	parley.FieldConversationType: fConversationType,
	parley.FieldItemContent:      fItemContent,
	parley.FieldItemID:           fItemID,
	parley.FieldSubject:          fSubject,
	parley.FieldMessageContent:   fMessageContent,
	parley.FieldLanguage:         fLanguage,
	parley.FieldConversation:     fConversation,
	parley.FieldMessage:          fMessage,
	parley.FieldIdempotencyKey:   "Idempotency-Key",
	parley.FieldStaff:            "staff",
	parley.FieldReason:           "reason",
	parley.FieldNote:             "note",
	parley.FieldReport:           "report",
	parley.FieldOutcome:          "outcome",
	parley.FieldState:            "state",
	parley.FieldStatus:           fStatus,
	parley.FieldSender:           fContentType,
	parley.FieldLimit:            qPageSize,
	parley.FieldCursor:           qCursor,
	parley.FieldFilter:           "non_field_errors",
	parley.FieldPosition:         "Last-Event-ID",
	parley.FieldOffset:           qPage,
}

// filterNames names the Service's fields as the listings' query
// parameters do.
var filterNames = map[string]string{
	parley.FieldUser:             "user_id",
	parley.FieldDataSource:       "data_source_id",
	parley.FieldConversationType: "conversation_type",
	parley.FieldItemContent:      "item_type",
	parley.FieldItemID:           "non_field_errors",
	parley.FieldStatus:           "status",
}

// The bodies of seed 000 and Django REST framework.
var (
	bodyPermission  = detail("You do not have permission to perform this action.")
	bodyNotFound    = detail("Not found.")
	bodyServerError = "A server error occurred."
)

func detail(text string) map[string]string { return map[string]string{"detail": text} }

func nonField(text string) map[string][]string {
	return map[string][]string{"non_field_errors": {text}}
}

// render writes a Problem in Django REST framework's shapes:
//
//	400 {"field": ["sentence", ...]}, {"detail": ...} or {"non_field_errors": [...]}
//	400 ["Conversation already exists"]
//	4xx, 5xx {"detail": "..."}; a 500 also carries the request id
//
// Seed 000 answers the Service's conflicts (an existing conversation, a
// reply to a review, a seller's start of a question, a closed
// conversation) with 400.
func render(c *httpapi.Call, p *httpapi.Problem) {
	status := p.Status
	var body any = detail(p.Message)
	switch p.Code {
	case httpapi.CodeInvalid:
		body = fieldBody(p.Fields)
	case httpapi.CodeInvalidCursor:
		body = map[string][]string{qCursor: {"Invalid cursor."}}
	case httpapi.CodeConversationExists:
		status, body = http.StatusBadRequest, []string{"Conversation already exists"}
	case httpapi.CodeReviewReply:
		status, body = http.StatusBadRequest, nonField("DataSource can't reply to a review.")
	case httpapi.CodeSellerStart, httpapi.CodeConversationClosed:
		status, body = http.StatusBadRequest, nonField(p.Message)
	case httpapi.CodePermission:
		body = bodyPermission
	case httpapi.CodeNotFound:
		body = bodyNotFound
	case httpapi.CodeMethodNotAllowed:
		body = detail(fmt.Sprintf("Method %q not allowed.", wire.Clip(c.R.Method, 20)))
	case httpapi.CodeUnsupportedMedia:
		body = detail(fmt.Sprintf("Unsupported media type %q in request.", wire.Clip(c.R.Header.Get("Content-Type"), 100)))
	case httpapi.CodeUnauthenticated:
		c.W.Header().Set("WWW-Authenticate", `Token realm="api"`)
	case httpapi.CodeServerError:
		body = map[string]string{"detail": bodyServerError, "request_id": c.ID}
	}
	c.JSON(status, body)
}

// fieldBody renders field reasons with the field names as keys and lists
// of sentences as values.
func fieldBody(fields map[string][]string) map[string][]string {
	body := make(map[string][]string, len(fields))
	for field, reasons := range fields {
		if field == "" {
			field = "non_field_errors"
		}
		for _, r := range reasons {
			body[field] = append(body[field], sentence(r))
		}
	}
	return body
}

// sentence turns the Service's reasons ("is required", "must not be
// empty", `"x" is not a valid choice`) into sentences about "this field".
// Reasons that are already sentences are kept.
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
