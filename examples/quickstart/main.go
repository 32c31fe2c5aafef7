// Command quickstart walks through seed 000's flow on the in-memory store:
// a user asks a seller a question about a product, the seller answers, the
// user reads the answer and reviews the shop, and the public listings show
// the question and the review.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store/memory"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	st := memory.New()
	defer st.Close()

	opts := parley.DefaultOptions()
	opts.Notifier = notify.Func(func(_ context.Context, n notify.Notification) error {
		fmt.Fprintf(out, "  [notify %s %s: %s]\n", n.Recipient.Kind, n.Recipient.ID, n.Events[0].Kind)
		return nil
	})
	svc, err := parley.New(st, opts)
	if err != nil {
		return err
	}

	user := parley.User("1", "545382")
	seller := parley.Seller("1", "1")

	fmt.Fprintln(out, "1. The user asks about product 1:")
	q, err := svc.Start(ctx, user, parley.StartRequest{
		Type: conversation.TypeQuestion, DataSourceID: "1", Item: conversation.Product("1"),
		Content: "Hello, does the Q800T support HDMI 2.1?",
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   conversation %d, message %d\n", q.Conversation.ID, q.Message.ID)

	fmt.Fprintln(out, "2. Asking again is refused:")
	_, err = svc.Start(ctx, user, parley.StartRequest{
		Type: conversation.TypeQuestion, DataSourceID: "1", Item: conversation.Product("1"), Content: "Hello?",
	})
	var exists *parley.ConversationExistsError
	if !errors.As(err, &exists) {
		return fmt.Errorf("expected ErrConversationExists, got %v", err)
	}
	fmt.Fprintf(out, "   %v\n", err)

	fmt.Fprintln(out, "3. The seller answers:")
	a, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Yes, all four ports."})
	if err != nil {
		return err
	}
	unread, err := svc.Unread(ctx, user)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   the user has %d unread message(s)\n", unread.Messages)

	fmt.Fprintln(out, "4. The user polls for new messages and reads them:")
	msgs, err := svc.Poll(ctx, user, q.Conversation.ID, q.Message.ID, 0)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		fmt.Fprintf(out, "   %s %s: %s\n", m.Sender.Kind, m.Sender.ID, m.Content)
	}
	if _, err := svc.MarkRead(ctx, user, q.Conversation.ID, a.Message.ID); err != nil {
		return err
	}

	fmt.Fprintln(out, "5. The user reviews the shop; the seller cannot reply to a review:")
	r, err := svc.Start(ctx, user, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "Fast delivery, great shop."})
	if err != nil {
		return err
	}
	_, err = svc.Post(ctx, seller, parley.PostRequest{ConversationID: r.Conversation.ID, Content: "Thank you!"})
	fmt.Fprintf(out, "   %v\n", err)

	fmt.Fprintln(out, "6. The public listings:")
	for _, t := range []conversation.Type{conversation.TypeQuestion, conversation.TypeReview} {
		p, err := svc.PublicList(ctx, "1", t, conversation.Filter{}, parley.PageRequest{WithTotal: true})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   public %ss: %d\n", t, p.Total)
	}
	return nil
}
