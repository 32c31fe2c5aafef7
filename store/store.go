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
//     as the write (see notify.Outbox);
//   - the change log, for stores that keep one: the change a write makes
//     is logged in the same transaction as the write, at a position that
//     readers never see filled in behind them (see ChangeLog);
//   - the party totals: every committed state satisfies the invariant of
//     the party totals below.
//
// The arithmetic of the writes (a message's Seq and time, read state,
// unread counts, party totals, filter bounds) is written once, in the
// helpers of this package (ApplyFirst, ApplyMessage, ApplyStatus,
// ApplyRead, Contribution, Change, NormalizeFilter,
// ConversationQuery.Matches); SQL stores may compute the same in SQL, and
// the conformance suite checks that they agree.
//
// # Party totals
//
// Reads that sum over a party's conversations (Unread, and the total of a
// party's inbox listing) must cost the same for a party with 10 or
// 100,000 conversations. A store therefore keeps PartyTotals for every
// (channel, side, party id), and keeps them in the transaction of every
// write that changes them, with this invariant:
//
//   - in every committed state, and in what any read sees, the totals of
//     a party equal the sum of Contribution(c, side) over the party's
//     conversations c (its conversations count, the sum of its side's
//     Unread, and how many of them have an Unread above zero);
//   - a write that turns conversation before into after adds
//     Change(before, after, side) to the totals of both of its parties
//     (the user on SideUser, the data source on SideSeller), in the same
//     transaction; CreateConversation adds Change(nil, c, side). The
//     parties of a conversation never change.
//
// CreateConversation, AppendMessage and MarkRead change Unread and so the
// totals; SetStatus changes neither (it is a write that leaves them
// alone, and the conformance suite checks that too). A party without
// conversations has zero totals. A store may keep a party's totals in
// several parts (rows) that it sums on reading, so that concurrent
// writers of one party's conversations do not wait on one row, as long as
// the number of parts does not grow with the party. SQL stores may keep
// them with triggers on the conversations table. The conformance suite
// recounts the totals from the conversations after random sequences of
// writes, sequential and concurrent, and compares.
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
//     waits on a round trip to the client. The conversation may be one
//     the store read or wrote earlier and remembers (store/postgres does
//     so for AppendMessage without an idempotency key, to write in one
//     round trip), provided that the write also checks that it is the
//     same conversation, and that a refusal is decided again on a fresh
//     read (a remembered Status may be out of date).
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
//
// # Read-your-writes
//
// A store may serve some reads from copies of its database that lag
// behind it (PostgreSQL streaming replicas). A caller that wrote and then
// reads must still see its own write: it carries a Session in the context
// of its calls (WithSession), and the store keeps the Session up to date.
// The invariants a store that serves reads from copies keeps:
//
//   - every write that commits with a Session in its context advances the
//     Session to the Position of its commit, or later (Session.Advance);
//     a write never moves a Session back;
//   - a read with a Session whose Position is not zero returns what the
//     primary held at that Position or later: a copy answers it only once
//     it has replayed that far, else (after a bounded wait) the primary
//     does;
//   - a read without a Session, or whose Session's Position is zero, may
//     return any state a copy holds, however far behind (within the
//     store's lag bound);
//   - everything a write reads (its Prepare and Check callbacks, its
//     idempotency lookup) reads the primary.
//
// A store without copies ignores Sessions: everything it reads is already
// its latest state. Positions are the store's own (a PostgreSQL WAL LSN)
// and only compared with positions of the same store.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/notify"
)

// TimePrecision is the precision at which every store keeps times.
const TimePrecision = time.Microsecond

// Errors returned by stores. Check them with errors.Is.
var (
	// ErrNotFound: no conversation, message or event with that id.
	ErrNotFound = errors.New("store: not found")
	// ErrConversationExists: the conversation key is taken. The error is a
	// *ConversationExistsError carrying the existing conversation's id.
	ErrConversationExists = errors.New("store: conversation already exists")
	// ErrDuplicateCode: another conversation has the same Code. Codes
	// are random UUIDv7s: this means the program's code source repeats
	// itself.
	ErrDuplicateCode = errors.New("store: conversation code already used")
	// ErrIdempotencyMismatch: an idempotency key was reused by the same
	// scope for a different request.
	ErrIdempotencyMismatch = errors.New("store: idempotency key reused with a different request")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store: closed")
	// ErrReportResolved: the report was resolved already; a report is
	// resolved once.
	ErrReportResolved = errors.New("store: report already resolved")
)

// ConversationExistsError is returned when a conversation with the same key
// already exists. It unwraps to ErrConversationExists.
type ConversationExistsError struct {
	ID int64 // the existing conversation's id
}

func (e *ConversationExistsError) Error() string {
	return fmt.Sprintf("store: conversation already exists (id %d)", e.ID)
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

	// MessageSets returns the newest messages of several conversations at
	// once (the message sets of a listing's items): out[i] is the set of
	// q.ConversationIDs[i], so len(out) == len(q.ConversationIDs).
	// Invariants:
	//
	//   - a set holds the q.Limit messages of the conversation with the
	//     highest Seq (all of them if it has fewer), newest first (Seq
	//     descending), the same messages as the first page of
	//     ListMessages with that Limit (and Visible);
	//   - an id that is not a conversation (0, negative, unknown, another
	//     backend's) has an empty set, with no error; an id given twice
	//     has the same set twice; no ids is no sets, and no read;
	//   - it does not check who may see the conversations (the Service
	//     asks only for the ids its own listing returned);
	//   - its cost does not grow with the number of ids beyond the
	//     messages it returns: a SQL store answers in one statement (one
	//     round trip), whatever the number of ids, and reads each
	//     conversation's newest messages from an index, never scanning a
	//     conversation from its start;
	//   - q.Limit below 1 is an error that reads nothing.
	MessageSets(ctx context.Context, q MessageSetQuery) ([][]message.Message, error)

	// Unread returns the unread totals of one party in one channel: the
	// unread part of its PartyTotals (see Party totals), read in a number
	// of steps that does not grow with the party's conversations. An
	// unknown party has zero totals.
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
	// After); otherwise Page.Total is -1. The total of a party's whole
	// inbox (see InboxParty) is read from the party's PartyTotals, at a
	// cost that does not grow with the party; any other total is a count
	// of the matches over the index that serves the listing, which grows
	// with the number of matches.
	WithTotal bool
	// Visible keeps only the conversations that are not Hidden (the
	// public listings).
	Visible bool
}

// MessageQuery selects a page of one conversation's messages, newest first.
type MessageQuery struct {
	ConversationID int64
	// BeforeSeq, if not 0, continues a listing with the messages whose Seq
	// is lower.
	BeforeSeq int64
	Limit     int
	// WithTotal asks for the number of messages that match (without
	// BeforeSeq); otherwise Page.Total is -1.
	WithTotal bool
	// Visible keeps only the messages that are not Hidden (the public
	// message pages); the total is then MessageCount - HiddenMessages.
	Visible bool
}

// MessageSetQuery selects the newest messages of several conversations
// (Store.MessageSets).
type MessageSetQuery struct {
	// ConversationIDs are the conversations, in the order of the sets
	// returned.
	ConversationIDs []int64
	// Limit is the number of messages per conversation (at least 1).
	Limit int
	// Visible keeps only the messages that are not Hidden (the public
	// listings): a set is then the newest q.Limit visible messages.
	Visible bool
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
	// position moved), so that streams wake as waiters do. Notifications
	// may be coalesced, repeated or delayed (a store documents by how much), never lost while
	// WatchMessages runs. On a closed store it returns an error wrapping
	// ErrClosed.
	WatchMessages(ctx context.Context, fn func(conversationID int64)) error
}

// ChangeKind is what a ChangeEntry records.
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

// ChangeEntry is one entry of a ChangeLog: something that happened in a
// conversation, at a position in the log.
type ChangeEntry struct {
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
	Changes []ChangeEntry
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
func (q ChangeQuery) Selects(c ChangeEntry) bool {
	return (q.Channel == "" || c.Channel == q.Channel) &&
		(q.UserID == "" || c.UserID == q.UserID) &&
		(q.DataSourceID == "" || c.DataSourceID == q.DataSourceID)
}

// ChangeOf returns the change of kind k that a write to c logs (Position
// aside): c is the conversation as the write leaves it, side the side that
// acted, messageID and seq the message written or read up to, at the
// write's time. A status change records c.Status.
func ChangeOf(k ChangeKind, c conversation.Conversation, side conversation.Side, messageID, seq int64, at time.Time) ChangeEntry {
	ch := ChangeEntry{
		Kind: k, Channel: c.Channel, ConversationID: c.ID, UserID: c.UserID, DataSourceID: c.DataSourceID,
		Side: side, MessageID: messageID, Seq: seq, At: at,
	}
	if k == ChangeStatus {
		ch.Status = c.Status
	}
	return ch
}

// Seeker is an optional interface for stores that can find a position deep
// in a conversation listing without reading the conversations before it.
// The Service uses it for page numbers (parley.PageRequest.Offset), so that
// page 10,000 of a listing is one query rather than a walk through the
// 9,999 pages before it; a store without it is walked with
// ListConversations. A message listing needs no seek: its positions are
// Seqs, which have no gaps (a listing of the Visible messages of a
// conversation with hidden ones is walked). Every Parley store implements it, and the
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

// Moderation is an optional interface for the trust and safety features
// of the Service: reports of messages and the audit trail of operators'
// actions. store/memory, store/sqlite and store/postgres implement it; a
// Service over a store without it answers those features with an error.
// The conformance suite checks the stores that implement it.
//
// Its invariants:
//
//   - one report per reporter and message: CreateReport of a message that
//     the same reporter (Kind and ID) has reported before stores nothing
//     and returns the first report, however many callers race;
//   - report ids increase in the order reports are stored, so that the
//     queue (ListReports, by ID) is oldest first and keyset-paged;
//   - a report is resolved once: ResolveReport of a resolved report is
//     ErrReportResolved and changes nothing; resolving stores the report's
//     new state and its audit entry in one transaction (both or neither);
//   - hiding keeps counts consistent: a conversation's HiddenMessages is
//     the number of its messages that are Hidden, under concurrency too;
//     ListConversations and ListMessages with Visible leave hidden
//     conversations and messages out at once, totals included;
//   - the audit trail is append-only: entries are never changed or
//     removed, and their ids increase in the order they are stored; every
//     write of an action (ResolveReport, SetHidden) stores its entry in
//     the same transaction.
//
// A store does not check that a report's message exists or belongs to its
// conversation, nor who files or resolves it: the Service does.
type Moderation interface {
	// CreateReport stores r (its ID is assigned) and returns it with true,
	// or, when r.Reporter reported r.MessageID before, returns that report
	// unchanged with false.
	CreateReport(ctx context.Context, r moderation.Report) (moderation.Report, bool, error)

	// GetReport returns the report with the given id, or ErrNotFound.
	GetReport(ctx context.Context, id int64) (moderation.Report, error)

	// ListReports returns a page of the reports of q.Channel that match
	// q, oldest first (ID ascending).
	ListReports(ctx context.Context, q ReportQuery) (Page[moderation.Report], error)

	// ResolveReport marks report p.ID resolved with p's outcome and stores
	// p.Audit (its ID assigned) in the same transaction. It returns the
	// report as stored, ErrNotFound for an unknown report, and
	// ErrReportResolved for a resolved one.
	ResolveReport(ctx context.Context, p ResolveParams) (moderation.Report, error)

	// SetHidden hides or shows (p.Hidden) message p.MessageID of
	// conversation p.ConversationID, or, when p.MessageID is 0, the
	// conversation itself, and stores p.Audit (its ID assigned) in the
	// same transaction. It keeps the conversation's HiddenMessages equal
	// to the number of its hidden messages: hiding a hidden message (or
	// showing a shown one) changes nothing but the audit trail. It
	// changes nothing else (no ModifiedAt, no read state), and returns
	// the conversation as it leaves it: ErrNotFound for an unknown
	// conversation or a message that is not in it, with nothing written.
	SetHidden(ctx context.Context, p HideParams) (conversation.Conversation, error)

	// ListAudit returns a page of the audit entries of q.Channel that
	// match q, oldest first (ID ascending).
	ListAudit(ctx context.Context, q AuditQuery) (Page[moderation.Entry], error)
}

// ReportQuery selects the reports of one channel, oldest first.
type ReportQuery struct {
	Channel string
	// State and Reason, if set, keep only the reports in that state and
	// with that reason.
	State  moderation.State
	Reason moderation.Reason
	// AfterID continues a listing after the report with that id.
	AfterID int64
	// Limit is the page size (at least 1).
	Limit int
	// WithTotal asks for the number of reports that match (without
	// AfterID); otherwise Page.Total is -1.
	WithTotal bool
}

// ResolveParams are the arguments of Moderation.ResolveReport.
type ResolveParams struct {
	ID      int64
	At      time.Time
	By      string // the operator's staff id
	Outcome moderation.Outcome
	Note    string
	// Audit is the entry stored with the resolution.
	Audit moderation.Entry
}

// HideParams are the arguments of Moderation.SetHidden.
type HideParams struct {
	ConversationID int64
	MessageID      int64 // 0: the conversation itself
	Hidden         bool
	// Audit is the entry stored with the change.
	Audit moderation.Entry
}

// AuditQuery selects the audit entries of one channel, oldest first.
type AuditQuery struct {
	Channel string
	// ConversationID, if not 0, keeps only the entries about that
	// conversation.
	ConversationID int64
	// AfterID continues a listing after the entry with that id.
	AfterID int64
	// Limit is the page size (at least 1).
	Limit int
}

// Wrapper is implemented by a store that wraps another (a decorator that
// counts, logs or caches calls): Unwrap returns the wrapped store, so that
// the Service finds the optional interfaces (Moderation) of the store
// underneath with As.
type Wrapper interface {
	Unwrap() Store
}

// As returns the first store of the chain s, s.Unwrap(), ... that
// implements T, and whether there is one.
func As[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	var zero T
	return zero, false
}

// Privacy is an optional interface for the erasure of a party's personal
// data (a data-subject request under GDPR or KVKK):
// parley.Service.Erase calls it. store/memory, store/sqlite and
// store/postgres implement it; a Service over a store without it answers
// Erase with an error. The conformance suite checks the stores that
// implement it. (Export needs no operation of its own: the Service reads
// a party's data with the reads of Store and Moderation.)
//
// EraseParty(p) replaces, in p.Channel, the personal data of the party
// p.Party (a user, Kind message.SenderUser, or a data source,
// message.SenderDataSource, named by its ID) with tombstones. Its
// invariants:
//
//   - atomic: everything below, and the audit entry p.Audit, is written in
//     one transaction (all or nothing);
//   - what is replaced: in the conversations of the channel whose party on
//     that side is p.Party, the Content of every message whose sender is
//     p.Party becomes ErasedContent (""); the Subject of every such
//     conversation that p.Party started becomes ""; when p.Party is a
//     user, the stored Attributes that describe it (UserFirstName,
//     UserLastName, OrderNumber) become ""; the Note of every report of
//     the channel that p.Party filed becomes ""; and the Fingerprint of
//     every idempotency record of an erased message becomes
//     ErasedFingerprint (a digest of the content it replaced: a retry of
//     that write is ErrIdempotencyMismatch from then on), and the
//     LastError of every outbox event of an erased message becomes ""
//     (it is the program's Notifier's text, which may quote what it
//     failed to deliver);
//   - what is kept: ids, codes, Seqs, times, order, counts, read state,
//     party totals, hidden flags, the party's ids themselves, and the
//     other party's messages, subjects and reports. Erasing changes no
//     ModifiedAt and logs no change (ChangeLog) and no event: the change
//     log and the outbox events hold ids, kinds and times, never content
//     (but for LastError, above);
//   - idempotent: erasing an erased party replaces nothing (the counts of
//     the result are zero) and succeeds; a party without conversations or
//     reports is not an error, and only the audit entry is stored;
//   - the audit entry p.Audit is stored (its ID assigned) on every call.
//
// The invariants are about the stored values that the store's reads and
// its tables hold (the conformance suite and each backend's own test scan
// every column of every table for what was erased). Old bytes may stay in
// the files underneath until the database reuses or compacts them: SQLite
// free pages and WAL frames (PRAGMA secure_delete, a checkpoint, VACUUM),
// PostgreSQL dead row versions and WAL (VACUUM), and any backup; a program
// under GDPR handles those with its own retention.
//
// Erasing changes Subject and Attributes, which the Callbacks contract
// otherwise treats as fixed: callbacks must not decide on them (the
// Service's do not), and a store that remembers conversations for its
// callbacks (store/postgres) forgets the erased ones.
type Privacy interface {
	EraseParty(ctx context.Context, p EraseParams) (EraseResult, error)
}

// ErasedContent is the Content of an erased message: an empty text, which
// no written message has (the Service requires content), so that a
// tombstone is told apart from every message.
const ErasedContent = ""

// ErasedFingerprint is the Fingerprint of the idempotency record of an
// erased message.
const ErasedFingerprint = "erased"

// EraseParams are the arguments of Privacy.EraseParty.
type EraseParams struct {
	Channel string
	// Party is the user or data source whose data is erased (Kind and ID;
	// UserType is ignored).
	Party message.Sender
	// Audit is the entry stored with the erasure.
	Audit moderation.Entry
}

// EraseResult counts what an erasure replaced: zero everywhere when the
// party was erased already.
type EraseResult struct {
	Messages      int64 // messages whose content was replaced
	Conversations int64 // conversations whose subject or attributes were replaced
	Reports       int64 // reports whose note was replaced
}
