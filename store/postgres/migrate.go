package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew is returned by Open and New when the schema has been
// migrated by a newer version of this package than the running one: the
// program must be upgraded before it can use the database. Check it with
// errors.Is.
var ErrSchemaTooNew = errors.New("postgres: schema is newer than this version of parley knows")

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one embedded migration file, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations returns the embedded migrations in version order.
// Versions are unique and may leave gaps: branches of the code are given
// version numbers apart, and land in any order (see migrate).
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", name)
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migration %q: version %d is taken by %q", ms[i].name, ms[i].version, ms[i-1].name)
		}
	}
	return ms, nil
}

// migrationLockKey is the advisory lock key that serializes the
// migrations of one schema across processes.
func migrationLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("parley/store/postgres migrate " + schema))
	return int64(h.Sum64())
}

// migrate brings schema up to the newest embedded migration. It runs in
// one transaction that first takes a transaction-scoped advisory lock, so
// that processes starting together migrate one after the other: the first
// applies the migrations, the others find them recorded and do nothing.
// DDL is transactional in PostgreSQL, so a failed migration leaves
// nothing behind.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) (err error) {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	ident := pgx.Identifier{schema}.Sanitize()
	table := pgx.Identifier{schema, "schema_migrations"}.Sanitize()

	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLockKey(schema)); err != nil {
		return err
	}
	// CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when the
	// schema exists, so look first.
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1)", schema).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		if _, err := tx.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE IF NOT EXISTS "+table+` (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return err
	}
	rows, err := tx.Query(ctx, "SELECT version FROM "+table)
	if err != nil {
		return err
	}
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return err
	}
	current := 0
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		done[v] = true
		current = max(current, v)
	}
	latest := ms[len(ms)-1].version
	if current > latest {
		return fmt.Errorf("%w: schema %q is at version %d, this code knows versions up to %d", ErrSchemaTooNew, schema, current, latest)
	}
	// Every migration not recorded is applied, in version order: one with
	// a lower version than the newest applied is one that landed later.
	var missing []migration
	for _, m := range ms {
		if !done[m.version] {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return tx.Commit(ctx)
	}
	// The migration files name their tables without a schema.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
		return err
	}
	for _, m := range missing {
		// The simple protocol runs a file of several statements.
		if _, err := tx.Conn().PgConn().Exec(ctx, m.sql).ReadAll(); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+table+" (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
