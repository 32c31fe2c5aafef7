package postbench

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

func TestFanOut(t *testing.T) {
	var next atomic.Int64
	var mu sync.Mutex
	seen := map[int64]int{}
	lat, err := FanOut(4, 40, &next, 10, func(conv int64) error {
		mu.Lock()
		seen[conv]++
		mu.Unlock()
		return nil
	})
	if err != nil || len(lat) != 40 {
		t.Fatalf("FanOut: %d latencies, %v", len(lat), err)
	}
	for c := int64(1); c <= 10; c++ {
		if seen[c] != 4 {
			t.Errorf("conversation %d posted to %d times, want 4 (in turn)", c, seen[c])
		}
	}
	boom := errors.New("boom")
	if _, err := FanOut(4, 40, &next, 10, func(int64) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("FanOut returned %v, want the post's error", err)
	}
}

func TestPostsPerRound(t *testing.T) {
	for _, c := range []struct {
		g     int
		short bool
		want  int
	}{{1, false, 512}, {64, false, 2048}, {1, true, 64}, {16, true, 128}} {
		if got := PostsPerRound(c.g, c.short); got != c.want {
			t.Errorf("PostsPerRound(%d, %v) = %d, want %d", c.g, c.short, got, c.want)
		}
	}
}
