package memory

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestOrdered checks the listing index against a sorted slice, through
// random inserts, moves (a conversation's new activity) and removals of
// enough keys to split blocks many times, and pages from random cursors.
func TestOrdered(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var o ordered
	var want []listKey
	cmp := func(a, b listKey) int {
		switch {
		case a.before(b):
			return -1
		case b.before(a):
			return 1
		}
		return 0
	}
	all := func() []listKey {
		var got []listKey
		o.each(nil, func(k listKey) bool { got = append(got, k); return true })
		return got
	}
	for i := range 6 * blockSize {
		// Few distinct times: many keys tie on the time and order by id.
		k := listKey{t0.Add(time.Duration(r.IntN(500)) * time.Second), int64(i + 1)}
		o.insert(k)
		want = append(want, k)
		if r.IntN(3) == 0 { // a move: removed, then inserted newer
			j := r.IntN(len(want))
			o.remove(want[j])
			want[j].at = want[j].at.Add(time.Duration(r.IntN(100)) * time.Second)
			o.insert(want[j])
		}
		if r.IntN(10) == 0 {
			j := r.IntN(len(want))
			o.remove(want[j])
			want = slices.Delete(want, j, j+1)
		}
	}
	slices.SortFunc(want, cmp)
	require.Equal(t, want, all())
	require.Equal(t, len(want), o.len())
	require.Greater(t, len(o.blocks), 4, "blocks split")
	for _, bl := range o.blocks {
		require.NotEmpty(t, bl)
		require.LessOrEqual(t, len(bl), blockSize)
	}
	for range 200 {
		// A cursor on a key or between keys.
		c := want[r.IntN(len(want))]
		if r.IntN(2) == 0 {
			c.id += int64(r.IntN(3)) - 1
		}
		var page []listKey
		o.each(&c, func(k listKey) bool { page = append(page, k); return len(page) < 20 })
		at, _ := slices.BinarySearchFunc(want, c, cmp)
		if at < len(want) && cmp(want[at], c) == 0 {
			at++
		}
		require.Equal(t, nilIfEmpty(want[at:min(at+20, len(want))]), nilIfEmpty(page), "after %v", c)
	}
	for _, k := range slices.Clone(want) {
		o.remove(k)
	}
	require.Empty(t, all())
	require.Zero(t, o.len())
	require.Panics(t, func() { o.remove(want[0]) }, "removing a key that is not there")
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
