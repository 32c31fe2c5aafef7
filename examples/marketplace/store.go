package main

import (
	"context"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// openStore opens the example's store. Until the SQLite backend lands it
// is the in-memory store and path is not used: conversations last as long
// as the process.
func openStore(_ context.Context, path string) (store.Store, string, error) {
	return memory.New(), "in-memory store; -db " + path + " is not used until store/sqlite lands", nil
}
