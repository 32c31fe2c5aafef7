package postgres

import (
	"testing"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/storetest"
)

// TestStore_Conformance runs the conformance suite, each subtest on a
// store in a fresh schema.
func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newEnv(t, 16).Store })
}

// TestStore_ConformancePoolOfOne runs the suite again on pools of one
// connection: a method that needed a second connection while holding one
// would hang here.
func TestStore_ConformancePoolOfOne(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newEnv(t, 1).Store })
}
