package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkReplicaListings measures a seller's inbox page (the listing of
// BenchmarkListConversations, on the 10k dataset) read by many goroutines
// while two others post messages without pause: "primary" reads from the
// primary that takes the posts, "replica" from a streaming replica of it
// (made for the benchmark, as in TestReplica; same machine, so the two
// servers share its cores). It reports reads/s, the posts/s of the
// write load during the reads, and the WAL the primary wrote per post
// (the primary is the benchmark's own: nothing else writes to it).
//
//	go test ./store/postgres -run '^$' -bench ReplicaListings -benchtime=3s -count=3
func BenchmarkReplicaListings(b *testing.B) {
	primary, standby := newStandbyPair(b, true)
	rpool := standby.pool()

	d := &dataset{name: "10k", messages: 10_000}
	if err := d.seed(primary.dsn()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = d.st.Close(); d.pool.Close() })
	ctx := context.Background()
	withReplica, err := Open(ctx, primary.dsn(), Options{Schema: d.schema, Replicas: []*pgxpool.Pool{rpool}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = withReplica.Close() })
	waitReplayed(b, d.pool, rpool)
	sellers := d.convs / benchPerSeller

	for _, tc := range []struct {
		name string
		st   *Store
	}{{"primary", d.st}, {"replica", withReplica}} {
		b.Run(tc.name, func(b *testing.B) {
			stop := make(chan struct{})
			var posts atomic.Int64
			var wg sync.WaitGroup
			for w := range 2 {
				wg.Go(func() {
					for i := w; ; i += 2 {
						select {
						case <-stop:
							return
						default:
						}
						if _, err := d.st.AppendMessage(ctx, benchPost(d.benchConv(i), i)); err != nil {
							b.Error(err)
							return
						}
						posts.Add(1)
					}
				})
			}
			var n atomic.Int64
			var walBefore, walAfter int64
			if err := d.pool.QueryRow(ctx, positionSQL).Scan(&walBefore); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			b.SetParallelism(4) // 4 x GOMAXPROCS readers
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					page, err := tc.st.ListConversations(ctx, inboxQuery(fmt.Sprint("d", int(i)%sellers)))
					if err != nil || len(page.Items) != 20 {
						b.Error(len(page.Items), err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			close(stop)
			wg.Wait()
			if err := d.pool.QueryRow(ctx, positionSQL).Scan(&walAfter); err != nil {
				b.Fatal(err)
			}
			if p := posts.Load(); p > 0 {
				b.ReportMetric(float64(walAfter-walBefore)/float64(p), "WAL-B/post")
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "reads/s")
			b.ReportMetric(float64(posts.Load())/elapsed.Seconds(), "posts/s")
		})
	}
}
