package guestv40_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/guestv40"
)

// TestGuest_StringsNeverNull: without a Directory (no names, rooms,
// outlets or languages known) every string field of seed 001 is a string
// for guests, registered users and outlets: "" where there is no value.
func TestGuest_StringsNeverNull(t *testing.T) {
	e := newEnv(t, func(_ *parley.Options, _ *httpapi.Config, o *guestv40.Options) { o.Directory = nil })
	stringFields := []string{"code", "subject", "outletCode", "orderCode", "outletName", "propertyCode", "roomNumber",
		"guestFirstName", "guestLastName", "guestLanguageCode", "conversationStatus", "conversationType"}
	messageFields := []string{"createDate", "code", "serviceCenterName", "messageType", "content", "firstName", "lastName", "languageCode"}
	check := func(t *testing.T, c map[string]any) {
		t.Helper()
		for _, f := range stringFields {
			require.Contains(t, c, f)
			assert.IsType(t, "", c[f], "conversation.%s", f)
		}
		for i, m := range messages(c) {
			for _, f := range messageFields {
				require.Contains(t, m, f)
				assert.IsType(t, "", m[f], "message %d: %s", i, f)
			}
		}
	}
	for _, who := range []struct{ name, token string }{{"Guest", tokGuest}, {"RegisteredUser", tokUser}} {
		t.Run(who.name, func(t *testing.T) {
			c := e.do(http.MethodPost, pConvs, who.token, obj{"message": "hello", "outletCode": "1", "sessionToken": "s"}, nil).
				conversation(t, "createConversationResponse")
			check(t, c)
			assert.Equal(t, "", c["subject"])
			assert.Equal(t, "", c["orderCode"])
			assert.Equal(t, "", c["outletName"])
			assert.Equal(t, "", messages(c)[0]["serviceCenterName"], "a guest's message")
			assert.Equal(t, "", messages(c)[0]["languageCode"], "no language given or known")
			code := c["code"].(string)

			c = e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokOutlet1, obj{"message": "hi", "sessionToken": "s"}, nil).
				conversation(t, "createMessageResponse")
			check(t, c)
			m := messages(c)[0]
			assert.Equal(t, "outlet", m["messageType"])
			assert.Equal(t, "", m["firstName"], "an outlet's message")
			assert.Equal(t, "", m["lastName"])
			assert.Equal(t, "", m["languageCode"], "an outlet reply without languageCode")

			for _, tok := range []string{who.token, tokOutlet1} {
				check(t, e.do(http.MethodGet, pConvs+"/"+code+"?sessionToken=s&languageCode=en", tok, nil, nil).
					conversation(t, "getConversationResponse"))
			}
			check(t, e.do(http.MethodPut, pConvs+"/"+code+"/Status", tokOutlet1, obj{"conversationStatus": "closed", "sessionToken": "s"}, nil).
				conversation(t, "setConversationStatusResponse"))
		})
	}
}
