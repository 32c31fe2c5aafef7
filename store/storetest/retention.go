package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// prune calls PruneEvents, failing the test on error.
func (h *harness) prune(before time.Time, limit int) int {
	h.t.Helper()
	n, err := h.s.PruneEvents(h.ctx, before, limit)
	require.NoError(h.t, err)
	return n
}

// doneAt claims evs and completes each at its own time, one microsecond
// apart from at on (in the order of evs).
func (h *harness) doneAt(at time.Time, evs []notify.Event) {
	h.t.Helper()
	require.Len(h.t, h.claim("finisher", at, time.Hour, len(evs), false), len(evs))
	for i, e := range evs {
		require.NoError(h.t, h.s.CompleteEvents(h.ctx, "finisher", []string{e.ID}, at.Add(time.Duration(i)*time.Microsecond)))
	}
}

func (f factory) testPruneEvents(t *testing.T) {
	t.Run("OnlyDoneBeforeTheTime", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := claimOrder(h.storeEvents(due{now, "k1"}, due{now, "k2"}, due{now, "k3"}, due{now, "k4"}, due{now, "k5"})...)
		require.Len(t, h.claim(workerA, now, time.Hour, 10, false), 5)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[0].ID}, now))
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[1].ID}, now.Add(time.Minute)))
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[2].ID}, now.Add(2*time.Minute)))
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[3].ID, "gave up", now, true))
		// evs[4] stays pending, held by workerA.

		require.Equal(t, 2, h.prune(now.Add(2*time.Minute), 10), "done before the time: not at it")
		require.Equal(t, 0, h.prune(now.Add(2*time.Minute), 10), "already gone")
		require.Equal(t, 1, h.prune(now.Add(24*time.Hour), 10), "the last done event")
		require.Equal(t, 0, h.prune(now.Add(1000*time.Hour), 10), "dead and pending events are never pruned")

		dead := evs[3]
		dead.State, dead.LastError, dead.Attempts = notify.StateDead, "gave up", 1
		requireEvents(t, []notify.Event{dead}, h.dead(), "the dead event is kept")
		requireEvents(t, attempted(2, evs[4]), h.claim(workerB, now.Add(2*time.Hour), time.Minute, 10, false),
			"the pending event is kept")
	})

	t.Run("OldestFirstInBoundedBatches", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := claimOrder(h.storeEvents(due{now, "a"}, due{now, "b"}, due{now, "c"}, due{now, "d"}, due{now, "e"})...)
		h.doneAt(now, evs) // evs[i] done at now + i µs
		require.Equal(t, 2, h.prune(now.Add(time.Hour), 2), "at most limit")
		// Had the batch not taken the two oldest, more than one event
		// would be done before now+3µs.
		require.Equal(t, 1, h.prune(now.Add(3*time.Microsecond), 10), "the oldest two went first")
		require.Equal(t, 2, h.prune(now.Add(time.Hour), 2))
		require.Equal(t, 0, h.prune(now.Add(time.Hour), 2))
	})

	t.Run("RetriedDeadEvent", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		dead := h.kill(now, h.storeEvents(due{now, "k"}))
		require.Equal(t, 0, h.prune(now.Add(time.Hour), 10))
		require.NoError(t, h.s.RetryDeadEvent(h.ctx, dead[0].ID, now))
		h.doneAt(now.Add(time.Minute), dead)
		require.Equal(t, 0, h.prune(now.Add(time.Minute), 10), "completed at its completion time, not before")
		require.Equal(t, 1, h.prune(now.Add(time.Hour), 10), "once delivered, a retried event ages like any other")
	})

	t.Run("BadLimit", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		h.doneAt(now, h.storeEvents(due{now, "k"}))
		for _, limit := range []int{0, -1} {
			_, err := h.s.PruneEvents(h.ctx, now.Add(time.Hour), limit)
			require.Error(t, err, "limit %d", limit)
		}
		require.Equal(t, 1, h.prune(now.Add(time.Hour), 10), "a refused call deleted nothing")
	})

	t.Run("Concurrent", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		var specs []due
		for i := range 60 {
			specs = append(specs, due{now, string(rune('a' + i%26))})
		}
		evs := h.storeEvents(specs...)
		require.Len(t, h.claim(workerA, now, time.Hour, len(evs), false), len(evs))
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, eventIDs(evs), now))
		var total atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					n, err := h.s.PruneEvents(h.ctx, now.Add(time.Hour), 3)
					if err != nil {
						t.Error(err)
						return
					}
					total.Add(int64(n))
					if n == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		require.Equal(t, 0, h.prune(now.Add(time.Hour), 100))
		require.EqualValues(t, len(evs), total.Load(), "every done event deleted once, and counted once")
	})
}

func (f factory) testDeleteDeadEvent(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		dead := h.kill(now, h.storeEvents(due{now, "k1"}, due{now, "k2"}))
		require.NoError(t, h.s.DeleteDeadEvent(h.ctx, dead[0].ID))
		requireEvents(t, dead[1:], h.dead(), "the other dead event is kept")
		require.ErrorIs(t, h.s.DeleteDeadEvent(h.ctx, dead[0].ID), store.ErrNotFound, "gone")
		require.ErrorIs(t, h.s.RetryDeadEvent(h.ctx, dead[0].ID, now), store.ErrNotFound, "gone for good")
		require.Empty(t, h.claim(workerA, now.Add(time.Hour), time.Minute, 10, false))
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := claimOrder(h.storeEvents(due{now, "k1"}, due{now, "k2"})...)
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 2)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[0].ID}, now))
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[1].ID, "later", now, false))
		for name, id := range map[string]string{"unknown": "no-such-event", "done": evs[0].ID, "pending": evs[1].ID} {
			require.ErrorIs(t, h.s.DeleteDeadEvent(h.ctx, id), store.ErrNotFound, name)
		}
		want := evs[1]
		want.LastError, want.Attempts = "later", 2
		requireEvents(t, []notify.Event{want}, h.claim(workerB, now, time.Minute, 10, false), "the pending event is untouched")
		require.Equal(t, 1, h.prune(now.Add(time.Hour), 10), "the done event is untouched")
	})
}
