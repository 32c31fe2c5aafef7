package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
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
			return nil, fmt.Errorf("migrations %q and %q have the same version", ms[i-1].name, ms[i].name)
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

// migrate applies the embedded migrations that schema has not recorded,
// in version order. Versions need not be consecutive: branches of the code
// number their migrations apart, so a version may arrive after a higher
// one was applied, and is then applied on its own (migrations of
// different versions never depend on each other's order beyond their
// number). A recorded version that this code does not have means a newer
// program migrated the schema: ErrSchemaTooNew. It runs in
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
	applied, err := appliedVersions(ctx, tx, table)
	if err != nil {
		return err
	}
	known := make(map[int]bool, len(ms))
	for _, m := range ms {
		known[m.version] = true
	}
	for _, v := range applied {
		if !known[v] {
			return fmt.Errorf("%w: schema %q has migration version %d, this code knows versions up to %d", ErrSchemaTooNew, schema, v, ms[len(ms)-1].version)
		}
	}
	// The migration files name their tables without a schema.
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+ident); err != nil {
		return err
	}
	for _, m := range ms {
		if slices.Contains(applied, m.version) {
			continue
		}
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

// appliedVersions returns the versions recorded in table.
func appliedVersions(ctx context.Context, tx pgx.Tx, table string) ([]int, error) {
	rows, err := tx.Query(ctx, "SELECT version FROM "+table+" ORDER BY version")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}
