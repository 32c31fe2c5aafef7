// Package postbench holds what the concurrent post benchmarks of the
// stores (store/sqlite, store/postgres) share: how many posts a round
// makes, and how goroutines share them.
package postbench

import (
	"sync"
	"sync/atomic"
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
