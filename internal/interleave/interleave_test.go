package interleave

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestMedian(t *testing.T) {
	require.Equal(t, time.Duration(0), Median(nil))
	require.Equal(t, 3*time.Second, Median([]time.Duration{9 * time.Second, time.Second, 3 * time.Second}))
	require.Equal(t, 3*time.Second, Median([]time.Duration{time.Hour, 2 * time.Second, 3 * time.Second, 4 * time.Second, time.Second}), "an outlier does not move it")
}

// BenchmarkRun checks that every contender runs on every case once per
// iteration.
func BenchmarkRun(b *testing.B) {
	counts := make([][2]int, 2)
	Run(b, []string{"a", "b"}, []Contender{
		{Name: "x", Run: func(b *testing.B, i int) { counts[0][i]++ }},
		{Name: "y", Run: func(b *testing.B, i int) { counts[1][i]++ }},
	})
	for _, c := range counts {
		if c[0] != b.N || c[1] != b.N {
			b.Fatalf("runs %v, want %d each", counts, b.N)
		}
	}
}
