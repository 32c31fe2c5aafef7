package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/message"
)

// WaitLimits bound long polls.
type WaitLimits struct {
	// MaxWait caps how long one request waits; a negative MaxWait turns
	// waiting off (a wait parameter is accepted and ignored).
	MaxWait time.Duration
	// PerActor is how many requests of one actor may wait at once.
	PerActor int
	// Total is how many requests may wait at once in all.
	Total int
	// RetryAfter is the Retry-After of the 429 that answers a request
	// beyond PerActor or Total.
	RetryAfter time.Duration
	// Heartbeat is how often an event stream (Call.ServeEvents) with
	// nothing to send writes a comment; 0 means DefaultHeartbeat.
	Heartbeat time.Duration
}

// DefaultWaitLimits returns the limits a Handler uses when its Config has
// no Waits: 30 s per wait, 10 waits (long polls and event streams) per
// actor, 2,000 in all, retry after 5 s, a stream heartbeat every 15 s.
func DefaultWaitLimits() WaitLimits {
	return WaitLimits{MaxWait: 30 * time.Second, PerActor: 10, Total: 2000, RetryAfter: 5 * time.Second, Heartbeat: DefaultHeartbeat}
}

// Waits bounds and coalesces the long polls of the Handlers that share
// it. Requests waiting on the same conversation from the same message
// share one wait on the Service: when a message arrives, the store is
// read once for all of them, not once for each.
type Waits struct {
	limits WaitLimits

	mu       sync.Mutex
	total    int
	perActor map[string]int
	groups   map[waitKey]*waitGroup

	// The open event streams, for EndStreams; ended once it ran.
	streams map[*context.CancelFunc]struct{}
	ended   bool
}

// waitKey is what requests must share to share a wait.
type waitKey struct {
	svc          *parley.Service
	conversation int64
	after        int64
	limit        int
}

// waitGroup is one shared wait: done is closed when msgs and err are set.
type waitGroup struct {
	done    chan struct{}
	msgs    []message.Message
	err     error
	members int
	cancel  context.CancelFunc
}

// NewWaits returns Waits with the given limits; zero fields take
// DefaultWaitLimits' values.
func NewWaits(l WaitLimits) *Waits {
	d := DefaultWaitLimits()
	if l.MaxWait == 0 {
		l.MaxWait = d.MaxWait
	}
	if l.PerActor <= 0 {
		l.PerActor = d.PerActor
	}
	if l.Total <= 0 {
		l.Total = d.Total
	}
	if l.RetryAfter <= 0 {
		l.RetryAfter = d.RetryAfter
	}
	if l.Heartbeat <= 0 {
		l.Heartbeat = d.Heartbeat
	}
	return &Waits{limits: l, perActor: map[string]int{}, groups: map[waitKey]*waitGroup{}}
}

// Waiting returns how many requests wait now.
func (w *Waits) Waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.total
}

// Limits returns the limits in force.
func (w *Waits) Limits() WaitLimits { return w.limits }

// Acquire takes a wait slot for actor: it returns the function that gives
// it back, or a 429 Problem (with Retry-After) when the actor or the
// process already has as many waits as allowed. Streams and long polls
// take their slot with it.
func (w *Waits) Acquire(actor parley.Actor) (release func(), err error) {
	key := actor.String()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.total >= w.limits.Total || w.perActor[key] >= w.limits.PerActor {
		p := NewProblem(CodeTooManyWaits)
		p.RetryAfter = w.limits.RetryAfter
		return nil, p
	}
	w.total++
	w.perActor[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.total--
			if w.perActor[key]--; w.perActor[key] == 0 {
				delete(w.perActor, key)
			}
		})
	}, nil
}

// ParseWait reads a wait parameter in whole seconds ("" is no wait),
// capped at the Waits' MaxWait (0 when waiting is off). Anything but a
// non-negative integer is CodeInvalid naming field.
func (c *Call) ParseWait(field, v string) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	if !wire.Digits(v) {
		return 0, Invalid(field, "must be a whole number of seconds")
	}
	limit := max(c.h.cfg.Waits.limits.MaxWait, 0)
	v = strings.TrimLeft(v, "0")
	if len(v) > 6 { // a million seconds or more: capped like any other
		return limit, nil
	}
	n, _ := strconv.Atoi(v) // "" (all zeros) is 0
	return min(time.Duration(n)*time.Second, limit), nil
}

// WaitMessages returns up to limit messages of a conversation after the
// message after, oldest first, as the actor may read them: at once if
// there are some, else waiting up to wait for one (an empty list when the
// time is up). A waiting request takes a slot of the Waits (429 when none
// is free), extends the connection's write deadline past the wait, and
// shares the wait of the other requests for the same conversation and
// position.
func (c *Call) WaitMessages(svc *parley.Service, actor parley.Actor, conversationID, after int64, limit int, wait time.Duration) ([]message.Message, error) {
	ctx := c.R.Context()
	msgs, err := svc.Poll(ctx, actor, conversationID, after, limit)
	if err != nil || len(msgs) > 0 || wait <= 0 {
		return msgs, err
	}
	w := c.h.cfg.Waits
	release, err := w.Acquire(actor)
	if err != nil {
		return nil, err
	}
	defer release()
	_ = http.NewResponseController(c.W).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
	return w.wait(ctx, svc, actor, waitKey{svc: svc, conversation: conversationID, after: after, limit: limit}, wait)
}

// wait joins the shared wait for k, starting it if there is none, and
// leaves it when it ends, when wait passes (no messages, no error) or
// when ctx ends (ctx's error).
func (w *Waits) wait(ctx context.Context, svc *parley.Service, actor parley.Actor, k waitKey, wait time.Duration) ([]message.Message, error) {
	w.mu.Lock()
	g := w.groups[k]
	if g == nil {
		gctx, cancel := context.WithCancel(context.Background())
		g = &waitGroup{done: make(chan struct{}), cancel: cancel}
		w.groups[k] = g
		go func() {
			msgs, err := svc.Wait(gctx, actor, k.conversation, k.after, k.limit)
			w.mu.Lock()
			if w.groups[k] == g {
				delete(w.groups, k)
			}
			w.mu.Unlock()
			g.msgs, g.err = msgs, err
			close(g.done)
		}()
	}
	g.members++
	w.mu.Unlock()

	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-g.done:
		w.leave(k, g)
		if g.err != nil {
			return nil, g.err
		}
		return g.msgs, nil
	case <-timer.C:
		w.leave(k, g)
		return []message.Message{}, nil
	case <-ctx.Done():
		w.leave(k, g)
		return nil, ctx.Err()
	}
}

// leave takes a member out of g; the last one to leave ends its wait.
func (w *Waits) leave(k waitKey, g *waitGroup) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if g.members--; g.members > 0 {
		return
	}
	g.cancel()
	if w.groups[k] == g {
		delete(w.groups, k)
	}
}
