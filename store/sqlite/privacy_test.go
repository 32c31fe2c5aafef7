package sqlite

import (
	"context"
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
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, tables)
	var found []string
	for _, table := range tables {
		cols, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
		require.NoError(t, err)
		var names []string
		for cols.Next() {
			var name string
			require.NoError(t, cols.Scan(&name))
			names = append(names, name)
		}
		require.NoError(t, cols.Err())
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
