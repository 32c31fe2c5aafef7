package memory_test

import (
	"context"
	"encoding/binary"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

var benchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// code returns a cheap, unique code: the benchmarks measure the store, not
// the random number generator.
func code(i int, kind byte) uuid.UUID {
	var u uuid.UUID
	u[0] = kind
	binary.BigEndian.PutUint64(u[8:], uint64(i))
	return u
}

// createParams returns the parameters of the i-th conversation of a
// benchmark, as the Service builds them. Building them is part of what the
// benchmarks measure (a few hundred nanoseconds).
func createParams(i int) store.CreateParams {
	at := benchStart.Add(time.Duration(i) * time.Millisecond)
	c := conversation.Conversation{
		Code: code(i, 'c'), Channel: "shop", Type: conversation.TypeMessage,
		UserID: "user-" + strconv.Itoa(i), DataSourceID: "ds-" + strconv.Itoa(i%50),
		Subject: "Is it still available?", Status: conversation.StatusOpen,
		StartedBy: conversation.SideUser, CreatedAt: at,
	}
	recipient := notify.Party{Kind: message.SenderDataSource, ID: c.DataSourceID}
	return store.CreateParams{
		Conversation: c,
		Message: message.Message{
			Code: code(i, 'm'), Sender: message.User(c.UserID, message.UserRegistered),
			Content: "Hello, is this still available?", CreatedAt: at,
		},
		Events: []notify.Event{{
			ID: code(i, 'e').String(), Kind: notify.KindConversationStarted, Channel: c.Channel,
			ConversationType: c.Type, Recipient: recipient,
			Sender: notify.Party{Kind: message.SenderUser, ID: c.UserID}, CreatedAt: at, DueAt: at,
		}},
	}
}

// appendParams returns the parameters of the i-th message, from the seller.
func appendParams(c conversation.Conversation, i int, at time.Time) store.AppendParams {
	return store.AppendParams{
		ConversationID: c.ID,
		Message: message.Message{
			Code: code(i, 'a'), Sender: message.DataSource(c.DataSourceID),
			Content: "Yes, it is.", CreatedAt: at,
		},
		Prepare: func(conversation.Conversation) ([]notify.Event, error) { return nil, nil },
	}
}

// seed stores n conversations and returns them.
func seed(b *testing.B, s *memory.Store, n int) []conversation.Conversation {
	b.Helper()
	cs := make([]conversation.Conversation, n)
	for i := range cs {
		res, err := s.CreateConversation(context.Background(), createParams(i))
		if err != nil {
			b.Fatal(err)
		}
		cs[i] = res.Conversation
	}
	return cs
}

func reportOps(b *testing.B, n int) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkCreateConversation creates conversations in a store that holds
// up to 10,000 of them: the store is replaced, off the clock, when full, so
// that the figure does not depend on how long the benchmark runs.
func BenchmarkCreateConversation(b *testing.B) {
	const size = 10000
	s := memory.New()
	ctx := context.Background()
	n := 0
	for b.Loop() {
		if n%size == 0 && n > 0 {
			b.StopTimer()
			s.Close()
			s = memory.New()
			b.StartTimer()
		}
		if _, err := s.CreateConversation(ctx, createParams(n%size)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	s.Close()
	reportOps(b, n)
}

func BenchmarkAppendMessage(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	cs := seed(b, s, 1000)
	at := benchStart.Add(time.Hour)
	n := 0
	for b.Loop() {
		p := appendParams(cs[n%len(cs)], n, at.Add(time.Duration(n)*time.Microsecond))
		if _, err := s.AppendMessage(ctx, p); err != nil {
			b.Fatal(err)
		}
		n++
	}
	reportOps(b, n)
}

func BenchmarkListConversations(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	cs := seed(b, s, 10000)
	mid := cs[len(cs)/2]
	for _, bc := range []struct {
		name string
		q    store.ConversationQuery
	}{
		{"FirstPage", store.ConversationQuery{Channel: "shop", Limit: 20}},
		{"AfterCursor", store.ConversationQuery{Channel: "shop", Limit: 20,
			After: &store.ConversationCursor{LastMessageAt: mid.LastMessageAt, ID: mid.ID}}},
		{"FilterWithTotal", store.ConversationQuery{Channel: "shop", Limit: 20, WithTotal: true,
			Filter: conversation.Filter{DataSourceID: "ds-7"}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := 0
			for b.Loop() {
				p, err := s.ListConversations(ctx, bc.q)
				if err != nil || len(p.Items) != 20 {
					b.Fatal(err, len(p.Items))
				}
				n++
			}
			reportOps(b, n)
		})
	}
}

func BenchmarkMessagesAfter(b *testing.B) {
	s := memory.New()
	defer s.Close()
	ctx := context.Background()
	cs := seed(b, s, 1000)
	c := cs[0]
	for i := range 100 {
		res, err := s.AppendMessage(ctx, appendParams(c, i, benchStart.Add(time.Duration(i)*time.Second)))
		if err != nil {
			b.Fatal(err)
		}
		c = res.Conversation
	}
	n := 0
	for b.Loop() {
		ms, err := s.MessagesAfter(ctx, message.After{ConversationID: c.ID, ID: c.LastMessageID, Limit: 20})
		if err != nil || len(ms) != 0 {
			b.Fatal(err, len(ms))
		}
		n++
	}
	reportOps(b, n)
}
