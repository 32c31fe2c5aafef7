package conversationsv1

import (
	"fmt"
	"unicode/utf8"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/message"
)

// writeRequest is the body of seed 000's conversation and message POSTs
// and of the read and status endpoints. Absent and null fields are zero.
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
	Status           conversation.Status

	obj *httpapi.Object
}

// has reports whether a field was given a non-null value.
func (r writeRequest) has(name string) bool { return r.obj != nil && r.obj.Has(name) }

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
	fStatus           = "status"
)

// Messages of field errors, in Django REST framework's words.
const (
	msgRequired   = "This field is required."
	msgNotString  = "Not a valid string."
	msgNotID      = "Incorrect type. Expected a string or an integer id."
	msgNotInteger = "A valid integer is required."
)

// decode reads and decodes a write request body. Every field of the wrong
// type or with an unknown choice is reported, keyed by its name; unknown
// fields are ignored, as Django REST framework does.
func decode(c *httpapi.Call) (writeRequest, error) {
	o, err := c.Object(false)
	if err != nil {
		return writeRequest{}, err
	}
	return decodeObject(o)
}

func decodeObject(o *httpapi.Object) (writeRequest, error) {
	errs := httpapi.Fields{}
	choice := func(name string, choices ...string) string {
		if !o.Has(name) {
			return ""
		}
		n := len(o.TypeErrors)
		s := o.String(name)
		if len(o.TypeErrors) > n {
			return ""
		}
		for _, c := range choices {
			if s == c {
				return s
			}
		}
		errs.Add(name, notAChoice(s))
		return ""
	}
	req := writeRequest{
		ConversationType: conversation.Type(choice(fConversationType, "message", "question", "review")),
		UserType:         message.UserType(choice(fUserType, "registered", "guest")),
		MessageContent:   o.String(fMessageContent),
		DataSource:       o.ID(fDataSource),
		ContentType:      message.SenderKind(choice(fContentType, "user", "datasource")),
		ContentID:        o.ID(fContentID),
		User:             o.ID(fUser),
		ItemID:           o.ID(fItemID),
		ItemContent:      conversation.ItemKind(choice(fItemContent, "product", "orderitem")),
		Subject:          o.String(fSubject),
		Language:         o.String(fLanguage),
		Conversation:     o.Int(fConversation),
		Message:          o.Int(fMessage),
		Status:           conversation.Status(choice(fStatus, "open", "closed")),
		obj:              o,
	}
	for _, e := range o.TypeErrors {
		switch e.Want {
		case httpapi.WantString:
			errs.Add(e.Field, msgNotString)
		case httpapi.WantID:
			errs.Add(e.Field, msgNotID)
		default:
			errs.Add(e.Field, msgNotInteger)
		}
	}
	if err := errs.Err(); err != nil {
		return writeRequest{}, err
	}
	return req, nil
}

// notAChoice is Django REST framework's message for an unknown choice. Long
// values are not echoed.
func notAChoice(s string) string {
	if utf8.RuneCountInString(s) > 50 {
		return "Not a valid choice."
	}
	return fmt.Sprintf("%q is not a valid choice.", s)
}
