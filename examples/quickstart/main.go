// Command quickstart is the README's program, then seed 000's flow on the
// in-memory store.
//
// First, over the SQLite file parley-quickstart.db (flag -db), a user asks
// a seller a question and the seller answers: run it again and the
// question is found and answered once more. Then, on the memory store, a
// user asks a seller a question about a product, the seller answers, the
// user reads the answer and reviews the shop, and the public listings show
// the question and the review.
//
//	go run ./examples/quickstart [-db parley-quickstart.db]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/sqlite"
)

func main() {
	db := flag.String("db", "parley-quickstart.db", "SQLite file of the README's program")
	flag.Parse()
	ctx := context.Background()
	if err := readme(ctx, *db, os.Stdout); err != nil {
		log.Fatal(err)
	}
	if err := run(ctx, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// readme is the README's program: the README shows its body, which
// TestReadme keeps in step.
func readme(ctx context.Context, path string, out io.Writer) error {
	// README:begin
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	svc, err := parley.New(st, parley.Options{})
	if err != nil {
		return err
	}

	user, seller := parley.User("1", "545382"), parley.Seller("1", "1")
	q, err := svc.Start(ctx, user, parley.StartRequest{Type: conversation.TypeQuestion,
		DataSourceID: "1", Item: conversation.Product("1"), Content: "Is it in stock?"})
	var exists *parley.ConversationExistsError
	switch {
	case errors.As(err, &exists): // asked on an earlier run: answer it again
		q.Conversation.ID = exists.ID
	case err != nil:
		return err
	}
	a, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Yes!"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "conversation %d has %d messages\n", a.Conversation.ID, a.Conversation.MessageCount)
	return nil
	// README:end
}

// run walks through seed 000's flow on the memory store.
func run(ctx context.Context, out io.Writer) error {
	st := memory.New()
	defer st.Close()

	svc, err := parley.New(st, parley.Options{Notifier: notify.Func(func(_ context.Context, n notify.Notification) error {
		fmt.Fprintf(out, "  [notify %s %s: %s]\n", n.Recipient.Kind, n.Recipient.ID, n.Events[0].Kind)
		return nil
	})})
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
