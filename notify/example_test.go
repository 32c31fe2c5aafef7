package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// A function becomes a Notifier with notify.Func: here, one that prints
// what it would send.
func ExampleFunc() {
	var n notify.Notifier = notify.Func(func(ctx context.Context, n notify.Notification) error {
		fmt.Printf("to %s %s: %d message(s), key %s\n", n.Recipient.Kind, n.Recipient.ID, len(n.Messages), n.Key)
		return nil
	})
	err := n.Notify(context.Background(), notify.Notification{
		Key:       "0195e6a1-0000-7000-8000-000000000001",
		Recipient: notify.Party{Kind: message.SenderDataSource, ID: "ds1"},
		Messages:  []message.Message{{Content: "Is it available in XL?"}},
	})
	fmt.Println("error:", err)
	// Output:
	// to datasource ds1: 1 message(s), key 0195e6a1-0000-7000-8000-000000000001
	// error: <nil>
}

// A Recorder remembers what it was asked to deliver; with Err set it also
// fails, which is how tests make deliveries fail.
func ExampleRecorder() {
	var rec notify.Recorder
	ctx := context.Background()
	_ = rec.Notify(ctx, notify.Notification{Key: "first"})

	rec.Err = errors.New("mail server down")
	err := rec.Notify(ctx, notify.Notification{Key: "second"})

	for _, n := range rec.Notifications() {
		fmt.Println("recorded", n.Key)
	}
	fmt.Println("second attempt:", err)
	// Output:
	// recorded first
	// recorded second
	// second attempt: mail server down
}

// A Worker delivers the events a store's outbox holds. Here the event is
// written directly to a memory store, as the parley Service writes it
// with its Outbox option; the worker runs one cycle, as a cron job would.
func ExampleWorker() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	now := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

	// A user starts a conversation: the seller is to be notified.
	c := conversation.Conversation{
		Code: uuid.Must(uuid.NewV7()), Channel: "shop", Type: conversation.TypeQuestion,
		UserID: "u1", DataSourceID: "ds1", Subject: "Size?", Status: conversation.StatusOpen,
		StartedBy: conversation.SideUser, CreatedAt: now,
	}
	sellerParty := notify.Party{Kind: message.SenderDataSource, ID: "ds1"}
	_, err := st.CreateConversation(ctx, store.CreateParams{
		Conversation: c,
		Message:      message.Message{Code: uuid.Must(uuid.NewV7()), Sender: message.User("u1", message.UserRegistered), Content: "Is it available in XL?", CreatedAt: now},
		Events: []notify.Event{{
			ID: uuid.Must(uuid.NewV7()).String(), Kind: notify.KindConversationStarted, Channel: "shop",
			ConversationType: c.Type, Recipient: sellerParty, Sender: notify.Party{Kind: message.SenderUser, ID: "u1"},
			CreatedAt: now, DueAt: now, DigestKey: "ds1|" + c.Code.String(), // one key per recipient and conversation
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	cfg := notify.DefaultWorkerConfig()
	cfg.Now = func() time.Time { return now }
	w, err := notify.NewWorker(st, st, notify.Func(func(ctx context.Context, n notify.Notification) error {
		fmt.Printf("to %s %s about %q: %q\n", n.Recipient.Kind, n.Recipient.ID, n.Conversation.Subject, n.Messages[0].Content)
		return nil
	}), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	delivered, err := w.RunOnce(ctx)
	fmt.Println("delivered:", delivered, err)
	delivered, err = w.RunOnce(ctx)
	fmt.Println("delivered again:", delivered, err)
	// Output:
	// to datasource ds1 about "Size?": "Is it available in XL?"
	// delivered: 1 <nil>
	// delivered again: 0 <nil>
}

// The defaults of a Worker, as DefaultWorkerConfig documents them.
func ExampleDefaultWorkerConfig() {
	cfg := notify.DefaultWorkerConfig()
	fmt.Println(strings.HasPrefix(cfg.Name, "worker-"), len(cfg.Name))
	fmt.Println(cfg.PollInterval, cfg.BatchSize, cfg.Lease, cfg.NotifyTimeout)
	fmt.Println(cfg.MaxAttempts, cfg.BackoffBase, cfg.BackoffMax, cfg.DigestWindow)
	var total time.Duration
	for n := 1; n < cfg.MaxAttempts; n++ { // the waits before attempts 2..MaxAttempts
		total += min(cfg.BackoffBase<<(n-1), cfg.BackoffMax)
	}
	fmt.Println("longest retry span:", total)
	// Output:
	// true 23
	// 1s 100 2m0s 30s
	// 10 10s 1h0m0s 0s
	// longest retry span: 1h25m10s
}
