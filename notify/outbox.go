package notify

import (
	"context"
	"time"
)

// ClaimParams says which events a worker claims from an outbox.
type ClaimParams struct {
	// Worker names the claimer; only it may complete or fail the claim.
	Worker string
	// Now is the claim time: events with DueAt <= Now are due.
	Now time.Time
	// Lease is how long the claim holds. An event whose lease has run out
	// without being completed or failed (its worker died) is due again.
	Lease time.Duration
	// Limit is the most due events to claim (at least 1).
	Limit int
	// Digest, when true, also claims every other pending, unclaimed event
	// that shares a DigestKey with a claimed one, due or not, so that they
	// are delivered together.
	Digest bool
}

// Outbox is the durable queue of events that every store keeps. Events are
// added by the store's write methods, in the transaction of the change
// that causes them. Methods are safe for concurrent use by several workers
// and, on a shared database, several processes: an event is claimed by at
// most one worker at a time.
type Outbox interface {
	// ClaimEvents claims pending events whose DueAt has come and which are
	// not held by an unexpired lease, oldest DueAt first, increments their
	// Attempts and returns them.
	ClaimEvents(ctx context.Context, p ClaimParams) ([]Event, error)
	// CompleteEvents marks the events done at now (the time PruneEvents
	// compares with). Events not claimed by worker (their lease expired
	// and another worker took them) are left alone.
	CompleteEvents(ctx context.Context, worker string, ids []string, now time.Time) error
	// FailEvent records a failed delivery: the event is pending again and
	// due at retryAt, or dead if dead is true. lastErr is kept for
	// ListDeadEvents. An event not claimed by worker is left alone.
	FailEvent(ctx context.Context, worker, id string, lastErr string, retryAt time.Time, dead bool) error
	// ListDeadEvents returns up to limit dead events, oldest first, with
	// an ID greater than after ("" for the start).
	ListDeadEvents(ctx context.Context, after string, limit int) ([]Event, error)
	// RetryDeadEvent makes a dead event pending again, due at now, with
	// its attempts reset to zero. It returns store.ErrNotFound (wrapped)
	// if there is no dead event with that id.
	RetryDeadEvent(ctx context.Context, id string, now time.Time) error
	// DeleteDeadEvent deletes the dead event id, for good: an operator's
	// decision that it will never be delivered. It returns
	// store.ErrNotFound (wrapped) if there is no dead event with that id;
	// pending and done events are left alone.
	DeleteDeadEvent(ctx context.Context, id string) error
	// PruneEvents deletes up to limit done events that were completed
	// (by CompleteEvents) before before, those completed first first, and
	// returns how many it deleted. With DeleteDeadEvent it is the only
	// deletion of the outbox, and it is bounded: a caller pruning a large
	// backlog calls it again while it returns limit, so that no statement
	// holds its locks for long. Pending events (claimed or not) and dead
	// events are never pruned, whatever their age: a dead event stays
	// until RetryDeadEvent makes it pending and it is delivered, or
	// DeleteDeadEvent deletes it. A limit below 1 is an error and deletes
	// nothing.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)
}
