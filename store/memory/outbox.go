package memory

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// eventRecord is a stored event and its claim.
type eventRecord struct {
	ev         notify.Event
	claimedBy  string
	leaseUntil time.Time

	// Where the record is among the pending events: in which heap, at
	// which index.
	in  *eventHeap
	idx int
}

// free reports whether no unexpired lease holds r at now.
func (r *eventRecord) free(now time.Time) bool { return r.claimedBy == "" || !r.leaseUntil.After(now) }

// eventHeap is a heap of pending event records (container/heap).
type eventHeap struct {
	recs []*eventRecord
	less func(a, b *eventRecord) bool
}

func (h *eventHeap) Len() int           { return len(h.recs) }
func (h *eventHeap) Less(i, j int) bool { return h.less(h.recs[i], h.recs[j]) }
func (h *eventHeap) Swap(i, j int) {
	h.recs[i], h.recs[j] = h.recs[j], h.recs[i]
	h.recs[i].idx, h.recs[j].idx = i, j
}

func (h *eventHeap) Push(x any) {
	r := x.(*eventRecord)
	r.in, r.idx = h, len(h.recs)
	h.recs = append(h.recs, r)
}

func (h *eventHeap) Pop() any {
	r := h.recs[len(h.recs)-1]
	h.recs[len(h.recs)-1] = nil
	h.recs = h.recs[:len(h.recs)-1]
	r.in, r.idx = nil, -1
	return r
}

// top returns the first record, or nil.
func (h *eventHeap) top() *eventRecord {
	if len(h.recs) == 0 {
		return nil
	}
	return h.recs[0]
}

func byDueThenID(a, b notify.Event) int {
	if c := a.DueAt.Compare(b.DueAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// pendingEvents are the pending events of the outbox, each in one of two
// heaps: ready, by (DueAt, ID), holds the events that no lease holds (or
// whose lease had expired when a claim looked); leased, by the end of
// their lease, holds the claimed ones. A claim moves the expired leases
// to ready and pops ready in claim order, so that it costs the events it
// claims (and the leases that expired), not a sort of every pending
// event. byDigest finds the pending events of a digest key.
type pendingEvents struct {
	byID     map[string]*eventRecord
	byDigest map[string]map[string]*eventRecord
	ready    *eventHeap
	leased   *eventHeap
}

func newPendingEvents() pendingEvents {
	return pendingEvents{
		byID:     make(map[string]*eventRecord),
		byDigest: make(map[string]map[string]*eventRecord),
		ready: &eventHeap{less: func(a, b *eventRecord) bool {
			return byDueThenID(a.ev, b.ev) < 0
		}},
		leased: &eventHeap{less: func(a, b *eventRecord) bool {
			if c := a.leaseUntil.Compare(b.leaseUntil); c != 0 {
				return c < 0
			}
			return a.ev.ID < b.ev.ID
		}},
	}
}

// add makes r pending, in the heap its claim puts it in.
func (p *pendingEvents) add(r *eventRecord) {
	p.byID[r.ev.ID] = r
	d := p.byDigest[r.ev.DigestKey]
	if d == nil {
		d = make(map[string]*eventRecord)
		p.byDigest[r.ev.DigestKey] = d
	}
	d[r.ev.ID] = r
	p.place(r)
}

// place pushes r into ready, or into leased if it is claimed.
func (p *pendingEvents) place(r *eventRecord) {
	if r.claimedBy == "" {
		heap.Push(p.ready, r)
	} else {
		heap.Push(p.leased, r)
	}
}

// unqueue takes r out of its heap.
func (p *pendingEvents) unqueue(r *eventRecord) {
	if r.in != nil {
		heap.Remove(r.in, r.idx)
	}
}

// remove makes r no longer pending.
func (p *pendingEvents) remove(r *eventRecord) {
	p.unqueue(r)
	delete(p.byID, r.ev.ID)
	if d := p.byDigest[r.ev.DigestKey]; d != nil {
		delete(d, r.ev.ID)
		if len(d) == 0 {
			delete(p.byDigest, r.ev.DigestKey)
		}
	}
}

// ClaimEvents implements notify.Outbox.
func (s *Store) ClaimEvents(ctx context.Context, p notify.ClaimParams) ([]notify.Event, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	q := &s.pending
	// Expired leases: their events are free again, in due order.
	for r := q.leased.top(); r != nil && !r.leaseUntil.After(p.Now); r = q.leased.top() {
		heap.Pop(q.leased)
		heap.Push(q.ready, r)
	}
	limit := max(p.Limit, 1)
	var due, held []*eventRecord
	for r := q.ready.top(); r != nil && len(due) < limit && !r.ev.DueAt.After(p.Now); r = q.ready.top() {
		heap.Pop(q.ready)
		if r.free(p.Now) {
			due = append(due, r)
		} else {
			// A lease found expired by a claim at a later time holds
			// at this one.
			held = append(held, r)
		}
	}
	for _, r := range held {
		heap.Push(q.ready, r)
	}

	claimed := due
	if p.Digest && len(due) > 0 {
		taken := make(map[string]bool, len(due))
		for _, r := range due {
			taken[r.ev.ID] = true
		}
		for _, r := range due {
			for id, o := range q.byDigest[r.ev.DigestKey] {
				if !taken[id] && o.free(p.Now) {
					taken[id] = true
					q.unqueue(o)
					claimed = append(claimed, o)
				}
			}
		}
	}
	out := make([]notify.Event, 0, len(claimed))
	for _, r := range claimed {
		r.claimedBy = p.Worker
		r.leaseUntil = p.Now.Add(p.Lease)
		r.ev.Attempts++
		heap.Push(q.leased, r)
		out = append(out, r.ev)
	}
	slices.SortFunc(out, byDueThenID)
	return out, nil
}

// claimedBy returns the pending event id if worker holds its claim.
func (s *Store) claimedBy(worker, id string) (*eventRecord, bool) {
	r, ok := s.pending.byID[id]
	if !ok || r.claimedBy != worker {
		return nil, false
	}
	return r, true
}

// CompleteEvents implements notify.Outbox.
func (s *Store) CompleteEvents(ctx context.Context, worker string, ids []string, now time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()

	for _, id := range ids {
		if r, ok := s.claimedBy(worker, id); ok {
			r.ev.State = notify.StateDone
			s.pending.remove(r)
		}
	}
	return nil
}

// FailEvent implements notify.Outbox.
func (s *Store) FailEvent(ctx context.Context, worker, id string, lastErr string, retryAt time.Time, dead bool) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()

	r, ok := s.claimedBy(worker, id)
	if !ok {
		return nil
	}
	r.ev.LastError = lastErr
	if dead {
		r.ev.State = notify.StateDead
		s.pending.remove(r)
		return nil
	}
	s.pending.unqueue(r)
	r.ev.DueAt = retryAt
	r.claimedBy, r.leaseUntil = "", time.Time{}
	s.pending.place(r)
	return nil
}

// ListDeadEvents implements notify.Outbox.
func (s *Store) ListDeadEvents(ctx context.Context, after string, limit int) ([]notify.Event, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	var dead []notify.Event
	for _, r := range s.events {
		if r.ev.State == notify.StateDead && r.ev.ID > after {
			dead = append(dead, r.ev)
		}
	}
	slices.SortFunc(dead, func(a, b notify.Event) int { return cmp.Compare(a.ID, b.ID) })
	return dead[:min(len(dead), max(limit, 1))], nil
}

// RetryDeadEvent implements notify.Outbox.
func (s *Store) RetryDeadEvent(ctx context.Context, id string, now time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()

	r, ok := s.events[id]
	if !ok || r.ev.State != notify.StateDead {
		return fmt.Errorf("memory: dead event %q: %w", id, store.ErrNotFound)
	}
	r.ev.State = notify.StatePending
	r.ev.DueAt = now
	r.ev.Attempts = 0
	r.claimedBy, r.leaseUntil = "", time.Time{}
	s.pending.add(r)
	return nil
}
