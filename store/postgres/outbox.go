package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/notify"
)

// ClaimEvents claims due events for p.Worker in one statement. The rows
// are locked with FOR UPDATE SKIP LOCKED, so workers in several processes
// claim disjoint events without waiting for each other.
func (s *Store) ClaimEvents(ctx context.Context, p notify.ClaimParams) ([]notify.Event, error) {
	var res []notify.Event
	if p.Limit < 1 {
		return nil, s.fail(ctx, "claim events", errLimit(p.Limit))
	}
	err := s.do(ctx, "claim events", func(ctx context.Context) error {
		sql := s.q.claimEvents
		if p.Digest {
			sql = s.q.claimEventsDigest
		}
		return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			rows, err := conn.Query(ctx, sql, p.Now, p.Worker, p.Now.Add(p.Lease), p.Limit)
			if err != nil {
				return err
			}
			res, err = scanEvents(rows)
			return err
		})
	})
	return res, err
}

func scanEvents(rows pgx.Rows) ([]notify.Event, error) {
	defer rows.Close()
	var events []notify.Event
	es := newEventScan()
	for rows.Next() {
		if err := rows.Scan(es.dest[:]...); err != nil {
			return nil, err
		}
		events = append(events, es.result())
	}
	return events, rows.Err()
}

// CompleteEvents marks the events that worker still holds done.
func (s *Store) CompleteEvents(ctx context.Context, worker string, ids []string, now time.Time) error {
	return s.do(ctx, "complete events", func(ctx context.Context) error {
		if len(ids) == 0 {
			return nil
		}
		return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			_, err := conn.Exec(ctx, s.q.completeEvents, worker, ids, now)
			return err
		})
	})
}

// FailEvent records a failed delivery of an event that worker holds.
func (s *Store) FailEvent(ctx context.Context, worker, id string, lastErr string, retryAt time.Time, dead bool) error {
	return s.do(ctx, "fail event", func(ctx context.Context) error {
		return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			_, err := conn.Exec(ctx, s.q.failEvent, worker, id, lastErr, retryAt, dead)
			return err
		})
	})
}

// ListDeadEvents returns up to limit dead events with an id after after,
// in id order.
func (s *Store) ListDeadEvents(ctx context.Context, after string, limit int) ([]notify.Event, error) {
	var res []notify.Event
	if limit < 1 {
		return nil, s.fail(ctx, "list dead events", errLimit(limit))
	}
	err := s.do(ctx, "list dead events", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, s.q.listDeadEvents, after, limit)
		if err != nil {
			return err
		}
		res, err = scanEvents(rows)
		return err
	})
	return res, err
}

// RetryDeadEvent makes a dead event pending again, due at now.
func (s *Store) RetryDeadEvent(ctx context.Context, id string, now time.Time) error {
	return s.do(ctx, "retry dead event", func(ctx context.Context) error {
		var tag pgconn.CommandTag
		err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			var err error
			tag, err = conn.Exec(ctx, s.q.retryDeadEvent, id, now)
			return err
		})
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("dead event %q", id)
		}
		return nil
	})
}

// PruneEvents deletes the oldest done events completed before before, up
// to limit, in one statement through the index events_done. Rows that
// another pruner is deleting are skipped (SKIP LOCKED), so concurrent
// pruners neither wait for nor count each other's rows.
func (s *Store) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, s.fail(ctx, "prune events", errLimit(limit))
	}
	var n int64
	err := s.do(ctx, "prune events", func(ctx context.Context) error {
		return s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			tag, err := conn.Exec(ctx, s.pruneEventsSQL(), before, limit)
			n = tag.RowsAffected()
			return err
		})
	})
	return int(n), err
}

// pruneEventsSQL is the statement of PruneEvents.
func (s *Store) pruneEventsSQL() string {
	t := pgx.Identifier{s.opts.Schema, "events"}.Sanitize()
	return `DELETE FROM ` + t + ` WHERE id IN (
	SELECT id FROM ` + t + `
	WHERE state = 'done' AND done_at < $1
	ORDER BY done_at, id LIMIT $2
	FOR UPDATE SKIP LOCKED
)`
}

// DeleteDeadEvent deletes a dead event.
func (s *Store) DeleteDeadEvent(ctx context.Context, id string) error {
	return s.do(ctx, "delete dead event", func(ctx context.Context) error {
		var tag pgconn.CommandTag
		err := s.write(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
			var err error
			tag, err = conn.Exec(ctx, `DELETE FROM `+pgx.Identifier{s.opts.Schema, "events"}.Sanitize()+
				` WHERE id = $1 AND state = 'dead'`, id)
			return err
		})
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound("dead event %q", id)
		}
		return nil
	})
}
