// Package conversation defines the conversations between a marketplace's
// users and its sellers (data sources): their types, the item they may be
// about, their status, read state and the filters used to list them.
//
// The package holds plain values and the rules that depend only on a value
// (is this a known type, is this item link complete). Rules that need the
// acting party or the store live in the root package parley.
package conversation

import (
	"time"

	"github.com/google/uuid"
)

// Type is the kind of a conversation: seed 000's conversation_type.
type Type string

// The conversation types.
const (
	TypeMessage  Type = "message"  // a private message thread
	TypeQuestion Type = "question" // a question, listed publicly
	TypeReview   Type = "review"   // a review, listed publicly; sellers cannot reply
)

// Types lists every valid Type.
var Types = []Type{TypeMessage, TypeQuestion, TypeReview}

// Valid reports whether t is one of the known types.
func (t Type) Valid() bool {
	switch t {
	case TypeMessage, TypeQuestion, TypeReview:
		return true
	}
	return false
}

// Public reports whether conversations of this type appear in the public
// listings (questions and reviews do, private messages never).
func (t Type) Public() bool { return t == TypeQuestion || t == TypeReview }

// ItemKind is what a conversation is about: seed 000's item_content.
type ItemKind string

// The item kinds. ItemNone means the conversation is about nothing in
// particular (a message to the store itself).
const (
	ItemNone      ItemKind = ""
	ItemProduct   ItemKind = "product"
	ItemOrderItem ItemKind = "orderitem"
)

// Valid reports whether k is one of the known item kinds, ItemNone included.
func (k ItemKind) Valid() bool {
	switch k {
	case ItemNone, ItemProduct, ItemOrderItem:
		return true
	}
	return false
}

// Item links a conversation to a product or an order item. Both fields are
// set or neither is: the zero Item means "no item".
type Item struct {
	Kind ItemKind
	ID   string
}

// IsZero reports whether the item is unset.
func (i Item) IsZero() bool { return i.Kind == ItemNone && i.ID == "" }

// Product returns an Item for the product with the given id.
func Product(id string) Item { return Item{Kind: ItemProduct, ID: id} }

// OrderItem returns an Item for the order item with the given id.
func OrderItem(id string) Item { return Item{Kind: ItemOrderItem, ID: id} }

// Status is whether a conversation accepts new messages (seed 001's
// conversationStatus).
type Status string

// The conversation statuses.
const (
	StatusOpen   Status = "open"
	StatusClosed Status = "closed"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return s == StatusOpen || s == StatusClosed }

// Side names one of the two participants of a conversation.
type Side string

// The two sides of every conversation.
const (
	SideUser   Side = "user"
	SideSeller Side = "datasource"
)

// Valid reports whether s is a known side.
func (s Side) Valid() bool { return s == SideUser || s == SideSeller }

// Other returns the opposite side.
func (s Side) Other() Side {
	if s == SideUser {
		return SideSeller
	}
	return SideUser
}

// Attributes are values that belong to the embedding program's own tables
// (user names, a product's base code, an order number). They are looked up
// once, when the conversation starts, and stored with it so that the list
// filters of seed 000 can use them without a join into foreign tables.
type Attributes struct {
	UserFirstName   string
	UserLastName    string
	ProductBaseCode string
	OrderNumber     string
}

// ReadState is one side's read position in a conversation.
type ReadState struct {
	// ReadSeq is the sequence number of the last message this side has
	// read (0: nothing read). A side's own messages count as read.
	ReadSeq int64
	// Unread is how many messages of the other side come after ReadSeq.
	Unread int64
}

// Conversation is a thread between one user and one data source, in one
// channel. Stores assign ID; the Service assigns everything else.
type Conversation struct {
	ID      int64     // assigned by the store, increasing
	Code    uuid.UUID // a UUIDv7, stable public code (seed 001's code)
	Channel string    // the storefront the conversation belongs to

	Type         Type
	UserID       string
	DataSourceID string
	Item         Item
	Subject      string
	Status       Status
	// StartedBy is the side that sent the first message.
	StartedBy Side
	// Language is the language code of the first message, if known.
	Language string

	Attributes Attributes

	CreatedAt time.Time
	// ModifiedAt changes with every message and status change; it never
	// moves backwards.
	ModifiedAt time.Time
	// LastMessageAt is the time of the newest message; conversations are
	// listed newest activity first by (LastMessageAt, ID). It never moves
	// backwards.
	LastMessageAt time.Time
	// LastMessageID and LastSeq identify the newest message.
	LastMessageID int64
	LastSeq       int64
	// MessageCount is the number of messages in the conversation.
	MessageCount int64

	UserRead   ReadState
	SellerRead ReadState

	// Hidden is set when an operator has hidden the whole conversation:
	// it is kept, but gone from the public listings.
	Hidden bool
	// HiddenMessages is the number of its messages an operator has
	// hidden (MessageCount includes them; the public count does not).
	HiddenMessages int64
}

// Read returns the read state of the given side.
func (c Conversation) Read(s Side) ReadState {
	if s == SideUser {
		return c.UserRead
	}
	return c.SellerRead
}

// IsReadBy reports whether the message with sequence number seq has been
// read by side s (seed 001's isRead, seen from the receiver).
func (c Conversation) IsReadBy(s Side, seq int64) bool { return seq <= c.Read(s).ReadSeq }

// Filter narrows a conversation listing. The zero Filter matches everything;
// each set field narrows the result (fields combine with AND). Filters come
// from seed 000's listing parameters. Time bounds are inclusive and exact:
// a bound between two of the stores' time steps (a microsecond) keeps the
// conversations on its side of it.
type Filter struct {
	CreatedFrom, CreatedTo   time.Time // created_date range; zero: open-ended
	ModifiedFrom, ModifiedTo time.Time // modified_date range; zero: open-ended

	UserID       string   // user_id
	DataSourceID string   // data_source_id (and data_source)
	ProductID    string   // product: conversations about this product
	OrderItemID  string   // order_item: conversations about this order item
	ItemKind     ItemKind // item_type
	Type         Type     // conversation_type
	Status       Status   // seed 001's conversation status

	ProductBaseCode string // product_base_code
	UserFirstName   string // user__first_name, exact
	UserLastName    string // user__last_name, exact
	OrderNumber     string // order_number
}
