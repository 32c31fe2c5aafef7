package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

var _ store.ChangeLog = (*Store)(nil)

// Changes implements store.ChangeLog. A write logs its change without a
// position (concurrent transactions commit out of the order in which they
// would draw numbers); Changes first gives positions, above the head and
// in insertion order, to the committed changes that lack one, under the
// row lock of change_log, so that positions become visible in order and a
// reader never sees one filled in behind it. Lock, positions and the read
// are one round trip (a batch in one implicit transaction); within a
// conversation, insertion order is write order, since each write inserts
// its change after taking the conversation's row lock.
func (s *Store) Changes(ctx context.Context, q store.ChangeQuery) (store.ChangePage, error) {
	var page store.ChangePage
	if err := store.CheckChangeQuery(q); err != nil {
		return page, fmt.Errorf("postgres: %w", err)
	}
	err := s.do(ctx, "changes", func(ctx context.Context) error {
		page = store.ChangePage{}
		b := &pgx.Batch{}
		b.Queue(s.q.changeLock)
		b.Queue(s.q.changeSequence)
		if q.Limit > 0 {
			switch {
			case q.UserID != "":
				b.Queue(s.q.changesUser, q.After, q.Channel, q.UserID, q.Limit)
			case q.DataSourceID != "":
				b.Queue(s.q.changesDataSource, q.After, q.Channel, q.DataSourceID, q.Limit)
			case q.Channel != "":
				b.Queue(s.q.changesChannel, q.After, q.Channel, q.Limit)
			default:
				b.Queue(s.q.changesAll, q.After, q.Limit)
			}
		}
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		if err := br.QueryRow().Scan(&page.Head, &page.Horizon); err != nil {
			return err
		}
		if q.Limit > 0 {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			for rows.Next() {
				var (
					c                  store.ChangeEntry
					kind, side, status string
				)
				if err := rows.Scan(&c.Position, &kind, &c.Channel, &c.ConversationID, &c.UserID, &c.DataSourceID,
					&side, &c.MessageID, &c.Seq, &status, &c.At); err != nil {
					rows.Close()
					return err
				}
				c.Kind, c.Side, c.Status, c.At = store.ChangeKind(kind), conversation.Side(side), conversation.Status(status), utc(c.At)
				page.Changes = append(page.Changes, c)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return store.ChangePage{}, err
	}
	return page, nil
}

// TrimChanges implements store.ChangeLog in one statement. Changes still
// waiting for a position are kept (they get one above the head, hence
// above the new horizon).
func (s *Store) TrimChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.do(ctx, "trim changes", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, s.q.trimChanges, before).Scan(&n)
	})
	return n, err
}
