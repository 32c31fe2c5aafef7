package memory

import (
	"context"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

var _ store.Privacy = (*Store)(nil)

// EraseParty implements store.Privacy under the store's one lock.
func (s *Store) EraseParty(ctx context.Context, p store.EraseParams) (store.EraseResult, error) {
	var res store.EraseResult
	if err := s.lock(ctx); err != nil {
		return res, err
	}
	defer s.mu.Unlock()
	side := conversation.Side(p.Party.Kind)
	erased := make(map[int64]bool)
	for i := range s.convs {
		cr := &s.convs[i]
		c := &cr.conv
		if c.Channel != p.Channel || !side.Valid() || store.PartyOf(*c, side) != p.Party.ID {
			continue
		}
		changed := false
		if c.StartedBy == side && c.Subject != "" {
			c.Subject, changed = "", true
		}
		if side == conversation.SideUser {
			a := &c.Attributes
			if a.UserFirstName != "" || a.UserLastName != "" || a.OrderNumber != "" {
				a.UserFirstName, a.UserLastName, a.OrderNumber, changed = "", "", "", true
			}
		}
		if changed {
			res.Conversations++
		}
		for j := range cr.msgs {
			m := &cr.msgs[j]
			if m.Sender.Kind == p.Party.Kind && m.Sender.ID == p.Party.ID && m.Content != store.ErasedContent {
				m.Content = store.ErasedContent
				erased[m.ID] = true
				res.Messages++
			}
		}
	}
	for k, r := range s.idem {
		if erased[r.msgID] {
			r.fingerprint = store.ErasedFingerprint
			s.idem[k] = r
		}
	}
	for _, r := range s.events {
		if erased[r.ev.MessageID] {
			r.ev.LastError = ""
		}
	}
	for i := range s.mod.reports {
		r := &s.mod.reports[i]
		if r.Channel == p.Channel && r.Reporter.Kind == p.Party.Kind && r.Reporter.ID == p.Party.ID && r.Note != "" {
			r.Note = ""
			res.Reports++
		}
	}
	s.addAudit(p.Audit)
	return res, nil
}
