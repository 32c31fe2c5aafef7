package conversationsv1_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestE2E_CloseAndReopen: either party closes a conversation with PATCH
// {"status": "closed"} (an integration naming the party), a closed one
// takes no messages, and reopening lets them in again.
func TestE2E_CloseAndReopen(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, userConvs, tokUser2, seedUser("message", "Hello"))
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	id := fmt.Sprint(r.Object(t)["id"])
	status := func(path, token string, body obj) response { return e.do(http.MethodPatch, path+id+"/", token, body) }

	r = status(userConvs, tokUser2, obj{"status": "closed"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "closed", r.Object(t)["status"])
	r = e.do(http.MethodPost, remoteMsgs, tokSeller1, obj{"conversation": id, "message_content": "Hi"})
	assert.JSONEq(t, `{"non_field_errors": ["The conversation is closed."]}`, r.Raw)

	r = status(remoteConvs, tokSeller1, obj{"status": "open"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "open", r.Object(t)["status"])
	r = status(remoteConvs, tokChannel, obj{"status": "closed", "content_type": "datasource", "content_id": "1"})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "closed", r.Object(t)["status"])

	for _, c := range []struct {
		path, token string
		body        obj
		status      int
	}{
		{userConvs, tokUser1, obj{"status": "open"}, http.StatusForbidden},      // not a party
		{remoteConvs, tokSeller2, obj{"status": "open"}, http.StatusForbidden},  // another shop
		{remoteConvs, tokChannel, obj{"status": "open"}, http.StatusBadRequest}, // names no party
		{userConvs, tokUser2, obj{"status": "gone"}, http.StatusBadRequest},
		{userConvs, tokUser2, obj{}, http.StatusBadRequest},
	} {
		r := status(c.path, c.token, c.body)
		assert.Equal(t, c.status, r.Status, "%s %v: %s", c.token, c.body, r.Raw)
	}
	r = e.do(http.MethodGet, userConvs+id+"/", tokUser2, nil)
	assert.Equal(t, "closed", r.Object(t)["status"], "refused requests changed nothing")
	r = e.do(http.MethodDelete, userConvs+id+"/", tokUser2, nil)
	assert.Equal(t, "GET, HEAD, PATCH", r.Header.Get("Allow"))
}
