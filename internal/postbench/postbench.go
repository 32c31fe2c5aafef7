// Package postbench holds what the concurrent post benchmarks of the
// stores (store/sqlite, store/postgres) share: how many posts a round
// makes, and how goroutines share them.
package postbench

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// PostsPerRound is how many posts each contender of a benchmark makes in
// one round with g goroutines: at least 32 per goroutine, so that the
// goroutines overlap for most of it (8 with short).
func PostsPerRound(g int, short bool) int {
	if short {
		return max(64, 8*g)
	}
	return max(512, 32*g)
}

// FanOut runs n calls of post with g goroutines, each call taking the
// next of the conversations 1 to convs in turn (next counts them), and
// returns the time each call took. It stops at the first error and
// returns it.
func FanOut(g, n int, next *atomic.Int64, convs int64, post func(conv int64) error) ([]time.Duration, error) {
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range g {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += g {
				if failed.Load() != nil {
					return
				}
				conv := next.Add(1)%convs + 1
				t0 := time.Now()
				if err := post(conv); err != nil {
					failed.CompareAndSwap(nil, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return nil, err
	}
	return lat, nil
}

// A Contender is one of the writers a benchmark measures: Run makes n
// posts with g goroutines and returns the time each post waited for its
// acknowledgement (nil if its posts are not acknowledged one by one).
// Round adds up the rest.
type Contender struct {
	Name string
	Run  func(g, n int) []time.Duration

	Posts   int
	Elapsed time.Duration
	CPU     time.Duration // the whole process's
	Mallocs uint64        // the whole process's
	Lat     []time.Duration
}

// Round runs one round of a benchmark: each contender makes n posts with
// g goroutines, in turn, starting with contender round%len(cs), so that
// the order rotates between rounds and every contender sees the same
// moments of a shared machine.
func Round(cs []*Contender, round, g, n int) {
	var ms runtime.MemStats
	for i := range cs {
		c := cs[(round+i)%len(cs)]
		runtime.ReadMemStats(&ms)
		m0, cpu0, t0 := ms.Mallocs, cpuTime(), time.Now()
		lat := c.Run(g, n)
		c.Elapsed += time.Since(t0)
		c.CPU += cpuTime() - cpu0
		runtime.ReadMemStats(&ms)
		c.Mallocs += ms.Mallocs - m0
		c.Posts += n
		c.Lat = append(c.Lat, lat...)
	}
}

// Rate returns c's throughput, in posts per second.
func (c *Contender) Rate() float64 { return float64(c.Posts) / c.Elapsed.Seconds() }

// Report reports c's throughput (name-ops/s), allocations and CPU time
// per post, and the 99th percentile of its posts' waits (name-p99-µs),
// if it has any.
func (c *Contender) Report(b *testing.B) {
	b.ReportMetric(c.Rate(), c.Name+"-ops/s")
	b.ReportMetric(float64(c.Mallocs)/float64(c.Posts), c.Name+"-allocs/post")
	b.ReportMetric(float64(c.CPU.Microseconds())/float64(c.Posts), c.Name+"-cpu-µs/post")
	if len(c.Lat) > 0 {
		slices.Sort(c.Lat)
		b.ReportMetric(float64(c.Lat[len(c.Lat)*99/100].Microseconds()), c.Name+"-p99-µs")
	}
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
