package memory

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/notify"
)

// scanOutbox is the outbox as the memory store kept it before its heaps:
// every claim scans and sorts every pending event. It is the model the
// heaps are checked against, and the twin of the claim benchmark.
type scanOutbox struct {
	pending map[string]*eventRecord
}

func (o *scanOutbox) claim(p notify.ClaimParams) []notify.Event {
	var due []*eventRecord
	for _, r := range o.pending {
		if r.free(p.Now) && !r.ev.DueAt.After(p.Now) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b *eventRecord) int { return byDueThenID(a.ev, b.ev) })
	due = due[:min(len(due), max(p.Limit, 1))]
	claimed := due
	if p.Digest && len(due) > 0 {
		keys := make(map[string]bool, len(due))
		taken := make(map[string]bool, len(due))
		for _, r := range due {
			keys[r.ev.DigestKey] = true
			taken[r.ev.ID] = true
		}
		for _, r := range o.pending {
			if !taken[r.ev.ID] && keys[r.ev.DigestKey] && r.free(p.Now) {
				claimed = append(claimed, r)
			}
		}
	}
	out := make([]notify.Event, 0, len(claimed))
	for _, r := range claimed {
		r.claimedBy = p.Worker
		r.leaseUntil = p.Now.Add(p.Lease)
		r.ev.Attempts++
		out = append(out, r.ev)
	}
	slices.SortFunc(out, byDueThenID)
	return out
}

// TestOutbox_AgainstScan runs random outbox operations, with claim times
// that mostly move forward and sometimes back, on the store and on the
// scanning model, and requires the same claims.
func TestOutbox_AgainstScan(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	ctx := context.Background()
	s := New()
	model := &scanOutbox{pending: make(map[string]*eventRecord)}
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	workers := []string{"w1", "w2", "w3"}
	var held []notify.Event // claimed events, by any worker
	n := 0
	for step := range 1200 {
		switch op := r.IntN(10); {
		case op < 4: // new events, due around now
			for range r.IntN(4) + 1 {
				n++
				e := notify.Event{ID: fmt.Sprintf("e%06d", n), DigestKey: fmt.Sprintf("k%d", r.IntN(8)),
					DueAt: now.Add(time.Duration(r.IntN(60)-20) * time.Second), State: notify.StatePending}
				s.mu.Lock()
				s.addEvents([]notify.Event{e}, 1, 1)
				s.mu.Unlock()
				model.pending[e.ID] = &eventRecord{ev: s.events[e.ID].ev}
			}
		case op < 7: // a claim
			if r.IntN(5) == 0 {
				now = now.Add(-time.Duration(r.IntN(30)) * time.Second)
			} else {
				now = now.Add(time.Duration(r.IntN(20)) * time.Second)
			}
			p := notify.ClaimParams{Worker: workers[r.IntN(len(workers))], Now: now, Lease: time.Duration(r.IntN(40)+1) * time.Second,
				Limit: r.IntN(6) + 1, Digest: r.IntN(2) == 0}
			got, err := s.ClaimEvents(ctx, p)
			require.NoError(t, err)
			want := model.claim(p)
			require.Equal(t, want, got, "step %d: claim %+v", step, p)
			held = append(held, got...)
		case op < 9 && len(held) > 0: // the end of a delivery
			i := r.IntN(len(held))
			e := held[i]
			held = slices.Delete(held, i, i+1)
			mr := model.pending[e.ID]
			worker := workers[r.IntN(len(workers))]
			if r.IntN(3) > 0 && mr != nil {
				worker = mr.claimedBy // usually the holder
			}
			switch r.IntN(3) {
			case 0:
				require.NoError(t, s.CompleteEvents(ctx, worker, []string{e.ID}, now))
				if mr != nil && mr.claimedBy == worker {
					delete(model.pending, e.ID)
				}
			case 1:
				retry := now.Add(time.Duration(r.IntN(30)) * time.Second)
				require.NoError(t, s.FailEvent(ctx, worker, e.ID, "x", retry, false))
				if mr != nil && mr.claimedBy == worker {
					mr.ev.DueAt, mr.ev.LastError, mr.claimedBy, mr.leaseUntil = retry, "x", "", time.Time{}
				}
			default:
				require.NoError(t, s.FailEvent(ctx, worker, e.ID, "x", now, true))
				if mr != nil && mr.claimedBy == worker {
					delete(model.pending, e.ID)
					require.NoError(t, s.RetryDeadEvent(ctx, e.ID, now))
					mr.ev.DueAt, mr.ev.LastError, mr.ev.Attempts, mr.claimedBy, mr.leaseUntil = now, "x", 0, "", time.Time{}
					model.pending[e.ID] = mr
				}
			}
		}
		require.Len(t, s.pending.byID, len(model.pending), "step %d", step)
		require.Equal(t, len(model.pending), s.pending.ready.Len()+s.pending.leased.Len(), "step %d: each pending event in one heap", step)
	}
}
