package parley_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// benchService returns a Service over st with n conversations of data
// source 1, each with one message, and the last one started.
func benchService(b *testing.B, st store.Store, n int, edit ...func(*parley.Options)) (*parley.Service, parley.Result) {
	b.Helper()
	opts := parley.DefaultOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	for _, e := range edit {
		e(&opts)
	}
	svc, err := parley.New(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	var last parley.Result
	for i := range n {
		last, err = svc.Start(context.Background(), parley.User("1", fmt.Sprint(i)), parley.StartRequest{
			Type: conversation.TypeMessage, DataSourceID: "1", Content: "hello",
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return svc, last
}

func opsPerSec(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkService runs the Service's main operations on the memory
// store, so that the figures are the Service's own cost (validation,
// permission checks, cursors) over the cheapest store.
func BenchmarkService(b *testing.B) {
	ctx := context.Background()
	b.Run("Start", func(b *testing.B) {
		svc, _ := benchService(b, memory.New(), 0)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			_, err := svc.Start(ctx, parley.User("1", fmt.Sprint(i)), parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hello"})
			if err != nil {
				b.Fatal(err)
			}
		}
		opsPerSec(b)
	})
	b.Run("Post", func(b *testing.B) {
		svc, c := benchService(b, memory.New(), 1)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: c.Conversation.ID, Content: "reply"}); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSec(b)
	})
	b.Run("List20of10k", func(b *testing.B) {
		svc, _ := benchService(b, memory.New(), 10_000)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.List(ctx, parley.Seller("1", "1"), conversation.Filter{}, parley.PageRequest{Limit: 20}); err != nil {
				b.Fatal(err)
			}
		}
		opsPerSec(b)
	})
	b.Run("PollEmpty", func(b *testing.B) {
		svc, c := benchService(b, memory.New(), 1)
		b.ReportAllocs()
		for b.Loop() {
			msgs, err := svc.Poll(ctx, parley.User("1", c.Conversation.UserID), c.Conversation.ID, c.Message.ID, 0)
			if err != nil || len(msgs) != 0 {
				b.Fatal(err, len(msgs))
			}
		}
		opsPerSec(b)
	})
}
