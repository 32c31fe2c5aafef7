package memory_test

import (
	"testing"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/storetest"
)

func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}
