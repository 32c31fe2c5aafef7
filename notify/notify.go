// Package notify carries the notifications that conversations cause: a
// user starting a conversation notifies the seller (seed 002), a seller's
// message notifies the user (seed 000), a user's later message notifies the
// seller.
//
// The parley Service produces an Event for each of these in the same store
// transaction as the change that causes it. How events reach a Notifier is
// chosen by the program: directly after the commit (best effort), or
// through the store's outbox and a delivery worker (durable, at least
// once). A Notifier receives a Notification whose Key is stable across
// retries, so that receivers can drop repeats.
package notify

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// Kind is what happened.
type Kind string

// The event kinds.
const (
	// KindConversationStarted: a conversation was started; the recipient
	// is the other side (the seller, when a user starts it).
	KindConversationStarted Kind = "conversation.started"
	// KindMessagePosted: a message was added to an existing conversation.
	KindMessagePosted Kind = "message.posted"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindConversationStarted || k == KindMessagePosted }

// Party is the recipient or the sender of a notification: a user or a data
// source.
type Party struct {
	Kind message.SenderKind
	ID   string
}

// State is where an event is in the outbox.
type State string

// The outbox states.
const (
	StatePending State = "pending" // waiting to be delivered (or being delivered)
	StateDone    State = "done"    // delivered
	StateDead    State = "dead"    // gave up after the attempt limit
)

// Event is one notification-worthy change. The Service fills every field
// but ConversationID and MessageID, which the store sets when it assigns
// them, in the same transaction.
type Event struct {
	// ID is a UUIDv7 string, unique and stable: the idempotency key of
	// every delivery of this event.
	ID               string
	Kind             Kind
	Channel          string
	ConversationID   int64
	MessageID        int64
	ConversationType conversation.Type
	Recipient        Party
	Sender           Party
	CreatedAt        time.Time
	// DueAt is when the event may be delivered: CreatedAt, or later when
	// notifications are gathered into digests.
	DueAt time.Time
	// DigestKey groups the events that may be delivered as one
	// notification: same recipient, same conversation. See DigestKeyOf.
	DigestKey string

	// Outbox bookkeeping, maintained by the store.
	State     State
	Attempts  int
	LastError string
}

// DigestKeyOf returns the DigestKey of events for recipient r in the
// conversation with the given code (known before the store assigns the
// conversation's id), in channel.
func DigestKeyOf(channel string, r Party, conversationCode uuid.UUID) string {
	return channel + "|" + string(r.Kind) + "|" + r.ID + "|" + conversationCode.String()
}

// Notification is what a Notifier delivers: one or more events for the
// same recipient and conversation (several when gathered into a digest),
// with the conversation and the messages the recipient has not read.
type Notification struct {
	// Key is the idempotency key: the ID of the first event. A receiver
	// that has seen Key before may drop the notification.
	Key          string
	Recipient    Party
	Events       []Event
	Conversation conversation.Conversation
	// Messages are the messages the notification is about, oldest first.
	Messages []message.Message
}

// Notifier delivers notifications (an email, a webhook, a push). Notify
// must be safe for concurrent use. An error means "not delivered": with the
// outbox, the delivery is tried again later.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// Func adapts a function to the Notifier interface.
type Func func(ctx context.Context, n Notification) error

// Notify calls f(ctx, n).
func (f Func) Notify(ctx context.Context, n Notification) error { return f(ctx, n) }

// Nop is a Notifier that does nothing: the default.
type Nop struct{}

// Notify does nothing and returns nil.
func (Nop) Notify(context.Context, Notification) error { return nil }

// Recorder is a Notifier that remembers every notification, for tests. Its
// zero value is ready to use and it is safe for concurrent use.
type Recorder struct {
	mu   sync.Mutex
	sent []Notification
	// Err, if set, is returned by Notify (after recording the attempt).
	Err error
}

// Notify records n and returns r.Err.
func (r *Recorder) Notify(_ context.Context, n Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, n)
	return r.Err
}

// Notifications returns a copy of everything recorded so far.
func (r *Recorder) Notifications() []Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Notification(nil), r.sent...)
}

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = nil
}
