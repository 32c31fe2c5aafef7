package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// due describes an event of the outbox tests: when it is due and its
// digest key.
type due struct {
	at  time.Time
	key string
}

// storeEvents stores a new conversation whose first message carries one
// event per spec, and returns the events as stored: ids set, pending, not
// attempted yet.
func (h *harness) storeEvents(specs ...due) []notify.Event {
	h.t.Helper()
	p := h.createParams(h.draft())
	p.Events = nil
	for _, s := range specs {
		e := h.event(p.Conversation, conversation.SideUser, p.Conversation.CreatedAt)
		e.DueAt, e.DigestKey = s.at, s.key
		p.Events = append(p.Events, e)
	}
	res, err := h.s.CreateConversation(h.ctx, p)
	require.NoError(h.t, err)
	return stored(p.Events, res.Conversation.ID, res.Message.ID, 0)
}

// claim claims events, failing the test on error.
func (h *harness) claim(worker string, now time.Time, lease time.Duration, limit int, digest bool) []notify.Event {
	h.t.Helper()
	evs, err := h.s.ClaimEvents(h.ctx, notify.ClaimParams{Worker: worker, Now: now, Lease: lease, Limit: limit, Digest: digest})
	require.NoError(h.t, err)
	for _, e := range evs {
		requireUTC(h.t, "event "+e.ID, e.CreatedAt, e.DueAt)
		require.Equal(h.t, notify.StatePending, e.State, "a claimed event is pending")
	}
	return evs
}

// dead lists every dead event.
func (h *harness) dead() []notify.Event {
	h.t.Helper()
	evs, err := h.s.ListDeadEvents(h.ctx, "", 100000)
	require.NoError(h.t, err)
	return evs
}

// attempted returns a copy of evs as claimed for the n-th time.
func attempted(n int, evs ...notify.Event) []notify.Event {
	out := slices.Clone(evs)
	for i := range out {
		out[i].Attempts = n
	}
	return out
}

// claimOrder sorts a copy of evs by (DueAt, ID), the order of a claim.
func claimOrder(evs ...notify.Event) []notify.Event {
	out := slices.Clone(evs)
	slices.SortFunc(out, func(a, b notify.Event) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return compareStrings(a.ID, b.ID)
	})
	return out
}

const (
	workerA = "worker-a"
	workerB = "worker-b"
	workerC = "worker-c"
)

func (f factory) testClaimEvents(t *testing.T) {
	t.Run("Due", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(
			due{now.Add(-2 * time.Second), "k1"},
			due{now.Add(-time.Second), "k2"},
			due{now, "k3"},
			due{now.Add(time.Microsecond), "k4"},
		)
		requireEvents(t, attempted(1, evs[:3]...), h.claim(workerA, now, time.Minute, 10, false), "due at or before Now")
		require.Empty(t, h.claim(workerB, now, time.Minute, 10, false), "leased events are not claimed again")
		requireEvents(t, attempted(1, evs[3]), h.claim(workerB, now.Add(time.Microsecond), time.Minute, 10, false))
		require.Empty(t, h.claim(workerC, now.Add(time.Second), time.Minute, 10, false))
	})

	t.Run("Order", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		// Ids increase in this order; DueAt does not.
		evs := h.storeEvents(
			due{now.Add(-time.Second), "k"},
			due{now.Add(-3 * time.Second), "k"},
			due{now.Add(-time.Second), "k"},
			due{now.Add(-2 * time.Second), "k"},
		)
		evs = append(evs, h.storeEvents(due{now.Add(-3 * time.Second), "k"}, due{now, "k"})...)
		want := attempted(1, claimOrder(evs...)...)
		require.NotEqual(t, eventIDs(sortedByID(evs)), eventIDs(want), "the fixture must order by DueAt first")
		requireEvents(t, want, h.claim(workerA, now, time.Minute, 100, false), "ordered by (DueAt, ID)")
	})

	t.Run("Limit", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		var specs []due
		for i := range 5 {
			specs = append(specs, due{now.Add(time.Duration(i-5) * time.Second), "k"})
		}
		evs := attempted(1, h.storeEvents(specs...)...)
		requireEvents(t, evs[0:2], h.claim(workerA, now, time.Minute, 2, false))
		requireEvents(t, evs[2:4], h.claim(workerB, now, time.Minute, 2, false))
		requireEvents(t, evs[4:5], h.claim(workerA, now, time.Minute, 2, false))
		require.Empty(t, h.claim(workerB, now, time.Minute, 2, false))
	})

	t.Run("LeaseExpiry", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"}, due{now, "k2"})
		want := claimOrder(evs...)
		requireEvents(t, attempted(1, want...), h.claim(workerA, now, time.Minute, 10, false))
		require.Empty(t, h.claim(workerB, now.Add(time.Minute-time.Microsecond), time.Minute, 10, false), "lease holds")
		requireEvents(t, attempted(2, want...), h.claim(workerB, now.Add(time.Minute), time.Minute, 10, false),
			"a lease that has run out (lease end <= Now) no longer holds")
		require.Empty(t, h.claim(workerA, now.Add(time.Minute+time.Second), time.Minute, 10, false), "the new lease holds")
	})

	t.Run("Digest", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		// a4 is done and a3 is leased to another worker when the digest
		// claim happens.
		a4 := h.storeEvents(due{now.Add(-10 * time.Second), "A"})[0]
		requireEvents(t, attempted(1, a4), h.claim(workerC, a4.DueAt, time.Hour, 1, false))
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerC, []string{a4.ID}, a4.DueAt))
		a3 := h.storeEvents(due{now.Add(-5 * time.Second), "A"})[0]
		requireEvents(t, attempted(1, a3), h.claim(workerC, a3.DueAt, time.Hour, 1, false))

		evs := h.storeEvents(
			due{now.Add(time.Hour), "A"},               // a2: not due, shares A
			due{now.Add(time.Hour), "B"},               // b1: not due, B never claimed
			due{now.Add(-time.Second), "C"},            // c1: due
			due{now.Add(-2 * time.Second), "A"},        // a1: due, first
			due{now.Add(2 * time.Hour), "C"},           // c2: not due, shares C
			due{now.Add(30 * time.Minute), "A"},        // a6: not due, shares A
			due{now.Add(-500 * time.Millisecond), "A"}, // a5: due, beyond the limit, shares A
			due{now.Add(3 * time.Hour), "A"},           // a7: not due, shares A
		)
		a2, b1, c1, a1, c2, a6, a5, a7 := evs[0], evs[1], evs[2], evs[3], evs[4], evs[5], evs[6], evs[7]

		requireEvents(t, attempted(1, a1, a5, a6, a2, a7), h.claim(workerA, now, time.Minute, 1, true),
			"the due event and every event sharing its key, due or not, ordered by (DueAt, ID);"+
				" not the leased, done or other keys' events")
		requireEvents(t, attempted(1, c1, c2), h.claim(workerB, now, time.Minute, 10, true))
		require.Empty(t, h.claim(workerB, now, time.Minute, 10, true))

		// An hour later every lease has run out: all pending events are
		// claimed again, b1 because it is due.
		later := now.Add(time.Hour)
		want := append(attempted(2, a1, a2, a3, a5, a6, a7, c1, c2), attempted(1, b1)...)
		requireEvents(t, claimOrder(want...), h.claim(workerA, later, time.Minute, 10, true))
	})

	t.Run("DigestWithoutDigestFlag", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "A"}, due{now.Add(time.Hour), "A"})
		requireEvents(t, attempted(1, evs[0]), h.claim(workerA, now, time.Minute, 10, false))
	})
}

func (f factory) testCompleteEvents(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := claimOrder(h.storeEvents(due{now, "k1"}, due{now, "k2"}, due{now, "k3"})...)
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 3)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[0].ID, evs[2].ID}, now))
		requireEvents(t, attempted(2, evs[1]), h.claim(workerB, now.Add(time.Hour), time.Minute, 10, false),
			"done events are never claimed again")
		require.Empty(t, h.dead())
	})

	t.Run("WrongWorker", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := claimOrder(h.storeEvents(due{now, "k1"}, due{now, "k2"})...)
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 2)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerB, eventIDs(evs), now))
		requireEvents(t, attempted(2, evs...), h.claim(workerC, now.Add(time.Minute), time.Minute, 10, false),
			"another worker's completion is ignored")
	})

	t.Run("LeaseTakenOver", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"})
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 1)
		require.Len(t, h.claim(workerB, now.Add(time.Minute), time.Minute, 10, false), 1)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, eventIDs(evs), now.Add(time.Minute)))
		requireEvents(t, attempted(3, evs...), h.claim(workerC, now.Add(2*time.Minute), time.Minute, 10, false),
			"the first worker's completion after its lease was taken over is ignored")
	})

	t.Run("NotClaimed", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"})
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[0].ID, "no-such-event"}, now))
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, nil, now))
		requireEvents(t, attempted(1, evs...), h.claim(workerA, now, time.Minute, 10, false), "an unclaimed event is left alone")
	})
}

func (f factory) testFailEvent(t *testing.T) {
	t.Run("Retry", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"})
		require.Len(t, h.claim(workerA, now, time.Hour, 10, false), 1)
		retryAt := now.Add(time.Minute)
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[0].ID, "smtp: 451", retryAt, false))

		require.Empty(t, h.claim(workerB, retryAt.Add(-time.Microsecond), time.Minute, 10, false), "not due before retryAt")
		want := evs[0]
		want.DueAt, want.LastError, want.Attempts = retryAt, "smtp: 451", 2
		requireEvents(t, []notify.Event{want}, h.claim(workerB, retryAt, time.Minute, 10, false),
			"due at retryAt, its claim released although the lease ran for an hour")
		require.Empty(t, h.dead())
	})

	t.Run("Dead", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"}, due{now, "k2"})
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 2)
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[0].ID, "gave up", now.Add(time.Minute), true))

		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[0].ID}, now), "a dead event is not completed")
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[0].ID, "again", now, false), "nor failed again")

		want := evs[0]
		want.State, want.LastError, want.Attempts = notify.StateDead, "gave up", 1
		requireEvents(t, []notify.Event{want}, h.dead())
		requireEvents(t, attempted(2, evs[1]), h.claim(workerB, now.Add(time.Hour), time.Minute, 10, false),
			"a dead event is not claimed")
	})

	t.Run("WrongWorker", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"})
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 1)
		require.NoError(t, h.s.FailEvent(h.ctx, workerB, evs[0].ID, "not mine", now, true))
		require.NoError(t, h.s.FailEvent(h.ctx, workerB, evs[0].ID, "not mine", now, false))
		require.Empty(t, h.dead())
		require.Empty(t, h.claim(workerC, now.Add(time.Second), time.Minute, 10, false), "the lease still holds")
		requireEvents(t, attempted(2, evs...), h.claim(workerC, now.Add(time.Minute), time.Minute, 10, false),
			"DueAt and LastError untouched")
	})

	t.Run("NotClaimed", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"})
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[0].ID, "never claimed", now.Add(time.Hour), true))
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, "no-such-event", "unknown", now.Add(time.Hour), true))
		require.Empty(t, h.dead())
		requireEvents(t, attempted(1, evs...), h.claim(workerA, now, time.Minute, 10, false))
	})

	t.Run("AfterComplete", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"})
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 1)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, eventIDs(evs), now))
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[0].ID, "late", now, true))
		require.Empty(t, h.dead(), "a done event stays done")
		require.Empty(t, h.claim(workerA, now.Add(time.Hour), time.Minute, 10, false))
	})
}

// kill claims the events and fails them for good, each with the error
// "failed <id>".
func (h *harness) kill(now time.Time, evs []notify.Event) []notify.Event {
	h.t.Helper()
	claimed := h.claim("killer", now, time.Hour, len(evs), false)
	require.ElementsMatch(h.t, eventIDs(evs), eventIDs(claimed))
	var out []notify.Event
	for _, e := range claimed {
		require.NoError(h.t, h.s.FailEvent(h.ctx, "killer", e.ID, "failed "+e.ID, now, true))
		e.State, e.LastError = notify.StateDead, "failed "+e.ID
		out = append(out, e)
	}
	return sortedByID(out)
}

func (f factory) testListDeadEvents(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		h := f.new(t)
		h.storeEvents(due{h.tick(), "k"})
		require.Empty(t, h.dead())
	})

	t.Run("Paging", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		var specs []due
		for i := range 7 {
			specs = append(specs, due{now.Add(-time.Duration(i) * time.Second), "k"}) // ids and DueAt disagree
		}
		dead := h.kill(now, h.storeEvents(specs...))
		h.storeEvents(due{now, "alive"}) // pending: not listed

		for _, size := range []int{1, 3, 7, 100} {
			var got []notify.Event
			after := ""
			for range 20 {
				page, err := h.s.ListDeadEvents(h.ctx, after, size)
				require.NoError(t, err)
				require.LessOrEqual(t, len(page), size)
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				after = page[len(page)-1].ID
			}
			requireEvents(t, dead, got, "pages of %d: oldest id first, none lost or repeated", size)
		}
		page, err := h.s.ListDeadEvents(h.ctx, dead[3].ID, 2)
		require.NoError(t, err)
		requireEvents(t, dead[4:6], page, "strictly after the given id")
	})
}

func (f factory) testRetryDeadEvent(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"}, due{now, "k2"})
		dead := h.kill(now, evs) // claimed with a one-hour lease, then failed
		retryAt := now.Add(5 * time.Minute)
		require.NoError(t, h.s.RetryDeadEvent(h.ctx, dead[0].ID, retryAt))

		requireEvents(t, dead[1:], h.dead(), "no longer dead")
		require.Empty(t, h.claim(workerA, retryAt.Add(-time.Microsecond), time.Minute, 10, false), "due at now")
		want := dead[0]
		want.State, want.DueAt, want.Attempts = notify.StatePending, retryAt, 1
		requireEvents(t, []notify.Event{want}, h.claim(workerA, retryAt, time.Minute, 10, false),
			"pending, attempts reset, LastError kept, the old claim cleared")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		h := f.new(t)
		now := h.tick()
		evs := h.storeEvents(due{now, "k1"}, due{now, "k2"})
		require.Len(t, h.claim(workerA, now, time.Minute, 10, false), 2)
		require.NoError(t, h.s.CompleteEvents(h.ctx, workerA, []string{evs[0].ID}, now))
		require.NoError(t, h.s.FailEvent(h.ctx, workerA, evs[1].ID, "later", now, false))
		for name, id := range map[string]string{
			"unknown": "no-such-event",
			"done":    evs[0].ID,
			"pending": evs[1].ID,
		} {
			err := h.s.RetryDeadEvent(h.ctx, id, now)
			require.ErrorIs(t, err, store.ErrNotFound, name)
		}
		requireEvents(t, nil, h.dead())
		// The pending one is untouched: still due at its retry time.
		want := evs[1]
		want.LastError, want.Attempts = "later", 2
		requireEvents(t, []notify.Event{want}, h.claim(workerB, now, time.Minute, 10, false))
	})
}
