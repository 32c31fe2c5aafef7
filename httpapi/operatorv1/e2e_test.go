package operatorv1_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
	"github.com/parleyhq/parley/moderation"
)

// TestE2E_Queue: the queue lists the channel's reports oldest first,
// filtered by state and reason, page by page through next links.
func TestE2E_Queue(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, newStore(t), nil)
			w := seed(t, e)
			all := []int64{w.reports[0].ID, w.reports[1].ID, w.reports[2].ID}

			var got []int64
			next := "/operator/v1/reports/?page_size=2"
			pages := 0
			for next != "" {
				l := e.list(next, tokOperator)
				got = append(got, ids(l)...)
				pages++
				next = ""
				if l.Next != nil {
					require.True(t, strings.HasPrefix(*l.Next, "/operator/v1/reports/?"), *l.Next)
					next = *l.Next
				}
			}
			assert.Equal(t, all, got, "oldest first, every report once")
			assert.Equal(t, 2, pages)

			l := e.list("/operator/v1/reports/?reason=contact_details", tokOperator)
			assert.Equal(t, []int64{w.reports[0].ID}, ids(l))
			assert.Equal(t, "contact_details", l.Results[0]["reason"])
			assert.Equal(t, map[string]any{"type": "datasource", "id": "1"}, l.Results[0]["reporter"])
			assert.Equal(t, "open", l.Results[0]["state"])
			assert.Nil(t, l.Results[0]["outcome"])

			r := e.do(http.MethodPost, path("/operator/v1/reports/%d/resolve/", w.reports[1].ID), tokOperator, map[string]any{"outcome": "actioned", "note": "hidden"})
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			o := r.Object(t)
			assert.Equal(t, "resolved", o["state"])
			assert.Equal(t, "actioned", o["outcome"])
			assert.Equal(t, "staff-1", o["resolved_by"])
			assert.Equal(t, "hidden", o["resolution_note"])

			assert.Equal(t, []int64{w.reports[0].ID, w.reports[2].ID}, ids(e.list("/operator/v1/reports/?state=open", tokOperator)))
			assert.Equal(t, []int64{w.reports[1].ID}, ids(e.list("/operator/v1/reports/?state=resolved&reason=abuse", tokOperator)))

			r = e.do(http.MethodPost, path("/operator/v1/reports/%d/resolve/", w.reports[1].ID), tokOperator, map[string]any{"outcome": "dismissed"})
			assert.Equal(t, http.StatusConflict, r.Status, "a report is resolved once: %s", r.Raw)

			r = e.do(http.MethodGet, path("/operator/v1/reports/%d/", w.reports[1].ID), tokOperator, nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, "actioned", r.Object(t)["outcome"], "the first decision stands")
		})
	}
}

// TestE2E_BadInput: invalid filters, bodies and paths are 400 naming the
// field (404 for a path id), and change nothing.
func TestE2E_BadInput(t *testing.T) {
	e := newEnv(t, nil, nil)
	w := seed(t, e)
	for _, c := range []struct{ path, field string }{
		{"/operator/v1/reports/?state=closed", "state"},
		{"/operator/v1/reports/?reason=rude", "reason"},
		{"/operator/v1/reports/?page_size=0", "page_size"},
		{"/operator/v1/reports/?cursor=forged", "cursor"},
		{"/operator/v1/reports/?sort=id", "sort"},
		{"/operator/v1/reports/?state=open&state=resolved", "state"},
		{"/operator/v1/audit/?conversation=x", "conversation"},
		{path("/operator/v1/conversations/%d/messages/?page_size=x", w.private.ID), "page_size"},
	} {
		r := e.do(http.MethodGet, c.path, tokOperator, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", c.path, r.Raw)
		assert.Contains(t, r.Object(t), c.field, c.path)
	}
	resolve := path("/operator/v1/reports/%d/resolve/", w.reports[0].ID)
	hide := path("/operator/v1/conversations/%d/messages/%d/hide/", w.private.ID, w.privateMsg)
	for _, c := range []struct {
		path  string
		body  any
		field string
	}{
		{resolve, map[string]any{"outcome": "deleted"}, "outcome"},
		{resolve, map[string]any{"outcome": 1}, "outcome"},
		{resolve, map[string]any{"outcome": "dismissed", "note": "a\u0000b"}, "note"},
		{resolve, `{"outcome": "dismissed", "note": "\ud800"}`, "note"},
		{resolve, `{"outcome": "dismissed", "outcome": "actioned"}`, "outcome"},
		{hide, map[string]any{}, "reason"},
		{hide, map[string]any{"reason": "   "}, "reason"},
		{hide, `{"reason": "a\udc00b"}`, "reason"},
		{path("/operator/v1/conversations/%d/hide/", w.private.ID), map[string]any{"reason": "x"}, "message"},
	} {
		r := e.do(http.MethodPost, c.path, tokOperator, c.body)
		assert.Equal(t, http.StatusBadRequest, r.Status, "%v: %s", c.body, r.Raw)
		assert.Contains(t, r.Object(t), c.field, "%v: %s", c.body, r.Raw)
	}
	for _, p := range []string{"/operator/v1/reports/0/", "/operator/v1/reports/x/", "/operator/v1/reports/99999/"} {
		assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, p, tokOperator, nil).Status, p)
	}
	for _, p := range []string{
		path("/operator/v1/conversations/%d/messages/%d/hide/", w.private.ID, w.reviewMsg), // another conversation's message
		path("/operator/v1/conversations/%d/messages/99999/hide/", w.private.ID),
		"/operator/v1/conversations/99999/hide/",
		"/operator/v1/conversations/x/hide/",
		path("/operator/v1/conversations/%d/messages/0/hide/", w.private.ID),
	} {
		r := e.do(http.MethodPost, p, tokOperator, map[string]any{"reason": "x"})
		assert.Equal(t, http.StatusNotFound, r.Status, "%s: %s", p, r.Raw)
	}
	r := e.do(http.MethodPost, resolve, tokOperator, url.Values{"outcome": {"actioned"}}.Encode())
	assert.Equal(t, http.StatusBadRequest, r.Status, "not JSON: %s", r.Raw)
	r = e.Do(http.MethodPost, resolve, tokOperator, "outcome=actioned", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	assert.Equal(t, http.StatusUnsupportedMediaType, r.Status, "no forms: %s", r.Raw)

	rep, err := e.Svc.GetReport(context.Background(), staff, w.reports[0].ID)
	require.NoError(t, err)
	assert.Equal(t, moderation.StateOpen, rep.State, "nothing was resolved")
	audit, err := e.Svc.Audit(context.Background(), staff, 0, parley.PageRequest{})
	require.NoError(t, err)
	assert.Empty(t, audit.Items, "nothing was recorded")
}

// TestE2E_HideAndAudit: an operator hides and shows a review and a
// message; the public listing follows at once, and the audit trail
// records each action with who and why, page by page.
func TestE2E_HideAndAudit(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, newStore(t), nil)
			w := seed(t, e)
			ctx := context.Background()
			public := func() int {
				p, err := e.Svc.PublicList(ctx, "1", w.review.Type, conversation.Filter{}, parley.PageRequest{})
				require.NoError(t, err)
				return len(p.Items)
			}
			require.Equal(t, 1, public())

			r := e.do(http.MethodPost, path("/operator/v1/conversations/%d/hide/", w.review.ID), tokOperator, map[string]any{"reason": "insults"})
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, true, r.Object(t)["hidden"])
			assert.Equal(t, 0, public(), "a hidden review leaves the public listing at once")
			r = e.do(http.MethodPost, path("/operator/v1/conversations/%d/unhide/", w.review.ID), tokOperator, map[string]any{"reason": "appeal"})
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, false, r.Object(t)["hidden"])
			assert.Equal(t, 1, public(), "and comes back when shown")

			r = e.do(http.MethodPost, path("/operator/v1/conversations/%d/messages/%d/hide/", w.private.ID, w.privateMsg), tokOperator, map[string]any{"reason": "contact details"})
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, float64(1), r.Object(t)["hidden_messages"])
			l := e.list(path("/operator/v1/conversations/%d/messages/", w.private.ID), tokOperator)
			require.Len(t, l.Results, 1)
			assert.Equal(t, true, l.Results[0]["hidden"])
			assert.Equal(t, "Pay me outside, at x@y.com", l.Results[0]["message_content"], "operators read hidden content")
			r = e.do(http.MethodPost, path("/operator/v1/conversations/%d/messages/%d/unhide/", w.private.ID, w.privateMsg), tokOperator, map[string]any{"reason": "mistake"})
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, float64(0), r.Object(t)["hidden_messages"])

			var actions, reasons []string
			next, pages := "/operator/v1/audit/?page_size=3", 0
			for next != "" {
				l := e.list(next, tokOperator)
				pages++
				for _, it := range l.Results {
					actions = append(actions, it["action"].(string))
					reasons = append(reasons, it["reason"].(string))
					assert.Equal(t, "staff-1", it["staff"])
				}
				next = ""
				if l.Next != nil {
					next = *l.Next
				}
			}
			assert.Equal(t, []string{"conversation.hidden", "conversation.unhidden", "message.hidden", "message.unhidden"}, actions)
			assert.Equal(t, []string{"insults", "appeal", "contact details", "mistake"}, reasons)
			assert.Equal(t, 2, pages)

			l = e.list(path("/operator/v1/audit/?conversation=%d", w.private.ID), tokOperator)
			require.Len(t, l.Results, 2)
			assert.Equal(t, float64(w.privateMsg), l.Results[0]["message"])
			assert.Nil(t, l.Results[0]["report"])
		})
	}
}

// routes is every operator route, with a body for the POSTs.
func routes(w world) []struct {
	method, path string
	body         any
} {
	why := map[string]any{"reason": "why"}
	return []struct {
		method, path string
		body         any
	}{
		{http.MethodGet, "/operator/v1/reports/", nil},
		{http.MethodGet, path("/operator/v1/reports/%d/", w.reports[0].ID), nil},
		{http.MethodGet, path("/operator/v1/conversations/%d/messages/", w.private.ID), nil},
		{http.MethodPost, path("/operator/v1/reports/%d/resolve/", w.reports[0].ID), map[string]any{"outcome": "dismissed"}},
		{http.MethodPost, path("/operator/v1/conversations/%d/hide/", w.review.ID), why},
		{http.MethodPost, path("/operator/v1/conversations/%d/unhide/", w.review.ID), why},
		{http.MethodPost, path("/operator/v1/conversations/%d/messages/%d/hide/", w.private.ID, w.privateMsg), why},
		{http.MethodPost, path("/operator/v1/conversations/%d/messages/%d/unhide/", w.private.ID, w.privateMsg), why},
		{http.MethodGet, "/operator/v1/audit/", nil},
	}
}

// TestE2E_BOLA: users, guests, sellers and integrations are refused every
// operator route (403) and change nothing; an operator of another
// channel finds none of this channel's reports or content (404) and its
// own queue and audit trail are empty; without a token, 401.
func TestE2E_BOLA(t *testing.T) {
	e := newEnv(t, nil, nil)
	w := seed(t, e)
	for _, rt := range routes(w) {
		for _, tok := range []string{kittest.TokUser1, kittest.TokUser2, kittest.TokGuest, kittest.TokSeller1, kittest.TokSeller2, kittest.TokChannel, kittest.TokOther} {
			r := e.do(rt.method, rt.path, tok, rt.body)
			assert.Equal(t, http.StatusForbidden, r.Status, "%s %s by %s: %s", rt.method, rt.path, tok, r.Raw)
		}
		r := e.do(rt.method, rt.path, "", rt.body)
		assert.Equal(t, http.StatusUnauthorized, r.Status, "%s %s without a token", rt.method, rt.path)

		r = e.do(rt.method, rt.path, tokOtherOperator, rt.body)
		if strings.HasSuffix(rt.path, "/reports/") || strings.HasSuffix(rt.path, "/audit/") {
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Contains(t, r.Raw, `"results":[]`, "another channel's operator sees nothing")
			continue
		}
		assert.Equal(t, http.StatusNotFound, r.Status, "%s %s by another channel's operator: %s", rt.method, rt.path, r.Raw)
	}
	ctx := context.Background()
	rep, err := e.Svc.GetReport(ctx, staff, w.reports[0].ID)
	require.NoError(t, err)
	assert.Equal(t, moderation.StateOpen, rep.State, "nothing was resolved")
	c, err := e.Svc.Get(ctx, staff, w.review.ID)
	require.NoError(t, err)
	assert.False(t, c.Hidden, "nothing was hidden")
	audit, err := e.Svc.Audit(ctx, staff, 0, parley.PageRequest{})
	require.NoError(t, err)
	assert.Empty(t, audit.Items, "nothing was recorded")
	assert.Regexp(t, `level=INFO [^\n]*code=permission_denied[^\n]*reason="user is not an operator"`, e.Logs.String())
}

// TestE2E_PersonalData: an operator exports everything about a person and
// erases it with a reason; the export then holds tombstones, a second
// erasure replaces nothing, and nobody else can do either.
func TestE2E_PersonalData(t *testing.T) {
	for name, newStore := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, newStore(t), nil)
			seed(t, e)
			export := "/operator/v1/people/user/545382/export/"
			erase := "/operator/v1/people/user/545382/erase/"
			why := map[string]any{"reason": "erasure request 42"}

			r := e.do(http.MethodGet, export, tokOperator, nil)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, "parley.personal-data/1", r.Object(t)["format"])
			assert.Contains(t, r.Raw, "Pay me outside")
			assert.Contains(t, r.Raw, "The seller is an idiot.")

			for _, tok := range []string{kittest.TokUser1, kittest.TokSeller1, kittest.TokChannel} {
				assert.Equal(t, http.StatusForbidden, e.do(http.MethodGet, export, tok, nil).Status, tok)
				assert.Equal(t, http.StatusForbidden, e.do(http.MethodPost, erase, tok, why).Status, tok)
			}
			other := e.do(http.MethodGet, export, tokOtherOperator, nil)
			require.Equal(t, http.StatusOK, other.Status, other.Raw)
			assert.NotContains(t, other.Raw, "Pay me outside", "another channel's operator sees nothing")
			assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/operator/v1/people/robot/545382/export/", tokOperator, nil).Status)
			bad := e.do(http.MethodPost, erase, tokOperator, map[string]any{})
			require.Equal(t, http.StatusBadRequest, bad.Status, bad.Raw)
			assert.Contains(t, bad.Raw, `"reason"`)
			require.Contains(t, e.do(http.MethodGet, export, tokOperator, nil).Raw, "Pay me outside", "refused erasures changed nothing")

			r = e.do(http.MethodPost, erase, tokOperator, why)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, float64(2), r.Object(t)["messages"])
			after := e.do(http.MethodGet, export, tokOperator, nil)
			require.Equal(t, http.StatusOK, after.Status, after.Raw)
			assert.NotContains(t, after.Raw, "Pay me outside")
			assert.NotContains(t, after.Raw, "idiot")

			r = e.do(http.MethodPost, erase, tokOperator, why)
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			assert.Equal(t, map[string]any{"messages": float64(0), "conversations": float64(0), "reports": float64(0)}, r.Object(t), "a second erasure replaces nothing")
		})
	}
}
