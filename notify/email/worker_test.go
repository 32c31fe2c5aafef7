package email_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/notify/email"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// TestWorker_DigestEmail runs the whole path: five messages written to a
// memory store's outbox within a digest window, a notify.Worker, the email
// Notifier and an SMTP server: one email, with the messages the seller has
// not read.
func TestWorker_DigestEmail(t *testing.T) {
	const window = 10 * time.Minute
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	now := testNow
	seller := notify.Party{Kind: message.SenderDataSource, ID: "ds1"}
	u1 := message.User("u1", message.UserRegistered)
	event := func(kind notify.Kind, c conversation.Conversation) []notify.Event {
		return []notify.Event{{
			ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Channel: c.Channel, ConversationType: c.Type,
			Recipient: seller, Sender: notify.Party{Kind: u1.Kind, ID: u1.ID},
			CreatedAt: now, DueAt: now.Add(window), DigestKey: seller.ID + "|" + c.Code.String(),
		}}
	}

	c := conversation.Conversation{
		Code: uuid.Must(uuid.NewV7()), Channel: "shop", Type: conversation.TypeMessage, UserID: "u1", DataSourceID: "ds1",
		Subject: "Jacket <XL>", Status: conversation.StatusOpen, StartedBy: conversation.SideUser, CreatedAt: now,
	}
	created, err := st.CreateConversation(ctx, store.CreateParams{
		Conversation: c,
		Message:      message.Message{Code: uuid.Must(uuid.NewV7()), Sender: u1, Content: "message 1", CreatedAt: now},
		Events:       event(notify.KindConversationStarted, c),
	})
	require.NoError(t, err)
	c = created.Conversation
	var second int64
	for i := 2; i <= 5; i++ {
		now = now.Add(time.Minute)
		res, err := st.AppendMessage(ctx, store.AppendParams{
			ConversationID: c.ID,
			Message:        message.Message{Code: uuid.Must(uuid.NewV7()), Sender: u1, Content: fmt.Sprintf("message %d <script>", i), CreatedAt: now},
			Prepare: func(conversation.Conversation) ([]notify.Event, error) {
				return event(notify.KindMessagePosted, c), nil
			},
		})
		require.NoError(t, err)
		if i == 2 {
			second = res.Message.ID
		}
	}
	// The seller reads the first two messages before the window closes.
	_, err = st.MarkRead(ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideSeller, UpToMessageID: second})
	require.NoError(t, err)

	srv := startSMTP(t, smtpOptions{})
	mailer := newNotifier(t, email.Config{Addr: srv.Addr, TLS: email.NoTLS})
	cfg := notify.DefaultWorkerConfig()
	cfg.DigestWindow = window
	clock := testNow.Add(window)
	cfg.Now = func() time.Time { return clock }
	w, err := notify.NewWorker(st, st, mailer, cfg)
	require.NoError(t, err)

	delivered, err := w.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, delivered)
	got := srv.next(t)
	srv.none(t)
	assert.Equal(t, []string{"seller@shop.example"}, got.Rcpt)
	m := parse(t, got.Data)
	assert.Equal(t, "3 new messages from Alice: Jacket <XL>", m.Subject)
	assert.NotContains(t, m.Text, "message 1")
	assert.NotContains(t, m.Text, "message 2")
	for i := 3; i <= 5; i++ {
		assert.Contains(t, m.Text, fmt.Sprintf("message %d <script>", i))
		assert.Contains(t, m.HTML, fmt.Sprintf("message %d &lt;script&gt;", i))
	}
	assert.Equal(t, 1, strings.Count(m.Raw, "X-Parley-Idempotency-Key:"))

	clock = clock.Add(time.Hour)
	delivered, err = w.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 0, delivered)
	srv.none(t)
}
