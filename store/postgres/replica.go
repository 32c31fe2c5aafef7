package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/store"
)

// querier is what a read needs of a pool or a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

var (
	_ querier = (*pgxpool.Pool)(nil)
	_ querier = (*pgxpool.Conn)(nil)
)

// replica is one replica pool and what the store last learnt of it.
type replica struct {
	pool *pgxpool.Pool

	mu       sync.Mutex
	checked  time.Time // when the state below was learnt; zero: never
	checking bool
	healthy  bool
	// replayed is the WAL position the replica had replayed when last
	// asked: a read with a Session at or before it needs no question.
	replayed store.Position
}

// replicaSet routes reads among the replicas.
type replicaSet struct {
	all  []*replica
	next atomic.Uint64
	opts Options
	now  func() time.Time
}

func newReplicaSet(opts Options) *replicaSet {
	rs := &replicaSet{opts: opts, now: time.Now}
	for _, p := range opts.Replicas {
		rs.all = append(rs.all, &replica{pool: p, healthy: true})
	}
	return rs
}

// replaySQL returns the replica's replayed WAL position and its lag: the
// time since the last replayed transaction while WAL it received waits
// to be replayed, zero when it has replayed all it received. A server
// that is not in recovery (a replica promoted, or the primary given as a
// replica) is fully caught up.
const replaySQL = `SELECT CASE WHEN pg_is_in_recovery()
	THEN (pg_last_wal_replay_lsn() - '0/0')::bigint
	ELSE (pg_current_wal_insert_lsn() - '0/0')::bigint END,
CASE WHEN NOT pg_is_in_recovery() OR pg_last_wal_receive_lsn() IS NULL
		OR pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn()
		OR pg_last_xact_replay_timestamp() IS NULL
	THEN 0
	ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) END::float8`

// positionSQL reads the WAL position after everything the connection
// committed.
const positionSQL = `SELECT (pg_current_wal_insert_lsn() - '0/0')::bigint`

// probe asks r for its replayed position and lag, within ReplicaCheck,
// and records the answer.
func (rs *replicaSet) probe(ctx context.Context, r *replica) (store.Position, bool) {
	qctx, cancel := context.WithTimeout(ctx, rs.opts.ReplicaCheck)
	defer cancel()
	var lsn int64
	var lag float64
	err := r.pool.QueryRow(qctx, replaySQL).Scan(&lsn, &lag)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		// The caller gave up: that says nothing of the replica.
		return r.replayed, r.healthy
	}
	r.checked = rs.now()
	r.healthy = err == nil && time.Duration(lag*float64(time.Second)) <= rs.opts.ReplicaMaxLag
	if err == nil && store.Position(lsn) > r.replayed {
		r.replayed = store.Position(lsn)
	}
	return r.replayed, r.healthy
}

// usable reports whether r may serve a read now, probing it if what is
// known of it is older than ReplicaCheck (one caller probes; the others
// go by what is known).
func (rs *replicaSet) usable(ctx context.Context, r *replica) bool {
	r.mu.Lock()
	stale := rs.now().Sub(r.checked) >= rs.opts.ReplicaCheck
	if !stale || r.checking {
		ok := r.healthy
		r.mu.Unlock()
		return ok
	}
	r.checking = true
	r.mu.Unlock()
	_, ok := rs.probe(ctx, r)
	r.mu.Lock()
	r.checking = false
	r.mu.Unlock()
	return ok
}

// markDown records that r failed a read: it is skipped until checked
// again.
func (rs *replicaSet) markDown(r *replica) {
	r.mu.Lock()
	r.healthy, r.checked = false, rs.now()
	r.mu.Unlock()
}

// caughtUp reports whether r has replayed up to want, polling it until
// deadline.
func (rs *replicaSet) caughtUp(ctx context.Context, r *replica, want store.Position, deadline time.Time) bool {
	r.mu.Lock()
	replayed := r.replayed
	r.mu.Unlock()
	pause := 500 * time.Microsecond
	for {
		if replayed >= want {
			return true
		}
		var healthy bool
		replayed, healthy = rs.probe(ctx, r)
		if !healthy {
			return false
		}
		if replayed >= want {
			return true
		}
		left := deadline.Sub(rs.now())
		if left <= 0 {
			return false
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// read runs fn, one routed read, on a replica that may serve it (see Read
// replicas), else on the primary. An error of fn on a replica sends the
// read to the primary, unless it is the caller's context's.
func (s *Store) read(ctx context.Context, fn func(ctx context.Context, q querier) error) error {
	rs := s.replicas
	if rs == nil || len(rs.all) == 0 {
		return fn(ctx, s.pool)
	}
	var want store.Position
	if sess := store.SessionFrom(ctx); sess != nil {
		want = sess.Position()
	}
	deadline := rs.now().Add(s.opts.ReplicaWait)
	start := rs.next.Add(1)
	for i := range rs.all {
		r := rs.all[(start+uint64(i))%uint64(len(rs.all))]
		if !rs.usable(ctx, r) {
			continue
		}
		if want > 0 && !rs.caughtUp(ctx, r, want, deadline) {
			continue
		}
		err := fn(ctx, r.pool)
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			rs.markDown(r) // the replica is unreachable, not the query wrong
		}
	}
	return fn(ctx, s.pool)
}

// advanceSession advances the Session of ctx, if any, to the WAL position
// after what conn committed. It is called after a write committed on
// conn; a Store without replicas leaves Sessions alone. Failing to read
// the position fails nothing (the write is committed): the Session stays
// where it was, and the next read with it may miss this write on a
// replica for as long as the replica lags.
func (s *Store) advanceSession(ctx context.Context, conn *pgxpool.Conn) {
	if s.replicas == nil {
		return
	}
	sess := store.SessionFrom(ctx)
	if sess == nil {
		return
	}
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer cancel()
	var lsn int64
	if err := conn.QueryRow(qctx, positionSQL).Scan(&lsn); err == nil {
		sess.Advance(store.Position(lsn))
	}
}

// advanceSessionToPrimary advances the Session of ctx, if any, to the
// primary's current WAL position: for a write answered by a replay, whose
// first commit's position is not known but is behind the current one.
func (s *Store) advanceSessionToPrimary(ctx context.Context) {
	if s.replicas == nil || store.SessionFrom(ctx) == nil {
		return
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	defer conn.Release()
	s.advanceSession(ctx, conn)
}
