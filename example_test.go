package parley_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/memory"
)

// A user asks a seller about a product, the seller answers, and the user
// reads the answer.
func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	svc, err := parley.New(st, parley.DefaultOptions())
	if err != nil {
		panic(err)
	}

	user := parley.User("1", "545382") // channel 1, user 545382
	seller := parley.Seller("1", "1")  // channel 1, data source 1

	q, err := svc.Start(ctx, user, parley.StartRequest{
		Type:         conversation.TypeQuestion,
		DataSourceID: "1",
		Item:         conversation.Product("1"),
		Content:      "Does the Q800T ship today?",
	})
	if err != nil {
		panic(err)
	}
	a, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Yes, before 5pm."})
	if err != nil {
		panic(err)
	}
	unread, _ := svc.Unread(ctx, user)
	fmt.Println("user has", unread.Messages, "unread")

	if _, err := svc.MarkRead(ctx, user, q.Conversation.ID, a.Message.ID); err != nil {
		panic(err)
	}
	unread, _ = svc.Unread(ctx, user)
	fmt.Println("user has", unread.Messages, "unread")

	// Output:
	// user has 1 unread
	// user has 0 unread
}

// A second start of the same conversation tells the caller which one
// exists; reviews take no seller replies.
func ExampleService_Start_rules() {
	ctx := context.Background()
	svc, _ := parley.New(memory.New(), parley.DefaultOptions())
	user := parley.User("1", "545383")
	review := parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "Great shop!"}

	first, _ := svc.Start(ctx, user, review)
	_, err := svc.Start(ctx, user, review)
	var exists *parley.ConversationExistsError
	if errors.As(err, &exists) {
		fmt.Println("already exists:", exists.ID == first.Conversation.ID)
	}
	_, err = svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: first.Conversation.ID, Content: "Thanks"})
	fmt.Println(err)

	// Output:
	// already exists: true
	// parley: a data source can't reply to a review
}

// A trusted integration writes on behalf of the party it names; users and
// sellers can only name themselves.
func ExampleActor_OnBehalfOf() {
	integration := parley.Integration("1")
	asUser, err := integration.OnBehalfOf(message.User("545382", message.UserGuest))
	fmt.Println(asUser, err)

	_, err = parley.Seller("1", "1").OnBehalfOf(message.User("545382", message.UserGuest))
	fmt.Println(errors.Is(err, parley.ErrPermission))

	// Output:
	// integration user:545382 in channel 1 <nil>
	// true
}

// Bad input is a typed error naming the field, and nothing is written.
func ExampleValidationError() {
	ctx := context.Background()
	svc, _ := parley.New(memory.New(), parley.DefaultOptions())
	_, err := svc.Start(ctx, parley.User("1", "7"), parley.StartRequest{
		Type: "complaint", DataSourceID: "1", Content: "   ",
	})
	for _, ve := range parley.ValidationErrors(err) {
		fmt.Printf("%s: %s\n", ve.Field, ve.Reason)
	}
	fmt.Println(errors.Is(err, parley.ErrInvalid))

	// Output:
	// Type: "complaint" is not a valid choice (message, question, review)
	// Content: must not be empty
	// true
}

// Pages continue with the opaque Next cursor.
func ExampleService_List() {
	ctx := context.Background()
	svc, _ := parley.New(memory.New(), parley.DefaultOptions())
	for _, user := range []string{"1", "2", "3"} {
		svc.Start(ctx, parley.User("1", user), parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hi"})
	}
	seller := parley.Seller("1", "1")
	page := parley.PageRequest{Limit: 2, WithTotal: true}
	for {
		p, err := svc.List(ctx, seller, conversation.Filter{}, page)
		if err != nil {
			panic(err)
		}
		for _, c := range p.Items {
			fmt.Println("conversation with user", c.UserID, "of", p.Total)
		}
		if p.Next == "" {
			break
		}
		page.Cursor = p.Next
	}
	// Output:
	// conversation with user 3 of 3
	// conversation with user 2 of 3
	// conversation with user 1 of 3
}

// A seller's inbox page with each conversation's newest messages, read
// with the page: the store reads the messages of every conversation of
// the page at once.
func ExampleService_ListWithMessages() {
	ctx := context.Background()
	svc, _ := parley.New(memory.New(), parley.DefaultOptions())
	seller := parley.Seller("1", "1")
	for _, user := range []string{"545382", "545383"} {
		q, _ := svc.Start(ctx, parley.User("1", user), parley.StartRequest{
			Type: conversation.TypeQuestion, DataSourceID: "1", Content: "Question from " + user,
		})
		_, _ = svc.Post(ctx, seller, parley.PostRequest{ConversationID: q.Conversation.ID, Content: "Answer to " + user})
	}

	page, err := svc.ListWithMessages(ctx, seller, conversation.Filter{}, parley.PageRequest{Limit: 20}, 2)
	if err != nil {
		panic(err)
	}
	for _, item := range page.Items {
		fmt.Println("conversation with", item.Conversation.UserID)
		for _, m := range item.Messages { // newest first
			fmt.Println("  ", m.Sender.Kind, m.Content)
		}
	}

	// Output:
	// conversation with 545383
	//    datasource Answer to 545383
	//    user Question from 545383
	// conversation with 545382
	//    datasource Answer to 545382
	//    user Question from 545382
}
