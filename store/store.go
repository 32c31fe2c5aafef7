// Package store defines the contract between the parley Service and the
// databases it runs on. It is written for the implementers of backends
// (store/memory, store/sqlite, store/postgres); application code should use
// package parley, which enforces every rule and calls a Store.
//
// A Store keeps values; it does not decide who may do what. It does own the
// rules that must hold under concurrency, and it must make them atomic:
//
//   - one conversation per key (channel, user, data source, type, item):
//     CreateConversation returns a *ConversationExistsError for a taken key,
//     however many callers race for it;
//   - one conversation per code: a taken Code is ErrDuplicateCode, and
//     GetConversationByCode finds a conversation by its code with one
//     indexed read;
//   - message order: AppendMessage assigns each message the next Seq of its
//     conversation, and its ID, inside the write, so that within a
//     conversation ids grow with Seq and reading the messages after a given
//     position never misses a concurrent write;
//   - check-then-write: the Check callbacks run on the locked, current
//     conversation, and nothing is written when they fail;
//   - idempotency: a write that carries an Idempotency key already used by
//     the same scope returns the first result, or ErrIdempotencyMismatch;
//   - the outbox: the Events given to a write are stored in the same
//     transaction as the write (see notify.Outbox).
//
// The package store/storetest is the definition of a Store: every backend
// runs the whole suite with one line, storetest.Run(t, newStore).
//
// # Times
//
// Stores keep times in UTC at microsecond precision (TimePrecision); the
// Service truncates every time it hands to a store, so what is read back
// equals what was written.
//
// # Errors
//
// Methods return ErrNotFound (wrapped) for an unknown id, and the errors
// named in their comments. Context errors are returned so that
// errors.Is(err, context.Canceled) holds. Driver errors are translated by
// code at the backend's boundary, never by their text.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// TimePrecision is the precision at which every store keeps times.
const TimePrecision = time.Microsecond

// Errors returned by stores. Check them with errors.Is.
var (
	// ErrNotFound: no conversation, message or event with that id.
	ErrNotFound = errors.New("not found")
	// ErrConversationExists: the conversation key is taken. The error is a
	// *ConversationExistsError carrying the existing conversation's id.
	ErrConversationExists = errors.New("conversation already exists")
	// ErrDuplicateCode: another conversation has the same Code. Codes
	// are random UUIDv7s: this means the program's code source repeats
	// itself.
	ErrDuplicateCode = errors.New("conversation code already used")
	// ErrIdempotencyMismatch: an idempotency key was reused by the same
	// scope for a different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
)

// ConversationExistsError is returned when a conversation with the same key
// already exists. It unwraps to ErrConversationExists.
type ConversationExistsError struct {
	ID int64 // the existing conversation's id
}

func (e *ConversationExistsError) Error() string {
	return fmt.Sprintf("conversation already exists (id %d)", e.ID)
}

// Unwrap returns ErrConversationExists.
func (e *ConversationExistsError) Unwrap() error { return ErrConversationExists }

// Store is the storage contract of the parley Service. Implementations must
// be safe for concurrent use.
type Store interface {
	// CreateConversation stores a new conversation and its first message,
	// atomically, with the given events. It assigns c.ID, m.ID,
	// m.ConversationID (= c.ID), m.Seq (= 1), c.LastMessageID (= m.ID),
	// and sets each event's ConversationID and MessageID; every other field
	// is stored as given. It returns a *ConversationExistsError if a
	// conversation with the same key exists, else ErrDuplicateCode if one
	// with the same Code exists, and, when p.Idempotency was used before by
	// the same scope, the first result with Replayed set (or
	// ErrIdempotencyMismatch if the fingerprint differs).
	CreateConversation(ctx context.Context, p CreateParams) (CreateResult, error)

	// AppendMessage adds a message to an existing conversation. Within one
	// transaction it locks the conversation, runs p.Check on it (returning
	// Check's error unchanged, having written nothing), assigns the message
	// its ID and the next Seq, applies it to the conversation with
	// conversation.Conversation.Apply, and stores the events. Idempotency
	// is checked before Check, as for CreateConversation.
	AppendMessage(ctx context.Context, p AppendParams) (AppendResult, error)

	// SetStatus changes a conversation's status and ModifiedAt, after
	// p.Check passes on the locked conversation.
	SetStatus(ctx context.Context, p StatusParams) (conversation.Conversation, error)

	// MarkRead moves one side's read position forward to the message
	// p.UpToMessageID (a position behind the current one is kept as it is)
	// and recomputes that side's unread count, after p.Check passes on the
	// locked conversation. It returns ErrNotFound if the message is not in
	// the conversation.
	MarkRead(ctx context.Context, p ReadParams) (conversation.Conversation, error)

	// GetConversation returns the conversation with the given id.
	GetConversation(ctx context.Context, id int64) (conversation.Conversation, error)

	// GetConversationByCode returns the conversation whose Code is code,
	// in one indexed read (codes are unique), or ErrNotFound.
	GetConversationByCode(ctx context.Context, code uuid.UUID) (conversation.Conversation, error)

	// ListConversations returns a page of conversations, newest activity
	// first: ordered by (LastMessageAt, ID) descending.
	ListConversations(ctx context.Context, q ConversationQuery) (Page[conversation.Conversation], error)

	// ListMessages returns a page of a conversation's messages, newest
	// first (Seq descending). It does not check that the conversation
	// exists.
	ListMessages(ctx context.Context, q MessageQuery) (Page[message.Message], error)

	// MessagesAfter returns up to q.Limit messages of conversation
	// q.ConversationID whose ID is greater than q.ID and whose Seq is
	// greater than q.Seq, oldest first (see message.After). q.ID may be
	// any number: 0, a message of another conversation, or one past every
	// message (no messages, no error); the same holds for q.Seq. An unknown
	// conversation has no messages. It is one indexed read whatever the
	// bounds: a store must not scan the conversation from its start.
	MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error)

	// Unread returns the unread totals of one party in one channel.
	Unread(ctx context.Context, q UnreadQuery) (UnreadSummary, error)

	// The outbox of notification events.
	notify.Outbox

	// Close releases the store's resources. Methods called after Close
	// return ErrClosed.
	Close() error
}

// Idempotency identifies a write that a client may retry.
type Idempotency struct {
	// Scope is who writes (the acting party); keys of different scopes
	// never collide.
	Scope string
	// Key is the client's idempotency key.
	Key string
	// Fingerprint is a digest of the request; a retry with the same Scope
	// and Key but another Fingerprint is ErrIdempotencyMismatch.
	Fingerprint string
}

// CreateParams are the arguments of Store.CreateConversation.
type CreateParams struct {
	Conversation conversation.Conversation
	Message      message.Message
	Events       []notify.Event
	Idempotency  *Idempotency // nil: not idempotent
}

// CreateResult is what Store.CreateConversation stored (or, with Replayed,
// had stored for the first request with the same idempotency key; the
// conversation is then its current state).
type CreateResult struct {
	Conversation conversation.Conversation
	Message      message.Message
	Replayed     bool
}

// AppendParams are the arguments of Store.AppendMessage.
type AppendParams struct {
	ConversationID int64
	Message        message.Message
	// Check, if not nil, runs on the locked conversation before anything
	// is written. It must not call the store: the conversation is locked
	// (and, on SQL stores, a connection held) while it runs.
	Check       func(conversation.Conversation) error
	Events      []notify.Event
	Idempotency *Idempotency
}

// AppendResult is what Store.AppendMessage stored (see CreateResult).
type AppendResult struct {
	Conversation conversation.Conversation
	Message      message.Message
	Replayed     bool
}

// StatusParams are the arguments of Store.SetStatus.
type StatusParams struct {
	ConversationID int64
	Status         conversation.Status
	At             time.Time // the new ModifiedAt
	Check          func(conversation.Conversation) error
}

// ReadParams are the arguments of Store.MarkRead.
type ReadParams struct {
	ConversationID int64
	Side           conversation.Side
	UpToMessageID  int64
	Check          func(conversation.Conversation) error
}

// ConversationCursor is the position after which a conversation listing
// continues: the (LastMessageAt, ID) of the last conversation of the
// previous page.
type ConversationCursor struct {
	LastMessageAt time.Time
	ID            int64
}

// ConversationQuery selects conversations of one channel.
type ConversationQuery struct {
	Channel string
	Filter  conversation.Filter
	// Types, if not empty, keeps only conversations of these types (the
	// public listings use question and review).
	Types []conversation.Type
	// After, if not nil, continues a listing after that position.
	After *ConversationCursor
	// Limit is the page size (at least 1).
	Limit int
	// WithTotal asks for the number of conversations that match (without
	// After); otherwise Page.Total is -1.
	WithTotal bool
}

// MessageQuery selects a page of one conversation's messages, newest first.
type MessageQuery struct {
	ConversationID int64
	// BeforeSeq, if not 0, continues a listing with the messages whose Seq
	// is lower.
	BeforeSeq int64
	Limit     int
	WithTotal bool
}

// Page is one page of a listing.
type Page[T any] struct {
	Items []T
	// More reports whether another page follows.
	More bool
	// Total is the number of matching items, or -1 if it was not asked for.
	Total int64
}

// UnreadQuery selects the party whose unread totals are summed.
type UnreadQuery struct {
	Channel string
	Side    conversation.Side
	// PartyID is the user id (SideUser) or the data source id (SideSeller).
	PartyID string
}

// UnreadSummary is a party's unread totals.
type UnreadSummary struct {
	// Messages is the number of unread messages in all the party's
	// conversations.
	Messages int64
	// Conversations is the number of conversations with unread messages.
	Conversations int64
}

// MessageFeed is an optional interface for stores shared by several
// processes (PostgreSQL, SQLite): it reports messages appended by any
// process, so that a Service can wake its waiters without each of them
// polling. A Service whose store implements it starts nothing by itself:
// the program runs parley.Service.Listen, which calls WatchMessages once
// for all its waiters. The conformance suite checks the stores that
// implement it.
type MessageFeed interface {
	// WatchMessages calls fn with the conversation id of every message
	// appended from now on, by any process, until ctx ends; it then
	// returns ctx's error. Notifications may be coalesced, repeated or
	// delayed (a store documents by how much), never lost while
	// WatchMessages runs. On a closed store it returns an error wrapping
	// ErrClosed.
	WatchMessages(ctx context.Context, fn func(conversationID int64)) error
}
