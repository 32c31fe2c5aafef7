package notify_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
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
