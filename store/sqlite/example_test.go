package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store/sqlite"
)

// A Service over a SQLite file: the conversation outlives the process
// that wrote it. The second run over the same file finds the
// conversation of the first (a start is ErrConversationExists) and adds
// to it.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "parley-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "parley.db")

	run := func() error {
		st, err := sqlite.Open(ctx, path, sqlite.Options{}) // the zero Options are the defaults
		if err != nil {
			return err
		}
		defer st.Close()
		svc, err := parley.New(st, parley.Options{})
		if err != nil {
			return err
		}
		user := parley.User("1", "545382")
		var id int64
		res, err := svc.Start(ctx, user, parley.StartRequest{
			Type: conversation.TypeQuestion, DataSourceID: "1", Item: conversation.Product("1"), Content: "Is it in stock?",
		})
		var exists *parley.ConversationExistsError
		switch {
		case errors.As(err, &exists):
			id = exists.ID
			fmt.Println("found conversation", id)
		case err != nil:
			return err
		default:
			id = res.Conversation.ID
			fmt.Println("started conversation", id)
		}
		r, err := svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: id, Content: "Yes."})
		if err != nil {
			return err
		}
		fmt.Println("messages:", r.Conversation.MessageCount)
		return nil
	}
	for range 2 {
		if err := run(); err != nil {
			fmt.Println(err)
			return
		}
	}
	// Output:
	// started conversation 1
	// messages: 2
	// found conversation 1
	// messages: 3
}
