package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/parleyhq/parley/store"
)

// PageByNumber is the benchmark of page numbers (parley.PageRequest.Offset)
// that each backend runs on its own data set, beside its hand-written
// twins: page number page (from 1, of size items) of the conversations of
// channel, and of the messages of conversation conv, whose newest has Seq
// lastSeq. The "parley" contenders do what the Service does: for
// conversations, the store's Seeker to the page's start and
// ListConversations after it; for messages, one ListMessages from the
// Seq that the offset gives. convTwin and msgTwin read the same page by
// hand, given its offset, and return how many items they read (at least
// size); the contenders alternate.
func PageByNumber(b *testing.B, s store.Store, channel string, conv, lastSeq int64, page, size int,
	convTwin, msgTwin func(offset int64) (int, error)) {
	ctx := context.Background()
	offset := int64(page-1) * int64(size)
	check := func(b *testing.B, n int, err error) {
		if err != nil || n < size {
			b.Fatal(err, n)
		}
	}
	b.Run(fmt.Sprintf("Conversations/page=%d/parley", page), func(b *testing.B) {
		sk, ok := s.(store.Seeker)
		if !ok {
			b.Skip("the store is not a store.Seeker")
		}
		q := store.ConversationQuery{Channel: channel, Limit: size}
		for b.Loop() {
			q.After = nil
			if offset > 0 {
				pos, ok, err := sk.SeekConversations(ctx, q, offset)
				if err != nil || !ok {
					b.Fatal(err, ok)
				}
				q.After = &pos
			}
			p, err := s.ListConversations(ctx, q)
			check(b, len(p.Items), err)
		}
	})
	b.Run(fmt.Sprintf("Conversations/page=%d/offset", page), func(b *testing.B) {
		for b.Loop() {
			n, err := convTwin(offset)
			check(b, n, err)
		}
	})
	b.Run(fmt.Sprintf("Messages/page=%d/parley", page), func(b *testing.B) {
		q := store.MessageQuery{ConversationID: conv, BeforeSeq: lastSeq + 1 - offset, Limit: size}
		for b.Loop() {
			p, err := s.ListMessages(ctx, q)
			check(b, len(p.Items), err)
		}
	})
	b.Run(fmt.Sprintf("Messages/page=%d/offset", page), func(b *testing.B) {
		for b.Loop() {
			n, err := msgTwin(offset)
			check(b, n, err)
		}
	})
}
