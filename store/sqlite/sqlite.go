package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/parleyhq/parley/store"
)

// driverName is the database/sql name of modernc.org/sqlite.
const driverName = "sqlite"

// Errors returned by Open. Check them with errors.Is.
var (
	// ErrNotParley: the file exists but is not a Parley database: it is
	// not SQLite at all, or it holds tables but no Parley migrations
	// table. Open leaves such a file untouched.
	ErrNotParley = errors.New("sqlite: not a Parley database")
	// ErrSchemaTooNew: the database was written by a newer Parley whose
	// schema this code does not know. The error is a *SchemaVersionError.
	// Open leaves such a file untouched.
	ErrSchemaTooNew = errors.New("sqlite: database schema is newer than this code")
)

// SchemaVersionError reports a database whose schema version is newer than
// the newest migration this code has. It unwraps to ErrSchemaTooNew.
type SchemaVersionError struct {
	Path  string
	Found int // the database's schema version
	Known int // the newest version this code knows
}

// Error describes the versions.
func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("sqlite: %s: schema version %d is newer than the newest known (%d)", e.Path, e.Found, e.Known)
}

// Unwrap returns ErrSchemaTooNew.
func (e *SchemaVersionError) Unwrap() error { return ErrSchemaTooNew }

// MemoryPath is the path that opens a private in-memory database.
const MemoryPath = ":memory:"

// Store is a store.Store on a SQLite database. It is safe for concurrent
// use. Create it with Open and release it with Close.
type Store struct {
	path   string
	memory bool
	opts   Options

	w *sql.DB // the single writer connection, used by the writer loop
	r *sql.DB // the read-only pool (w itself for in-memory databases)

	gc    committer // the queue of the writer loop (see write)
	batch batch     // the writer loop's transaction

	st     stmts
	listMu sync.Mutex
	lists  map[string]*sql.Stmt // prepared listing queries, by SQL

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error

	// hook, if set by a test, is called at named points inside write
	// transactions (e.g. "create:conversation" after the conversation row
	// is inserted) with the write's context.
	hook func(ctx context.Context, point string)
	// onCommit, if set by a test, is called by the writer loop after each
	// batch with the number of writes that ran in it and the error of its
	// commit.
	onCommit func(ran int, err error)
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Seeker = (*Store)(nil)
)

// Open opens the Parley database at path, creating it if it does not exist
// and bringing its schema up to date, or a fresh in-memory database when
// path is MemoryPath (":memory:") or "".
//
// A file database has one writer connection, whose transactions take the
// write lock when they begin (BEGIN IMMEDIATE), and a pool of
// opts.MaxReaders read-only connections that read concurrently with it in
// WAL mode. Every connection gets the same settings from its DSN (busy
// timeout first, foreign keys, synchronous, cache size); the file itself
// is switched to WAL mode once, which lasts.
//
// Several processes may open, create and migrate one file at the same
// time: each waits for the others' locks up to opts.BusyTimeout, in the
// read-only check of an existing file, while switching a new file to WAL
// mode, and while migrating (each migration in a write transaction that
// checks the schema version again under the lock, so it is applied once).
//
// An in-memory database is private to the Store and lives in a single
// connection that serves reads and writes in turn, so it never sees
// another connection's view of the data; it is gone after Close. It is
// meant for tests and examples.
//
// Open returns an error wrapping ErrNotParley for a file that is not a
// Parley database, a *SchemaVersionError (ErrSchemaTooNew) for one written
// by a newer version, and ErrInvalidOptions for options out of range; it
// does not modify such a file.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	s := &Store{path: path, opts: opts, lists: make(map[string]*sql.Stmt)}
	if path == "" || path == MemoryPath {
		s.memory = true
		s.path = MemoryPath
	}
	if err := s.open(ctx); err != nil {
		s.closePools()
		return nil, err
	}
	s.gc.init()
	s.batch = batch{ctx: context.Background(), stmts: make(map[*sql.Stmt]*sql.Stmt)}
	go s.writeLoop()
	return s, nil
}

func (s *Store) open(ctx context.Context) error {
	if !s.memory {
		abs, err := filepath.Abs(s.path)
		if err != nil {
			return fmt.Errorf("sqlite: open %s: %w", s.path, err)
		}
		s.path = abs
		if err := probe(ctx, abs, s.opts.BusyTimeout); err != nil {
			return err
		}
	}
	var err error
	if s.w, err = sql.Open(driverName, s.dsn(false)); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", s.path, err)
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.w.PingContext(ctx); err != nil {
		return s.fail(ctx, "open "+s.path, err)
	}
	if !s.memory {
		if err := s.useWAL(ctx); err != nil {
			return err
		}
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}
	if s.memory {
		s.r = s.w
	} else {
		if s.r, err = sql.Open(driverName, s.dsn(true)); err != nil {
			return fmt.Errorf("sqlite: open %s: %w", s.path, err)
		}
		s.r.SetMaxOpenConns(s.opts.MaxReaders)
		s.r.SetMaxIdleConns(s.opts.MaxReaders)
		s.r.SetConnMaxLifetime(0)
		s.r.SetConnMaxIdleTime(0)
	}
	return s.st.prepare(ctx, s.w, s.r)
}

// dsn returns the data source name of a writer or reader connection. The
// settings are query parameters so that every connection database/sql
// opens gets them, not only the first.
func (s *Store) dsn(reader bool) string {
	q := url.Values{}
	q.Add("_pragma", busyTimeout(s.opts.BusyTimeout))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+string(s.opts.Synchronous)+")")
	q.Add("_pragma", "cache_size(-"+strconv.Itoa(s.opts.CacheSizeKiB)+")")
	q.Add("_pragma", "temp_store(memory)")
	if s.memory {
		q.Set("_txlock", "immediate")
		return MemoryPath + "?" + q.Encode()
	}
	// The journal mode is not set here: it belongs to the file (see
	// useWAL).
	// Bound the WAL file left behind after large checkpoints.
	q.Add("_pragma", "journal_size_limit(67108864)")
	if reader {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return fileURI(s.path, q.Encode())
}

// useWAL switches the database file to WAL mode, which is then the file's
// mode for every connection of every process. Switching takes an exclusive
// lock, and SQLite answers SQLITE_BUSY at once, without waiting for the
// busy timeout, when another process holds a lock on the file at that
// moment (as processes that open a new file together do): so the switch
// is retried, after a short random pause, for up to BusyTimeout. On a
// file that is in WAL mode already it is a read.
func (s *Store) useWAL(ctx context.Context) error {
	op := "open " + s.path
	wctx, cancel := context.WithTimeout(ctx, s.opts.BusyTimeout)
	defer cancel()
	var last error // why the last attempt did not switch
	for {
		var mode string
		err := s.w.QueryRowContext(wctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		switch {
		case err == nil && strings.EqualFold(mode, "wal"):
			return nil
		case err == nil:
			last = fmt.Errorf("journal mode is %q, not wal", mode)
		case driverCode(err)&0xff == sqlite3.SQLITE_BUSY:
			last = err
		case wctx.Err() != nil && ctx.Err() == nil: // the time ran out during the attempt
			if last == nil {
				last = err
			}
		default:
			return s.fail(ctx, op, err)
		}
		pause := time.NewTimer(time.Millisecond + rand.N(10*time.Millisecond))
		select {
		case <-pause.C:
		case <-wctx.Done():
			pause.Stop()
			if ctx.Err() != nil {
				return s.fail(ctx, op, ctx.Err())
			}
			return fmt.Errorf("sqlite: %s: switching to WAL mode for %v: %w", op, s.opts.BusyTimeout, last)
		}
	}
}

// busyTimeout is the _pragma setting of a connection's busy timeout. It
// comes first: the pragmas after it, and the connection's first read, wait
// for other processes' locks.
func busyTimeout(d time.Duration) string {
	return "busy_timeout(" + strconv.FormatInt(d.Milliseconds(), 10) + ")"
}

// fileURI returns the SQLite URI of the file at the absolute path abs with
// the given encoded query.
func fileURI(abs, query string) string {
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file:" + u.EscapedPath() + "?" + query
}

// probe checks, without writing to it, that the existing file at path is
// a Parley database this code can open, or an empty one. A missing file is
// fine: Open creates it. Its read-only connection waits up to busy for the
// locks of other processes that are creating or migrating the file.
func probe(ctx context.Context, path string, busy time.Duration) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", busyTimeout(busy))
	db, err := sql.Open(driverName, fileURI(path, q.Encode()))
	if err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	defer db.Close()
	names, err := schemaObjects(ctx, db)
	if err != nil {
		if driverCode(err)&0xff == sqlite3.SQLITE_NOTADB {
			return fmt.Errorf("%w: %s: %w", ErrNotParley, path, err)
		}
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if len(names) == 0 {
		return nil
	}
	if !names[migrationsTable] {
		return fmt.Errorf("%w: %s holds other tables and no %s table", ErrNotParley, path, migrationsTable)
	}
	var version int
	if err := db.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM "+migrationsTable).Scan(&version); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if known := latestVersion(); version > known {
		return &SchemaVersionError{Path: path, Found: version, Known: known}
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// schemaObjects returns the names of the tables, views, indexes and
// triggers of the database, SQLite's own excepted.
func schemaObjects(ctx context.Context, q querier) (map[string]bool, error) {
	rows, err := q.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names[n] = true
	}
	return names, rows.Err()
}

// Migrations.

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationsTable records the applied migrations.
const migrationsTable = "parley_migrations"

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Their file
// names are NNNN_name.sql. Versions are unique and may leave gaps: branches
// of the code are given version numbers apart, and land in any order (see
// migrateOne).
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		prefix, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(prefix)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("sqlite: migration %q: name must be NNNN_name.sql", e.Name())
		}
		b, err := migrationFiles.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlite: migration %q: version %d is taken by %q", ms[i].name, ms[i].version, ms[i-1].name)
		}
	}
	return ms, nil
}

// latestVersion is the schema version of the newest embedded migration.
func latestVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrate applies the migrations the database lacks, each in its own
// write transaction, and records them. It checks again, under the write
// lock, that the database is Parley's and not newer than this code, so that
// two processes opening a new file at once do not both migrate it.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	for {
		done, err := s.migrateOne(ctx, ms)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// migrateOne applies the next missing migration, or reports done.
func (s *Store) migrateOne(ctx context.Context, ms []migration) (done bool, err error) {
	op := "migrate " + s.path
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, s.fail(ctx, op, err)
	}
	defer tx.Rollback()
	names, err := schemaObjects(ctx, tx)
	if err != nil {
		return false, s.fail(ctx, op, err)
	}
	applied := map[int]bool{}
	version := 0
	switch {
	case names[migrationsTable]:
		rows, err := tx.QueryContext(ctx, "SELECT version FROM "+migrationsTable)
		if err != nil {
			return false, s.fail(ctx, op, err)
		}
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				rows.Close()
				return false, s.fail(ctx, op, err)
			}
			applied[v] = true
			version = max(version, v)
		}
		if err := rows.Err(); err != nil {
			return false, s.fail(ctx, op, err)
		}
	case len(names) > 0:
		return false, fmt.Errorf("%w: %s holds other tables and no %s table", ErrNotParley, s.path, migrationsTable)
	default:
		if _, err := tx.ExecContext(ctx, `CREATE TABLE `+migrationsTable+` (
	version    INTEGER PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at INTEGER NOT NULL
)`); err != nil {
			return false, s.fail(ctx, op, err)
		}
	}
	if known := ms[len(ms)-1].version; version > known {
		return false, &SchemaVersionError{Path: s.path, Found: version, Known: known}
	}
	// The first migration not recorded is next, in version order: one
	// with a lower version than the newest applied is one that landed
	// later.
	i := slices.IndexFunc(ms, func(m migration) bool { return !applied[m.version] })
	if i < 0 {
		return true, s.fail(ctx, op, tx.Commit())
	}
	m := ms[i]
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, s.fail(ctx, op+": "+m.name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+migrationsTable+` (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, micros(s.opts.Now())); err != nil {
		return false, s.fail(ctx, op+": "+m.name, err)
	}
	return false, s.fail(ctx, op+": "+m.name, tx.Commit())
}

// SchemaVersion returns the version of the database's schema: the newest
// migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var v int
	err := s.r.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM "+migrationsTable).Scan(&v)
	return v, s.fail(ctx, "schema version", err)
}

// Close closes the database. The writes already committing finish;
// those still queued, and methods called afterwards, return an error
// wrapping store.ErrClosed. Closing twice is fine.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.gc.stop()
		s.closeErr = s.closePools()
	})
	return s.closeErr
}

func (s *Store) closePools() error {
	var errs []error
	errs = append(errs, s.st.close())
	s.listMu.Lock()
	for q, st := range s.lists {
		errs = append(errs, st.Close())
		delete(s.lists, q)
	}
	s.listMu.Unlock()
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// check returns an error if the store is closed or ctx is done.
func (s *Store) check(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("sqlite: %w", store.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	return nil
}

// fail translates an error at the store's boundary: nil stays nil, store
// errors pass through, a closed store gives ErrClosed, a done context its
// error, and driver errors are wrapped with the operation's name (they
// remain reachable with errors.As as *sqlite.Error).
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConversationExists),
		errors.Is(err, store.ErrIdempotencyMismatch), errors.Is(err, store.ErrDuplicateCode), errors.Is(err, store.ErrClosed):
		return err
	case s.closed.Load():
		return fmt.Errorf("sqlite: %s: %w", op, store.ErrClosed)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("sqlite: %s: %w", op, err)
	case ctx.Err() != nil:
		// The transaction was rolled back because ctx is done; the
		// driver's error (interrupted, transaction done) says less.
		return fmt.Errorf("sqlite: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// driverCode returns the SQLite extended result code of err, or 0 if err
// is not a driver error.
func driverCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}
