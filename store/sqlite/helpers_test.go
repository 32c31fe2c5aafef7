package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// t0 is the time the fixtures start at.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// MustOpen opens a store on path (a file name in a fresh temporary
// directory if path is "") and closes it when the test ends.
func MustOpen(tb testing.TB, path string) *Store {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "parley.db")
	}
	s, err := Open(context.Background(), path, Options{})
	require.NoError(tb, err)
	tb.Cleanup(func() { s.Close() })
	return s
}

// newCreate returns the CreateParams the Service would pass for a user
// starting a conversation with a data source at time at.
func newCreate(channel, user, ds string, typ conversation.Type, item conversation.Item, at time.Time) store.CreateParams {
	c := conversation.Conversation{
		Code:         uuid.Must(uuid.NewV7()),
		Channel:      channel,
		Type:         typ,
		UserID:       user,
		DataSourceID: ds,
		Item:         item,
		Subject:      "subject of " + user,
		Status:       conversation.StatusOpen,
		StartedBy:    conversation.SideUser,
		Language:     "en",
		Attributes:   conversation.Attributes{UserFirstName: "Ada", UserLastName: "Lovelace", ProductBaseCode: "PB-1", OrderNumber: "O-1"},
		CreatedAt:    at,
	}
	m := message.Message{
		Code:      uuid.Must(uuid.NewV7()),
		Sender:    message.User(user, message.UserRegistered),
		Content:   "hello from " + user,
		Language:  "en",
		CreatedAt: at,
	}
	return store.CreateParams{Conversation: c, Message: m, Events: []notify.Event{
		newEvent(notify.KindConversationStarted, channel, typ, notify.Party{Kind: message.SenderDataSource, ID: ds},
			notify.Party{Kind: message.SenderUser, ID: user}, at),
	}}
}

// newAppend returns the AppendParams of a message from sender at time at.
func newAppend(convID int64, sender message.Sender, content string, at time.Time) store.AppendParams {
	return store.AppendParams{
		ConversationID: convID,
		Message: message.Message{
			Code:      uuid.Must(uuid.NewV7()),
			Sender:    sender,
			Content:   content,
			Language:  "en",
			CreatedAt: at,
		},
	}
}

func newEvent(kind notify.Kind, channel string, typ conversation.Type, to, from notify.Party, at time.Time) notify.Event {
	return notify.Event{
		ID:               uuid.Must(uuid.NewV7()).String(),
		Kind:             kind,
		Channel:          channel,
		ConversationType: typ,
		Recipient:        to,
		Sender:           from,
		CreatedAt:        at,
		DueAt:            at,
		DigestKey:        channel + "|" + string(to.Kind) + "|" + to.ID,
	}
}

// claimAll returns ClaimParams that claim every event due at now.
func claimAll(now time.Time) notify.ClaimParams {
	return notify.ClaimParams{Worker: "test", Now: now, Lease: time.Minute, Limit: 1000}
}
