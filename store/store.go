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
//     position never misses a concurrent write, and dates it no earlier
//     than the conversation's last activity (ApplyMessage); the Seqs of
//     a conversation are 1, 2, ... LastSeq without gaps, so that the n-th
//     newest message is found by arithmetic (the Service's page numbers);
//   - idempotency: a write that carries an Idempotency key already used by
//     the same scope returns the first result, or ErrIdempotencyMismatch,
//     before anything else is looked at;
//   - check-then-write: the callbacks of the writes (see Callbacks) decide
//     on the conversation as the write finds it, and nothing is written
//     when they fail;
//   - the outbox: the events of a write are stored in the same transaction
//     as the write (see notify.Outbox).
//
// The arithmetic of the writes (a message's Seq and time, read state,
// unread counts, filter bounds) is written once, in the helpers of this
// package (ApplyFirst, ApplyMessage, ApplyStatus, ApplyRead,
// NormalizeFilter, ConversationQuery.Matches); SQL stores may compute the
// same in SQL, and the conformance suite checks that they agree.
//
// # Callbacks
//
// The Service enforces its rules (who may write into a conversation, a
// closed conversation takes no message, who may close it) in callbacks
// that a store runs inside its write: AppendParams.Prepare,
// StatusParams.Check and ReadParams.Check. The rules stay in the Service;
// the store only makes them atomic with the write. A store:
//
//   - looks the idempotency key up first: a replay returns the first result
//     without calling the callback;
//   - returns ErrNotFound for an unknown conversation without calling it;
//   - calls it with the conversation as the write will find it, and, if it
//     returns an error, returns that error unchanged (not wrapped) and
//     writes nothing, not even the idempotency record.
//
// A callback is a pure function of the conversation it is given: it does
// not call the store, it may be called more than once, and its outcome
// depends only on the fields that never change once a conversation exists
// (ID, Code, Channel, Type, UserID, DataSourceID, Item, StartedBy,
// Language, Attributes, CreatedAt) and on Status. A store may therefore
// keep the decision atomic in either of two ways:
//
//   - run the callback while it holds the conversation (a mutex, a row
//     lock, or the single writer's transaction), as store/memory and
//     store/sqlite do;
//   - or run it on a conversation read without a lock, then write with one
//     statement that applies only if Status is still what the callback
//     saw, and when it is not, read again and call the callback again, as
//     store/postgres does for AppendMessage and SetStatus, so that no lock
//     waits on a round trip to the client.
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

	// AppendMessage adds a message to an existing conversation,
	// atomically, with the events that p.Prepare returns. In this order:
	// when p.Idempotency was used before by the same scope, it returns the
	// first result with Replayed set (or ErrIdempotencyMismatch); an
	// unknown conversation is ErrNotFound; p.Prepare decides on the
	// conversation (see Callbacks: its error is returned unchanged and
	// nothing is written); then the store assigns the message its ID,
	// applies it to the conversation with ApplyMessage, and stores the
	// message, the conversation, the events (with their ConversationID and
	// MessageID set) and the idempotency record.
	AppendMessage(ctx context.Context, p AppendParams) (AppendResult, error)

	// SetStatus changes a conversation's status and ModifiedAt as
	// ApplyStatus does, after p.Check passes on the conversation (see
	// Callbacks). An unknown conversation is ErrNotFound.
	SetStatus(ctx context.Context, p StatusParams) (conversation.Conversation, error)

	// MarkRead moves one side's read position forward to the message
	// p.UpToMessageID (a position behind the current one is kept as it is)
	// and recomputes that side's unread count, as ApplyRead does, after
	// p.Check passes on the conversation (see Callbacks). It returns
	// ErrNotFound for an unknown conversation and, once p.Check passed,
	// for a message that is not in the conversation.
	MarkRead(ctx context.Context, p ReadParams) (conversation.Conversation, error)

	// Replay returns what a write with idempotency key k would replay: the
	// conversation as it is now and the message that the key's first write
	// (a CreateConversation or an AppendMessage) stored, with Replayed set,
	// and true. It returns false if no write of k.Scope used k.Key, and
	// ErrIdempotencyMismatch if one did with another fingerprint. It
	// writes nothing. The Service calls it before rules that depend on the
	// world outside the store (which may have changed since a first
	// attempt), so that a retry is answered with the first result.
	Replay(ctx context.Context, k Idempotency) (CreateResult, bool, error)

	// GetConversation returns the conversation with the given id.
	GetConversation(ctx context.Context, id int64) (conversation.Conversation, error)

	// GetConversationByCode returns the conversation whose Code is code,
	// in one indexed read (codes are unique), or ErrNotFound.
	GetConversationByCode(ctx context.Context, code uuid.UUID) (conversation.Conversation, error)

	// ListConversations returns a page of the conversations that
	// q.Matches, newest activity first: ordered by (LastMessageAt, ID)
	// descending.
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
	// Message is the message to add. The store assigns its ID and applies
	// it with ApplyMessage, which sets its Seq and ConversationID and may
	// move its CreatedAt forward.
	Message message.Message
	// Prepare, if not nil, decides whether the message may be added to
	// the conversation and returns the events to store with it (their
	// recipient, type and digest key come from the conversation it is
	// given). See Callbacks: it is called after the idempotency lookup,
	// possibly more than once; the events of the call whose conversation
	// the write applies to are stored. nil: no rule and no events.
	Prepare     func(c conversation.Conversation) ([]notify.Event, error)
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
	At             time.Time // the new ModifiedAt (unless it is later already)
	// Check, if not nil, decides whether the status may be changed (see
	// Callbacks).
	Check func(conversation.Conversation) error
}

// ReadParams are the arguments of Store.MarkRead.
type ReadParams struct {
	ConversationID int64
	Side           conversation.Side
	UpToMessageID  int64
	// Check, if not nil, decides whether the side may mark the
	// conversation read (see Callbacks).
	Check func(conversation.Conversation) error
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

// Seeker is an optional interface for stores that can find a position deep
// in a conversation listing without reading the conversations before it.
// The Service uses it for page numbers (parley.PageRequest.Offset), so that
// page 10,000 of a listing is one query rather than a walk through the
// 9,999 pages before it; a store without it is walked with
// ListConversations. A message listing needs no seek: its positions are
// Seqs, which have no gaps. Every Parley store implements it, and the
// conformance suite checks the stores that do.
type Seeker interface {
	// SeekConversations returns the position of the n-th conversation
	// (n >= 1) of the listing q selects, counted after q.After when it is
	// set, and true; false when fewer than n conversations follow.
	// q.Limit and q.WithTotal are ignored. Its invariants:
	//
	//   - it agrees with ListConversations: the position is the
	//     (LastMessageAt, ID) of the last conversation of the page that
	//     ListConversations returns for q with Limit n, so that listing
	//     after it continues exactly where following n items of cursors
	//     would;
	//   - it is one read, over the index that serves the listing (an
	//     offset into the index, not a read of every conversation's row);
	//   - n below 1 is an error, and reads nothing.
	SeekConversations(ctx context.Context, q ConversationQuery, n int64) (ConversationCursor, bool, error)
}
