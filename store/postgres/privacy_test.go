package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/storetest"
)

// TestStore_ErasureScan checks that an erased user's texts are in no
// column of any table of the store's schema: the scan reads every column
// that information_schema.columns lists for the schema, as text.
func TestStore_ErasureScan(t *testing.T) {
	var env *testEnv
	storetest.RunErasureScan(t, func(t *testing.T) store.Store {
		env = newEnv(t, 4)
		return env.Store
	}, func(t *testing.T, _ store.Store, needle string) []string {
		return env.scanRows(t, needle)
	})
}

// scanRows returns table.column for every column of every table of the
// test's schema whose value, as text, contains needle.
func (e *testEnv) scanRows(t *testing.T, needle string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.admin.Query(ctx, `SELECT c.table_name, c.column_name FROM information_schema.columns c
	JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
	WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' ORDER BY 1, 2`, e.schema)
	require.NoError(t, err)
	type column struct{ table, name string }
	cols, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (column, error) {
		var c column
		return c, r.Scan(&c.table, &c.name)
	})
	require.NoError(t, err)
	require.NotEmpty(t, cols)
	var found []string
	for _, c := range cols {
		var n int64
		q := `SELECT count(*) FROM ` + e.table(c.table) + ` WHERE strpos(` + pgx.Identifier{c.name}.Sanitize() + `::text, $1) > 0`
		require.NoError(t, e.admin.QueryRow(ctx, q, needle).Scan(&n))
		if n > 0 {
			found = append(found, c.table+"."+c.name)
		}
	}
	return found
}
