package notify

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	randv2 "math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// timePrecision is the precision at which stores keep times
// (store.TimePrecision; package notify does not import package store).
const timePrecision = time.Microsecond

// maxLastError is the longest error text the worker records with an event.
const maxLastError = 1024

// Source is where the worker reads the conversation and the messages of a
// notification. Every store.Store satisfies it; the worker does not need
// anything else from a store but its Outbox.
type Source interface {
	// GetConversation returns the conversation with the given id.
	GetConversation(ctx context.Context, id int64) (conversation.Conversation, error)
	// MessagesAfter returns up to q.Limit messages of a conversation with
	// an ID greater than q.ID and a Seq greater than q.Seq, oldest first,
	// in one indexed read (see store.Store.MessagesAfter).
	MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error)
}

// WorkerConfig configures a Worker. Start from DefaultWorkerConfig and
// change what you need; NewWorker checks it with Validate. The function
// and logger fields may be left nil.
type WorkerConfig struct {
	// Name identifies the worker in the outbox's claims. Every worker
	// sharing an outbox needs its own name; "" means a random one.
	Name string
	// PollInterval is how long Run waits after a cycle that found less
	// than a full batch.
	PollInterval time.Duration
	// BatchSize is the most due events claimed per cycle (events pulled
	// into a digest come on top).
	BatchSize int
	// Lease is how long a claim holds. It must be longer than
	// NotifyTimeout: the worker does not start a delivery that could
	// outlast its lease, and releases what it could not send in time.
	Lease time.Duration
	// NotifyTimeout bounds the delivery of each notification (reading its
	// messages and calling Notifier.Notify) and, separately, the outbox
	// writes that record the outcome.
	NotifyTimeout time.Duration
	// MaxAttempts is how many deliveries of an event are tried before it
	// is dead.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the wait before a retry: the n-th
	// failed attempt waits BackoffBase * 2^(n-1), at most BackoffMax,
	// passed through Jitter.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Jitter spreads retries of events that failed together. It receives
	// the computed wait and returns the wait to use. nil: a random wait
	// between half the computed wait and all of it.
	Jitter func(d time.Duration) time.Duration
	// DigestWindow, when positive, turns digests on: a claim also takes
	// the not-yet-due events of the same recipient and conversation, and
	// they are delivered as one Notification. The Service delays each
	// event's DueAt by its own digest window; see the package doc.
	DigestWindow time.Duration
	// KeepDone is how long delivered (done) events are kept: each cycle
	// of Run deletes up to PruneBatch done events completed longer than
	// KeepDone ago (see Outbox.PruneEvents; PruneDone deletes them all).
	// Dead and pending events are never deleted. Zero keeps done events
	// for ever.
	KeepDone time.Duration
	// PruneBatch is the most done events one statement deletes, so that
	// pruning a backlog never holds long locks.
	PruneBatch int
	// Now is the clock. nil: time.Now.
	Now func() time.Time
	// Logger receives the worker's log. nil: logs are discarded.
	Logger *slog.Logger
	// OnDead, if set, is called with each event the worker marks dead
	// (after the outbox accepted it: if the worker's lease had run out and
	// another worker held the event, the outbox left it alone and OnDead
	// may report an event that is not dead).
	OnDead func(ctx context.Context, e Event)
}

// DefaultWorkerConfig returns the default configuration:
//
//	Name           a random name ("worker-" and 16 hex digits)
//	PollInterval   1s: an idle worker looks for due events every second
//	BatchSize      100 events claimed per cycle
//	Lease          2m: a claim a crashed worker held is taken over after 2 minutes
//	NotifyTimeout  30s per delivery (well within the lease)
//	MaxAttempts    10 deliveries, then the event is dead
//	BackoffBase    10s, doubling after each failure (10s, 20s, 40s, ...)
//	BackoffMax     1h: no retry waits longer; the 9 waits of 10 attempts sum to at most 1h25m10s
//	Jitter         nil: a random wait between half the computed one and all of it
//	DigestWindow   0: digests off, one notification per event
//	Now            nil: time.Now
//	Logger         nil: logs discarded
//	OnDead         nil
func DefaultWorkerConfig() WorkerConfig {
	return WorkerConfig{
		Name:          randomName(),
		PollInterval:  time.Second,
		BatchSize:     100,
		Lease:         2 * time.Minute,
		NotifyTimeout: 30 * time.Second,
		MaxAttempts:   10,
		BackoffBase:   10 * time.Second,
		BackoffMax:    time.Hour,
		KeepDone:      7 * 24 * time.Hour,
		PruneBatch:    1000,
	}
}

// ErrInvalidConfig is returned (wrapped) by WorkerConfig.Validate and
// NewWorker for an unusable configuration. Check it with errors.Is.
var ErrInvalidConfig = errors.New("notify: invalid worker config")

// Validate reports every problem of c at once, wrapped in
// ErrInvalidConfig.
func (c WorkerConfig) Validate() error {
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(c.PollInterval > 0, "PollInterval must be positive")
	check(c.BatchSize >= 1, "BatchSize must be at least 1")
	check(c.NotifyTimeout > 0, "NotifyTimeout must be positive")
	check(c.Lease > c.NotifyTimeout, "Lease must be longer than NotifyTimeout")
	check(c.MaxAttempts >= 1, "MaxAttempts must be at least 1")
	check(c.BackoffBase > 0, "BackoffBase must be positive")
	check(c.BackoffMax >= c.BackoffBase, "BackoffMax must be at least BackoffBase")
	check(c.DigestWindow >= 0, "DigestWindow must not be negative")
	check(c.KeepDone >= 0, "KeepDone must not be negative")
	check(c.KeepDone == 0 || c.PruneBatch >= 1, "PruneBatch must be at least 1 when KeepDone is set")
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// Worker delivers the events of an Outbox to a Notifier: at least once,
// with retries and backoff, never holding an event another worker holds.
// See the package doc.
//
// A notification carries the messages of its own events that the
// recipient has not read when it is sent (Seq above the recipient's
// ReadSeq, written by the other side), oldest first; other unread messages
// of the conversation were the subject of earlier notifications and are
// not repeated. The worker reads them through its Source with indexed
// reads that start after the recipient's read position or at the first
// message of its events, whichever is later, and stop at the last: what
// it reads does not grow with the length of the conversation.
//
// A Worker is safe for concurrent use, but one Run at a time per worker
// name is what the outbox expects.
type Worker struct {
	outbox   Outbox
	src      Source
	notifier Notifier
	cfg      WorkerConfig
	log      *slog.Logger
}

// NewWorker returns a worker that claims events from outbox, reads the
// conversations and messages they are about from src and hands
// notifications to n. In a program, outbox and src are the same store.
func NewWorker(outbox Outbox, src Source, n Notifier, cfg WorkerConfig) (*Worker, error) {
	if outbox == nil || src == nil || n == nil {
		return nil, fmt.Errorf("%w: outbox, source and notifier are required", ErrInvalidConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Name == "" {
		cfg.Name = randomName()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Jitter == nil {
		cfg.Jitter = equalJitter
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With(slog.String("worker", cfg.Name))
	return &Worker{outbox: outbox, src: src, notifier: n, cfg: cfg, log: log}, nil
}

// Name returns the worker's name, as recorded in its claims.
func (w *Worker) Name() string { return w.cfg.Name }

// Run delivers events until ctx is done, then returns nil. A cycle that
// fills its batch is followed by another at once; otherwise Run waits
// PollInterval. Errors of a cycle (the store is unreachable) are logged
// and the next cycle tries again.
func (w *Worker) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		}
		res, err := w.cycle(ctx)
		if err != nil && ctx.Err() == nil {
			w.log.ErrorContext(ctx, "notify: delivery cycle failed", slog.Any("error", err))
		}
		wait := w.cfg.PollInterval
		if err == nil && res.claimed >= w.cfg.BatchSize {
			wait = 0
		}
		timer.Reset(wait)
	}
}

// RunOnce runs one delivery cycle: it claims due events, delivers them and
// records the outcome in the outbox. It returns how many notifications
// were delivered. A failed delivery is not an error of RunOnce (it is
// recorded in the outbox for a retry); errors of the outbox and of ctx
// are.
func (w *Worker) RunOnce(ctx context.Context) (delivered int, err error) {
	res, err := w.cycle(ctx)
	return res.delivered, err
}

// DeadEvents returns up to limit dead events with an ID greater than after
// ("" for the start), oldest first: a thin wrapper over
// Outbox.ListDeadEvents.
func (w *Worker) DeadEvents(ctx context.Context, after string, limit int) ([]Event, error) {
	return w.outbox.ListDeadEvents(ctx, after, limit)
}

// RetryDeadEvent makes the dead event id deliverable again, now (by the
// worker's clock), with a fresh set of attempts: a thin wrapper over
// Outbox.RetryDeadEvent.
func (w *Worker) RetryDeadEvent(ctx context.Context, id string) error {
	return w.outbox.RetryDeadEvent(ctx, id, w.now())
}

// DeleteDeadEvent deletes the dead event id for good: a thin wrapper over
// Outbox.DeleteDeadEvent.
func (w *Worker) DeleteDeadEvent(ctx context.Context, id string) error {
	return w.outbox.DeleteDeadEvent(ctx, id)
}

// PruneDone deletes every done event completed more than KeepDone ago (by
// the worker's clock), PruneBatch at a time, and returns how many it
// deleted. Run does the same a batch per cycle; PruneDone is for a
// program that stopped its workers or turned KeepDone on after a backlog
// grew. With KeepDone zero it deletes nothing.
func (w *Worker) PruneDone(ctx context.Context) (int, error) {
	if w.cfg.KeepDone == 0 {
		return 0, nil
	}
	before := w.now().Add(-w.cfg.KeepDone)
	total := 0
	for {
		n, err := w.outbox.PruneEvents(ctx, before, w.cfg.PruneBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("notify: prune done events: %w", err)
		}
		if n < w.cfg.PruneBatch {
			return total, nil
		}
	}
}

// permanentError marks an error that no retry can cure.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks err as an error that retrying cannot cure (a malformed
// address, a header that would be injected). A Worker marks the events of
// a notification whose Notify returned such an error dead at once. It
// returns nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

type cycleResult struct {
	claimed   int
	delivered int
}

// group is the events delivered as one notification.
type group struct {
	events   []Event // sorted by ID: events[0].ID is the notification Key
	attempts int     // the highest Attempts among events
}

func (w *Worker) cycle(ctx context.Context) (cycleResult, error) {
	var res cycleResult
	now := w.now()
	events, err := w.outbox.ClaimEvents(ctx, ClaimParams{
		Worker: w.cfg.Name,
		Now:    now,
		Lease:  w.cfg.Lease,
		Limit:  w.cfg.BatchSize,
		Digest: w.cfg.DigestWindow > 0,
	})
	if err != nil {
		return res, fmt.Errorf("notify: claim events: %w", err)
	}
	res.claimed = len(events)
	if w.cfg.KeepDone > 0 {
		if _, err := w.outbox.PruneEvents(ctx, now.Add(-w.cfg.KeepDone), w.cfg.PruneBatch); err != nil {
			// Pruning is housekeeping: deliveries go on, the next
			// cycle prunes again.
			w.log.ErrorContext(ctx, "notify: pruning done events failed", slog.Any("error", err))
		}
	}
	leaseUntil := now.Add(w.cfg.Lease)
	groups := w.group(events)
	var errs []error
	for i, g := range groups {
		if ctx.Err() != nil || w.now().Add(w.cfg.NotifyTimeout).After(leaseUntil) {
			reason := "delivery cycle stopped before this event was sent"
			if ctx.Err() != nil {
				reason = "worker stopped before this event was sent: " + ctx.Err().Error()
			}
			errs = append(errs, w.release(ctx, groups[i:], reason))
			break
		}
		sent, err := w.deliver(ctx, g)
		if sent {
			res.delivered++
		}
		errs = append(errs, err)
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return res, errors.Join(errs...)
}

// group splits claimed events into notifications. Without digests each
// event is its own notification. With digests, events of one DigestKey go
// together, except that events are only grouped with events of the same
// delivery history (same Attempts, same failed-before state): the events
// of an attempt stay together on every retry, and an event that arrives
// after an attempt goes out on its own, so that a receiver that drops a
// Key it has seen never drops an event it has not seen.
func (w *Worker) group(events []Event) []group {
	digest := w.cfg.DigestWindow > 0
	type gkey struct {
		digest       string
		conversation int64 // the DigestKey says it; the store's ids make sure
		recipient    Party
		attempts     int
		failed       bool
	}
	var groups []group
	index := map[gkey]int{}
	for _, e := range events {
		if !digest || e.DigestKey == "" {
			groups = append(groups, group{events: []Event{e}, attempts: e.Attempts})
			continue
		}
		k := gkey{e.DigestKey, e.ConversationID, e.Recipient, e.Attempts, e.LastError != ""}
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, group{})
		}
		groups[i].events = append(groups[i].events, e)
		groups[i].attempts = max(groups[i].attempts, e.Attempts)
	}
	for _, g := range groups {
		slices.SortFunc(g.events, func(a, b Event) int { return cmp.Compare(a.ID, b.ID) })
	}
	return groups
}

// deliver builds and sends the notification of g and records the outcome.
// sent reports a successful Notify; err is an outbox error.
func (w *Worker) deliver(ctx context.Context, g group) (sent bool, err error) {
	key := g.events[0].ID
	log := w.log.With(slog.String("key", key), slog.Int("events", len(g.events)))

	nctx, cancel := context.WithTimeout(ctx, w.cfg.NotifyTimeout)
	defer cancel()
	n, ok, err := w.build(nctx, g)
	if err != nil {
		log.WarnContext(ctx, "notify: cannot build notification", slog.Any("error", err))
		return false, w.fail(ctx, g, err)
	}
	if !ok {
		log.DebugContext(ctx, "notify: nothing unread left, not sent")
		return false, w.complete(ctx, g)
	}
	if err := w.notifier.Notify(nctx, n); err != nil {
		log.WarnContext(ctx, "notify: delivery failed", slog.Int("attempt", g.attempts), slog.Any("error", err))
		return false, w.fail(ctx, g, err)
	}
	log.DebugContext(ctx, "notify: delivered", slog.Int("messages", len(n.Messages)))
	return true, w.complete(ctx, g)
}

// bookkeeping returns the context of the outbox writes that follow a
// delivery: they are done even when ctx was cancelled meanwhile (a
// notification that was sent is marked done on shutdown), within
// NotifyTimeout.
func (w *Worker) bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), w.cfg.NotifyTimeout)
}

func (w *Worker) complete(ctx context.Context, g group) error {
	bctx, cancel := w.bookkeeping(ctx)
	defer cancel()
	ids := make([]string, len(g.events))
	for i, e := range g.events {
		ids[i] = e.ID
	}
	if err := w.outbox.CompleteEvents(bctx, w.cfg.Name, ids, w.now()); err != nil {
		return fmt.Errorf("notify: complete events %v: %w", ids, err)
	}
	return nil
}

// fail records a failed delivery of g: a retry after the backoff, or dead
// once the attempts are used up or the error is permanent. A failure
// caused by the worker's own context ending never kills an event.
func (w *Worker) fail(ctx context.Context, g group, cause error) error {
	now := w.now()
	stopping := ctx.Err() != nil
	dead := !stopping && (g.attempts >= w.cfg.MaxAttempts || IsPermanent(cause))
	retryAt := now
	if !stopping {
		retryAt = now.Add(w.backoff(g.attempts))
	}
	return w.failGroup(ctx, g, truncateError(cause.Error()), retryAt, dead)
}

// release gives back, due now, the claimed groups the cycle did not get to.
func (w *Worker) release(ctx context.Context, groups []group, reason string) error {
	var errs []error
	now := w.now()
	for _, g := range groups {
		errs = append(errs, w.failGroup(ctx, g, reason, now, false))
	}
	return errors.Join(errs...)
}

func (w *Worker) failGroup(ctx context.Context, g group, lastErr string, retryAt time.Time, dead bool) error {
	bctx, cancel := w.bookkeeping(ctx)
	defer cancel()
	retryAt = retryAt.UTC().Truncate(timePrecision)
	var errs []error
	for _, e := range g.events {
		if err := w.outbox.FailEvent(bctx, w.cfg.Name, e.ID, lastErr, retryAt, dead); err != nil {
			errs = append(errs, fmt.Errorf("notify: fail event %s: %w", e.ID, err))
			continue
		}
		if dead {
			e.State, e.LastError = StateDead, lastErr
			w.log.ErrorContext(ctx, "notify: event is dead", slog.String("event", e.ID),
				slog.Int("attempts", e.Attempts), slog.String("error", lastErr))
			if w.cfg.OnDead != nil {
				w.cfg.OnDead(bctx, e)
			}
		}
	}
	return errors.Join(errs...)
}

// backoff returns the wait after the given failed attempt (1 for the
// first).
func (w *Worker) backoff(attempt int) time.Duration {
	d := w.cfg.BackoffBase
	for i := 1; i < attempt && d < w.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.BackoffMax)
	return max(w.cfg.Jitter(d), 0)
}

// build reads the conversation and the unread messages of g. ok is false
// when the recipient has read every message of g: there is nothing to send.
func (w *Worker) build(ctx context.Context, g group) (n Notification, ok bool, err error) {
	first := g.events[0]
	conv, err := w.src.GetConversation(ctx, first.ConversationID)
	if err != nil {
		return n, false, fmt.Errorf("get conversation %d: %w", first.ConversationID, err)
	}
	msgs, err := w.unread(ctx, conv, first.Recipient, g.events)
	if err != nil {
		return n, false, err
	}
	if len(msgs) == 0 {
		return n, false, nil
	}
	return Notification{
		Key:          first.ID,
		Recipient:    first.Recipient,
		Events:       g.events,
		Conversation: conv,
		Messages:     msgs,
	}, true, nil
}

// maxReadPage is the most messages the worker reads per call.
const maxReadPage = 100

// unread returns the messages of events that recipient has not read in
// conv (Seq > its ReadSeq) and that come from the other side, Seq
// ascending. It reads the messages after the recipient's read position,
// starting at the first message of events and stopping at the last, in
// pages of as many messages as it looks for, doubling up to maxReadPage
// while other messages lie between them.
func (w *Worker) unread(ctx context.Context, conv conversation.Conversation, recipient Party, events []Event) ([]message.Message, error) {
	want := make(map[int64]bool, len(events))
	var first, last int64
	for _, e := range events {
		if e.MessageID == 0 {
			continue
		}
		want[e.MessageID] = true
		if first == 0 || e.MessageID < first {
			first = e.MessageID
		}
		last = max(last, e.MessageID)
	}
	if len(want) == 0 {
		return nil, nil
	}
	// Within a conversation ids grow with Seq: the messages of events
	// lie between first and last.
	q := message.After{
		ConversationID: conv.ID,
		ID:             first - 1,
		Seq:            conv.Read(conversation.Side(recipient.Kind)).ReadSeq,
		Limit:          min(len(want), maxReadPage),
	}
	var out []message.Message
	for len(want) > 0 {
		page, err := w.src.MessagesAfter(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("read messages of conversation %d: %w", conv.ID, err)
		}
		for _, m := range page {
			if want[m.ID] {
				delete(want, m.ID)
				if m.Sender.Kind != recipient.Kind {
					out = append(out, m)
				}
			}
		}
		if len(page) < q.Limit || page[len(page)-1].ID >= last {
			break // the end of the conversation, or past the events
		}
		q.ID, q.Limit = page[len(page)-1].ID, min(2*q.Limit, maxReadPage)
	}
	return out, nil
}

func (w *Worker) now() time.Time { return w.cfg.Now().UTC().Truncate(timePrecision) }

// equalJitter returns a random duration in [d/2, d].
func equalJitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	half := d / 2
	return half + randv2.N(d-half+1)
}

func randomName() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return "worker-" + hex.EncodeToString(b[:])
}

func truncateError(s string) string {
	if len(s) <= maxLastError {
		return s
	}
	return strings.ToValidUTF8(s[:maxLastError], "") // drops a rune cut in two
}
