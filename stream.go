package parley

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// EventKind is what an Event reports.
type EventKind string

// The kinds of events of a stream.
const (
	// EventStarted: a conversation was started (MessageID is its first
	// message, Side the side that started it).
	EventStarted EventKind = EventKind(store.ChangeStarted)
	// EventMessage: a message was posted (MessageID, Seq, Side of the
	// sender).
	EventMessage EventKind = EventKind(store.ChangeMessage)
	// EventRead: Side read the conversation up to MessageID (Seq). For
	// the other side it is a read receipt; for the same side, its read
	// state moved (on another device) and its unread counts changed.
	EventRead EventKind = EventKind(store.ChangeRead)
	// EventStatus: the conversation's status became Status (Side closed
	// or reopened it).
	EventStatus EventKind = EventKind(store.ChangeStatus)
	// EventReload: the stream could not resume after the position it was
	// asked for (the log no longer holds what came after it, or the
	// position is unknown). The client must reload what it shows (lists,
	// unread counts); the stream continues after Position.
	EventReload EventKind = "reload"
)

// Event is one change of a party's conversations, as a stream delivers
// it. Position orders a stream: a client that resumes after the Position
// of the last event it received (Last-Event-ID) misses nothing and gets
// nothing twice.
type Event struct {
	Position       int64
	Kind           EventKind
	ConversationID int64
	// The conversation's parties.
	UserID       string
	DataSourceID string
	// Side is the side that acted.
	Side      conversation.Side
	MessageID int64
	Seq       int64
	Status    conversation.Status
	At        time.Time
}

func eventOf(c store.ChangeEntry) Event {
	return Event{
		Position: c.Position, Kind: EventKind(c.Kind), ConversationID: c.ConversationID,
		UserID: c.UserID, DataSourceID: c.DataSourceID, Side: c.Side,
		MessageID: c.MessageID, Seq: c.Seq, Status: c.Status, At: c.At,
	}
}

// ErrNoChangeLog is returned by Stream when the store keeps no change log
// (store.ChangeLog); store/memory, store/sqlite and store/postgres do.
var ErrNoChangeLog = errors.New("parley: the store keeps no change log")

// Stream is one subscriber's view of the changes of the conversations its
// actor may see. Get it from Service.Stream; call Next until done, then
// Close. A Stream is used by one goroutine at a time.
type Stream struct {
	h     *streamHub
	query store.ChangeQuery // the actor's changes (After and Limit unused)
	keys  []string          // the hub keys that wake it
	wake  chan struct{}

	// pos is the position up to which the stream has scanned: every
	// change of its actor at or below pos is delivered or in pending.
	pos     int64
	pending []Event
	// last is the Position of the last event Next returned, or where
	// the stream started.
	last int64
	// verify: the first Next reads the store, to check that a resumed
	// position is still in the log.
	verify bool
	closed bool
}

// streamPage is how many changes one store read of a stream returns.
const streamPage = 256

// Stream subscribes the actor to the changes of every conversation it may
// see in its channel: a user's or a guest's own conversations, a seller's
// (its data source's), an integration's whole channel (or, acting on
// behalf of a party, that party's). Events are conversations started,
// messages posted, read positions moved (read receipts) and statuses
// changed, in the order of the store's change log.
//
// after is the Position of the last event the client received (an SSE
// client's Last-Event-ID): the stream resumes right after it. If the log
// no longer holds what followed (Service.TrimEvents removed it), or the
// position is beyond the log, the first event is EventReload. after 0
// starts with what happens from now on; Position then tells where that
// is.
//
// Waiting costs no store query: one goroutine per Service reads the log
// when this Service writes and, while the program runs Listen, when
// another process does, and wakes only the streams whose actor the change
// concerns. It needs a store with a change log (ErrNoChangeLog otherwise).
func (s *Service) Stream(ctx context.Context, a Actor, after int64) (*Stream, error) {
	if err := s.checkActor(a); err != nil {
		return nil, err
	}
	if after < 0 {
		return nil, &ValidationError{Field: FieldPosition, Reason: "must not be negative"}
	}
	if s.changes.log == nil {
		return nil, ErrNoChangeLog
	}
	q := store.ChangeQuery{Channel: a.channel}
	keys := []string{"c|" + a.channel}
	if p, ok := a.Sender(); ok {
		if p.Kind == message.SenderUser {
			q.UserID = p.ID
			keys = []string{"u|" + a.channel + "|" + p.ID}
		} else {
			q.DataSourceID = p.ID
			keys = []string{"d|" + a.channel + "|" + p.ID}
		}
	}
	st := &Stream{h: s.changes, query: q, keys: keys, wake: make(chan struct{}, 1), pos: after, verify: after > 0}
	if err := s.changes.add(ctx, st); err != nil {
		return nil, err
	}
	return st, nil
}

// Position returns the position the stream has reached: that of the last
// event Next returned or, before the first, where the stream starts.
// Resuming after it misses nothing.
func (st *Stream) Position() int64 {
	st.h.mu.Lock()
	defer st.h.mu.Unlock()
	return st.last
}

// Next returns the stream's next event, waiting for it until ctx ends
// (then it returns ctx's error). After Close it returns ErrStreamClosed.
func (st *Stream) Next(ctx context.Context) (Event, error) {
	for {
		h := st.h
		h.mu.Lock()
		switch {
		case st.closed:
			h.mu.Unlock()
			return Event{}, ErrStreamClosed
		case len(st.pending) > 0:
			ev := st.pending[0]
			st.pending = st.pending[1:]
			st.last = ev.Position
			h.mu.Unlock()
			return ev, nil
		case !st.verify && st.pos >= h.ringFrom:
			// The ring covers the stream (or the stream is ahead of the
			// hub, which a kick will bring up to it).
			if st.pos < h.head {
				st.fromRing()
			}
			if len(st.pending) > 0 {
				h.mu.Unlock()
				continue
			}
			h.mu.Unlock()
			select {
			case <-st.wake:
				continue
			case <-ctx.Done():
				return Event{}, ctx.Err()
			}
		}
		// Behind the ring (a slow stream, or a resumed one): read the
		// store.
		after := st.pos
		h.mu.Unlock()
		if err := st.fromStore(ctx, after); err != nil {
			return Event{}, err
		}
	}
}

// fromRing moves the ring's changes for the stream after its position to
// pending. The caller holds h.mu and has checked that the ring covers the
// position and that the hub is ahead of it.
func (st *Stream) fromRing() {
	h := st.h
	i, _ := slices.BinarySearchFunc(h.ring, st.pos+1, func(c store.ChangeEntry, p int64) int { return cmpInt(c.Position, p) })
	for _, c := range h.ring[i:] {
		if st.query.Selects(c) {
			st.pending = append(st.pending, eventOf(c))
		}
	}
	st.pos = h.head
}

// fromStore reads the stream's changes after after from the store's log.
func (st *Stream) fromStore(ctx context.Context, after int64) error {
	q := st.query
	q.After, q.Limit = after, streamPage
	page, err := st.h.log.Changes(ctx, q)
	if err != nil {
		return fmt.Errorf("parley: stream: %w", err)
	}
	h := st.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.closed || st.pos != after {
		return nil
	}
	st.verify = false
	if after < page.Horizon || after > page.Head {
		st.pending = append(st.pending, Event{Position: page.Head, Kind: EventReload})
		st.pos = page.Head
		return nil
	}
	for _, c := range page.Changes {
		st.pending = append(st.pending, eventOf(c))
	}
	if len(page.Changes) == streamPage {
		st.pos = page.Changes[len(page.Changes)-1].Position
	} else {
		st.pos = page.Head
	}
	return nil
}

// Close ends the stream: its Next returns ErrStreamClosed. Closing twice
// is fine.
func (st *Stream) Close() { st.h.remove(st) }

// ErrStreamClosed is returned by Stream.Next after Close.
var ErrStreamClosed = errors.New("parley: stream closed")

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// streamHub is the one reader of a Service's change log: while streams
// are open, a goroutine reads the log after its head whenever it is
// kicked (by this Service's writes and by Listen), keeps the newest
// changes in a ring, and wakes the streams they concern. Streams read
// the ring; only one that falls behind it (or resumes) reads the store.
type streamHub struct {
	log    store.ChangeLog // nil: the store keeps none
	logger *slog.Logger
	kick   chan struct{}

	mu       sync.Mutex
	streams  map[string]map[*Stream]struct{} // by key
	n        int
	gen      int // bumped at every start, so that a stopped reader changes nothing
	stop     context.CancelFunc
	ring     []store.ChangeEntry
	ringMax  int
	ringFrom int64 // every change after ringFrom, up to head, is in ring
	head     int64 // the reader has read the log up to head
}

// streamRing is how many changes a hub keeps for its streams.
const streamRing = 4096

func newStreamHub(st store.Store, logger *slog.Logger) *streamHub {
	h := &streamHub{logger: logger, kick: make(chan struct{}, 1), streams: map[string]map[*Stream]struct{}{}, ringMax: streamRing}
	h.log, _ = st.(store.ChangeLog)
	return h
}

// changed tells the hub that the log may have grown.
func (h *streamHub) changed() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// add registers st, starting the reader for the first stream.
func (h *streamHub) add(ctx context.Context, st *Stream) error {
	h.mu.Lock()
	if h.n == 0 {
		// Where the reader starts: the log's head, read now.
		h.mu.Unlock()
		page, err := h.log.Changes(ctx, store.ChangeQuery{})
		if err != nil {
			return fmt.Errorf("parley: stream: %w", err)
		}
		h.mu.Lock()
		if h.n == 0 {
			h.gen++
			h.head, h.ringFrom, h.ring = page.Head, page.Head, nil
			rctx, cancel := context.WithCancel(context.Background())
			h.stop = cancel
			go h.run(rctx, h.gen)
		}
	}
	defer h.mu.Unlock()
	h.n++
	if st.pos == 0 {
		st.pos = h.head
	}
	st.last = st.pos
	for _, k := range st.keys {
		if h.streams[k] == nil {
			h.streams[k] = map[*Stream]struct{}{}
		}
		h.streams[k][st] = struct{}{}
	}
	return nil
}

// remove unregisters st, stopping the reader after the last stream.
func (h *streamHub) remove(st *Stream) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if st.closed {
		return
	}
	st.closed = true
	st.pending = nil
	for _, k := range st.keys {
		delete(h.streams[k], st)
		if len(h.streams[k]) == 0 {
			delete(h.streams, k)
		}
	}
	if h.n--; h.n == 0 {
		h.stop()
		h.ring = nil
	}
}

// run reads the log at every kick until ctx ends, retrying failed reads.
func (h *streamHub) run(ctx context.Context, gen int) {
	const retryMin, retryMax = 50 * time.Millisecond, 5 * time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.kick:
		}
		for backoff := retryMin; ; backoff = min(2*backoff, retryMax) {
			err := h.read(ctx, gen)
			if err == nil || ctx.Err() != nil {
				break
			}
			h.logger.LogAttrs(ctx, slog.LevelError, "parley: stream: reading the change log failed", slog.Any("error", err))
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
	}
}

// read reads the log after the head, page by page, and wakes the streams
// of what it finds.
func (h *streamHub) read(ctx context.Context, gen int) error {
	for {
		h.mu.Lock()
		after := h.head
		h.mu.Unlock()
		page, err := h.log.Changes(ctx, store.ChangeQuery{After: after, Limit: streamPage})
		if err != nil {
			return err
		}
		h.mu.Lock()
		if h.gen != gen || h.head != after {
			h.mu.Unlock()
			return nil
		}
		woken := map[*Stream]struct{}{}
		for _, c := range page.Changes {
			h.ring = append(h.ring, c)
			for _, k := range [...]string{"c|" + c.Channel, "u|" + c.Channel + "|" + c.UserID, "d|" + c.Channel + "|" + c.DataSourceID} {
				for st := range h.streams[k] {
					woken[st] = struct{}{}
				}
			}
		}
		full := len(page.Changes) == streamPage
		if full {
			h.head = page.Changes[len(page.Changes)-1].Position
		} else {
			h.head = max(h.head, page.Head)
		}
		if over := len(h.ring) - h.ringMax; over > 0 {
			h.ringFrom = h.ring[over-1].Position
			h.ring = slices.Delete(h.ring, 0, over)
		}
		h.mu.Unlock()
		for st := range woken {
			select {
			case st.wake <- struct{}{}:
			default:
			}
		}
		if !full {
			return nil
		}
	}
}

// TrimEvents removes from the store's change log what was logged before
// before, and returns how many changes it removed. A stream that resumes
// from a position they covered starts with EventReload. Programs call it
// now and then (the log otherwise grows with every write).
func (s *Service) TrimEvents(ctx context.Context, before time.Time) (int64, error) {
	if s.changes.log == nil {
		return 0, ErrNoChangeLog
	}
	n, err := s.changes.log.TrimChanges(ctx, before.UTC().Truncate(store.TimePrecision))
	if err != nil {
		return 0, fmt.Errorf("parley: trim events: %w", err)
	}
	return n, nil
}
