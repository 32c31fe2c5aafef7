package guestv40_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestGuest_ConversationStatus: the guest or the outlet closes and
// reopens a conversation (conversationStatus); a closed one takes no
// messages; someone else cannot.
func TestGuest_ConversationStatus(t *testing.T) {
	e := newEnv(t)
	c := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "hi", "outletCode": "1", "sessionToken": "s"}, nil).
		conversation(t, "createConversationResponse")
	code := c["code"].(string)
	set := func(token, status string) response {
		return e.do(http.MethodPut, pConvs+"/"+code+"/Status", token, obj{"conversationStatus": status, "sessionToken": "s"}, nil)
	}
	got := set(tokGuest, "closed").conversation(t, "setConversationStatusResponse")
	assert.Equal(t, "closed", got["conversationStatus"])
	r := e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokOutlet1, obj{"message": "late", "sessionToken": "s"}, nil)
	assert.Equal(t, http.StatusConflict, r.Status, r.Raw)
	got = set(tokOutlet1, "Open").conversation(t, "setConversationStatusResponse")
	assert.Equal(t, "open", got["conversationStatus"])
	assert.Equal(t, http.StatusForbidden, set(tokOutlet2, "closed").Status, "another outlet may not, by code")
	r = e.do(http.MethodPut, fmt.Sprintf("%s/%v/status", pConvs, messages(c)[0]["conversationId"]), tokOutlet2,
		obj{"conversationStatus": "closed", "sessionToken": "s"}, nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "nor by id: %s", r.Raw)
	r = set(tokGuest, "archived")
	assert.Equal(t, http.StatusBadRequest, r.Status)
	assert.Contains(t, r.envelope(t).Errors, "conversationStatus")
	got = e.do(http.MethodGet, pConvs+"/"+code+"?"+url.Values{"sessionToken": {"s"}}.Encode(), tokGuest, nil, nil).
		conversation(t, "getConversationResponse")
	assert.Equal(t, "open", got["conversationStatus"])
}

// TestGuest_RegisteredUserIsNotAGuest: conversationType "guest" from a
// registered user is refused; the type comes from the Authenticator.
func TestGuest_RegisteredUserIsNotAGuest(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, pConvs, tokUser, obj{"message": "hi", "conversationType": "guest", "outletCode": "1", "sessionToken": "s"}, nil)
	assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	assert.Contains(t, r.envelope(t).Errors, "conversationType")
	c := e.do(http.MethodPost, pConvs, tokUser, obj{"message": "hi", "outletCode": "1", "sessionToken": "s"}, nil).
		conversation(t, "createConversationResponse")
	assert.Equal(t, "", c["conversationType"], "a registered user's conversation")
	r = e.do(http.MethodPost, pConvs+"/"+c["code"].(string)+"/Messages", tokUser,
		obj{"message": "as a guest?", "conversationType": "guest", "sessionToken": "s"}, nil)
	assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	g := e.do(http.MethodPost, pConvs, tokGuest, obj{"message": "hi", "conversationType": "guest", "outletCode": "1", "sessionToken": "s"}, nil).
		conversation(t, "createConversationResponse")
	assert.Equal(t, "guest", g["conversationType"])
}
