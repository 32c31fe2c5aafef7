package parley

import (
	"context"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// event builds the notification event id of a write by sender in c: every
// write notifies the other side of the conversation.
func (s *Service) event(id uuid.UUID, kind notify.Kind, c conversation.Conversation, sender message.Sender, now time.Time) notify.Event {
	recipient := notify.Party{Kind: message.SenderDataSource, ID: c.DataSourceID}
	if sender.Kind == message.SenderDataSource {
		recipient = notify.Party{Kind: message.SenderUser, ID: c.UserID}
	}
	due := now
	if s.opts.Outbox {
		due = now.Add(s.opts.DigestWindow)
	}
	return notify.Event{
		ID: id.String(), Kind: kind, Channel: c.Channel,
		ConversationID: c.ID, ConversationType: c.Type,
		Recipient: recipient, Sender: notify.Party{Kind: sender.Kind, ID: sender.ID},
		CreatedAt: now, DueAt: due,
		DigestKey: digestKey(c.Channel, recipient, c.Code),
		State:     notify.StatePending,
	}
}

// digestKey returns the notify.Event.DigestKey of the events for
// recipient r in the conversation with the given code (known before the
// store assigns the conversation's id), in channel.
func digestKey(channel string, r notify.Party, conversationCode uuid.UUID) string {
	return channel + "|" + string(r.Kind) + "|" + r.ID + "|" + conversationCode.String()
}

// outboxEvents returns the events a write stores: with Outbox, the event;
// otherwise none.
func (s *Service) outboxEvents(ev notify.Event) []notify.Event {
	if !s.opts.Outbox {
		return nil
	}
	return []notify.Event{ev}
}

// delivered runs after a write has committed. With direct delivery it
// hands the notification to the Notifier; a failure is logged and reported
// to OnNotifyError, never returned: the write stands.
func (s *Service) delivered(ctx context.Context, ev notify.Event, r Result) {
	if s.opts.Outbox {
		return
	}
	n := notify.Notification{
		Key: ev.ID, Recipient: ev.Recipient, Events: []notify.Event{ev},
		Conversation: r.Conversation, Messages: []message.Message{r.Message},
	}
	// The write is done: a caller's cancellation must not cancel its
	// notification.
	ctx = context.WithoutCancel(ctx)
	if err := s.opts.Notifier.Notify(ctx, n); err != nil {
		s.opts.Logger.LogAttrs(ctx, slog.LevelError, "parley: notification failed",
			slog.String("event", ev.ID), slog.String("kind", string(ev.Kind)),
			slog.Int64("conversation", ev.ConversationID), slog.Any("error", err))
		if s.opts.OnNotifyError != nil {
			s.opts.OnNotifyError(ctx, n, err)
		}
	}
}
