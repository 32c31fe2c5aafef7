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
//
// # Durable delivery
//
// With the outbox, a Worker (NewWorker; started by the program with
// Worker.Run, stopped by cancelling its context) delivers the events:
//
//   - each cycle it claims due events under a lease (Outbox.ClaimEvents),
//     builds one Notification per recipient and conversation, calls the
//     Notifier and marks the events done (Outbox.CompleteEvents);
//   - a failed Notify is retried after an exponential backoff with jitter;
//     after WorkerConfig.MaxAttempts attempts (or at once for an error
//     marked Permanent) the events are dead: Worker.DeadEvents lists them,
//     Worker.RetryDeadEvent makes one deliverable again;
//   - a worker that dies between sending and marking done loses its lease,
//     and another worker sends the notification again with the same Key:
//     delivery is at least once, and receivers drop repeats by Key;
//   - several workers, in one process or in several sharing a database,
//     never hold the same event at the same time.
//
// The worker never notifies about what the recipient has already read by
// the time of sending: Notification.Messages holds the messages of its
// events that come from the other side and have a Seq above the
// recipient's ReadSeq, and when none is left the events are marked done
// and nothing is sent.
//
// # Digests
//
// A digest takes two settings that should agree: the Service's
// DigestWindow option and WorkerConfig.DigestWindow. The Service sets each
// event's DueAt to its CreatedAt plus the window. A worker with a positive
// window claims with ClaimParams.Digest: when one event falls due, the
// later events of the same DigestKey (same recipient, same conversation)
// come with it, due or not, and all are delivered as one Notification
// whose Key is the ID of the oldest. A burst of messages thus makes one
// notification, one window after the burst's first message.
//
// A retry keeps the Key and the events of the failed attempt; events that
// arrive in between go out in a notification of their own, so a receiver
// that drops a Key it has seen never drops an event it has not seen.
//
// # Retention
//
// Done events are the only rows Parley deletes by itself. A Worker with
// WorkerConfig.KeepDone set (a week by default) deletes, in each cycle, up
// to PruneBatch events that were delivered longer than KeepDone ago
// (Outbox.PruneEvents, bounded so that no statement holds long locks);
// Worker.PruneDone deletes the whole backlog. Pending and dead events are
// never pruned: a dead event stays until an operator retries it
// (Worker.RetryDeadEvent) and it is delivered, then ages like any other,
// or deletes it (Worker.DeleteDeadEvent).
package notify

import (
	"context"
	"sync"
	"time"

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
	// notification: the producer (the parley Service) gives the events of
	// one recipient in one conversation the same key, and others other
	// keys. Its form is the producer's; workers and stores only compare
	// keys.
	DigestKey string

	// Outbox bookkeeping, maintained by the store.
	State     State
	Attempts  int
	LastError string
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
