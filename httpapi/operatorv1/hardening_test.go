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
)

// TestE2E_Hardening runs the kit's hardening rules against the operator
// dialect. The suite's writes are TokUser1's, which is here an operator
// of channel 1 (TokUser2 stays a user, refused): its Post hides a
// review, with the suite's content as the reason, and what it wrote is
// the audit trail of the review.
func TestE2E_Hardening(t *testing.T) {
	kittest.Hardening(t, kittest.Harness{
		NewEnv: func(t *testing.T, configure func(*httpapi.Config)) *kittest.Env {
			return kittest.Build(t, nil, operatorv1.Options{}, operatorv1.Dialect, func(_ *parley.Options, c *httpapi.Config, _ *operatorv1.Options) {
				c.Authenticator = httpapi.AuthenticatorFunc(func(r *http.Request) (parley.Actor, error) {
					if r.Header.Get("Authorization") == kittest.TokUser1 {
						return staff, nil
					}
					return auth(r)
				})
				if configure != nil {
					configure(c)
				}
			})
		},
		Start: func(e *kittest.Env, i int) (string, int64) {
			ctx := context.Background()
			s, err := e.Svc.Start(ctx, user1, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1",
				Item: conversation.Product(fmt.Sprint(i)), Content: "review"})
			require.NoError(e.T, err)
			_, _, err = e.Svc.Report(ctx, parley.Seller("1", "1"), parley.ReportRequest{ConversationID: s.Conversation.ID, MessageID: s.Message.ID, Reason: moderation.ReasonAbuse})
			require.NoError(e.T, err)
			return fmt.Sprint(s.Conversation.ID), s.Conversation.ID
		},
		Post: func(ref, content string) (string, string, string) {
			return http.MethodPost, "/operator/v1/conversations/" + ref + "/hide/", `{"reason": ` + content + `}`
		},
		ContentField: "reason",
		Read:         func(_ string, id int64) string { return fmt.Sprintf("/operator/v1/audit/?conversation=%d", id) },
		Listing:      "/operator/v1/reports/?page_size=1",
		Written: func(e *kittest.Env, id int64) (int64, string) {
			p, err := e.Svc.Audit(context.Background(), staff, id, parley.PageRequest{Limit: 100})
			require.NoError(e.T, err)
			if len(p.Items) == 0 {
				return 0, ""
			}
			return int64(len(p.Items)), p.Items[len(p.Items)-1].Reason
		},
		Refusal: "user is not an operator",
	})
}
