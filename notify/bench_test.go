package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// BenchmarkWorker_RunOnce measures one delivery cycle of a batch of 100
// events on the memory store (claim, read each conversation and its
// messages, notify a no-op, complete), without digests (100
// notifications) and with digests of five messages (20 notifications).
// Writing the events is not timed.
func BenchmarkWorker_RunOnce(b *testing.B) {
	const batch = 100
	for _, bc := range []struct {
		name    string
		window  time.Duration
		perConv int
	}{{"NoDigest", 0, 1}, {"Digest5", time.Minute, 5}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, bc.window)
			cfg := notify.DefaultWorkerConfig()
			cfg.Now, cfg.DigestWindow, cfg.BatchSize = e.clock.Now, bc.window, batch
			w, err := notify.NewWorker(e.st, e.st, notify.Nop{}, cfg)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			n := 0
			for b.Loop() {
				b.StopTimer()
				for range batch / bc.perConv {
					c, _ := e.start(fmt.Sprint("u", n), "first")
					n++
					for j := 1; j < bc.perConv; j++ {
						e.post(c.ID, message.User(c.UserID, message.UserRegistered), "more")
					}
				}
				e.clock.Advance(bc.window)
				b.StartTimer()
				got, err := w.RunOnce(ctx)
				if err != nil || got != batch/bc.perConv {
					b.Fatalf("RunOnce = %d, %v; want %d notifications", got, err, batch/bc.perConv)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/event")
		})
	}
}
