package parley

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
)

// Screener checks every message before the Service writes it (the first
// message of Start with its subject, and every Post): the program's
// policy for keeping deals on the platform, spam or abuse. Set it in
// Options.Screener; package screen has a built-in one that masks contact
// details. It must be safe for concurrent use and deterministic for a
// given input, since a retried write is screened again.
type Screener interface {
	Screen(ctx context.Context, in ScreenInput) (Verdict, error)
}

// ScreenerFunc adapts a function to the Screener interface.
type ScreenerFunc func(ctx context.Context, in ScreenInput) (Verdict, error)

// Screen calls f(ctx, in).
func (f ScreenerFunc) Screen(ctx context.Context, in ScreenInput) (Verdict, error) { return f(ctx, in) }

// ScreenInput is one piece of text about to be written.
type ScreenInput struct {
	Channel          string
	ConversationType conversation.Type
	Sender           message.Sender
	// Field is what the text is: FieldMessageContent or FieldSubject.
	Field string
	Text  string
}

// Decision is what a Screener decides about a text.
type Decision uint8

// The decisions.
const (
	// Accept writes the text as it is.
	Accept Decision = iota
	// Mask writes Verdict.Text instead (the original is not stored).
	Mask
	// Reject writes nothing: the write fails with a *ValidationError of
	// the field, whose reason is Verdict.Reason (every dialect answers
	// 400 naming the field).
	Reject
	// Flag writes the text as it is and files a report of the message
	// for the operators, from moderation.ScreenerReporter, with
	// Verdict.ReportReason and Verdict.Reason as its note.
	Flag
)

// Verdict is a Screener's decision about one text.
type Verdict struct {
	Decision Decision
	// Text is the masked text (Mask).
	Text string
	// Reason says why, in a sentence (Reject: the error's reason; Flag:
	// the report's note).
	Reason string
	// ReportReason is the reason of the report a Flag files
	// (moderation.ReasonOther if empty).
	ReportReason moderation.Reason
}

// screened is the outcome of screening a write: the texts to store and
// the report to file after it, if any.
type screened struct {
	subject, content string
	flag             *Verdict
}

// screen runs the Screener, if any, on a write's subject and content. A
// rejection is a *ValidationError of the field.
func (s *Service) screen(ctx context.Context, channel string, t conversation.Type, sender message.Sender, subject, content string) (screened, error) {
	out := screened{subject: subject, content: content}
	if s.opts.Screener == nil {
		return out, nil
	}
	for _, f := range []struct {
		field string
		text  *string
	}{{FieldSubject, &out.subject}, {FieldMessageContent, &out.content}} {
		if *f.text == "" {
			continue
		}
		v, err := s.opts.Screener.Screen(ctx, ScreenInput{Channel: channel, ConversationType: t, Sender: sender, Field: f.field, Text: *f.text})
		if err != nil {
			return out, fmt.Errorf("parley: screen: %w", err)
		}
		switch v.Decision {
		case Accept:
		case Mask:
			var fe fieldErrors
			if f.field == FieldSubject {
				s.opts.Limits.subject(&fe, v.Text)
			} else {
				s.opts.Limits.content(&fe, f.field, v.Text)
			}
			if err := fe.err(); err != nil {
				return out, fmt.Errorf("parley: screen: the masked text is invalid: %w", err)
			}
			*f.text = v.Text
		case Reject:
			reason := v.Reason
			if reason == "" {
				reason = "is not allowed"
			}
			return out, &ValidationError{Field: f.field, Reason: reason}
		case Flag:
			if out.flag == nil {
				out.flag = &v
			}
		default:
			return out, fmt.Errorf("parley: screen: unknown decision %d", v.Decision)
		}
	}
	return out, nil
}

// flag files the report of a flagged message. It runs after the write: a
// failure is logged, never returned (the message is written).
func (s *Service) flag(ctx context.Context, v *Verdict, channel string, conversationID, messageID int64) {
	if v == nil {
		return
	}
	m, err := s.moderator()
	if err == nil {
		reason := v.ReportReason
		if !reason.Valid() {
			reason = moderation.ReasonOther
		}
		_, _, err = m.CreateReport(ctx, moderation.Report{
			Channel: channel, ConversationID: conversationID, MessageID: messageID,
			Reporter: moderation.ScreenerReporter, Reason: reason, Note: v.Reason,
			State: moderation.StateOpen, CreatedAt: s.now(),
		})
	}
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "parley: report of a flagged message failed",
			"conversation", conversationID, "message", messageID, "error", err)
	}
}
