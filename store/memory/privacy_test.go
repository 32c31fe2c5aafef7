package memory_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/storetest"
)

// TestStore_ErasureScan checks that an erased user's texts are nowhere in
// the store: the scan prints every field of the Store's state, exported
// or not (conversations, messages, idempotency records, reports, the
// audit trail, the change log), and looks for them in the text.
func TestStore_ErasureScan(t *testing.T) {
	storetest.RunErasureScan(t, func(t *testing.T) store.Store { return memory.New() },
		func(t *testing.T, s store.Store, needle string) []string {
			if strings.Contains(fmt.Sprintf("%+v", s), needle) {
				return []string{"memory.Store"}
			}
			return nil
		})
}
