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
//     than the conversation's last activity (ApplyMessage);
//   - idempotency: a write that carries an Idempotency key already used by
//     the same scope returns the first result, or ErrIdempotencyMismatch,
//     before anything else is looked at;
//   - check-then-write: the callbacks of the writes (see Callbacks) decide
//     on the conversation as the write finds it, and nothing is written
//     when they fail;
//   - the outbox: the events of a write are stored in the same transaction
//     as the write (see notify.Outbox);
//   - the change log, for stores that keep one: the change a write makes
//     is logged in the same transaction as the write, at a position that
//     readers never see filled in behind them (see ChangeLog).
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
	// Side is who changes the status, recorded in a ChangeLog's
	// ChangeStatus (empty: not said).
	Side conversation.Side
	// Check, if not nil, decides whether the status may be changed (see
	// Callbacks).
	Check func(conversation.Conversation) error
}

// ReadParams are the arguments of Store.MarkRead.
type ReadParams struct {
	ConversationID int64
	Side           conversation.Side
	UpToMessageID  int64
	// At is when the side read, recorded in a ChangeLog's ChangeRead.
	At time.Time
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
	// returns ctx's error. A store that also implements ChangeLog reports
	// the conversation of every change it logs (a status changed, a read
	// position moved), so that streams wake as waiters do. Notifications may be coalesced, repeated or
	// delayed (a store documents by how much), never lost while
	// WatchMessages runs. On a closed store it returns an error wrapping
	// ErrClosed.
	WatchMessages(ctx context.Context, fn func(conversationID int64)) error
}

// ChangeKind is what a Change records.
type ChangeKind string

// The kinds of changes.
const (
	// ChangeStarted: CreateConversation stored a conversation and its
	// first message (MessageID, Seq 1; Side is StartedBy).
	ChangeStarted ChangeKind = "conversation.started"
	// ChangeMessage: AppendMessage stored a message (MessageID, Seq; Side
	// is the sender's).
	ChangeMessage ChangeKind = "message.posted"
	// ChangeRead: MarkRead moved Side's read position forward, to the
	// message MessageID with sequence number Seq.
	ChangeRead ChangeKind = "conversation.read"
	// ChangeStatus: SetStatus changed the conversation's status to Status
	// (Side is StatusParams.Side, empty if not given).
	ChangeStatus ChangeKind = "conversation.status"
)

// Valid reports whether k is one of the kinds above.
func (k ChangeKind) Valid() bool {
	switch k {
	case ChangeStarted, ChangeMessage, ChangeRead, ChangeStatus:
		return true
	}
	return false
}

// Change is one entry of a ChangeLog: something that happened in a
// conversation, at a position in the log.
type Change struct {
	// Position orders the log; see ChangeLog.
	Position int64
	Kind     ChangeKind
	// The conversation and its parties, as the write found them.
	Channel        string
	ConversationID int64
	UserID         string
	DataSourceID   string
	// Side is the side that acted.
	Side conversation.Side
	// MessageID and Seq: the message written (started, posted) or read up
	// to (read); zero for a status change.
	MessageID int64
	Seq       int64
	// Status is the new status of a status change, empty otherwise.
	Status conversation.Status
	// At is when the write happened: the message's time, the status
	// change's At, or the time MarkRead was given (ReadParams.At).
	At time.Time
}

// ChangeQuery selects changes of a ChangeLog.
type ChangeQuery struct {
	// After: only changes with a greater Position.
	After int64
	// Channel, if not empty, keeps the changes of that channel. Empty:
	// every channel (UserID and DataSourceID must then be empty).
	Channel string
	// UserID, if not empty, keeps the changes of the user's
	// conversations; DataSourceID, if not empty, those of the data
	// source's. At most one of them is set.
	UserID       string
	DataSourceID string
	// Limit is the most changes returned; 0 returns none (the page then
	// only reports Head and Horizon).
	Limit int
}

// ChangePage is what ChangeLog.Changes returns.
type ChangePage struct {
	// Changes that match, oldest first (Position ascending).
	Changes []Change
	// Head is the Position of the newest change of the whole log (any
	// channel or party), 0 if it has none; a reader that has seen up to
	// Head has seen everything logged so far.
	Head int64
	// Horizon is the highest Position that TrimChanges removed, 0 if it
	// never removed any: a reader continuing after a position below
	// Horizon may have missed changes.
	Horizon int64
}

// ChangeLog is an optional interface: a durable log of the changes of the
// conversations, which a parley Service reads to stream each party's
// changes (parley.Service.Stream) and to resume a stream after a
// disconnect. store/memory, store/sqlite and store/postgres implement it;
// the conformance suite checks every store that does.
//
// The writes of a store that implements it log, in the write's own
// transaction, so that a change is in the log exactly when its write
// committed:
//
//   - CreateConversation: one ChangeStarted (not when it replays or
//     fails);
//   - AppendMessage: one ChangeMessage (not when it replays or fails);
//   - SetStatus: one ChangeStatus when the status differs from the one
//     the write found, nothing otherwise;
//   - MarkRead: one ChangeRead when the read position moved forward
//     (store.ApplyRead returned true), nothing otherwise.
//
// Positions are positive and unique, and the log is read in order
// without gaps that fill in later: once Changes has returned (or reported
// as Head) a change at position p, no change at a position at or below p
// becomes visible afterwards, so a reader that continues after the last
// position it saw misses nothing and sees nothing twice. Within one
// conversation, positions follow the order of its writes. (A store whose
// concurrent transactions commit out of the order in which they draw
// numbers must therefore assign positions at or after commit, as
// store/postgres does.)
type ChangeLog interface {
	// Changes returns the changes after q.After that q selects, oldest
	// first, with the log's Head and Horizon. An invalid query (negative
	// After or Limit, a party without a channel, both parties) is an
	// error that wraps ErrInvalidQuery.
	Changes(ctx context.Context, q ChangeQuery) (ChangePage, error)

	// TrimChanges removes the changes whose At is before before, and
	// raises Horizon to the highest Position it removed. It returns how
	// many it removed.
	TrimChanges(ctx context.Context, before time.Time) (int64, error)
}

// ErrInvalidQuery: a query a store cannot answer (see ChangeLog.Changes).
var ErrInvalidQuery = errors.New("invalid query")

// CheckChangeQuery returns an error wrapping ErrInvalidQuery if q is not a
// query ChangeLog.Changes answers. Every store checks its queries with it.
func CheckChangeQuery(q ChangeQuery) error {
	switch {
	case q.After < 0:
		return fmt.Errorf("changes after %d: %w", q.After, ErrInvalidQuery)
	case q.Limit < 0:
		return fmt.Errorf("changes limit %d: %w", q.Limit, ErrInvalidQuery)
	case q.UserID != "" && q.DataSourceID != "":
		return fmt.Errorf("changes of a user and a data source at once: %w", ErrInvalidQuery)
	case q.Channel == "" && (q.UserID != "" || q.DataSourceID != ""):
		return fmt.Errorf("changes of a party without a channel: %w", ErrInvalidQuery)
	}
	return nil
}

// Selects reports whether Changes returns c for q (ignoring After and
// Limit). Stores that filter in memory use it; SQL stores translate it.
func (q ChangeQuery) Selects(c Change) bool {
	return (q.Channel == "" || c.Channel == q.Channel) &&
		(q.UserID == "" || c.UserID == q.UserID) &&
		(q.DataSourceID == "" || c.DataSourceID == q.DataSourceID)
}

// ChangeOf returns the change of kind k that a write to c logs (Position
// aside): c is the conversation as the write leaves it, side the side that
// acted, messageID and seq the message written or read up to, at the
// write's time. A status change records c.Status.
func ChangeOf(k ChangeKind, c conversation.Conversation, side conversation.Side, messageID, seq int64, at time.Time) Change {
	ch := Change{
		Kind: k, Channel: c.Channel, ConversationID: c.ID, UserID: c.UserID, DataSourceID: c.DataSourceID,
		Side: side, MessageID: messageID, Seq: seq, At: at,
	}
	if k == ChangeStatus {
		ch.Status = c.Status
	}
	return ch
}
