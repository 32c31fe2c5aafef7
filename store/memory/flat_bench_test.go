package memory

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/internal/interleave"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// The flat-read benchmarks measure how the memory store's reads grow with
// a party and with the store: Unread and a seller's inbox page with its
// total for a seller of 100 conversations and one of 100,000 in one
// store, a page of the channel's listing among 100,100 conversations, and
// a claim among 100,000 pending events. Each runs next to its twin, the
// store's code before its indexes ("scan": a loop over every conversation,
// a sort of every pending event), interleaved in every iteration.
//
//	go test ./store/memory -run '^$' -bench Flat -benchtime=200x -count 5

var flatSizes = []int{100, 100_000}

func flatSeller(n int) string { return "seller-" + strconv.Itoa(n) }

// flatStore returns a store with a seller of each of flatSizes, each
// conversation started by a user (so unread for the seller).
func flatStore(b *testing.B) *Store {
	b.Helper()
	s := New()
	b.Cleanup(func() { s.Close() })
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for _, n := range flatSizes {
		for range n {
			i++
			at := t0.Add(time.Duration(i) * time.Millisecond)
			c := conversation.Conversation{Channel: "shop", Type: conversation.TypeMessage,
				UserID: "user-" + strconv.Itoa(i), DataSourceID: flatSeller(n), Status: conversation.StatusOpen,
				StartedBy: conversation.SideUser, CreatedAt: at}
			c.Code[0], c.Code[8], c.Code[9], c.Code[10] = 'c', byte(i>>16), byte(i>>8), byte(i)
			m := message.Message{Sender: message.User(c.UserID, message.UserRegistered), Content: "Hello", CreatedAt: at}
			if _, err := s.CreateConversation(ctx, store.CreateParams{Conversation: c, Message: m}); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s
}

// scanUnread is Unread as the store answered it before its totals.
func (s *Store) scanUnread(q store.UnreadQuery) store.UnreadSummary {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum store.UnreadSummary
	for i := range s.convs {
		c := &s.convs[i].conv
		if c.Channel != q.Channel || store.PartyOf(*c, q.Side) != q.PartyID {
			continue
		}
		if n := c.Read(q.Side).Unread; n > 0 {
			sum.Messages += n
			sum.Conversations++
		}
	}
	return sum
}

// scanList is ListConversations as the store answered it before its
// indexes: a scan of every conversation that keeps the first Limit+1
// matches in order.
func (s *Store) scanList(q store.ConversationQuery) store.Page[conversation.Conversation] {
	s.mu.Lock()
	defer s.mu.Unlock()
	newer := func(a, b *conversation.Conversation) bool { return keyOfConv(a).before(keyOfConv(b)) }
	limit := max(q.Limit, 1)
	var after conversation.Conversation
	if q.After != nil {
		after = conversation.Conversation{LastMessageAt: q.After.LastMessageAt, ID: q.After.ID}
	}
	q.Filter = store.NormalizeFilter(q.Filter)
	f := q.Filter
	var total int64
	top := make([]*conversation.Conversation, 0, min(limit+1, len(s.convs)))
	for i := len(s.convs) - 1; i >= 0; i-- {
		c := &s.convs[i].conv
		if c.Channel != q.Channel ||
			(f.UserID != "" && c.UserID != f.UserID) ||
			(f.DataSourceID != "" && c.DataSourceID != f.DataSourceID) ||
			!q.Matches(*c) {
			continue
		}
		total++
		if q.After != nil && !newer(&after, c) {
			continue
		}
		if len(top) == limit+1 {
			if !newer(c, top[limit]) {
				continue
			}
			top = top[:limit]
		}
		at, _ := slices.BinarySearchFunc(top, c, func(e, t *conversation.Conversation) int {
			if newer(e, t) {
				return -1
			}
			return 1
		})
		top = slices.Insert(top, at, c)
	}
	page := store.Page[conversation.Conversation]{Total: -1}
	if len(top) > limit {
		top, page.More = top[:limit], true
	}
	page.Items = make([]conversation.Conversation, len(top))
	for i, c := range top {
		page.Items[i] = *c
	}
	if q.WithTotal {
		page.Total = total
	}
	return page
}

func BenchmarkFlatReads(b *testing.B) {
	s := flatStore(b)
	ctx := context.Background()
	sizes := interleave.Names(flatSizes)
	unreadQ := func(i int) store.UnreadQuery {
		return store.UnreadQuery{Channel: "shop", Side: conversation.SideSeller, PartyID: flatSeller(flatSizes[i])}
	}
	sellerOf := func(i int) string { return flatSeller(flatSizes[i]) }
	inboxQ := func(i int) store.ConversationQuery { return interleave.InboxQuery("shop", sellerOf(i)) }
	b.Run("Unread", func(b *testing.B) {
		interleave.Run(b, sizes, []interleave.Contender{
			interleave.Unread(s, "shop", sellerOf),
			{Name: "scan", Run: func(b *testing.B, i int) {
				if u := s.scanUnread(unreadQ(i)); u.Conversations != int64(flatSizes[i]) {
					b.Fatal(u)
				}
			}},
		})
	})
	b.Run("InboxWithTotal", func(b *testing.B) {
		interleave.Run(b, sizes, []interleave.Contender{
			interleave.Inbox(s, "shop", sellerOf),
			{Name: "scan", Run: func(b *testing.B, i int) {
				if p := s.scanList(inboxQ(i)); len(p.Items) != 20 || p.Total != int64(flatSizes[i]) {
					b.Fatal(len(p.Items), p.Total)
				}
			}},
		})
	})
	// A page of 20 of the whole channel (100,100 conversations): the
	// first, and one from the middle of the listing.
	b.Run("ChannelPage", func(b *testing.B) {
		mid := s.conv(int64(len(s.convs) / 2)).conv
		pages := []store.ConversationQuery{
			{Channel: "shop", Limit: 20},
			{Channel: "shop", Limit: 20, After: &store.ConversationCursor{LastMessageAt: mid.LastMessageAt, ID: mid.ID}},
		}
		interleave.Run(b, []string{"first", "middle"}, []interleave.Contender{
			{Name: "store", Run: func(b *testing.B, i int) {
				if p, err := s.ListConversations(ctx, pages[i]); err != nil || len(p.Items) != 20 {
					b.Fatal(err, len(p.Items))
				}
			}},
			{Name: "scan", Run: func(b *testing.B, i int) {
				if p := s.scanList(pages[i]); len(p.Items) != 20 {
					b.Fatal(len(p.Items))
				}
			}},
		})
	})
}

// BenchmarkFlatClaim claims 10 of 100,000 pending events and fails them
// for a retry a minute later, so that the outbox stays at 100,000 pending
// events: "Interleaved" next to the same on the scanning outbox (a sort
// per claim), in every iteration; "Store" alone, for its allocations.
func BenchmarkFlatClaim(b *testing.B) {
	const pending = 100_000
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	setup := func() (*Store, *scanOutbox) {
		s := New()
		b.Cleanup(func() { s.Close() })
		model := &scanOutbox{pending: make(map[string]*eventRecord, pending)}
		for i := range pending {
			e := notify.Event{ID: fmt.Sprintf("e%08d", i), DigestKey: strconv.Itoa(i), DueAt: t0.Add(time.Duration(i) * time.Millisecond),
				State: notify.StatePending}
			s.addEvents([]notify.Event{e}, 1, 1)
			model.pending[e.ID] = &eventRecord{ev: e}
		}
		return s, model
	}
	ctx := context.Background()
	claim := func(b *testing.B, s *Store, p notify.ClaimParams) {
		got, err := s.ClaimEvents(ctx, p)
		if err != nil || len(got) != 10 {
			b.Fatal(err, len(got))
		}
		for _, e := range got {
			if err := s.FailEvent(ctx, "w", e.ID, "retry", p.Now.Add(time.Minute), false); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("Interleaved", func(b *testing.B) {
		s, model := setup()
		now := t0.Add(time.Hour) // every event is due
		var inStore, inScan time.Duration
		for b.Loop() {
			now = now.Add(time.Second)
			p := notify.ClaimParams{Worker: "w", Now: now, Lease: time.Minute, Limit: 10}
			start := time.Now()
			claim(b, s, p)
			mid := time.Now()
			for _, e := range model.claim(p) {
				r := model.pending[e.ID]
				r.ev.DueAt, r.claimedBy, r.leaseUntil = now.Add(time.Minute), "", time.Time{}
			}
			inStore, inScan = inStore+mid.Sub(start), inScan+time.Since(mid)
		}
		b.ReportMetric(float64(inStore.Nanoseconds())/float64(b.N), "store-ns/op")
		b.ReportMetric(float64(inScan.Nanoseconds())/float64(b.N), "scan-ns/op")
		b.ReportMetric(float64(inScan)/float64(inStore), "scan/store")
	})
	b.Run("Store", func(b *testing.B) {
		s, _ := setup()
		now := t0.Add(time.Hour)
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(time.Second)
			claim(b, s, notify.ClaimParams{Worker: "w", Now: now, Lease: time.Minute, Limit: 10})
		}
	})
}
