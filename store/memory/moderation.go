package memory

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

var _ store.Moderation = (*Store)(nil)

// moderationState holds the reports and the audit trail.
type moderationState struct {
	reports  []moderation.Report // reports[i].ID == i+1
	reported map[reportKey]int64 // one report per reporter and message
	audit    []moderation.Entry  // audit[i].ID == i+1
}

type reportKey struct {
	messageID int64
	reporter  message.Sender
}

func keyOfReport(r moderation.Report) reportKey {
	return reportKey{r.MessageID, message.Sender{Kind: r.Reporter.Kind, ID: r.Reporter.ID}}
}

// CreateReport implements store.Moderation.
func (s *Store) CreateReport(ctx context.Context, r moderation.Report) (moderation.Report, bool, error) {
	if err := s.lock(ctx); err != nil {
		return moderation.Report{}, false, err
	}
	defer s.mu.Unlock()
	k := keyOfReport(r)
	if id, ok := s.mod.reported[k]; ok {
		return s.mod.reports[id-1], false, nil
	}
	if s.mod.reported == nil {
		s.mod.reported = make(map[reportKey]int64)
	}
	r.ID = int64(len(s.mod.reports)) + 1
	s.mod.reports = append(s.mod.reports, r)
	s.mod.reported[k] = r.ID
	return r, true, nil
}

// report returns the report with the given id, or ErrNotFound.
func (s *Store) report(id int64) (*moderation.Report, error) {
	if id < 1 || id > int64(len(s.mod.reports)) {
		return nil, fmt.Errorf("memory: report %d: %w", id, store.ErrNotFound)
	}
	return &s.mod.reports[id-1], nil
}

// GetReport implements store.Moderation.
func (s *Store) GetReport(ctx context.Context, id int64) (moderation.Report, error) {
	if err := s.lock(ctx); err != nil {
		return moderation.Report{}, err
	}
	defer s.mu.Unlock()
	r, err := s.report(id)
	if err != nil {
		return moderation.Report{}, err
	}
	return *r, nil
}

// ListReports implements store.Moderation.
func (s *Store) ListReports(ctx context.Context, q store.ReportQuery) (store.Page[moderation.Report], error) {
	if err := s.lock(ctx); err != nil {
		return store.Page[moderation.Report]{}, err
	}
	defer s.mu.Unlock()
	return pageOf(s.mod.reports, max(q.Limit, 1), q.WithTotal, func(r *moderation.Report) (bool, bool) {
		ok := r.Channel == q.Channel && (q.State == "" || r.State == q.State) && (q.Reason == "" || r.Reason == q.Reason)
		return ok, r.ID > q.AfterID
	}), nil
}

// ResolveReport implements store.Moderation.
func (s *Store) ResolveReport(ctx context.Context, p store.ResolveParams) (moderation.Report, error) {
	if err := s.lock(ctx); err != nil {
		return moderation.Report{}, err
	}
	defer s.mu.Unlock()
	r, err := s.report(p.ID)
	if err != nil {
		return moderation.Report{}, err
	}
	if r.State == moderation.StateResolved {
		return moderation.Report{}, fmt.Errorf("memory: report %d: %w", p.ID, store.ErrReportResolved)
	}
	r.State, r.ResolvedAt, r.ResolvedBy, r.Outcome, r.ResolutionNote = moderation.StateResolved, p.At, p.By, p.Outcome, p.Note
	s.addAudit(p.Audit)
	return *r, nil
}

// addAudit appends e to the audit trail.
func (s *Store) addAudit(e moderation.Entry) {
	e.ID = int64(len(s.mod.audit)) + 1
	s.mod.audit = append(s.mod.audit, e)
}

// ListAudit implements store.Moderation.
func (s *Store) ListAudit(ctx context.Context, q store.AuditQuery) (store.Page[moderation.Entry], error) {
	if err := s.lock(ctx); err != nil {
		return store.Page[moderation.Entry]{}, err
	}
	defer s.mu.Unlock()
	return pageOf(s.mod.audit, max(q.Limit, 1), false, func(e *moderation.Entry) (bool, bool) {
		ok := e.Channel == q.Channel && (q.ConversationID == 0 || e.ConversationID == q.ConversationID)
		return ok, e.ID > q.AfterID
	}), nil
}

// pageOf returns the page of items, in order, that match and come after
// the cursor, with the total of those that match if asked.
func pageOf[T any](items []T, limit int, withTotal bool, sel func(*T) (match, after bool)) store.Page[T] {
	page := store.Page[T]{Total: -1}
	var total int64
	for i := range items {
		match, after := sel(&items[i])
		if !match {
			continue
		}
		total++
		if !after {
			continue
		}
		if len(page.Items) == limit {
			page.More = true
			if !withTotal {
				break
			}
			continue
		}
		page.Items = append(page.Items, items[i])
	}
	if withTotal {
		page.Total = total
	}
	return page
}

// visibleMessages is ListMessages with q.Visible: it scans back from
// BeforeSeq past the hidden messages.
func visibleMessages(msgs []message.Message, q store.MessageQuery) store.Page[message.Message] {
	page := store.Page[message.Message]{Total: -1}
	if q.WithTotal {
		page.Total = 0
		for _, m := range msgs {
			if !m.Hidden {
				page.Total++
			}
		}
	}
	end := int64(len(msgs))
	if q.BeforeSeq != 0 {
		end = min(end, max(q.BeforeSeq-1, 0))
	}
	limit := max(q.Limit, 1)
	for i := end - 1; i >= 0; i-- {
		if msgs[i].Hidden {
			continue
		}
		if len(page.Items) == limit {
			page.More = true
			break
		}
		page.Items = append(page.Items, msgs[i])
	}
	return page
}

// SetHidden implements store.Moderation.
func (s *Store) SetHidden(ctx context.Context, p store.HideParams) (conversation.Conversation, error) {
	if err := s.lock(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	defer s.mu.Unlock()
	cr := s.conv(p.ConversationID)
	if cr == nil {
		return conversation.Conversation{}, errConvNotFound(p.ConversationID)
	}
	if p.MessageID == 0 {
		cr.conv.Hidden = p.Hidden
	} else {
		ref, ok := s.messages[p.MessageID]
		if !ok || ref.convID != p.ConversationID {
			return conversation.Conversation{}, errMsgNotFound(p.ConversationID, p.MessageID)
		}
		m := &cr.msgs[ref.seq-1]
		switch {
		case p.Hidden && !m.Hidden:
			cr.conv.HiddenMessages++
		case !p.Hidden && m.Hidden:
			cr.conv.HiddenMessages--
		}
		m.Hidden = p.Hidden
	}
	s.addAudit(p.Audit)
	return cr.conv, nil
}
