package memory_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/storetest"
)

// TestStore_ErasureScan checks that an erased user's texts are nowhere in
// the store: the scan walks every value the Store holds, exported or
// not, through pointers, slices and maps (conversations, messages,
// idempotency records, outbox events, reports, the audit trail, the
// change log), and looks for them in every string.
func TestStore_ErasureScan(t *testing.T) {
	storetest.RunErasureScan(t, func(t *testing.T) store.Store { return memory.New() },
		func(t *testing.T, s store.Store, needle string) []string {
			var found []string
			walkStrings(reflect.ValueOf(s), "Store", map[uintptr]bool{}, func(path, v string) {
				if strings.Contains(v, needle) {
					found = append(found, path)
				}
			})
			return found
		})
}

// walkStrings calls fn with every string reachable from v, and its path.
func walkStrings(v reflect.Value, path string, seen map[uintptr]bool, fn func(path, v string)) {
	switch v.Kind() {
	case reflect.String:
		fn(path, v.String())
	case reflect.Pointer:
		if v.IsNil() || seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		walkStrings(v.Elem(), path, seen, fn)
	case reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, seen, fn)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			walkStrings(v.Field(i), path+"."+v.Type().Field(i).Name, seen, fn)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkStrings(v.Index(i), path+"[]", seen, fn)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			walkStrings(it.Key(), path+"{key}", seen, fn)
			walkStrings(it.Value(), path+"{}", seen, fn)
		}
	}
}
