package notify_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// TestWorker_Service checks the contract between the parley Service and
// the worker: events written by the Service with Outbox and a digest
// window, delivered by a worker with the same window.
func TestWorker_Service(t *testing.T) {
	const window = 10 * time.Minute
	e := newEnv(t, window)
	opts := parley.DefaultOptions()
	opts.Now = e.clock.Now
	opts.Outbox, opts.DigestWindow = true, window
	// With Outbox the Service has no Notifier: the worker delivers.
	opts.Notifier = notify.Func(func(context.Context, notify.Notification) error { return nil })
	_, err := parley.New(e.st, opts)
	require.ErrorContains(t, err, "Notifier is never called with Outbox")
	opts.Notifier = nil
	svc, err := parley.New(e.st, opts)
	require.NoError(t, err)
	ctx := context.Background()
	user, seller := parley.User("shop", "u1"), parley.Seller("shop", "ds1")

	started, err := svc.Start(ctx, user, parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: "ds1", Subject: "Jacket", Content: "message 1",
	})
	require.NoError(t, err)
	id := started.Conversation.ID
	var msgs []message.Message
	msgs = append(msgs, started.Message)
	for i := 2; i <= 5; i++ {
		e.clock.Advance(time.Minute)
		r, err := svc.Post(ctx, user, parley.PostRequest{ConversationID: id, Content: fmt.Sprint("message ", i)})
		require.NoError(t, err)
		msgs = append(msgs, r.Message)
	}
	_, err = svc.MarkRead(ctx, seller, id, msgs[1].ID) // the seller reads two before the window closes
	require.NoError(t, err)

	rec := &notify.Recorder{}
	w := e.worker("w1", rec)
	assert.Equal(t, 0, runOnce(t, w), "the window of the first message is still open")
	e.clock.Advance(window - 4*time.Minute)
	assert.Equal(t, 1, runOnce(t, w))
	notes := rec.Notifications()
	require.Len(t, notes, 1)
	assert.Equal(t, notify.Party{Kind: message.SenderDataSource, ID: "ds1"}, notes[0].Recipient)
	assert.Equal(t, []string{"message 3", "message 4", "message 5"}, contents(notes[0].Messages))
	assert.Len(t, notes[0].Events, 5)
	assert.Equal(t, notes[0].Events[0].ID, notes[0].Key)

	// The seller answers: the user is notified one window later.
	r, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: id, Content: "answer"})
	require.NoError(t, err)
	e.clock.Advance(window)
	assert.Equal(t, 1, runOnce(t, w))
	notes = rec.Notifications()
	require.Len(t, notes, 2)
	assert.Equal(t, notify.Party{Kind: message.SenderUser, ID: "u1"}, notes[1].Recipient)
	assert.Equal(t, []string{"answer"}, contents(notes[1].Messages))
	assert.Equal(t, r.Message.ID, notes[1].Events[0].MessageID)
	assert.Equal(t, 0, runOnce(t, w))
}
