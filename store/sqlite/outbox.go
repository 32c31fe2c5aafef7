package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// ClaimEvents implements notify.Outbox. The claim is one write
// transaction, so workers of several processes never claim the same event
// while its lease holds.
func (s *Store) ClaimEvents(ctx context.Context, p notify.ClaimParams) ([]notify.Event, error) {
	if p.Limit < 1 {
		return nil, fmt.Errorf("sqlite: claim events: limit %d: want at least 1", p.Limit)
	}
	now := micros(p.Now)
	leaseUntil := now + p.Lease.Microseconds()
	var claimed []notify.Event
	err := s.write(ctx, func(t *wtx) error {
		claimed = claimed[:0]
		rows, err := t.stmt(s.st.claimDue).QueryContext(ctx, now, now, p.Limit)
		if err != nil {
			return err
		}
		claimed, err = scanEvents(rows, claimed)
		if err != nil {
			return err
		}
		if p.Digest {
			seen := make(map[string]bool, len(claimed))
			keys := make(map[string]bool)
			for _, e := range claimed {
				seen[e.ID] = true
				keys[e.DigestKey] = true
			}
			byDigest := t.stmt(s.st.claimDigest)
			for key := range keys {
				rows, err := byDigest.QueryContext(ctx, key, now)
				if err != nil {
					return err
				}
				more, err := scanEvents(rows, nil)
				if err != nil {
					return err
				}
				for _, e := range more {
					if !seen[e.ID] {
						seen[e.ID] = true
						claimed = append(claimed, e)
					}
				}
			}
		}
		claim := t.stmt(s.st.claimEvent)
		for i := range claimed {
			if _, err := claim.ExecContext(ctx, p.Worker, leaseUntil, claimed[i].ID); err != nil {
				return err
			}
			claimed[i].Attempts++
		}
		return nil
	})
	if err != nil {
		return nil, s.fail(ctx, "claim events", err)
	}
	slices.SortFunc(claimed, func(a, b notify.Event) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return claimed, nil
}

// scanEvents reads every row of rows into dst and closes rows.
func scanEvents(rows interface {
	Next() bool
	Err() error
	Close() error
	Scan(...any) error
}, dst []notify.Event) ([]notify.Event, error) {
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return dst, err
		}
		dst = append(dst, e)
	}
	return dst, rows.Err()
}

// CompleteEvents implements notify.Outbox.
func (s *Store) CompleteEvents(ctx context.Context, worker string, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return s.check(ctx)
	}
	err := s.write(ctx, func(t *wtx) error {
		complete := t.stmt(s.st.completeEvent)
		for _, id := range ids {
			if _, err := complete.ExecContext(ctx, micros(now), id, worker); err != nil {
				return err
			}
		}
		return nil
	})
	return s.fail(ctx, "complete events", err)
}

// FailEvent implements notify.Outbox.
func (s *Store) FailEvent(ctx context.Context, worker, id string, lastErr string, retryAt time.Time, dead bool) error {
	err := s.write(ctx, func(t *wtx) error {
		var err error
		if dead {
			_, err = t.stmt(s.st.failEventDead).ExecContext(ctx, lastErr, id, worker)
		} else {
			_, err = t.stmt(s.st.failEventRetry).ExecContext(ctx, lastErr, micros(retryAt), id, worker)
		}
		return err
	})
	return s.fail(ctx, "fail event", err)
}

// ListDeadEvents implements notify.Outbox.
func (s *Store) ListDeadEvents(ctx context.Context, after string, limit int) ([]notify.Event, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: list dead events: limit %d: want at least 1", limit)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.st.listDeadEvents.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, s.fail(ctx, "list dead events", err)
	}
	events, err := scanEvents(rows, nil)
	if err != nil {
		return nil, s.fail(ctx, "list dead events", err)
	}
	return events, nil
}

// RetryDeadEvent implements notify.Outbox.
func (s *Store) RetryDeadEvent(ctx context.Context, id string, now time.Time) error {
	err := s.write(ctx, func(t *wtx) error {
		r, err := t.stmt(s.st.retryDeadEvent).ExecContext(ctx, micros(now), id)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("sqlite: dead event %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
	return s.fail(ctx, "retry dead event", err)
}

// PruneEvents implements notify.Outbox: one write deletes the oldest done
// events first, through the index events_done.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("sqlite: prune events: limit %d: want at least 1", limit)
	}
	var n int64
	err := s.write(ctx, func(t *wtx) error {
		r, err := t.stmt(s.st.pruneEvents).ExecContext(ctx, micros(before), limit)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.fail(ctx, "prune events", err)
	}
	return int(n), nil
}

// DeleteDeadEvent implements notify.Outbox.
func (s *Store) DeleteDeadEvent(ctx context.Context, id string) error {
	err := s.write(ctx, func(t *wtx) error {
		r, err := t.stmt(s.st.deleteDeadEvent).ExecContext(ctx, id)
		if err != nil {
			return err
		}
		if n, err := r.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("sqlite: dead event %q: %w", id, store.ErrNotFound)
		}
		return nil
	})
	return s.fail(ctx, "delete dead event", err)
}
