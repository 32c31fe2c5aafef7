package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/storetest"
)

// TestStore_ErasureScan checks that an erased user's texts are in no
// column of any table: the scan reads every table of sqlite_master and
// every column PRAGMA table_info names, as text.
func TestStore_ErasureScan(t *testing.T) {
	storetest.RunErasureScan(t, func(t *testing.T) store.Store {
		return MustOpen(t, filepath.Join(t.TempDir(), "parley.db"))
	}, scanRows)
}

// scanRows returns table.column for every column of every table of s
// whose value, as text, contains needle.
func scanRows(t *testing.T, st store.Store, needle string) []string {
	t.Helper()
	ctx := context.Background()
	db := st.(*Store).r
	tables := queryStrings(t, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	require.NotEmpty(t, tables)
	var found []string
	for _, table := range tables {
		names := queryStrings(t, db, `SELECT name FROM pragma_table_info(?)`, table)
		for _, col := range names {
			var n int64
			q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE instr(CAST(%q AS TEXT), ?) > 0`, table, col)
			require.NoError(t, db.QueryRowContext(ctx, q, needle).Scan(&n))
			if n > 0 {
				found = append(found, table+"."+col)
			}
		}
	}
	return found
}

// queryStrings returns the one text column of the rows of q.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}
