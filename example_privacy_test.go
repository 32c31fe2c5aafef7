package parley_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/memory"
)

// A user asks for the data a marketplace keeps about them, then for its
// erasure. An operator exports it as a JSON document and erases it: the
// user's messages become tombstones (empty content) while the seller's
// reply, the ids and the counts stay, and the audit trail records it.
func ExampleService_Erase() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	svc, _ := parley.New(st, parley.DefaultOptions())
	user := parley.User("1", "545382")
	shop := parley.Seller("1", "1")
	staff := parley.Operator("1", "staff-7")
	person := message.User("545382", message.UserRegistered)

	r, _ := svc.Start(ctx, user, parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: "1", Subject: "Order 4411", Content: "Call me at +90 555 123 45 67",
	})
	_, _ = svc.Post(ctx, shop, parley.PostRequest{ConversationID: r.Conversation.ID, Content: "Please keep it on the platform."})

	data, err := svc.Export(ctx, staff, person)
	if err != nil {
		fmt.Println(err)
		return
	}
	party, _ := json.Marshal(data.Party)
	fmt.Println(data.Format, string(party))
	fmt.Printf("exported: %q\n", data.Conversations[0].Messages[0].Content)

	erased, err := svc.Erase(ctx, staff, person, "GDPR erasure request #17")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("erased: %+v\n", erased)

	data, _ = svc.Export(ctx, staff, person)
	c := data.Conversations[0]
	fmt.Printf("subject %q, %d messages\n", c.Subject, c.MessageCount)
	for _, m := range c.Messages {
		fmt.Printf("%d %s: %q erased=%v\n", m.Seq, m.Sender.Kind, m.Content, m.Erased)
	}
	last := data.Audit[len(data.Audit)-1]
	fmt.Println(last.Action, last.Subject.ID, "by", last.Staff)

	again, _ := svc.Erase(ctx, staff, person, "GDPR erasure request #17")
	fmt.Printf("again: %+v\n", again)
	// Output:
	// parley.personal-data/1 {"kind":"user","id":"545382"}
	// exported: "Call me at +90 555 123 45 67"
	// erased: {Messages:1 Conversations:1 Reports:0}
	// subject "", 2 messages
	// 1 user: "" erased=true
	// 2 datasource: "Please keep it on the platform." erased=false
	// person.erased 545382 by staff-7
	// again: {Messages:0 Conversations:0 Reports:0}
}
