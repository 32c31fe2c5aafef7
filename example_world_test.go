package parley_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store/memory"
)

// The program's World tells the Service who and what exists: a start
// with a seller (data source) it does not know is refused, naming the
// field, and nothing is written. A known one stores the user's names and
// the product's base code with the conversation, for seed 000's filters.
func ExampleWorld() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	world := &parley.StaticWorld{
		UserMap:       map[string]parley.UserInfo{"545382": {ID: "545382", FirstName: "Ada", LastName: "Demir"}},
		DataSourceMap: map[string]parley.DataSourceInfo{"1": {ID: "1", Name: "Test Shop"}},
		ItemMap: map[conversation.Item]parley.ItemInfo{
			conversation.Product("1"): {Item: conversation.Product("1"), DataSourceID: "1", BaseCode: "Q800T"},
		},
	}
	svc, err := parley.New(st, parley.Options{World: world})
	if err != nil {
		fmt.Println(err)
		return
	}
	user := parley.User("1", "545382")

	_, err = svc.Start(ctx, user, parley.StartRequest{
		Type: conversation.TypeQuestion, DataSourceID: "999", Item: conversation.Product("1"), Content: "Hello?",
	})
	var unknown *parley.UnknownError
	var invalid *parley.ValidationError
	if errors.As(err, &unknown) && errors.As(err, &invalid) {
		fmt.Printf("refused: %s %q (field %s)\n", unknown.Entity, unknown.ID, invalid.Field)
	}
	fmt.Println(errors.Is(err, parley.ErrUnknown), errors.Is(err, parley.ErrInvalid))
	fmt.Println(err)

	res, err := svc.Start(ctx, user, parley.StartRequest{
		Type: conversation.TypeQuestion, DataSourceID: "1", Item: conversation.Product("1"), Content: "Is it in stock?",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("stored: %+v\n", res.Conversation.Attributes)
	// Output:
	// refused: data source "999" (field DataSourceID)
	// true true
	// parley: DataSourceID: unknown data source "999"
	// stored: {UserFirstName:Ada UserLastName:Demir ProductBaseCode:Q800T OrderNumber:}
}

// With Outbox, the Service writes each notification event in the
// transaction of the change that causes it, and a notify.Worker delivers
// it to the program's notifier: here a function, run once as a cron job
// would. The Service itself has no Notifier (setting one with Outbox is
// an error from New).
func ExampleOptions_outbox() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	svc, err := parley.New(st, parley.Options{Outbox: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := notify.NewWorker(st, st, notify.Func(func(_ context.Context, n notify.Notification) error {
		fmt.Printf("to %s %s: %q\n", n.Recipient.Kind, n.Recipient.ID, n.Messages[len(n.Messages)-1].Content)
		return nil
	}), notify.DefaultWorkerConfig())
	if err != nil {
		fmt.Println(err)
		return
	}

	q, err := svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{
		Type: conversation.TypeQuestion, DataSourceID: "1", Content: "Do you ship abroad?",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := w.RunOnce(ctx)
	fmt.Println("delivered:", n, err)
	if _, err := svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Yes, to the EU."}); err != nil {
		fmt.Println(err)
		return
	}
	n, err = w.RunOnce(ctx)
	fmt.Println("delivered:", n, err)
	n, err = w.RunOnce(ctx)
	fmt.Println("delivered again:", n, err)

	_, err = parley.New(st, parley.Options{Outbox: true, Notifier: notify.Nop{}})
	fmt.Println(err)
	// Output:
	// to datasource 1: "Do you ship abroad?"
	// delivered: 1 <nil>
	// to user 545382: "Yes, to the EU."
	// delivered: 1 <nil>
	// delivered again: 0 <nil>
	// parley: invalid options: Notifier is never called with Outbox (give it to the notify.Worker that delivers the outbox)
}

// Wait returns the messages after the last one a reader has, waiting for
// the next one when there is none yet; the context bounds the wait.
func ExampleService_Wait() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	svc, err := parley.New(st, parley.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	user, seller := parley.User("1", "545382"), parley.Seller("1", "1")
	q, err := svc.Start(ctx, user, parley.StartRequest{Type: conversation.TypeQuestion, DataSourceID: "1", Content: "Still in stock?"})
	if err != nil {
		fmt.Println(err)
		return
	}

	answered := make(chan error, 1)
	go func() {
		time.Sleep(10 * time.Millisecond) // the answer comes while the user waits
		_, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Two left."})
		answered <- err
	}()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := svc.Wait(wctx, user, q.Conversation.ID, q.Message.ID, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range msgs {
		fmt.Printf("%s %s: %s\n", m.Sender.Kind, m.Sender.ID, m.Content)
	}
	fmt.Println(<-answered)

	// With nothing new, the wait ends with its context.
	short, cancel2 := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel2()
	_, err = svc.Wait(short, user, q.Conversation.ID, msgs[len(msgs)-1].ID, 0)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// datasource 1: Two left.
	// <nil>
	// true
}

// MarkAllRead marks everything a conversation holds now as read, without
// knowing its newest message's id.
func ExampleService_MarkAllRead() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	svc, err := parley.New(st, parley.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	user, seller := parley.User("1", "545382"), parley.Seller("1", "1")
	q, err := svc.Start(ctx, user, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "Hi"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, text := range []string{"Hello!", "How can we help?"} {
		if _, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: q.Conversation.ID, Content: text}); err != nil {
			fmt.Println(err)
			return
		}
	}
	u, _ := svc.Unread(ctx, user)
	fmt.Println("unread:", u.Messages)
	c, err := svc.MarkAllRead(ctx, user, q.Conversation.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ = svc.Unread(ctx, user)
	fmt.Println("unread:", u.Messages, "read up to message", c.UserRead.ReadSeq, "of", c.MessageCount)
	// Output:
	// unread: 2
	// unread: 0 read up to message 3 of 3
}

// The zero Options are usable: New fills every zero field with its
// default, and a field that is set is kept.
func ExampleOptions() {
	st := memory.New()
	defer st.Close()
	_, err := parley.New(st, parley.Options{})
	fmt.Println(err)
	_, err = parley.New(st, parley.Options{Limits: parley.Limits{MaxContentRunes: 500}})
	fmt.Println(err)
	_, err = parley.New(st, parley.Options{Limits: parley.Limits{DefaultPageSize: 500}})
	fmt.Println(err)
	// Output:
	// <nil>
	// <nil>
	// parley: invalid options: Limits.DefaultPageSize exceeds MaxPageSize
}
