package main

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/sqlite"
)

// openStore opens (creating it if needed) the SQLite file at path.
func openStore(ctx context.Context, path string) (store.Store, string, error) {
	st, err := sqlite.Open(ctx, path, sqlite.DefaultOptions())
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", path, err)
	}
	return st, "SQLite file " + path, nil
}
