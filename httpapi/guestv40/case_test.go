package guestv40_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuest_PathsInAnyCase: every route answers under any spelling of its
// literal segments (as ASP.NET matches them), through the kit's case
// folding; the code keeps its own case; other paths are still 404 in seed
// 001's words.
func TestGuest_PathsInAnyCase(t *testing.T) {
	e := newEnv(t)
	spellings := []string{
		"/API/V40/Interactive/Messages/Conversations",
		"/Api/V40/Interactive/Messages/Conversations",
		"/api/v40/interactive/messages/conversations",
		"/API/V40/INTERACTIVE/MESSAGES/CONVERSATIONS",
		"/aPi/v40/iNtErAcTiVe/MeSsAgEs/CoNvErSaTiOnS",
	}
	var code string
	for i, base := range spellings {
		r := e.do(http.MethodPost, base, tokGuest, obj{"message": "hello " + base, "sessionToken": "s"}, nil)
		c := r.conversation(t, "createConversationResponse")
		if i == 0 {
			code = c["code"].(string)
		}
		assert.Equal(t, code, c["code"], base)
	}
	for _, base := range spellings {
		for _, ref := range []string{code, strings.ToUpper(code)} {
			r := e.do(http.MethodGet, base+"/"+ref+"?sessionToken=s", tokGuest, nil, nil)
			assert.Equal(t, code, r.conversation(t, "getConversationResponse")["code"], base)
		}
		for _, sub := range []string{"/Messages", "/messages", "/MESSAGES"} {
			r := e.do(http.MethodPost, base+"/"+code+sub, tokGuest, obj{"message": "more", "sessionToken": "s"}, nil)
			r.conversation(t, "createMessageResponse")
		}
		for _, sub := range []string{"/Status", "/status", "/STATUS"} {
			r := e.do(http.MethodPut, base+"/"+code+sub, tokGuest, obj{"conversationStatus": "open", "sessionToken": "s"}, nil)
			r.conversation(t, "setConversationStatusResponse")
		}
	}
	r := e.do(http.MethodGet, "/Api/V40/Interactive/Messages/Elsewhere", tokGuest, nil, nil)
	require.Equal(t, http.StatusNotFound, r.Status, r.Raw)
	assert.Equal(t, "Failure", r.envelope(t).Status, "seed 001's 404, not another dialect's")
	r = e.do(http.MethodDelete, "/Api/V40/Interactive/Messages/Conversations/"+code, tokGuest, nil, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, r.Status, r.Raw)
	r = e.do(http.MethodGet, "/Api/V40/Interactive/Messages/openapi.json", "", nil, nil)
	assert.Equal(t, http.StatusOK, r.Status)
}
