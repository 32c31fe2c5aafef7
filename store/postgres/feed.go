package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/store"
)

var _ store.MessageFeed = (*Store)(nil)

// feedChannel is the NOTIFY channel on which a schema's appends are
// announced: a fixed prefix and a digest of the schema name, so that any
// schema name gives a valid channel name of at most 63 bytes and stores in
// different schemas do not hear each other.
func feedChannel(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return "parley_messages_" + hex.EncodeToString(sum[:8])
}

// feedApplicationName is the application_name of WatchMessages's
// connection, to tell it apart in pg_stat_activity.
const feedApplicationName = "parley-message-feed"

// The timing of WatchMessages.
const (
	// feedRetryMin and feedRetryMax bound the pause before reconnecting.
	feedRetryMin = 50 * time.Millisecond
	feedRetryMax = 5 * time.Second
	// feedRefresh is how often the catch-up watermark moves forward.
	feedRefresh = 10 * time.Second
)

// WatchMessages implements store.MessageFeed with LISTEN/NOTIFY: every
// AppendMessage, from any process sharing the schema, notifies the
// schema's channel with the conversation id inside its own transaction,
// and PostgreSQL delivers the notification when (and only if) the
// transaction commits. WatchMessages listens on a connection of its own
// (opened with the pool's settings, outside the pool, with
// application_name "parley-message-feed") and calls fn with each
// conversation id, from one goroutine, until ctx ends; it then returns
// ctx's error. Besides waiting it reads the message id sequence every 10
// seconds: one query, whatever the number of waiters.
//
// If the first connection fails, WatchMessages returns the error. If the
// connection is lost later, it reconnects (with backoff) and then calls fn
// for every conversation that got a message since a watermark, so that
// messages committed while it was not listening are reported too (some
// conversations may be reported twice). The watermark is the message id
// sequence's value 10 to 20 seconds before the loss: an append that took
// its message id longer ago than that and committed while the connection
// was down would be missed, and its waiters would see it at their next
// poll instead of at once.
//
// After Close it returns an error wrapping store.ErrClosed.
func (s *Store) WatchMessages(ctx context.Context, fn func(conversationID int64)) error {
	return s.watchMessages(ctx, fn, &watcher{refresh: feedRefresh, retryMin: feedRetryMin, retryMax: feedRetryMax})
}

func (s *Store) watchMessages(ctx context.Context, fn func(int64), w *watcher) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: watch messages: %w", store.ErrClosed)
	}
	err := w.run(ctx, s, fn)
	backoff := w.retryMin
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if s.closed.Load() {
			return fmt.Errorf("postgres: watch messages: %w", store.ErrClosed)
		}
		if !w.listened {
			return fmt.Errorf("postgres: watch messages: %w", err)
		}
		if w.healthy {
			backoff, w.healthy = w.retryMin, false
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		backoff = min(2*backoff, w.retryMax)
		err = w.run(ctx, s, fn)
	}
}

// watcher is the state WatchMessages keeps across connections.
type watcher struct {
	refresh, retryMin, retryMax time.Duration

	// listened is set once a connection has listened.
	listened bool
	// healthy is set when a connection has listened, so that the next
	// loss waits the shortest backoff.
	healthy bool
	// watermark is where the catch-up after a reconnection starts; next is
	// the latest reading of the sequence, which becomes the watermark at
	// the next refresh (so the watermark lags by one refresh or more).
	watermark, next int64
}

// run opens a connection, listens, catches up after a reconnection and
// reports notifications until the connection fails or ctx ends.
func (w *watcher) run(ctx context.Context, s *Store, fn func(int64)) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = feedApplicationName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{feedChannel(s.opts.Schema)}.Sanitize()); err != nil {
		return err
	}
	seq := `SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM ` + pgxIdentifier(s.opts.Schema, "message_ids")
	var mark int64
	if err := conn.QueryRow(ctx, seq).Scan(&mark); err != nil {
		return err
	}
	if w.listened {
		// Reconnected: report what was committed while not listening.
		rows, err := conn.Query(ctx, `SELECT DISTINCT conversation_id FROM `+pgxIdentifier(s.opts.Schema, "messages")+
			` WHERE id > $1`, w.watermark)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			fn(id)
		}
	} else {
		w.watermark = mark
	}
	w.listened, w.healthy, w.next = true, true, mark
	for {
		wctx, cancel := context.WithTimeout(ctx, w.refresh)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && !conn.IsClosed():
			// Time to move the watermark on.
			if err := conn.QueryRow(ctx, seq).Scan(&mark); err != nil {
				return err
			}
			w.watermark, w.next = w.next, mark
			continue
		default:
			return err
		}
		// Stores only send conversation ids; anything else on the
		// channel is not theirs and is ignored.
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil && id > 0 {
			fn(id)
		}
	}
}

// pgxIdentifier returns the quoted, qualified name schema.name.
func pgxIdentifier(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }
