package parley

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/store"
)

// Errors returned by the Service. Check them with errors.Is; the typed
// errors below unwrap to them.
var (
	// ErrInvalid: an argument failed validation. The error is (or joins)
	// one *ValidationError per bad field. Nothing was written.
	ErrInvalid = errors.New("parley: invalid input")
	// ErrPermission: the acting party may not do this (seed 000 answers
	// 403 "You do not have permission to perform this action.").
	ErrPermission = errors.New("parley: you do not have permission to perform this action")
	// ErrNotFound: no such conversation or message in the actor's channel.
	ErrNotFound = store.ErrNotFound
	// ErrConversationExists: a conversation with the same user, data
	// source, type and item exists. The error is a
	// *ConversationExistsError carrying its id.
	ErrConversationExists = store.ErrConversationExists
	// ErrReviewReply: a data source tried to write into a review (seed
	// 000 answers "DataSource can't reply to a review.").
	ErrReviewReply = errors.New("parley: a data source can't reply to a review")
	// ErrSellerStart: a data source tried to start a question or a review;
	// sellers start only message conversations.
	ErrSellerStart = errors.New("parley: a data source can only start message conversations")
	// ErrConversationClosed: the conversation is closed and takes no new
	// messages until it is reopened.
	ErrConversationClosed = errors.New("parley: conversation is closed")
	// ErrReviewStatus: a data source tried to close or reopen a review.
	// Only the reviewer or an operator may: a seller cannot reply to a review, and
	// closing it would silence the reviewer. It is a *PermissionError, so
	// errors.Is(err, ErrPermission) holds too.
	ErrReviewStatus error = &PermissionError{Reason: "a data source cannot close or reopen a review"}
	// ErrIdempotencyMismatch: an idempotency key was reused by the same
	// party for a different request.
	ErrIdempotencyMismatch = store.ErrIdempotencyMismatch
	// ErrInvalidCursor: a page cursor was not produced by this Service or
	// was altered.
	ErrInvalidCursor = errors.New("parley: invalid cursor")
	// ErrReportResolved: the report was resolved already; a report is
	// resolved once.
	ErrReportResolved = store.ErrReportResolved
	// ErrUnsupported: the store does not implement what the method needs
	// (store.Moderation for reports, hiding, the audit trail and personal
	// data). store/memory, store/sqlite and store/postgres implement it.
	ErrUnsupported = errors.New("parley: the store does not support this")
)

// ConversationExistsError is returned by Start when the conversation's
// key (channel, user, data source, type and item) is taken. It unwraps to
// ErrConversationExists.
type ConversationExistsError struct {
	ID int64 // the existing conversation
}

func (e *ConversationExistsError) Error() string {
	return fmt.Sprintf("parley: conversation already exists (id %d)", e.ID)
}

// Unwrap returns ErrConversationExists.
func (e *ConversationExistsError) Unwrap() error { return ErrConversationExists }

// The field names that validation errors use. They name the Go field or
// argument that was wrong, as it is spelt in this package: the field of
// StartRequest, PostRequest or PageRequest ("Content", "DataSourceID"),
// the part of a conversation.Item with a dot ("Item.Kind", "Item.ID"), or
// the value a method takes ("MessageID" for MarkRead's message, "Status"
// for SetStatus, "Channel", "Sender" and "Staff" for the Actor). A list filter's
// fields are reported under the name of the request field they match
// (Filter.UserID as FieldUser, Filter.ProductID as FieldItemID), and its
// free-text fields as FieldFilter. HTTP handlers map these names to their
// own wire names.
const (
	FieldChannel          = "Channel"
	FieldUser             = "UserID"
	FieldDataSource       = "DataSourceID"
	FieldConversationType = "Type"
	FieldItemContent      = "Item.Kind"
	FieldItemID           = "Item.ID"
	FieldSubject          = "Subject"
	FieldMessageContent   = "Content"
	FieldLanguage         = "Language"
	FieldConversation     = "ConversationID"
	FieldMessage          = "MessageID"
	FieldIdempotencyKey   = "IdempotencyKey"
	FieldStatus           = "Status"
	FieldSender           = "Sender"
	FieldLimit            = "Limit"
	FieldCursor           = "Cursor"
	FieldOffset           = "Offset"
	FieldFilter           = "Filter"
	FieldPosition         = "Position"
	FieldStaff            = "Staff"
	FieldReason           = "Reason"
	FieldNote             = "Note"
	FieldReport           = "ReportID"
	FieldOutcome          = "Outcome"
	FieldState            = "State"
)

// ValidationError reports one field that failed validation. It unwraps to
// ErrInvalid, and to Err if set. When several fields fail, the Service
// returns them joined with errors.Join: errors.As finds the first, and
// ValidationErrors lists them all.
type ValidationError struct {
	Field  string // one of the Field constants: a Go name, never a wire name
	Reason string // a sentence for people
	// Err, if set, is the cause: an *UnknownError for a party or item
	// the World does not know.
	Err error
}

func (e *ValidationError) Error() string { return "parley: " + e.Field + ": " + e.Reason }

// Unwrap returns ErrInvalid and Err, if set.
func (e *ValidationError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}
	return []error{ErrInvalid}
}

// ValidationErrors returns every *ValidationError in err's tree, in order.
func ValidationErrors(err error) []*ValidationError {
	var out []*ValidationError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *ValidationError:
			out = append(out, e)
			return
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// fieldErrors collects validation errors.
type fieldErrors []error

func (f *fieldErrors) add(field, reason string) {
	*f = append(*f, &ValidationError{Field: field, Reason: reason})
}

func (f fieldErrors) err() error { return errors.Join(f...) }

// PermissionError says why the acting party may not act. It unwraps to
// ErrPermission; its Error text is for logs, not for the party.
type PermissionError struct {
	Reason string
}

func (e *PermissionError) Error() string {
	return ErrPermission.Error() + ": " + e.Reason
}

// Unwrap returns ErrPermission.
func (e *PermissionError) Unwrap() error { return ErrPermission }

// denied returns a *PermissionError whose reason is the words joined.
func denied(words ...string) error { return &PermissionError{Reason: strings.Join(words, " ")} }
