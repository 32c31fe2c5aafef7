package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/storetest"
)

func TestStore_Conformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

// TestStore_Copies checks that what a caller gets back is a copy: changing
// it does not change the store.
func TestStore_Copies(t *testing.T) {
	ctx := t.Context()
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	p := createParams(1)
	res, err := s.CreateConversation(ctx, p)
	require.NoError(t, err)
	p.Conversation.Subject = "changed by the caller"
	p.Events[0].Kind = "changed"

	page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "shop", Limit: 10})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	page.Items[0].Subject = "changed by the caller"
	msgs, err := s.MessagesAfter(ctx, message.After{ConversationID: res.Conversation.ID, Limit: 10})
	require.NoError(t, err)
	msgs[0].Content = "changed by the caller"
	mpage, err := s.ListMessages(ctx, store.MessageQuery{ConversationID: res.Conversation.ID, Limit: 10})
	require.NoError(t, err)
	mpage.Items[0].Content = "changed by the caller"

	got, err := s.GetConversation(ctx, res.Conversation.ID)
	require.NoError(t, err)
	require.Equal(t, res.Conversation, got)
	msgs, err = s.MessagesAfter(ctx, message.After{ConversationID: res.Conversation.ID, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []message.Message{res.Message}, msgs)
	evs, err := s.ClaimEvents(ctx, notify.ClaimParams{Worker: "w", Now: benchStart.Add(time.Hour), Lease: time.Minute, Limit: 10})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, notify.KindConversationStarted, evs[0].Kind)
}
