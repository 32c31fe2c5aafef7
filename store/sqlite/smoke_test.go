package sqlite

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

func TestStore_Smoke(t *testing.T) {
	for _, path := range []string{"", ":memory:"} {
		t.Run(path, func(t *testing.T) {
			ctx := context.Background()
			s := MustOpen(t, path)
			p := newCreate("c1", "u1", "d1", conversation.TypeMessage, conversation.Product("p1"), t0)
			res, err := s.CreateConversation(ctx, p)
			require.NoError(t, err)
			require.Equal(t, int64(1), res.Conversation.ID)
			require.Equal(t, int64(1), res.Message.ID)
			require.Equal(t, int64(1), res.Message.Seq)
			_, err = s.CreateConversation(ctx, p)
			var ce *store.ConversationExistsError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, int64(1), ce.ID)
			for i := 0; i < 5; i++ {
				a, err := s.AppendMessage(ctx, newAppend(1, message.DataSource("d1"), "hi", t0.Add(1e9)))
				require.NoError(t, err)
				require.Equal(t, int64(i+2), a.Message.Seq)
			}
			got, err := s.GetConversation(ctx, 1)
			require.NoError(t, err)
			require.Equal(t, int64(6), got.LastSeq)
			require.Equal(t, int64(5), got.UserRead.Unread)
			page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c1", Filter: conversation.Filter{DataSourceID: "d1"}, Limit: 20, WithTotal: true})
			require.NoError(t, err)
			require.Len(t, page.Items, 1)
			require.Equal(t, got, page.Items[0])
			require.Equal(t, int64(1), page.Total)
			ms, err := s.ListMessages(ctx, store.MessageQuery{ConversationID: 1, Limit: 3, WithTotal: true})
			require.NoError(t, err)
			require.Len(t, ms.Items, 3)
			require.True(t, ms.More)
			require.Equal(t, int64(6), ms.Total)
			after, err := s.MessagesAfter(ctx, message.After{ConversationID: 1, ID: 6, Limit: 10})
			require.NoError(t, err)
			require.Empty(t, after)
			after, err = s.MessagesAfter(ctx, message.After{ConversationID: 1, ID: 4, Limit: 10})
			require.NoError(t, err)
			require.Len(t, after, 2)
			after, err = s.MessagesAfter(ctx, message.After{ConversationID: 2, ID: 4, Limit: 10})
			require.NoError(t, err)
			require.Empty(t, after, "no such conversation")
			c, err := s.MarkRead(ctx, store.ReadParams{ConversationID: 1, Side: conversation.SideUser, UpToMessageID: 4})
			require.NoError(t, err)
			require.Equal(t, int64(2), c.UserRead.Unread)
			u, err := s.Unread(ctx, store.UnreadQuery{Channel: "c1", Side: conversation.SideUser, PartyID: "u1"})
			require.NoError(t, err)
			require.Equal(t, store.UnreadSummary{Messages: 2, Conversations: 1}, u)
			evs, err := s.ClaimEvents(ctx, notify.ClaimParams{Worker: "w", Now: t0.Add(1e12), Lease: 1e9, Limit: 10})
			require.NoError(t, err)
			require.Len(t, evs, 1)
			require.Equal(t, int64(1), evs[0].ConversationID)
			require.Equal(t, 1, evs[0].Attempts)
			require.NoError(t, s.FailEvent(ctx, "w", evs[0].ID, "boom", t0, true))
			dead, err := s.ListDeadEvents(ctx, "", 10)
			require.NoError(t, err)
			require.Len(t, dead, 1)
			require.Equal(t, "boom", dead[0].LastError)
			require.NoError(t, s.RetryDeadEvent(ctx, dead[0].ID, t0))
			require.ErrorIs(t, s.RetryDeadEvent(ctx, dead[0].ID, t0), store.ErrNotFound)
			sentinel := errors.New("nope")
			_, err = s.SetStatus(ctx, store.StatusParams{ConversationID: 1, Status: conversation.StatusClosed, At: t0, Check: func(conversation.Conversation) error { return sentinel }})
			require.Equal(t, sentinel, err)
			require.NoError(t, s.Close())
			require.NoError(t, s.Close())
			_, err = s.GetConversation(ctx, 1)
			require.ErrorIs(t, err, store.ErrClosed)
		})
	}
}

// TestStore_EventBookkeeping checks that a new event starts pending, never
// attempted and without an error, whatever the caller passed.
func TestStore_EventBookkeeping(t *testing.T) {
	ctx := context.Background()
	s := MustOpen(t, MemoryPath)
	p := newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0)
	p.Events[0].State, p.Events[0].Attempts, p.Events[0].LastError = notify.StateDead, 7, "old error"
	_, err := s.CreateConversation(ctx, p)
	require.NoError(t, err)
	evs, err := s.ClaimEvents(ctx, claimAll(t0))
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, notify.StatePending, evs[0].State)
	require.Equal(t, 1, evs[0].Attempts)
	require.Empty(t, evs[0].LastError)
}
