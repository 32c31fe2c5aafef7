package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

var _ store.ChangeLog = (*Store)(nil)

// Changes implements store.ChangeLog: one read transaction reads Head,
// Horizon and one range of the changes (of the primary key for the whole
// log or a channel, of changes_user or changes_datasource for a party).
// The file has one writer at a time, which draws positions in commit
// order: a reader never sees a position filled in behind it.
func (s *Store) Changes(ctx context.Context, q store.ChangeQuery) (store.ChangePage, error) {
	var page store.ChangePage
	if err := store.CheckChangeQuery(q); err != nil {
		return page, fmt.Errorf("sqlite: %w", err)
	}
	st, args := s.st.changesAll, []any{q.After}
	switch {
	case q.UserID != "":
		st, args = s.st.changesUser, append(args, q.Channel, q.UserID)
	case q.DataSourceID != "":
		st, args = s.st.changesDataSource, append(args, q.Channel, q.DataSourceID)
	case q.Channel != "":
		st, args = s.st.changesChannel, append(args, q.Channel)
	}
	args = append(args, q.Limit)
	err := s.readTx(ctx, true, func(bind func(*sql.Stmt) *sql.Stmt) error {
		if err := bind(s.st.changeBounds).QueryRowContext(ctx).Scan(&page.Head, &page.Horizon); err != nil {
			return err
		}
		if q.Limit == 0 {
			return nil
		}
		rows, err := bind(st).QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				c                  store.ChangeEntry
				kind, side, status string
				at                 int64
			)
			if err := rows.Scan(&c.Position, &kind, &c.Channel, &c.ConversationID, &c.UserID, &c.DataSourceID,
				&side, &c.MessageID, &c.Seq, &status, &at); err != nil {
				return err
			}
			c.Kind, c.Side, c.Status, c.At = store.ChangeKind(kind), conversation.Side(side), conversation.Status(status), fromMicros(at)
			page.Changes = append(page.Changes, c)
		}
		return rows.Err()
	})
	if err != nil {
		return store.ChangePage{}, s.fail(ctx, "changes", err)
	}
	return page, nil
}

// TrimChanges implements store.ChangeLog, in one write.
func (s *Store) TrimChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(t *wtx) error {
		cut := micros(before)
		if _, err := t.stmt(s.st.trimHorizon).ExecContext(ctx, cut); err != nil {
			return err
		}
		r, err := t.stmt(s.st.trimChanges).ExecContext(ctx, cut)
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	if err != nil {
		return 0, s.result(ctx, "trim changes", err)
	}
	return n, nil
}
