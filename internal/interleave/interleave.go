// Package interleave runs the contenders of a benchmark interleaved: in
// every iteration each contender runs once on each case, in a new random
// order, so that other work on the machine and the caches left by the
// previous run weigh on all of them alike. It reports medians, which the
// rare long descheduling of a read of a few microseconds on a shared
// machine does not move, and the ratios of each contender's cases.
package interleave

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Contender is one way of doing what the benchmark measures.
type Contender struct {
	// Name names the contender in the reported metrics.
	Name string
	// Run runs it once on case i (an index of the cases passed to Run).
	Run func(b *testing.B, i int)
}

// Run runs every contender on every case in each iteration of b.Loop, in
// a new random order each time, and reports, for each contender, its
// median time on each case ("<name>-<case>-p50-ns") and the ratio of its
// median on each later case to its median on the first
// ("<name>-<case>/<first case>").
func Run(b *testing.B, cases []string, contenders []Contender) {
	b.Helper()
	spent := make([][][]time.Duration, len(contenders))
	var runs [][2]int
	for i := range contenders {
		spent[i] = make([][]time.Duration, len(cases))
		for j := range cases {
			runs = append(runs, [2]int{i, j})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for b.Loop() {
		r.Shuffle(len(runs), func(i, j int) { runs[i], runs[j] = runs[j], runs[i] })
		for _, run := range runs {
			t0 := time.Now()
			contenders[run[0]].Run(b, run[1])
			spent[run[0]][run[1]] = append(spent[run[0]][run[1]], time.Since(t0))
		}
	}
	for i, c := range contenders {
		for j, name := range cases {
			b.ReportMetric(float64(Median(spent[i][j]).Nanoseconds()), fmt.Sprintf("%s-%s-p50-ns", c.Name, name))
		}
		for j := 1; j < len(cases); j++ {
			b.ReportMetric(float64(Median(spent[i][j]))/float64(Median(spent[i][0])), fmt.Sprintf("%s-%s/%s", c.Name, cases[j], cases[0]))
		}
	}
}

// Median returns the median of ds, which it sorts; 0 for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
