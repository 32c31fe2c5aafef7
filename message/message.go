// Package message defines the messages inside a conversation and who sends
// them: a user (registered or guest) or a seller's data source.
package message

import (
	"time"

	"github.com/google/uuid"
)

// SenderKind is who wrote a message: seed 000's content_type.
type SenderKind string

// The sender kinds.
const (
	SenderUser       SenderKind = "user"
	SenderDataSource SenderKind = "datasource"
)

// Valid reports whether k is a known sender kind.
func (k SenderKind) Valid() bool { return k == SenderUser || k == SenderDataSource }

// UserType says whether a user is registered (seed 000's user_type).
type UserType string

// The user types.
const (
	UserRegistered UserType = "registered"
	UserGuest      UserType = "guest"
)

// Valid reports whether t is a known user type.
func (t UserType) Valid() bool { return t == UserRegistered || t == UserGuest }

// Sender is the author of a message: seed 000's content_type and content_id.
// UserType is set for users and empty for data sources.
type Sender struct {
	Kind     SenderKind
	ID       string
	UserType UserType
}

// User returns the Sender for a user.
func User(id string, t UserType) Sender { return Sender{Kind: SenderUser, ID: id, UserType: t} }

// DataSource returns the Sender for a seller's data source.
func DataSource(id string) Sender { return Sender{Kind: SenderDataSource, ID: id} }

// Message is one message of a conversation. Stores assign ID and Seq; the
// Service assigns everything else.
type Message struct {
	// ID is assigned by the store, unique across conversations. Within a
	// conversation, ids grow with Seq.
	ID             int64
	Code           uuid.UUID // a UUIDv7, stable public code (seed 001's code)
	ConversationID int64
	// Seq is the message's position in its conversation (1, 2, 3, ...),
	// assigned by the store under the conversation's lock, so that reading
	// "every message after Seq n" never misses a concurrent write.
	Seq      int64
	Sender   Sender
	Content  string
	Language string // BCP 47 language code of Content, if known (seed 001)
	// CreatedAt is when the message was written. Within a conversation it
	// never decreases with Seq: a message whose writer read the clock
	// before an earlier message (or status change) was stored is dated at
	// that earlier activity.
	CreatedAt time.Time

	// Hidden is set when an operator has hidden the message: it is kept,
	// but gone from the public message pages, and the Service shows it to
	// the parties without its Content unless the program opts otherwise.
	Hidden bool

	// TranslatedFrom is set only on messages returned by
	// parley.Service.Translate whose Content was translated: it is the
	// language the message was written in ("und" if unknown). Stores
	// never store it.
	TranslatedFrom string
}

// After selects the messages of one conversation that come after a
// position, oldest first: the question a polling client asks ("what is
// new since the last message I have?") and the one a notification asks
// ("what has the recipient not read?"). It is the query of
// store.Store.MessagesAfter.
//
// A message is selected when its ID is greater than ID and its Seq greater
// than Seq. Within a conversation ids grow with Seq, so each bound is a
// position in the conversation and the later of the two decides; 0 leaves
// a bound open.
type After struct {
	ConversationID int64
	// ID is any message id, not necessarily one of this conversation's:
	// the messages with a greater id are selected. A number past every
	// message selects none.
	ID int64
	// Seq is a position in the conversation (a read position): the
	// messages with a greater Seq are selected.
	Seq int64
	// Limit is the most messages returned (at least 1).
	Limit int
}
