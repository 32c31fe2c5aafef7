package parley

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// Translator translates message content (seed 001's translations). It must
// be safe for concurrent use.
type Translator interface {
	// Translate returns text, written in language from ("" if unknown),
	// in language to.
	Translate(ctx context.Context, text, from, to string) (string, error)
}

// TranslatorFunc adapts a function to the Translator interface.
type TranslatorFunc func(ctx context.Context, text, from, to string) (string, error)

// Translate calls f(ctx, text, from, to).
func (f TranslatorFunc) Translate(ctx context.Context, text, from, to string) (string, error) {
	return f(ctx, text, from, to)
}

// Translate returns msgs as a reader of language to should see them:
// messages written in another language get their content translated, with
// Language set to to and TranslatedFrom to the language they were written
// in. Messages are stored as written; translation happens on reading. A
// message the Translator fails on is returned as written (the failure is
// logged): a failing translator never blocks a message. A message without
// content (erased by Erase, or hidden from the reader) is not sent to the
// Translator and is returned as it is. Without
// Options.Translator, or with to empty, msgs are returned unchanged.
func (s *Service) Translate(ctx context.Context, to string, msgs []message.Message) []message.Message {
	if s.opts.Translator == nil || to == "" {
		return msgs
	}
	out := make([]message.Message, len(msgs))
	for i, m := range msgs {
		out[i] = m
		if m.Language == to || m.Content == "" {
			// Nothing to translate: already in the reader's language, or
			// no content (erased, or hidden from this reader).
			continue
		}
		text, err := s.opts.Translator.Translate(ctx, m.Content, m.Language, to)
		if err != nil {
			s.opts.Logger.LogAttrs(ctx, slog.LevelWarn, "parley: translation failed",
				slog.Int64("message", m.ID), slog.String("from", m.Language), slog.String("to", to), slog.Any("error", err))
			continue
		}
		out[i].Content, out[i].Language, out[i].TranslatedFrom = text, to, m.Language
		if out[i].TranslatedFrom == "" {
			out[i].TranslatedFrom = "und"
		}
	}
	return out
}

// ErrNoFeed is returned by Listen when the store cannot report other
// processes' messages.
var ErrNoFeed = errors.New("parley: the store has no message feed")

// Listen wakes this Service's waiters (Wait, WaitFor) and streams
// (Stream) when any process
// sharing the store posts a message, for stores that implement
// store.MessageFeed: PostgreSQL (LISTEN/NOTIFY, at once) and SQLite (a
// poll of the file once per sqlite.Options.FeedInterval, 100 ms by
// default, for all waiters together). It runs until ctx ends and returns
// ctx's error, or ErrNoFeed at once if the store has no feed. Without
// Listen, Wait is woken by this Service's own posts only, and WaitFor sees
// another process's message when its wait ends.
func (s *Service) Listen(ctx context.Context) error {
	feed, ok := s.store.(store.MessageFeed)
	if !ok {
		return ErrNoFeed
	}
	wake := func(conversationID int64) {
		s.waiters.publish(conversationID)
		s.changes.changed()
	}
	if err := feed.WatchMessages(ctx, wake); err != nil {
		return fmt.Errorf("parley: listen: %w", err)
	}
	return nil
}
