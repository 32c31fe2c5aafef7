package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/store"
)

var _ store.MessageFeed = (*Store)(nil)

// schemaDigest returns a digest of the schema name, 16 hex digits: any
// schema name gives valid, short channel and application names.
func schemaDigest(schema string) string {
	sum := sha256.Sum256([]byte(schema))
	return hex.EncodeToString(sum[:8])
}

// feedChannel is the NOTIFY channel on which a schema's appends are
// announced: a fixed prefix and a digest of the schema name, so that any
// schema name gives a valid channel name of at most 63 bytes and stores in
// different schemas do not hear each other.
func feedChannel(schema string) string { return "parley_messages_" + schemaDigest(schema) }

// feedListenerName is the application_name of the connection on which
// WatchMessages listens to schema's channel: announcers look for it in
// pg_stat_activity to learn whether anybody listens (application names
// and databases are visible to every role there).
func feedListenerName(schema string) string { return "parley-feed-" + schemaDigest(schema) }

// The timing of WatchMessages.
const (
	// feedRetryMin and feedRetryMax bound the pause before reconnecting.
	feedRetryMin = 50 * time.Millisecond
	feedRetryMax = 5 * time.Second
	// feedSweep is how often the feed sweeps the message index.
	feedSweep = 10 * time.Second
)

// WatchMessages implements store.MessageFeed with LISTEN/NOTIFY. Every
// process's Store announces the messages it appended, after they
// committed, on the schema's channel (see announcer): a notification
// carries many conversations, and is sent only while a feed listens.
// WatchMessages listens on a connection of its own (opened with the
// pool's settings, outside the pool, with application_name
// "parley-feed-" and a digest of the schema name, by which announcers
// know that it listens) and calls fn with each conversation id, from one
// goroutine, until ctx ends; it then returns ctx's error. A notification
// arrives one announcement after the commit: about one round trip to the
// server, more while the announcer's previous announcement is still
// being sent.
//
// Every 10 seconds it also sweeps the message index: it reads the
// highest message id of each conversation among the messages whose ids
// were drawn between 20 and 10 seconds before, and calls fn for the
// conversations whose messages were not announced (one indexed query,
// whatever the number of waiters). So an announcement lost with its
// process (a crash between a commit and its announcement) delays a
// wake-up by at most 20 seconds, for any write that committed within 10
// seconds of drawing its message id.
//
// If the first connection fails, WatchMessages returns the error. If the
// connection is lost later, it reconnects (with backoff) and then calls fn
// for every conversation with messages since the last sweep's lower bound
// (10 to 20 seconds before the loss) that it has not reported yet, so
// that messages committed while it was not listening are reported too.
// Some conversations may be reported twice.
//
// During a rolling upgrade from a version that notified inside each
// append's transaction, the feed still hears the processes not yet
// upgraded (their notifications carry a bare conversation id); their own
// feeds listen under another application_name, so announcers do not count
// them, and they hear nothing from upgraded processes until they are
// upgraded too (their waiters see those messages at their next read).
//
// After Close it returns an error wrapping store.ErrClosed.
func (s *Store) WatchMessages(ctx context.Context, fn func(conversationID int64)) error {
	return s.watchMessages(ctx, fn, &watcher{sweep: feedSweep, retryMin: feedRetryMin, retryMax: feedRetryMax})
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
	sweep, retryMin, retryMax time.Duration

	// listened is set once a connection has listened.
	listened bool
	// healthy is set when a connection has listened, so that the next
	// loss waits the shortest backoff.
	healthy bool
	// The next sweep covers the message ids in (watermark, next]: next
	// is the message id sequence's value read at the last sweep, the
	// watermark its value at the sweep before. A reconnection catches up
	// from the watermark.
	watermark, next int64
	// seen maps the conversations reported with a message id above the
	// watermark to the highest such id: a sweep or catch-up reports a
	// conversation only if it finds a higher one.
	seen map[int64]int64
}

// report calls fn with conv unless message msg of it was reported
// already; msg 0 (unknown) is always reported.
func (w *watcher) report(fn func(int64), conv, msg int64) {
	if msg != 0 {
		if msg <= w.seen[conv] {
			return
		}
		w.seen[conv] = msg
	}
	fn(conv)
}

// run opens a connection, listens, catches up after a reconnection and
// reports notifications and sweeps until the connection fails or ctx
// ends.
func (w *watcher) run(ctx context.Context, s *Store, fn func(int64)) error {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = feedListenerName(s.opts.Schema)
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
		if err := w.sweepRange(ctx, conn, s, fn, w.watermark, math.MaxInt64); err != nil {
			return err
		}
	} else {
		w.watermark, w.next, w.seen = mark, mark, make(map[int64]int64)
	}
	w.listened, w.healthy = true, true
	report := func(conv, msg int64) { w.report(fn, conv, msg) }
	tick := time.Now().Add(w.sweep)
	for {
		wctx, cancel := context.WithDeadline(ctx, tick)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			parsePayload(n.Payload, report)
			continue
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && !conn.IsClosed():
		default:
			return err
		}
		// Time to sweep (watermark, next] and move on.
		if err := conn.QueryRow(ctx, seq).Scan(&mark); err != nil {
			return err
		}
		if err := w.sweepRange(ctx, conn, s, fn, w.watermark, w.next); err != nil {
			return err
		}
		w.watermark, w.next = w.next, mark
		for c, m := range w.seen {
			if m <= w.watermark {
				delete(w.seen, c)
			}
		}
		tick = time.Now().Add(w.sweep)
	}
}

// sweepRange reports the conversations with messages whose ids are in
// (lo, hi] that were not reported with such a message yet.
func (w *watcher) sweepRange(ctx context.Context, conn *pgx.Conn, s *Store, fn func(int64), lo, hi int64) error {
	if hi <= lo {
		return nil
	}
	rows, err := conn.Query(ctx, s.q.sweep, lo, hi)
	if err != nil {
		return err
	}
	type found struct{ conv, msg int64 }
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (found, error) {
		var f found
		err := r.Scan(&f.conv, &f.msg)
		return f, err
	})
	if err != nil {
		return err
	}
	for _, f := range all {
		w.report(fn, f.conv, f.msg)
	}
	return nil
}

// pgxIdentifier returns the quoted, qualified name schema.name.
func pgxIdentifier(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }
