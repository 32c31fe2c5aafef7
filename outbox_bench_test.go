package parley_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/sqlite"
)

// BenchmarkPostOutbox measures what the outbox costs a post on SQLite: the
// same Service.Post with direct delivery (a no-op Notifier, no event
// stored) and with the outbox (the event written in the post's
// transaction).
func BenchmarkPostOutbox(b *testing.B) {
	for _, outbox := range []bool{false, true} {
		name := "Direct"
		if outbox {
			name = "Outbox"
		}
		b.Run(name, func(b *testing.B) {
			st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"), sqlite.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			svc, c := benchService(b, st, 1, func(o *parley.Options) { o.Outbox = outbox })
			seller := parley.Seller("1", "1")
			b.ReportAllocs()
			for b.Loop() {
				if _, err := svc.Post(context.Background(), seller, parley.PostRequest{ConversationID: c.Conversation.ID, Content: "reply"}); err != nil {
					b.Fatal(err)
				}
			}
			opsPerSec(b)
		})
	}
}
