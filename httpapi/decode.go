package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// writeRequest is the body of seed 000's conversation and message POSTs
// and of the read endpoint. Absent and null fields are zero.
type writeRequest struct {
	ConversationType conversation.Type
	UserType         message.UserType
	MessageContent   string
	DataSource       string
	ContentType      message.SenderKind
	ContentID        string
	User             string
	ItemID           string
	ItemContent      conversation.ItemKind
	Subject          string
	Language         string
	Conversation     int64
	Message          int64

	// present names the fields that were given a non-null value.
	present map[string]bool
}

// The request fields.
const (
	fConversationType = "conversation_type"
	fUserType         = "user_type"
	fMessageContent   = "message_content"
	fDataSource       = "datasource"
	fContentType      = "content_type"
	fContentID        = "content_id"
	fUser             = "user"
	fItemID           = "item_id"
	fItemContent      = "item_content"
	fSubject          = "subject"
	fLanguage         = "language_code"
	fConversation     = "conversation"
	fMessage          = "message"
)

// Messages of field errors, in Django REST framework's words.
const (
	msgRequired   = "This field is required."
	msgNotString  = "Not a valid string."
	msgNotID      = "Incorrect type. Expected a string or an integer id."
	msgNotInteger = "A valid integer is required."
)

// readBody reads a JSON request body of at most limit bytes.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !(len(mt) > 5 && mt[len(mt)-5:] == "+json")) {
			return nil, &Error{Status: http.StatusUnsupportedMediaType,
				Body: detail(fmt.Sprintf("Unsupported media type %q in request.", clip(ct, 100)))}
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge,
				Body: detail(fmt.Sprintf("Request body is larger than %d bytes.", limit))}
		}
		return nil, fmt.Errorf("httpapi: read body: %w", err)
	}
	return b, nil
}

// decodeWrite decodes a write request body. Every field of the wrong type
// or with an unknown choice is reported, keyed by its name; unknown fields
// are ignored, as Django REST framework does.
func decodeWrite(body []byte) (writeRequest, error) {
	raw, err := decodeObject(body)
	if err != nil {
		return writeRequest{}, err
	}
	d := fieldDecoder{raw: raw, errs: fieldErrs{}}
	req := writeRequest{
		ConversationType: conversation.Type(d.choice(fConversationType, "message", "question", "review")),
		UserType:         message.UserType(d.choice(fUserType, "registered", "guest")),
		MessageContent:   d.text(fMessageContent),
		DataSource:       d.id(fDataSource),
		ContentType:      message.SenderKind(d.choice(fContentType, "user", "datasource")),
		ContentID:        d.id(fContentID),
		User:             d.id(fUser),
		ItemID:           d.id(fItemID),
		ItemContent:      conversation.ItemKind(d.choice(fItemContent, "product", "orderitem")),
		Subject:          d.text(fSubject),
		Language:         d.text(fLanguage),
		Conversation:     d.positive(fConversation),
		Message:          d.positive(fMessage),
		present:          d.present,
	}
	if len(d.errs) > 0 {
		return writeRequest{}, d.errs.err()
	}
	return req, nil
}

// decodeObject parses body as one JSON object into its raw fields.
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, &Error{Status: http.StatusBadRequest, Body: detail("JSON parse error - the request body is empty.")}
	}
	if !json.Valid(trimmed) {
		var syn *json.SyntaxError
		var v any
		if err := json.Unmarshal(body, &v); errors.As(err, &syn) {
			return nil, &Error{Status: http.StatusBadRequest, Body: detail(fmt.Sprintf("JSON parse error at byte %d.", syn.Offset))}
		}
		return nil, &Error{Status: http.StatusBadRequest, Body: detail("JSON parse error.")}
	}
	if trimmed[0] != '{' {
		return nil, &Error{Status: http.StatusBadRequest, Body: map[string][]string{
			"non_field_errors": {fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", jsonKind(trimmed[0]))},
		}}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &raw); err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Body: detail("JSON parse error.")}
	}
	return raw, nil
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "list"
	case '"':
		return "str"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// fieldErrs are errors keyed by field name, each a list of sentences: the
// body of a 400 in Django REST framework's shape.
type fieldErrs map[string][]string

func (f fieldErrs) add(field, msg string) { f[field] = append(f[field], msg) }

func (f fieldErrs) err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Body: map[string][]string(f)}
}

// fieldDecoder decodes the fields of one JSON object, collecting errors.
type fieldDecoder struct {
	raw     map[string]json.RawMessage
	errs    fieldErrs
	present map[string]bool
}

// get returns a field's raw value, or nil if it is absent or null.
func (d *fieldDecoder) get(name string) json.RawMessage {
	v, ok := d.raw[name]
	if !ok || string(v) == "null" {
		return nil
	}
	if d.present == nil {
		d.present = make(map[string]bool)
	}
	d.present[name] = true
	return v
}

// text decodes a string field.
func (d *fieldDecoder) text(name string) string {
	v := d.get(name)
	if v == nil {
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		d.errs.add(name, msgNotString)
		return ""
	}
	return s
}

// id decodes an id given as a string or an integer.
func (d *fieldDecoder) id(name string) string {
	v := d.get(name)
	if v == nil {
		return ""
	}
	var id FlexID
	if err := id.UnmarshalJSON(v); err != nil {
		d.errs.add(name, msgNotID)
		return ""
	}
	return string(id)
}

// positive decodes a conversation or message id: a positive integer, given
// as a JSON integer or a string of digits.
func (d *fieldDecoder) positive(name string) int64 {
	v := d.get(name)
	if v == nil {
		return 0
	}
	var id FlexID
	if err := id.UnmarshalJSON(v); err != nil {
		d.errs.add(name, msgNotInteger)
		return 0
	}
	n, ok := flexInt64(id)
	if !ok {
		d.errs.add(name, msgNotInteger)
		return 0
	}
	return n
}

// choice decodes a string field that must be one of choices.
func (d *fieldDecoder) choice(name string, choices ...string) string {
	if d.get(name) == nil {
		return ""
	}
	s := d.text(name)
	if _, bad := d.errs[name]; bad {
		return ""
	}
	for _, c := range choices {
		if s == c {
			return s
		}
	}
	d.errs.add(name, notAChoice(s))
	return ""
}

// notAChoice is Django REST framework's message for an unknown choice. Long
// values are not echoed.
func notAChoice(s string) string {
	if utf8.RuneCountInString(s) > 50 {
		return "Not a valid choice."
	}
	return fmt.Sprintf("%q is not a valid choice.", s)
}

// clip shortens s to at most n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
