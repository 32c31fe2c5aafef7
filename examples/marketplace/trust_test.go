package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/store/memory"
)

// TestApp_TrustAndSafety: in the example server, a user reports a public
// question through seed 000, the demo operator finds the report in its
// queue, hides the question (it leaves /public-questions/ at once),
// resolves the report, and reads the audit trail; a user cannot.
func TestApp_TrustAndSafety(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	a, err := build(ctx, st, delivery{}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	call := func(method, path, token, body string) (int, map[string]any) {
		code, raw := request(t, a, method, path, token, body)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
		return code, out
	}
	code, public := call(http.MethodGet, "/public-questions/", "", "")
	require.Equal(t, http.StatusOK, code)
	before := public["count"].(float64)
	require.Positive(t, before)
	conv := int64(public["results"].([]any)[0].(map[string]any)["id"].(float64))
	ms, err := a.svc.PublicMessages(ctx, channel, conv, parley.PageRequest{})
	require.NoError(t, err)
	require.NotEmpty(t, ms.Items)
	msg := ms.Items[0].ID

	code, rep := call(http.MethodPost, fmt.Sprintf("/users/messages/%d/report/", msg), "demo-user-545383",
		fmt.Sprintf(`{"conversation": %d, "reason": "contact_details", "note": "a phone number"}`, conv))
	require.Equal(t, http.StatusCreated, code, rep)

	code, _ = call(http.MethodGet, "/operator/v1/reports/", "demo-user-545383", "")
	assert.Equal(t, http.StatusForbidden, code, "users do not moderate")
	code, queue := call(http.MethodGet, "/operator/v1/reports/?state=open", "demo-operator-1", "")
	require.Equal(t, http.StatusOK, code, queue)
	require.Len(t, queue["results"], 1)
	assert.Equal(t, rep["id"], queue["results"].([]any)[0].(map[string]any)["id"])

	code, body := call(http.MethodPost, fmt.Sprintf("/operator/v1/conversations/%d/hide/", conv), "demo-operator-1", `{"reason": "leaks a phone number"}`)
	require.Equal(t, http.StatusOK, code, body)
	_, public = call(http.MethodGet, "/public-questions/", "", "")
	assert.Equal(t, before-1, public["count"], "hidden at once")
	code, body = call(http.MethodPost, fmt.Sprintf("/operator/v1/reports/%v/resolve/", rep["id"]), "demo-operator-1", `{"outcome": "actioned"}`)
	require.Equal(t, http.StatusOK, code, body)
	code, audit := call(http.MethodGet, "/operator/v1/audit/", "demo-operator-1", "")
	require.Equal(t, http.StatusOK, code, audit)
	assert.Len(t, audit["results"], 2)
}
