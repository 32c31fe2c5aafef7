package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/storetest"
)

func TestConformance_File(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return MustOpen(t, filepath.Join(t.TempDir(), "parley.db")) })
}

func TestConformance_Memory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return MustOpen(t, MemoryPath) })
}
