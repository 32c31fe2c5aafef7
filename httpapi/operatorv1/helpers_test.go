package operatorv1_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
	"github.com/parleyhq/parley/httpapi/operatorv1"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store"
)

// The operator tokens: staff of channel 1, and of channel 2.
const (
	tokOperator      = "Token operator-1"
	tokOtherOperator = "Token operator-2"
)

var (
	staff = parley.Operator("1", "staff-1")
	user1 = parley.User("1", "545382")
	user2 = parley.User("1", "545383")
)

// auth is the kit's test world with the operators.
func auth(r *http.Request) (parley.Actor, error) {
	switch r.Header.Get("Authorization") {
	case tokOperator:
		return staff, nil
	case tokOtherOperator:
		return parley.Operator("2", "staff-2"), nil
	}
	return kittest.Auth(r)
}

// stores are the backends the end-to-end tests run over.
var stores = kittest.Stores

type env struct {
	*kittest.Env
	t *testing.T
}

// newEnv serves the operator dialect over st (nil: memory) with the
// kit's Config adjusted by configure.
func newEnv(t *testing.T, st store.Store, configure func(*httpapi.Config)) *env {
	t.Helper()
	e := kittest.Build(t, st, operatorv1.Options{}, operatorv1.Dialect, func(_ *parley.Options, c *httpapi.Config, _ *operatorv1.Options) {
		c.Authenticator = httpapi.AuthenticatorFunc(auth)
		if configure != nil {
			configure(c)
		}
	})
	return &env{Env: e, t: t}
}

func (e *env) do(method, path, token string, body any) kittest.Response {
	e.t.Helper()
	return e.Do(method, path, token, body, nil)
}

// world is what the tests moderate: a private conversation of user1 with
// seller 1, a public review by user1, and reports of both.
type world struct {
	private, review       conversation.Conversation
	privateMsg, reviewMsg int64
	reports               []moderation.Report
}

func seed(t *testing.T, e *env) world {
	t.Helper()
	ctx := context.Background()
	var w world
	s, err := e.Svc.Start(ctx, user1, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Item: conversation.Product("1"), Content: "Pay me outside, at x@y.com"})
	require.NoError(t, err)
	w.private, w.privateMsg = s.Conversation, s.Message.ID
	s, err = e.Svc.Start(ctx, user1, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "The seller is an idiot."})
	require.NoError(t, err)
	w.review, w.reviewMsg = s.Conversation, s.Message.ID
	for _, r := range []struct {
		a      parley.Actor
		conv   int64
		msg    int64
		reason moderation.Reason
	}{
		{parley.Seller("1", "1"), w.private.ID, w.privateMsg, moderation.ReasonContactDetails},
		{user2, w.review.ID, w.reviewMsg, moderation.ReasonAbuse},
		{parley.Seller("1", "1"), w.review.ID, w.reviewMsg, moderation.ReasonAbuse},
	} {
		rep, created, err := e.Svc.Report(ctx, r.a, parley.ReportRequest{ConversationID: r.conv, MessageID: r.msg, Reason: r.reason})
		require.NoError(t, err)
		require.True(t, created)
		w.reports = append(w.reports, rep)
	}
	return w
}

// listing is a decoded keyset-paged listing.
type listing struct {
	Next    *string          `json:"next"`
	Results []map[string]any `json:"results"`
}

func (e *env) list(path, token string) listing {
	e.t.Helper()
	r := e.do(http.MethodGet, path, token, nil)
	require.Equal(e.t, http.StatusOK, r.Status, r.Raw)
	var l listing
	r.JSON(e.t, &l)
	return l
}

// ids returns the ids of a listing's results.
func ids(l listing) []int64 {
	out := []int64{}
	for _, r := range l.Results {
		out = append(out, int64(r["id"].(float64)))
	}
	return out
}

func path(format string, args ...any) string { return fmt.Sprintf(format, args...) }
