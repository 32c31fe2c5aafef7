package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// Store is a store.Store on PostgreSQL. It is safe for concurrent use, and
// several processes may share one database and schema.
type Store struct {
	pool     *pgxpool.Pool
	ownsPool bool
	opts     Options
	q        queries
	closed   atomic.Bool
	// replicas routes reads (replica.go); nil without Options.Replicas.
	replicas *replicaSet
	// ann announces the appends this Store commits to the feed.
	ann *announcer
	// convs are the conversations the Store remembers for Prepare.
	convs convCache
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Seeker = (*Store)(nil)
)

// Open connects to the database named by dsn (a PostgreSQL URL or
// keyword/value string, with pgxpool's pool_* settings such as
// pool_max_conns), migrates the schema and returns the Store. Close closes
// the pool it opened.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s, err := newStore(ctx, pool, opts)
	if err != nil {
		pool.Close()
		return nil, err
	}
	s.ownsPool = true
	return s, nil
}

// New returns a Store on a pool that the program already has, after
// migrating the schema. The Store does not own the pool: Close leaves it
// open, and the program closes it after closing the Store. The pool's
// settings are used as they are; the Store's statements name their schema,
// so the pool's search_path does not matter.
func New(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	if pool == nil {
		return nil, errors.New("postgres: New: nil pool")
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return newStore(ctx, pool, opts)
}

func newStore(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := migrate(ctx, pool, opts.Schema); err != nil {
		if errors.Is(err, ErrSchemaTooNew) {
			return nil, err
		}
		return nil, fmt.Errorf("postgres: migrate schema %q: %w", opts.Schema, err)
	}
	s := &Store{pool: pool, opts: opts, q: newQueries(opts.Schema)}
	if len(opts.Replicas) > 0 {
		s.replicas = newReplicaSet(opts)
	}
	s.ann = newAnnouncer(s)
	go s.ann.loop()
	return s, nil
}

// Close marks the store closed, sends the feed's last announcements
// (waiting at most 5 seconds for the server) and, if Open created the
// pool, closes it (waiting for the connections in use to be released).
// Methods called after Close return store.ErrClosed. Close may be called
// more than once.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.ann.close()
	if s.ownsPool {
		s.pool.Close()
	}
	return nil
}

// Pool returns the connection pool the Store uses.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Schema returns the name of the Store's schema.
func (s *Store) Schema() string { return s.opts.Schema }

// checkError carries the error of a caller's callback (Prepare, Check)
// through the retry loop, so that it is returned unchanged.
type checkError struct{ err error }

func (e checkError) Error() string { return e.err.Error() }

// errRaced means the operation lost a race (for an idempotency key) and
// must run again to see the winner's result.
var errRaced = errors.New("lost a race, retrying")

// SQLSTATE codes the Store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// pgCode returns the SQLSTATE of err and the constraint it names, if err
// is a PostgreSQL error.
func pgCode(err error) (code, constraint string) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, pe.ConstraintName
	}
	return "", ""
}

// retryable reports whether the operation that failed with err may simply
// run again.
func retryable(err error) bool {
	if errors.Is(err, errRaced) {
		return true
	}
	code, _ := pgCode(err)
	return code == codeSerializationFailure || code == codeDeadlockDetected
}

// do runs fn, retrying it after serialization failures, deadlocks and
// lost races up to MaxRetries times, and translates its error.
func (s *Store) do(ctx context.Context, op string, fn func(ctx context.Context) error) error {
	if s.closed.Load() {
		return fmt.Errorf("postgres: %s: %w", op, store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("postgres: %s: %w", op, err)
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if attempt > s.opts.MaxRetries || !retryable(err) || ctx.Err() != nil {
			return s.fail(ctx, op, err)
		}
		if err := s.pause(ctx, attempt); err != nil {
			return s.fail(ctx, op, err)
		}
	}
}

// pause waits a random time before retry number attempt.
func (s *Store) pause(ctx context.Context, attempt int) error {
	d := time.Duration(rand.Int64N(int64(s.opts.RetryBackoff)*int64(attempt) + 1))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fail translates the error of operation op for the caller: a Check error
// and the store's own conflict errors unchanged, a context error or
// ErrClosed recognizable with errors.Is, anything else wrapped.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	var ce checkError
	var ee *store.ConversationExistsError
	switch {
	case errors.As(err, &ce):
		return ce.err
	case errors.As(err, &ee), errors.Is(err, store.ErrIdempotencyMismatch), errors.Is(err, store.ErrDuplicateCode):
		return err
	case s.closed.Load() && !errors.Is(err, store.ErrClosed):
		return fmt.Errorf("postgres: %s: %w (%v)", op, store.ErrClosed, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("postgres: %s: %w (%v)", op, ctxErr, err)
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// notFound returns store.ErrNotFound wrapped with what was not found.
func notFound(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, store.ErrNotFound)...)
}

// dbTime returns t as the database keeps it: in UTC, truncated to the
// microsecond.
func dbTime(t time.Time) time.Time { return t.Truncate(store.TimePrecision).UTC() }

// cancelGrace is how long a write whose context is done waits for the
// server to act on the cancel request before its connection is closed.
const cancelGrace = 3 * time.Second

// committing runs fn, a round trip on conn that ends in a commit (one
// statement in its own transaction, or a pipeline that ends with COMMIT),
// so that an error never hides a write made after ctx was cancelled.
//
// pgx, when a context is done, closes the connection; but the server
// already has the statement (and the COMMIT after it) and, once a lock it
// waits for is free, commits. So fn runs without ctx's cancellation, and
// when ctx is done a cancel request goes to the server, which aborts the
// statement if it is still running: fn then fails and nothing was
// written. If the statement finished first, fn succeeds, and the write,
// which happened, is reported. A connection that was sent a cancel
// request is closed afterwards, so that a late cancel cannot abort its
// next statement; if the server does not act on the request within
// cancelGrace, the connection is closed at once.
func committing(ctx context.Context, conn *pgxpool.Conn, fn func(context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pg := conn.Conn().PgConn()
	finished := make(chan struct{}) // fn returned
	fired := make(chan struct{})    // the cancel below has run
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		cctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		defer cancel()
		if err := pg.CancelRequest(cctx); err == nil {
			select {
			case <-finished:
				return
			case <-cctx.Done():
			}
		}
		_ = pg.Conn().Close() // fallback: unblock fn
	})
	err := fn(context.WithoutCancel(ctx))
	close(finished)
	if stop() {
		return err
	}
	<-fired
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	_ = conn.Conn().Close(closeCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return nil
}

// write acquires a connection and runs fn on it as a committing round
// trip.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, conn *pgxpool.Conn) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if err := committing(ctx, conn, func(ctx context.Context) error { return fn(ctx, conn) }); err != nil {
		return err
	}
	s.advanceSession(ctx, conn)
	return nil
}

// A lockedTx is a transaction on one connection that holds the row lock of
// a conversation. It is opened and closed with pipelined statements, so
// that MarkRead takes two round trips: BEGIN and the lock (and the reads
// queued with them), then the write and COMMIT.
type lockedTx struct {
	s    *Store
	conn *pgxpool.Conn
	conv conversation.Conversation
	// found is false if there is no such conversation.
	found bool
	done  bool
}

// beginLocked acquires a connection, begins a READ COMMITTED transaction
// and locks conversation id, sending the queries of extra in the same
// round trip. read receives the results of extra (it may be nil if extra
// is empty). The caller must call end.
func (s *Store) beginLocked(ctx context.Context, id int64, extra *pgx.Batch, read func(pgx.BatchResults) error) (*lockedTx, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	t := &lockedTx{s: s, conn: conn}
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue(s.q.lockConversation, id)
	if extra != nil {
		b.QueuedQueries = append(b.QueuedQueries, extra.QueuedQueries...)
	}
	br := conn.SendBatch(ctx, b)
	err = func() error {
		if _, err := br.Exec(); err != nil {
			return err
		}
		cs := newConvScan()
		switch err := br.QueryRow().Scan(cs.dest[:]...); {
		case err == nil:
			t.conv, t.found = cs.result(), true
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		if read != nil {
			return read(br)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.end(ctx)
		return nil, err
	}
	return t, nil
}

// commit sends the statement sql, scans its one row with scan (if not
// nil) and commits, in one committing round trip.
func (t *lockedTx) commit(ctx context.Context, scan func(pgx.Row) error, sql string, args ...any) error {
	if err := committing(ctx, t.conn, func(ctx context.Context) error { return t.send(ctx, scan, sql, args...) }); err != nil {
		return err
	}
	t.s.advanceSession(ctx, t.conn)
	return nil
}

func (t *lockedTx) send(ctx context.Context, scan func(pgx.Row) error, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	b.Queue("COMMIT")
	br := t.conn.SendBatch(ctx, b)
	var err error
	if scan != nil {
		err = scan(br.QueryRow())
	} else {
		_, err = br.Exec()
	}
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// end rolls back the transaction if it is still open and releases the
// connection. A connection that cannot be rolled back is closed by the
// pool. Calls after the first do nothing.
func (t *lockedTx) end(ctx context.Context) {
	if t.done {
		return
	}
	t.done = true
	c := t.conn.Conn()
	if !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		_, _ = c.Exec(ctx, "ROLLBACK")
		cancel()
	}
	t.conn.Release()
}
