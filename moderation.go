package parley

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// moderator returns the store's moderation operations, or ErrUnsupported.
func (s *Service) moderator() (store.Moderation, error) {
	m, ok := s.store.(store.Moderation)
	if !ok {
		return nil, fmt.Errorf("parley: %T does not implement store.Moderation: %w", s.store, ErrUnsupported)
	}
	return m, nil
}

// operator checks that a is a valid operator: only operators moderate.
func (s *Service) operator(a Actor) error {
	if err := s.checkActor(a); err != nil {
		return err
	}
	if a.kind != ActorOperator {
		return denied(a.String(), "is not an operator")
	}
	return nil
}

// ReportRequest reports one message to the channel's operators.
type ReportRequest struct {
	ConversationID int64
	MessageID      int64
	Reason         moderation.Reason
	// Note is the reporter's own words; optional, validated like message
	// content.
	Note string
}

// Report files a report of a message. A user or a seller (or an
// integration acting for one) may report a message of a conversation it
// takes part in, and any of them a message of a public conversation (a
// question or a review) of its channel; an operator does not report, it
// acts. One reporter reports a message once: a second report of the same
// message by the same reporter returns the first, with created false.
func (s *Service) Report(ctx context.Context, a Actor, r ReportRequest) (rep moderation.Report, created bool, err error) {
	reporter, _, err := s.writer(a)
	if err != nil {
		return rep, false, err
	}
	var f fieldErrors
	if r.ConversationID <= 0 {
		f.add(FieldConversation, "must be a conversation id")
	}
	if r.MessageID <= 0 {
		f.add(FieldMessage, "must be a message id")
	}
	checkReason(&f, r.Reason)
	s.note(&f, r.Note)
	if err := f.err(); err != nil {
		return rep, false, err
	}
	m, err := s.moderator()
	if err != nil {
		return rep, false, err
	}
	c, err := s.store.GetConversation(ctx, r.ConversationID)
	if err != nil {
		return rep, false, fmt.Errorf("parley: conversation %d: %w", r.ConversationID, err)
	}
	if err := mayReport(a, c); err != nil {
		return rep, false, err
	}
	if err := s.inConversation(ctx, c.ID, r.MessageID); err != nil {
		return rep, false, err
	}
	rep = moderation.Report{
		Channel: c.Channel, ConversationID: c.ID, MessageID: r.MessageID, Reporter: reporter,
		Reason: r.Reason, Note: r.Note, State: moderation.StateOpen, CreatedAt: s.now(),
	}
	rep, created, err = m.CreateReport(ctx, rep)
	if err != nil {
		return moderation.Report{}, false, fmt.Errorf("parley: report: %w", err)
	}
	return rep, created, nil
}

// mayReport is the rule for reporting a message of c: a party reports
// the messages of its conversations, anyone of the channel those of a
// public conversation.
func mayReport(a Actor, c conversation.Conversation) error {
	err := mayAccess(a, c)
	if err != nil && errors.Is(err, ErrPermission) && c.Type.Public() {
		return nil
	}
	return err
}

// inConversation checks that message id is one of conversation c's.
func (s *Service) inConversation(ctx context.Context, c, id int64) error {
	ms, err := s.store.MessagesAfter(ctx, message.After{ConversationID: c, ID: id - 1, Limit: 1})
	if err != nil {
		return fmt.Errorf("parley: message %d: %w", id, err)
	}
	if len(ms) == 0 || ms[0].ID != id {
		return fmt.Errorf("parley: message %d in conversation %d: %w", id, c, ErrNotFound)
	}
	return nil
}

func checkReason(f *fieldErrors, r moderation.Reason) {
	if !r.Valid() {
		f.add(FieldReason, fmt.Sprintf("%q is not a valid choice (spam, abuse, contact_details, personal_data, illegal, other)", r))
	}
}

// note validates an optional free text of an operator or a reporter, as
// message content.
func (s *Service) note(f *fieldErrors, note string) {
	if note != "" {
		s.opts.Limits.content(f, FieldNote, note)
	}
}

// ReportFilter narrows the moderation queue. The zero ReportFilter lists
// every report of the channel.
type ReportFilter struct {
	State  moderation.State  // "" for any
	Reason moderation.Reason // "" for any
}

// Reports returns a page of the moderation queue of the operator's
// channel: its reports, oldest first, narrowed by f (the open reports
// with moderation.StateOpen).
func (s *Service) Reports(ctx context.Context, a Actor, f ReportFilter, p PageRequest) (Page[moderation.Report], error) {
	var out Page[moderation.Report]
	if err := s.operator(a); err != nil {
		return out, err
	}
	var fe fieldErrors
	if f.State != "" && !f.State.Valid() {
		fe.add(FieldState, fmt.Sprintf("%q is not a valid choice (open, resolved)", f.State))
	}
	if f.Reason != "" {
		checkReason(&fe, f.Reason)
	}
	if err := fe.err(); err != nil {
		return out, err
	}
	limit, err := s.limit(p)
	if err != nil {
		return out, err
	}
	after, err := s.idCursor(p.Cursor, cursorReports)
	if err != nil {
		return out, err
	}
	m, err := s.moderator()
	if err != nil {
		return out, err
	}
	page, err := m.ListReports(ctx, store.ReportQuery{Channel: a.channel, State: f.State, Reason: f.Reason, AfterID: after, Limit: limit, WithTotal: p.WithTotal})
	if err != nil {
		return out, fmt.Errorf("parley: list reports: %w", err)
	}
	out.Items, out.Total = page.Items, page.Total
	if page.More && len(page.Items) > 0 {
		out.Next = s.sealCursor(cursorReports, page.Items[len(page.Items)-1].ID)
	}
	return out, nil
}

// GetReport returns a report of the operator's channel.
func (s *Service) GetReport(ctx context.Context, a Actor, id int64) (moderation.Report, error) {
	if err := s.operator(a); err != nil {
		return moderation.Report{}, err
	}
	return s.report(ctx, a, id)
}

func (s *Service) report(ctx context.Context, a Actor, id int64) (moderation.Report, error) {
	if id <= 0 {
		return moderation.Report{}, &ValidationError{Field: FieldReport, Reason: "must be a report id"}
	}
	m, err := s.moderator()
	if err != nil {
		return moderation.Report{}, err
	}
	r, err := m.GetReport(ctx, id)
	if err == nil && r.Channel != a.channel {
		err = ErrNotFound
	}
	if err != nil {
		return moderation.Report{}, fmt.Errorf("parley: report %d: %w", id, err)
	}
	return r, nil
}

// ResolveReport records an operator's decision on an open report of its
// channel, with a note (optional, validated like message content), and
// adds it to the audit trail. A report is resolved once
// (ErrReportResolved). Resolving does not hide anything by itself: the
// operator hides content with Hide.
func (s *Service) ResolveReport(ctx context.Context, a Actor, id int64, outcome moderation.Outcome, note string) (moderation.Report, error) {
	if err := s.operator(a); err != nil {
		return moderation.Report{}, err
	}
	var f fieldErrors
	if id <= 0 {
		f.add(FieldReport, "must be a report id")
	}
	if !outcome.Valid() {
		f.add(FieldOutcome, fmt.Sprintf("%q is not a valid choice (dismissed, actioned)", outcome))
	}
	s.note(&f, note)
	if err := f.err(); err != nil {
		return moderation.Report{}, err
	}
	r, err := s.report(ctx, a, id)
	if err != nil {
		return moderation.Report{}, err
	}
	m, err := s.moderator()
	if err != nil {
		return moderation.Report{}, err
	}
	now := s.now()
	r, err = m.ResolveReport(ctx, store.ResolveParams{
		ID: id, At: now, By: a.staff, Outcome: outcome, Note: note,
		Audit: moderation.Entry{
			Channel: a.channel, Staff: a.staff, Action: moderation.ActionReportResolved,
			ConversationID: r.ConversationID, MessageID: r.MessageID, ReportID: r.ID,
			Reason: string(outcome) + reasonSep(note), At: now,
		},
	})
	if err != nil {
		return moderation.Report{}, fmt.Errorf("parley: resolve report %d: %w", id, err)
	}
	return r, nil
}

func reasonSep(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

// Audit returns a page of the audit trail of the operator's channel,
// oldest first: every moderation action, who took it, when and why. A
// conversationID other than 0 keeps only the entries about that
// conversation.
func (s *Service) Audit(ctx context.Context, a Actor, conversationID int64, p PageRequest) (Page[moderation.Entry], error) {
	var out Page[moderation.Entry]
	if err := s.operator(a); err != nil {
		return out, err
	}
	if conversationID < 0 {
		return out, &ValidationError{Field: FieldConversation, Reason: "must be a conversation id"}
	}
	limit, err := s.limit(p)
	if err != nil {
		return out, err
	}
	after, err := s.idCursor(p.Cursor, cursorAudit)
	if err != nil {
		return out, err
	}
	m, err := s.moderator()
	if err != nil {
		return out, err
	}
	page, err := m.ListAudit(ctx, store.AuditQuery{Channel: a.channel, ConversationID: conversationID, AfterID: after, Limit: limit})
	if err != nil {
		return out, fmt.Errorf("parley: audit: %w", err)
	}
	out.Items, out.Total = page.Items, -1
	if page.More && len(page.Items) > 0 {
		out.Next = s.sealCursor(cursorAudit, page.Items[len(page.Items)-1].ID)
	}
	return out, nil
}

// HideRequest hides or shows a message, or a whole public conversation.
type HideRequest struct {
	ConversationID int64
	// MessageID is the message to hide or show; 0 hides or shows the
	// conversation itself, which must be public (a question or a review).
	MessageID int64
	// Reason says why, for the audit trail; required, validated like
	// message content.
	Reason string
}

// Hide hides a message, or a whole public conversation, of the operator's
// channel. Hidden content is kept: it leaves the public listings and
// public message pages at once (PublicList, PublicMessages, and
// MessageCount of a public conversation), the parties see it as hidden
// without its content (unless Options.ShowHiddenToParties), and operators
// still read it. The action is recorded in the audit trail. Hiding what
// is hidden records the action again and changes nothing else. It
// returns the conversation as the action leaves it.
func (s *Service) Hide(ctx context.Context, a Actor, r HideRequest) (conversation.Conversation, error) {
	return s.setHidden(ctx, a, r, true)
}

// Unhide shows again what Hide hid, with the same rules.
func (s *Service) Unhide(ctx context.Context, a Actor, r HideRequest) (conversation.Conversation, error) {
	return s.setHidden(ctx, a, r, false)
}

func (s *Service) setHidden(ctx context.Context, a Actor, r HideRequest, hidden bool) (conversation.Conversation, error) {
	var none conversation.Conversation
	if err := s.operator(a); err != nil {
		return none, err
	}
	var f fieldErrors
	if r.ConversationID <= 0 {
		f.add(FieldConversation, "must be a conversation id")
	}
	if r.MessageID < 0 {
		f.add(FieldMessage, "must be a message id, or 0 for the conversation")
	}
	s.opts.Limits.content(&f, FieldReason, r.Reason)
	if err := f.err(); err != nil {
		return none, err
	}
	m, err := s.moderator()
	if err != nil {
		return none, err
	}
	c, err := s.conversation(ctx, a, r.ConversationID)
	if err != nil {
		return none, err
	}
	action := map[bool]moderation.Action{true: moderation.ActionMessageHidden, false: moderation.ActionMessageUnhidden}[hidden]
	if r.MessageID == 0 {
		if !c.Type.Public() {
			return none, &ValidationError{Field: FieldMessage, Reason: "a private conversation is not hidden whole: name the message to hide"}
		}
		action = map[bool]moderation.Action{true: moderation.ActionConversationHidden, false: moderation.ActionConversationShown}[hidden]
	}
	c, err = m.SetHidden(ctx, store.HideParams{
		ConversationID: c.ID, MessageID: r.MessageID, Hidden: hidden,
		Audit: moderation.Entry{
			Channel: a.channel, Staff: a.staff, Action: action,
			ConversationID: c.ID, MessageID: r.MessageID, Reason: r.Reason, At: s.now(),
		},
	})
	if err != nil {
		return none, fmt.Errorf("parley: %s: %w", action, err)
	}
	return c, nil
}
