package storetest

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// moderator returns the harness's store as a store.Moderation, or skips
// the test.
func (h *harness) moderator() store.Moderation {
	h.t.Helper()
	m, ok := h.s.(store.Moderation)
	if !ok {
		h.t.Skip("the store does not implement the optional store.Moderation")
	}
	return m
}

// report returns a report of message m of c by reporter, filed now.
func (h *harness) report(c conversation.Conversation, msgID int64, reporter message.Sender, reason moderation.Reason) moderation.Report {
	return moderation.Report{
		Channel: c.Channel, ConversationID: c.ID, MessageID: msgID, Reporter: reporter,
		Reason: reason, Note: "Çok kaba bir yorum: \"x\" \n second line", State: moderation.StateOpen, CreatedAt: h.tick(),
	}
}

// fileReport stores r and fails the test unless it is new.
func (h *harness) fileReport(r moderation.Report) moderation.Report {
	h.t.Helper()
	got, created, err := h.moderator().CreateReport(h.ctx, r)
	require.NoError(h.t, err)
	require.True(h.t, created)
	return got
}

// entry returns an audit entry of staff about c, dated now.
func (h *harness) entry(c conversation.Conversation, action moderation.Action) moderation.Entry {
	return moderation.Entry{
		Channel: c.Channel, Staff: "staff-1", Action: action, ConversationID: c.ID,
		MessageID: c.LastMessageID, Reason: "insults the seller", At: h.tick(),
	}
}

// allReports pages through every report of q (Limit 2).
func (h *harness) allReports(q store.ReportQuery) []moderation.Report {
	q.Limit = 2
	return pagesByID(h, func(after int64) (store.Page[moderation.Report], error) {
		q.AfterID = after
		return h.moderator().ListReports(h.ctx, q)
	}, func(r moderation.Report) int64 { return r.ID })
}

// pagesByID pages through a listing ordered by id, whose pages hold at
// most two items: list returns the page after an id.
func pagesByID[T any](h *harness, list func(after int64) (store.Page[T], error), id func(T) int64) []T {
	h.t.Helper()
	var out []T
	after := int64(0)
	for {
		page, err := list(after)
		require.NoError(h.t, err)
		require.LessOrEqual(h.t, len(page.Items), 2)
		out = append(out, page.Items...)
		if !page.More {
			return out
		}
		require.NotEmpty(h.t, page.Items, "a page with More has items")
		after = id(page.Items[len(page.Items)-1])
	}
}

func reportIDs(rs []moderation.Report) []int64 {
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func (f factory) testReports(t *testing.T) {
	if _, ok := f.new(t).s.(store.Moderation); !ok {
		t.Skip("the store does not implement the optional store.Moderation")
	}
	alice := message.User("alice", message.UserRegistered)

	t.Run("CreateAndGet", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create(func(c *conversation.Conversation) { c.Type = conversation.TypeReview }).Conversation
		want := h.report(c, c.LastMessageID, alice, moderation.ReasonAbuse)
		got := h.fileReport(want)
		require.Positive(t, got.ID)
		want.ID = got.ID
		assert.Equal(t, want, got)
		read, err := m.GetReport(h.ctx, got.ID)
		require.NoError(t, err)
		assert.Equal(t, want, read, "every field round-trips")
		requireUTC(t, "report", read.CreatedAt)
		_, err = m.GetReport(h.ctx, got.ID+100)
		require.ErrorIs(t, err, store.ErrNotFound)

		second := h.fileReport(h.report(c, c.LastMessageID, message.User("bob", message.UserGuest), moderation.ReasonSpam))
		assert.Greater(t, second.ID, got.ID, "ids increase")
	})

	t.Run("OnePerReporterAndMessage", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create().Conversation
		first := h.fileReport(h.report(c, c.LastMessageID, alice, moderation.ReasonAbuse))
		again := h.report(c, c.LastMessageID, message.User("alice", message.UserGuest), moderation.ReasonSpam)
		got, created, err := m.CreateReport(h.ctx, again)
		require.NoError(t, err)
		assert.False(t, created, "the same reporter (kind and id) and message")
		assert.Equal(t, first, got, "the first report, unchanged")
		// Another message, another reporter kind with the same id: new.
		second := h.append(c, conversation.SideSeller).Message
		h.fileReport(h.report(c, second.ID, alice, moderation.ReasonAbuse))
		h.fileReport(h.report(c, c.LastMessageID, message.DataSource("alice"), moderation.ReasonAbuse))
		assert.Len(t, h.allReports(store.ReportQuery{Channel: c.Channel}), 3)
	})

	t.Run("ConcurrentDuplicates", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create().Conversation
		const n = 16
		var created atomic.Int64
		ids := make([]int64, n)
		race(n, func(i int) {
			r := h.report(c, c.LastMessageID, alice, moderation.ReasonSpam)
			got, ok, err := m.CreateReport(h.ctx, r)
			if !assert.NoError(t, err) {
				return
			}
			if ok {
				created.Add(1)
			}
			ids[i] = got.ID
		})
		assert.EqualValues(t, 1, created.Load(), "exactly one report is stored")
		for _, id := range ids {
			assert.Equal(t, ids[0], id, "every caller gets the one report")
		}
		assert.Len(t, h.allReports(store.ReportQuery{Channel: c.Channel}), 1)
	})

	t.Run("Queue", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create().Conversation
		other := h.create(func(c *conversation.Conversation) { c.Channel = chOther }).Conversation
		var all []moderation.Report
		reasons := []moderation.Reason{moderation.ReasonSpam, moderation.ReasonAbuse, moderation.ReasonSpam, moderation.ReasonOther, moderation.ReasonSpam}
		for i, reason := range reasons {
			all = append(all, h.fileReport(h.report(c, c.LastMessageID, message.User(h.unique("u"), message.UserRegistered), reason)))
			if i == 1 {
				h.fileReport(h.report(other, other.LastMessageID, alice, reason))
			}
		}
		_, err := m.ResolveReport(h.ctx, store.ResolveParams{ID: all[2].ID, At: h.tick(), By: "staff-1", Outcome: moderation.OutcomeDismissed, Audit: h.entry(c, moderation.ActionReportResolved)})
		require.NoError(t, err)

		assert.Equal(t, reportIDs(all), reportIDs(h.allReports(store.ReportQuery{Channel: chMain})), "oldest first, one channel")
		open := h.allReports(store.ReportQuery{Channel: chMain, State: moderation.StateOpen})
		assert.Equal(t, []int64{all[0].ID, all[1].ID, all[3].ID, all[4].ID}, reportIDs(open))
		spam := h.allReports(store.ReportQuery{Channel: chMain, State: moderation.StateOpen, Reason: moderation.ReasonSpam})
		assert.Equal(t, []int64{all[0].ID, all[4].ID}, reportIDs(spam))
		resolved := h.allReports(store.ReportQuery{Channel: chMain, State: moderation.StateResolved})
		assert.Equal(t, []int64{all[2].ID}, reportIDs(resolved))
		assert.Len(t, h.allReports(store.ReportQuery{Channel: chOther}), 1)

		page, err := m.ListReports(h.ctx, store.ReportQuery{Channel: chMain, State: moderation.StateOpen, Limit: 1, AfterID: all[0].ID, WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 4, page.Total, "the total ignores the cursor")
		assert.True(t, page.More)
		assert.Equal(t, []int64{all[1].ID}, reportIDs(page.Items))
		page, err = m.ListReports(h.ctx, store.ReportQuery{Channel: chMain, Limit: 10})
		require.NoError(t, err)
		assert.EqualValues(t, -1, page.Total)
		assert.False(t, page.More)
		page, err = m.ListReports(h.ctx, store.ReportQuery{Channel: chMain, Limit: 10, AfterID: all[4].ID})
		require.NoError(t, err)
		assert.Empty(t, page.Items)
		assert.False(t, page.More)
	})

	t.Run("Resolve", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create().Conversation
		r := h.fileReport(h.report(c, c.LastMessageID, alice, moderation.ReasonContactDetails))
		audit := h.entry(c, moderation.ActionReportResolved)
		audit.ReportID = r.ID
		p := store.ResolveParams{ID: r.ID, At: h.tick(), By: "staff-1", Outcome: moderation.OutcomeActioned, Note: "hid the message", Audit: audit}
		got, err := m.ResolveReport(h.ctx, p)
		require.NoError(t, err)
		want := r
		want.State, want.ResolvedAt, want.ResolvedBy, want.Outcome, want.ResolutionNote = moderation.StateResolved, p.At, "staff-1", moderation.OutcomeActioned, "hid the message"
		assert.Equal(t, want, got)
		read, err := m.GetReport(h.ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, want, read)
		requireUTC(t, "resolved", read.ResolvedAt)

		entries := h.allAudit(store.AuditQuery{Channel: chMain})
		require.Len(t, entries, 1, "the resolution is audited")
		audit.ID = entries[0].ID
		assert.Equal(t, audit, entries[0])

		// Once only; nothing changes.
		_, err = m.ResolveReport(h.ctx, store.ResolveParams{ID: r.ID, At: h.tick(), By: "staff-2", Outcome: moderation.OutcomeDismissed, Audit: h.entry(c, moderation.ActionReportResolved)})
		require.ErrorIs(t, err, store.ErrReportResolved)
		read, err = m.GetReport(h.ctx, r.ID)
		require.NoError(t, err)
		assert.Equal(t, want, read)
		assert.Len(t, h.allAudit(store.AuditQuery{Channel: chMain}), 1)

		_, err = m.ResolveReport(h.ctx, store.ResolveParams{ID: r.ID + 100, At: h.tick(), By: "staff-1", Outcome: moderation.OutcomeDismissed, Audit: h.entry(c, moderation.ActionReportResolved)})
		require.ErrorIs(t, err, store.ErrNotFound)
		assert.Len(t, h.allAudit(store.AuditQuery{Channel: chMain}), 1)
	})

	t.Run("ConcurrentResolve", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create().Conversation
		r := h.fileReport(h.report(c, c.LastMessageID, alice, moderation.ReasonSpam))
		const n = 8
		var won atomic.Int64
		race(n, func(i int) {
			_, err := m.ResolveReport(h.ctx, store.ResolveParams{ID: r.ID, At: baseTime, By: "staff", Outcome: moderation.OutcomeDismissed,
				Audit: moderation.Entry{Channel: chMain, Staff: "staff", Action: moderation.ActionReportResolved, ReportID: r.ID, At: baseTime}})
			if err == nil {
				won.Add(1)
			} else {
				assert.ErrorIs(t, err, store.ErrReportResolved)
			}
		})
		assert.EqualValues(t, 1, won.Load(), "one resolution")
		assert.Len(t, h.allAudit(store.AuditQuery{Channel: chMain}), 1, "one audit entry")
	})

	t.Run("Context", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		c := h.create().Conversation
		r := h.fileReport(h.report(c, c.LastMessageID, alice, moderation.ReasonSpam))
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		_, _, err := m.CreateReport(ctx, h.report(c, c.LastMessageID, message.User("bob", message.UserRegistered), moderation.ReasonSpam))
		assert.ErrorIs(t, err, context.Canceled)
		_, err = m.GetReport(ctx, r.ID)
		assert.ErrorIs(t, err, context.Canceled)
		_, err = m.ListReports(ctx, store.ReportQuery{Channel: chMain, Limit: 1})
		assert.ErrorIs(t, err, context.Canceled)
		_, err = m.ResolveReport(ctx, store.ResolveParams{ID: r.ID, At: h.tick(), By: "s", Outcome: moderation.OutcomeDismissed, Audit: h.entry(c, moderation.ActionReportResolved)})
		assert.ErrorIs(t, err, context.Canceled)
		_, err = m.ListAudit(ctx, store.AuditQuery{Channel: chMain, Limit: 1})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Len(t, h.allReports(store.ReportQuery{Channel: chMain}), 1, "nothing written")
		assert.Empty(t, h.allAudit(store.AuditQuery{Channel: chMain}))

		require.NoError(t, h.s.Close())
		_, _, err = m.CreateReport(h.ctx, h.report(c, c.LastMessageID, message.User("bob", message.UserRegistered), moderation.ReasonSpam))
		assert.ErrorIs(t, err, store.ErrClosed)
		_, err = m.ListReports(h.ctx, store.ReportQuery{Channel: chMain, Limit: 1})
		assert.ErrorIs(t, err, store.ErrClosed)
		_, err = m.ListAudit(h.ctx, store.AuditQuery{Channel: chMain, Limit: 1})
		assert.ErrorIs(t, err, store.ErrClosed)
	})
}

// allAudit pages through every audit entry of q (Limit 2).
func (h *harness) allAudit(q store.AuditQuery) []moderation.Entry {
	q.Limit = 2
	return pagesByID(h, func(after int64) (store.Page[moderation.Entry], error) {
		q.AfterID = after
		return h.moderator().ListAudit(h.ctx, q)
	}, func(e moderation.Entry) int64 { return e.ID })
}

func (f factory) testAudit(t *testing.T) {
	if _, ok := f.new(t).s.(store.Moderation); !ok {
		t.Skip("the store does not implement the optional store.Moderation")
	}
	t.Run("ListAudit", func(t *testing.T) {
		h := f.new(t)
		m := h.moderator()
		a, b := h.create().Conversation, h.create().Conversation
		other := h.create(func(c *conversation.Conversation) { c.Channel = chOther }).Conversation
		var want []moderation.Entry
		for i, c := range []conversation.Conversation{a, b, a, other, a} {
			r := h.fileReport(h.report(c, c.LastMessageID, message.User(h.unique("u"), message.UserRegistered), moderation.ReasonSpam))
			e := h.entry(c, moderation.ActionReportResolved)
			e.ReportID = r.ID
			if i == 4 {
				e.Subject = message.User("erased", message.UserGuest)
			}
			_, err := m.ResolveReport(h.ctx, store.ResolveParams{ID: r.ID, At: e.At, By: e.Staff, Outcome: moderation.OutcomeDismissed, Audit: e})
			require.NoError(t, err)
			if c.Channel == chMain {
				want = append(want, e)
			}
		}
		got := h.allAudit(store.AuditQuery{Channel: chMain})
		require.Len(t, got, len(want))
		for i := range want {
			want[i].ID = got[i].ID
			if i > 0 {
				assert.Greater(t, got[i].ID, got[i-1].ID, "oldest first")
			}
			requireUTC(t, "audit", got[i].At)
		}
		assert.Equal(t, want, got, "every field round-trips")
		onA := h.allAudit(store.AuditQuery{Channel: chMain, ConversationID: a.ID})
		assert.Equal(t, []moderation.Entry{want[0], want[2], want[3]}, onA)
		assert.Len(t, h.allAudit(store.AuditQuery{Channel: chOther}), 1)
	})
}
