package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley/store"
)

// Group commit.
//
// Every write of a Store goes through write, which queues it for the
// writer loop, a goroutine that owns the writer connection. The loop
// takes everything queued (up to maxBatch writes), runs it in one
// transaction, each write inside a SAVEPOINT of its own, commits, and only
// then answers each caller. A write that fails (its Check, a taken key, a
// closed conversation, a cancelled context, any error) is rolled back to
// its savepoint alone; the others commit. A failed COMMIT fails every
// write of the batch. A batch of one write runs without a savepoint, as a
// plain transaction, so that a lone writer pays nothing for the others.
//
// The loop never waits to fill a batch: while one transaction commits,
// the writes that arrive queue up and form the next batch. Under load the
// cost of a commit (writing and, with SynchronousFull, syncing the WAL) is
// shared by all the writes that queued during the previous one.
//
// Cancellation. A write whose context ends before the loop starts it is
// dropped from the queue and returns the context's error; nothing of it
// is written. A write whose context ends while it runs is rolled back to
// its savepoint at the next statement (the statements themselves run
// without the caller's cancellation: the driver interrupts a cancelled
// statement, and SQLite rolls back the whole transaction, the other
// writes' work included, when a write statement is interrupted) and
// returns the context's error. A write that completed before its context
// ended shares the fate of its batch: its caller waits for the commit and
// is told the truth, success if the batch committed, as the other stores
// report a write that committed before a cancellation took effect.

// maxBatch bounds the writes of one transaction, so that the first of a
// long queue does not wait for all the others.
const maxBatch = 256

// The states of a request: queued until the loop starts it or its caller
// gives up on it, whichever comes first.
const (
	reqQueued int32 = iota
	reqRunning
	reqAbandoned
)

// request is one write waiting for, or in, a batch.
type request struct {
	t     wtx // the write's transaction handle; fn gets &t
	fn    func(t *wtx) error
	state atomic.Int32

	// Set by the loop before it signals done.
	err      error
	panicked any
	done     chan struct{} // capacity 1; the loop sends once
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// committer is the queue of a Store's writer loop.
type committer struct {
	mu      sync.Mutex
	queue   []*request
	closing bool
	wake    chan struct{} // capacity 1: a write is queued, or Close was called
	stopped chan struct{} // closed when the loop has returned
}

func (c *committer) init() {
	c.wake = make(chan struct{}, 1)
	c.stopped = make(chan struct{})
}

// enqueue adds r to the queue, or returns ErrClosed once Close has begun.
func (c *committer) enqueue(r *request) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return fmt.Errorf("sqlite: %w", store.ErrClosed)
	}
	c.queue = append(c.queue, r)
	c.mu.Unlock()
	c.signal()
	return nil
}

func (c *committer) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// take removes up to maxBatch requests from the queue and returns them,
// with closing set once Close has begun.
func (c *committer) take(buf []*request) (batch []*request, closing bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := min(len(c.queue), maxBatch)
	batch = append(buf[:0], c.queue[:n]...)
	rest := copy(c.queue, c.queue[n:])
	clear(c.queue[rest:])
	c.queue = c.queue[:rest]
	if rest > 0 {
		c.signal()
	}
	return batch, c.closing
}

// pending returns the number of queued writes (for tests).
func (c *committer) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue)
}

// stop fails the writes still queued with ErrClosed, and waits for the
// loop to finish the batch it is running and return.
func (c *committer) stop() {
	c.mu.Lock()
	c.closing = true
	queued := c.queue
	c.queue = nil
	c.mu.Unlock()
	for _, r := range queued {
		if r.state.CompareAndSwap(reqQueued, reqRunning) {
			r.answer(fmt.Errorf("sqlite: %w", store.ErrClosed))
		}
	}
	c.signal()
	<-c.stopped
}

// write runs fn as one write: queued for the writer loop, run in a
// transaction shared with the writes queued at the same time, and
// answered once that transaction has committed. It returns fn's error as
// it is (translating it is the caller's), the error of the commit, or the
// context's error for a write that never ran. A panic in fn is raised
// again in the caller's goroutine, after fn's work has been rolled back.
func (s *Store) write(ctx context.Context, fn func(t *wtx) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	r := requestPool.Get().(*request)
	r.t = wtx{ctx: ctx, s: s}
	r.fn = fn
	r.state.Store(reqQueued)
	if err := s.gc.enqueue(r); err != nil {
		r.release()
		return err
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
			// The loop will skip it; it is not reused, since the
			// loop may still hold it.
			return ctx.Err()
		}
		// It runs or has run: its outcome is its batch's.
		<-r.done
	}
	err, p := r.err, r.panicked
	r.release()
	if p != nil {
		panic(p)
	}
	return err
}

// release returns an answered request to the pool.
func (r *request) release() {
	*r = request{done: r.done}
	requestPool.Put(r)
}

// answer hands r its outcome.
func (r *request) answer(err error) {
	r.err = err
	r.done <- struct{}{}
}

// writeLoop is the writer loop; Open starts it and Close stops it.
func (s *Store) writeLoop() {
	defer close(s.gc.stopped)
	var buf, carry []*request // carry: writes a broken batch did not start
	for {
		if len(carry) == 0 {
			<-s.gc.wake
		}
		batch, closing := s.gc.take(buf)
		if len(carry) > 0 {
			batch = append(carry, batch...)
			carry = nil
		}
		if closing {
			for _, r := range batch {
				if r.state.CompareAndSwap(reqQueued, reqRunning) {
					r.answer(fmt.Errorf("sqlite: %w", store.ErrClosed))
				}
			}
			return
		}
		if len(batch) > 0 {
			carry = append(carry, s.runBatch(batch)...)
		}
		clear(batch)
		buf = batch[:0]
	}
}

// batch is the transaction of a batch of writes.
type batch struct {
	ctx   context.Context // never cancelled: see the notes on cancellation above
	tx    *sql.Tx
	stmts map[*sql.Stmt]*sql.Stmt // statements bound to tx, by the Store's
	ran   []*request              // the writes that ran, in order
}

// stmt returns the writer statement st bound to the batch's transaction.
func (b *batch) stmt(st *sql.Stmt) *sql.Stmt {
	if bound, ok := b.stmts[st]; ok {
		return bound
	}
	bound := b.tx.StmtContext(b.ctx, st)
	b.stmts[st] = bound
	return bound
}

// exec runs one of the batch's own statements (SAVEPOINT, RELEASE,
// ROLLBACK TO).
func (b *batch) exec(st *sql.Stmt) error {
	_, err := b.stmt(st).ExecContext(b.ctx)
	return err
}

// runBatch runs the writes of reqs in one transaction and answers them
// after its commit. If the transaction breaks (a savepoint statement
// fails, which happens when SQLite has rolled the transaction back after
// an I/O error), the writes that ran fail with it, and those not started
// are returned to run in the next batch; if it breaks before any write
// ran, the write it broke on fails with it, so that every batch answers at
// least one write.
func (s *Store) runBatch(reqs []*request) (unrun []*request) {
	b := &s.batch
	tx, err := s.w.BeginTx(b.ctx, nil)
	if err != nil {
		for _, r := range reqs {
			if r.state.CompareAndSwap(reqQueued, reqRunning) {
				r.answer(err)
			}
		}
		return nil
	}
	b.tx = tx
	savepoints := len(reqs) > 1
	var broken error
	for i, r := range reqs {
		if !r.state.CompareAndSwap(reqQueued, reqRunning) {
			continue // its caller gave up before it ran
		}
		if err := r.t.ctx.Err(); err != nil {
			r.answer(err) // nothing of it ran
			continue
		}
		if savepoints {
			if err := b.exec(s.st.savepoint); err != nil {
				broken = err
				if len(b.ran) == 0 {
					r.answer(err)
					i++
				} else {
					r.state.Store(reqQueued)
				}
				unrun = append(unrun, reqs[i:]...)
				break
			}
		}
		r.t.b = b
		r.err, r.panicked = s.runOne(r)
		if r.err == nil {
			// Its context ended after its last statement: it is rolled
			// back all the same, as its caller will be told.
			r.err = r.t.ctx.Err()
		}
		b.ran = append(b.ran, r)
		if !savepoints {
			break
		}
		if r.err != nil {
			if err := b.exec(s.st.rollbackTo); err != nil {
				broken = err
			}
		}
		if broken == nil {
			if err := b.exec(s.st.release); err != nil {
				broken = err
			}
		}
		if broken != nil {
			unrun = append(unrun, reqs[i+1:]...)
			break
		}
	}
	var commitErr error
	switch {
	case broken != nil:
		_ = tx.Rollback()
		commitErr = fmt.Errorf("sqlite: write batch rolled back: %w", broken)
	case len(b.ran) == 0 || (!savepoints && b.ran[0].err != nil):
		_ = tx.Rollback()
	default:
		commitErr = tx.Commit()
	}
	b.tx = nil
	clear(b.stmts)
	if s.onCommit != nil {
		s.onCommit(len(b.ran), commitErr)
	}
	for _, r := range b.ran {
		if commitErr != nil {
			// A failed commit fails every write of the batch, those that
			// failed alone too: their errors may rest on what the others
			// wrote, which is gone.
			r.err = commitErr
		}
		r.done <- struct{}{} // r belongs to its caller from here on
	}
	clear(b.ran)
	b.ran = b.ran[:0]
	return unrun
}

// runOne runs the write of r, recovering a panic so that the batch can
// roll it back and its caller raise it.
func (s *Store) runOne(r *request) (err error, panicked any) {
	defer func() {
		if p := recover(); p != nil {
			err, panicked = errors.New("sqlite: write panicked"), p
		}
	}()
	return r.fn(&r.t), nil
}
