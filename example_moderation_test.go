package parley_test

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/screen"
	"github.com/parleyhq/parley/store/memory"
)

// A visitor reports a rude review; an operator of the channel hides it,
// which takes it off the public listing at once, and resolves the report.
// The audit trail says who did what and why.
func ExampleService_Hide() {
	ctx := context.Background()
	svc, _ := parley.New(memory.New(), parley.DefaultOptions())
	reviewer := parley.User("1", "545382")
	visitor := parley.User("1", "545383")
	staff := parley.Operator("1", "staff-7")

	r, _ := svc.Start(ctx, reviewer, parley.StartRequest{
		Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"),
		Content: "The seller is an idiot.",
	})
	report, _, _ := svc.Report(ctx, visitor, parley.ReportRequest{
		ConversationID: r.Conversation.ID, MessageID: r.Message.ID, Reason: moderation.ReasonAbuse,
	})

	queue, _ := svc.Reports(ctx, staff, parley.ReportFilter{State: moderation.StateOpen}, parley.PageRequest{})
	fmt.Println("open reports:", len(queue.Items))

	if _, err := svc.Hide(ctx, staff, parley.HideRequest{ConversationID: r.Conversation.ID, Reason: "insults the seller"}); err != nil {
		panic(err)
	}
	if _, err := svc.ResolveReport(ctx, staff, report.ID, moderation.OutcomeActioned, "review hidden"); err != nil {
		panic(err)
	}
	public, _ := svc.PublicList(ctx, "1", conversation.TypeReview, conversation.Filter{}, parley.PageRequest{})
	fmt.Println("public reviews:", len(public.Items))

	mine, _ := svc.Messages(ctx, reviewer, r.Conversation.ID, parley.PageRequest{})
	fmt.Printf("the reviewer sees: hidden=%v content=%q\n", mine.Items[0].Hidden, mine.Items[0].Content)

	trail, _ := svc.Audit(ctx, staff, 0, parley.PageRequest{})
	for _, e := range trail.Items {
		fmt.Println(e.Staff, e.Action, e.Reason)
	}
	// Output:
	// open reports: 1
	// public reviews: 0
	// the reviewer sees: hidden=true content=""
	// staff-7 conversation.hidden insults the seller
	// staff-7 report.resolved actioned: review hidden
}

// The built-in screener masks contact details before a message is
// stored, keeping the deal on the platform.
func ExampleScreener() {
	ctx := context.Background()
	opts := parley.DefaultOptions()
	opts.Screener = screen.Contacts{}
	svc, _ := parley.New(memory.New(), opts)

	res, err := svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: "1",
		Content: "Pay me directly: ada at example dot com or +90 555 123 45 67",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Message.Content)
	// Output:
	// Pay me directly: [contact removed] or [contact removed]
}
