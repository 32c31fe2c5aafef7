package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/parleyhq/parley/store"
)

var _ store.MessageFeed = (*Store)(nil)

// sqlNewChanges returns, for each conversation with changes after the
// position ?, its newest position: one range of the change log's primary
// key. Every message appended is logged there (store.ChangeLog), and so
// are status changes and read receipts, which wake streams.
const sqlNewChanges = `SELECT conversation_id, max(position) FROM changes WHERE position > ? GROUP BY conversation_id`

// sqlChangeHead is the newest position drawn in the change log.
const sqlChangeHead = `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)`

// WatchMessages implements store.MessageFeed, so that a parley Service
// with Listen wakes its waiters when any process writes to the file. It
// calls fn with the conversation id of every message committed from now
// on, by this process or another, from one goroutine, until ctx ends, and
// then returns ctx's error (after Close: an error wrapping
// store.ErrClosed).
//
// SQLite has no notifications between processes, so WatchMessages polls,
// once per Options.FeedInterval whatever the number of waiters: it asks
// its own read-only connection for PRAGMA data_version, a counter in the
// file's shared memory that moves when another connection commits, and
// only when it has moved reads the change log after the last position it
// has seen (a range of the primary key; positions grow with every commit,
// since the file has one writer at a time). A message is reported within
// FeedInterval of its commit, plus that read; so are the other changes of
// the log (a status changed, a read position moved), for the streams of
// parley.Service.Stream. A conversation may be reported more than once
// (this process's own writes are reported too).
//
// An in-memory database has no other process: WatchMessages reports its
// own Store's messages, reading the new ones at every interval.
func (s *Store) WatchMessages(ctx context.Context, fn func(conversationID int64)) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	op := "watch messages"
	w := &watch{s: s}
	if !s.memory {
		// A connection of its own, outside the reader pool, so that the
		// watch never takes a reader from the Store's reads. (An
		// in-memory database has one connection: the watch borrows it
		// for each read.)
		db, err := sql.Open(driverName, s.dsn(true))
		if err != nil {
			return fmt.Errorf("sqlite: %s: %w", op, err)
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		if w.conn, err = db.Conn(ctx); err != nil {
			return s.fail(ctx, op, err)
		}
		defer w.conn.Close()
	}
	if err := w.start(ctx); err != nil {
		return s.fail(ctx, op, err)
	}
	tick := time.NewTicker(s.opts.FeedInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if s.closed.Load() {
			return fmt.Errorf("sqlite: %s: %w", op, store.ErrClosed)
		}
		if err := w.poll(ctx, fn); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return s.fail(ctx, op, err)
		}
	}
}

// watch is the state of one WatchMessages.
type watch struct {
	s       *Store
	conn    *sql.Conn // nil for an in-memory database: its queries go to s.r
	version int64     // the last data_version read
	last    int64     // the newest change position reported
}

func (w *watch) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if w.conn == nil {
		return w.s.r.QueryRowContext(ctx, query, args...)
	}
	return w.conn.QueryRowContext(ctx, query, args...)
}

// start reads the current data version and the change log's newest position: what
// was committed before is not reported.
func (w *watch) start(ctx context.Context) error {
	if w.conn != nil {
		if err := w.queryRow(ctx, "PRAGMA data_version").Scan(&w.version); err != nil {
			return err
		}
	}
	return w.queryRow(ctx, sqlChangeHead).Scan(&w.last)
}

// poll reports the conversations of the messages committed since the last
// poll, if the data version says something was committed.
func (w *watch) poll(ctx context.Context, fn func(int64)) error {
	if w.conn != nil {
		var v int64
		if err := w.queryRow(ctx, "PRAGMA data_version").Scan(&v); err != nil {
			return err
		}
		if v == w.version {
			return nil
		}
		w.version = v
	}
	var (
		rows *sql.Rows
		err  error
	)
	if w.conn == nil {
		rows, err = w.s.r.QueryContext(ctx, sqlNewChanges, w.last)
	} else {
		rows, err = w.conn.QueryContext(ctx, sqlNewChanges, w.last)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	var convs []int64
	last := w.last
	for rows.Next() {
		var conv, newest int64
		if err := rows.Scan(&conv, &newest); err != nil {
			return err
		}
		convs = append(convs, conv)
		last = max(last, newest)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	w.last = last
	for _, c := range convs {
		fn(c)
	}
	return nil
}
