package parley_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// reports returns every report of the operator's channel that f selects,
// paging two at a time.
func (h *harness) reports(t *testing.T, op parley.Actor, f parley.ReportFilter) []moderation.Report {
	t.Helper()
	var out []moderation.Report
	p := parley.PageRequest{Limit: 2}
	for {
		page, err := h.svc.Reports(ctx, op, f, p)
		require.NoError(t, err)
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		p.Cursor = page.Next
	}
}

func TestService_Report(t *testing.T) {
	h := newHarness(t)
	private := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "Call me on 0555 123 45 67"}).Conversation
	reply := h.mustPost(t, shop1, private.ID, "Please keep it here.").Message
	public := h.mustStart(t, bob, question("2", conversation.Product("9"), "Is it waterproof, idiot?")).Conversation

	t.Run("Party", func(t *testing.T) {
		r, created, err := h.svc.Report(ctx, shop1, parley.ReportRequest{ConversationID: private.ID, MessageID: private.LastMessageID, Reason: moderation.ReasonContactDetails, Note: "asks to call"})
		require.NoError(t, err)
		assert.True(t, created)
		assert.Equal(t, moderation.Report{
			ID: r.ID, Channel: "1", ConversationID: private.ID, MessageID: private.LastMessageID, Reporter: message.DataSource("1"),
			Reason: moderation.ReasonContactDetails, Note: "asks to call", State: moderation.StateOpen, CreatedAt: r.CreatedAt,
		}, r)
		again, created, err := h.svc.Report(ctx, shop1, parley.ReportRequest{ConversationID: private.ID, MessageID: private.LastMessageID, Reason: moderation.ReasonSpam})
		require.NoError(t, err)
		assert.False(t, created, "one report per reporter and message")
		assert.Equal(t, r, again)
		_, created, err = h.svc.Report(ctx, alice, parley.ReportRequest{ConversationID: private.ID, MessageID: reply.ID, Reason: moderation.ReasonOther})
		require.NoError(t, err)
		assert.True(t, created)
	})
	t.Run("AnyoneOnPublicContent", func(t *testing.T) {
		asShop, err := channel.OnBehalfOf(message.DataSource("7"))
		require.NoError(t, err)
		for _, a := range []parley.Actor{alice, guest, shop1, asShop} {
			r, created, err := h.svc.Report(ctx, a, parley.ReportRequest{ConversationID: public.ID, MessageID: public.LastMessageID, Reason: moderation.ReasonAbuse})
			require.NoError(t, err, a.String())
			assert.True(t, created, a.String())
			s, _ := a.Sender()
			assert.Equal(t, s, r.Reporter)
		}
	})
	t.Run("ErrPermission", func(t *testing.T) {
		before := len(h.reports(t, staff, parley.ReportFilter{}))
		for _, a := range []parley.Actor{bob, shop2, guest} {
			_, _, err := h.svc.Report(ctx, a, parley.ReportRequest{ConversationID: private.ID, MessageID: private.LastMessageID, Reason: moderation.ReasonSpam})
			assert.ErrorIs(t, err, parley.ErrPermission, "%s is not a party to a private conversation", a)
		}
		for _, a := range []parley.Actor{staff, channel} {
			_, _, err := h.svc.Report(ctx, a, parley.ReportRequest{ConversationID: public.ID, MessageID: public.LastMessageID, Reason: moderation.ReasonSpam})
			assert.ErrorIs(t, err, parley.ErrPermission, "%s reports as no one", a)
		}
		assert.Len(t, h.reports(t, staff, parley.ReportFilter{}), before, "nothing stored")
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, _, err := h.svc.Report(ctx, parley.User("2", "545382"), parley.ReportRequest{ConversationID: public.ID, MessageID: public.LastMessageID, Reason: moderation.ReasonSpam})
		assert.ErrorIs(t, err, parley.ErrNotFound, "another channel")
		_, _, err = h.svc.Report(ctx, alice, parley.ReportRequest{ConversationID: private.ID, MessageID: public.LastMessageID, Reason: moderation.ReasonSpam})
		assert.ErrorIs(t, err, parley.ErrNotFound, "a message of another conversation")
		_, _, err = h.svc.Report(ctx, alice, parley.ReportRequest{ConversationID: private.ID, MessageID: reply.ID + 100, Reason: moderation.ReasonSpam})
		assert.ErrorIs(t, err, parley.ErrNotFound, "no such message")
		_, _, err = h.svc.Report(ctx, alice, parley.ReportRequest{ConversationID: public.ID + 100, MessageID: 1, Reason: moderation.ReasonSpam})
		assert.ErrorIs(t, err, parley.ErrNotFound, "no such conversation")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, _, err := h.svc.Report(ctx, alice, parley.ReportRequest{Reason: "rude", Note: "bad\x00note"})
		fields := map[string]bool{}
		for _, ve := range parley.ValidationErrors(err) {
			fields[ve.Field] = true
		}
		assert.Equal(t, map[string]bool{parley.FieldConversation: true, parley.FieldMessage: true, parley.FieldReason: true, parley.FieldNote: true}, fields)
		_, _, err = h.svc.Report(ctx, alice, parley.ReportRequest{ConversationID: public.ID, MessageID: public.LastMessageID, Reason: moderation.ReasonSpam, Note: "   "})
		assert.ErrorIs(t, err, parley.ErrInvalid, "a blank note")
	})
}

func TestService_ModerationQueue(t *testing.T) {
	h := newHarness(t)
	var filed []moderation.Report
	for i, reason := range []moderation.Reason{moderation.ReasonSpam, moderation.ReasonAbuse, moderation.ReasonSpam, moderation.ReasonIllegal, moderation.ReasonSpam} {
		c := h.mustStart(t, parley.User("1", "u"+string(rune('a'+i))), question("1", conversation.Product("p"), "question")).Conversation
		r, _, err := h.svc.Report(ctx, bob, parley.ReportRequest{ConversationID: c.ID, MessageID: c.LastMessageID, Reason: reason})
		require.NoError(t, err)
		filed = append(filed, r)
	}
	other := h.mustStart(t, parley.User("2", "x"), question("1", conversation.Product("p"), "elsewhere")).Conversation
	_, _, err := h.svc.Report(ctx, parley.User("2", "y"), parley.ReportRequest{ConversationID: other.ID, MessageID: other.LastMessageID, Reason: moderation.ReasonSpam})
	require.NoError(t, err)

	ids := func(rs []moderation.Report) []int64 {
		var out []int64
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	assert.Equal(t, ids(filed), ids(h.reports(t, staff, parley.ReportFilter{State: moderation.StateOpen})), "oldest open first, one channel")

	resolved, err := h.svc.ResolveReport(ctx, staff, filed[2].ID, moderation.OutcomeDismissed, "a fair question")
	require.NoError(t, err)
	assert.Equal(t, moderation.StateResolved, resolved.State)
	assert.Equal(t, "staff-7", resolved.ResolvedBy)
	assert.Equal(t, moderation.OutcomeDismissed, resolved.Outcome)
	assert.Equal(t, "a fair question", resolved.ResolutionNote)
	assert.False(t, resolved.ResolvedAt.IsZero())

	assert.Equal(t, []int64{filed[0].ID, filed[4].ID}, ids(h.reports(t, staff, parley.ReportFilter{State: moderation.StateOpen, Reason: moderation.ReasonSpam})))
	assert.Equal(t, []int64{filed[2].ID}, ids(h.reports(t, staff, parley.ReportFilter{State: moderation.StateResolved})))
	page, err := h.svc.Reports(ctx, staff, parley.ReportFilter{State: moderation.StateOpen}, parley.PageRequest{Limit: 1, WithTotal: true})
	require.NoError(t, err)
	assert.EqualValues(t, 4, page.Total)

	t.Run("ResolveOnce", func(t *testing.T) {
		_, err := h.svc.ResolveReport(ctx, staff, filed[2].ID, moderation.OutcomeActioned, "")
		assert.ErrorIs(t, err, parley.ErrReportResolved)
		got, err := h.svc.GetReport(ctx, staff, filed[2].ID)
		require.NoError(t, err)
		assert.Equal(t, resolved, got)
	})
	t.Run("Audit", func(t *testing.T) {
		page, err := h.svc.Audit(ctx, staff, 0, parley.PageRequest{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		e := page.Items[0]
		assert.Equal(t, moderation.Entry{
			ID: e.ID, Channel: "1", Staff: "staff-7", Action: moderation.ActionReportResolved,
			ConversationID: filed[2].ConversationID, MessageID: filed[2].MessageID, ReportID: filed[2].ID,
			Reason: "dismissed: a fair question", At: resolved.ResolvedAt,
		}, e)
		page, err = h.svc.Audit(ctx, otherStaff, 0, parley.PageRequest{})
		require.NoError(t, err)
		assert.Empty(t, page.Items, "another channel's trail")
	})
	t.Run("OtherChannelOperator", func(t *testing.T) {
		assert.Len(t, h.reports(t, otherStaff, parley.ReportFilter{}), 1, "only its own channel's report")
		_, err := h.svc.GetReport(ctx, otherStaff, filed[0].ID)
		assert.ErrorIs(t, err, parley.ErrNotFound)
		_, err = h.svc.ResolveReport(ctx, otherStaff, filed[0].ID, moderation.OutcomeDismissed, "")
		assert.ErrorIs(t, err, parley.ErrNotFound)
		got, err := h.svc.GetReport(ctx, staff, filed[0].ID)
		require.NoError(t, err)
		assert.Equal(t, moderation.StateOpen, got.State, "unchanged")
	})
	t.Run("OnlyOperators", func(t *testing.T) {
		asUser, _ := channel.OnBehalfOf(message.User("545382", ""))
		for _, a := range []parley.Actor{alice, bob, shop1, guest, channel, asUser} {
			_, err := h.svc.Reports(ctx, a, parley.ReportFilter{}, parley.PageRequest{})
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.GetReport(ctx, a, filed[0].ID)
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.ResolveReport(ctx, a, filed[0].ID, moderation.OutcomeDismissed, "")
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.Audit(ctx, a, 0, parley.PageRequest{})
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
		}
		got, err := h.svc.GetReport(ctx, staff, filed[0].ID)
		require.NoError(t, err)
		assert.Equal(t, moderation.StateOpen, got.State, "unchanged")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := h.svc.Reports(ctx, staff, parley.ReportFilter{State: "pending", Reason: "rude"}, parley.PageRequest{})
		assert.Len(t, parley.ValidationErrors(err), 2)
		_, err = h.svc.Reports(ctx, staff, parley.ReportFilter{}, parley.PageRequest{Cursor: "nope"})
		assert.ErrorIs(t, err, parley.ErrInvalidCursor)
		_, err = h.svc.ResolveReport(ctx, staff, 0, "maybe", "x\x01")
		assert.Len(t, parley.ValidationErrors(err), 3)
		_, err = h.svc.GetReport(ctx, staff, -1)
		assert.ErrorIs(t, err, parley.ErrInvalid)
	})
}

// plainStore is a store without the optional store.Moderation.
type plainStore struct{ store.Store }

func TestService_ModerationUnsupported(t *testing.T) {
	h := newHarness(t)
	svc, err := parley.New(plainStore{h.store}, parley.DefaultOptions())
	require.NoError(t, err)
	c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
	_, _, err = svc.Report(ctx, bob, parley.ReportRequest{ConversationID: c.ID, MessageID: c.LastMessageID, Reason: moderation.ReasonSpam})
	assert.ErrorIs(t, err, parley.ErrUnsupported)
	_, err = svc.Reports(ctx, staff, parley.ReportFilter{}, parley.PageRequest{})
	assert.ErrorIs(t, err, parley.ErrUnsupported)
	_, err = svc.Audit(ctx, staff, 0, parley.PageRequest{})
	assert.ErrorIs(t, err, parley.ErrUnsupported)
}
