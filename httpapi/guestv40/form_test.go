package guestv40_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGuest_FormBodies: seed 001 lists application/x-www-form-urlencoded
// as a request format. A form with the same field names (in any case) is
// read as its JSON is: the same conversation, and, for bad input, the
// same status and the same error body.
func TestGuest_FormBodies(t *testing.T) {
	e := newEnv(t)

	t.Run("CreateWithTheSampleFields", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs, tokGuest, url.Values{
			"Message": {"Can I get extra towels?"}, "ConversationType": {"guest"}, "OutletCode": {""},
			"OrderCode": {"7781"}, "SessionToken": {"t-form"},
		}, nil)
		c := r.conversation(t, "createConversationResponse")
		assert.Equal(t, "t-form", r.envelope(t).SessionToken)
		assert.Equal(t, "1", c["outletCode"], "the first available outlet")
		assert.Equal(t, "7781", c["orderCode"])
		assert.Equal(t, "guest", c["conversationType"])
		assert.Equal(t, []string{"Can I get extra towels?"}, contents(c))
		code := c["code"].(string)

		c = e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokOutlet1,
			url.Values{"message": {"On their way! 100% + ü"}, "sessionToken": {"s"}, "LANGUAGECODE": {"en"}}, nil).
			conversation(t, "createMessageResponse")
		assert.Equal(t, "On their way! 100% + ü", messages(c)[0]["content"])
		assert.Equal(t, "en", messages(c)[0]["languageCode"])

		c = e.do(http.MethodPut, pConvs+"/"+code+"/Status", tokGuest,
			url.Values{"conversationStatus": {"closed"}, "sessionToken": {"s"}}, nil).
			conversation(t, "setConversationStatusResponse")
		assert.Equal(t, "closed", c["conversationStatus"])
	})

	t.Run("SameErrorsAsJSON", func(t *testing.T) {
		long := strings.Repeat("x", 5000)
		for _, c := range []struct {
			name   string
			fields map[string]string
			status int
		}{
			{"MissingMessage", map[string]string{"sessionToken": "s"}, 400},
			{"MissingSessionToken", map[string]string{"message": "x"}, 400},
			{"MissingBoth", map[string]string{"outletCode": "1"}, 400},
			{"EmptyMessage", map[string]string{"message": " \n ", "sessionToken": "s"}, 400},
			{"LongMessage", map[string]string{"message": long, "sessionToken": "s", "outletCode": "2"}, 400},
			{"BadConversationType", map[string]string{"message": "x", "sessionToken": "s", "conversationType": "staff"}, 400},
			{"UnknownOutlet", map[string]string{"message": "x", "sessionToken": "s", "outletCode": "99"}, 400},
			{"BadLanguage", map[string]string{"message": "x", "sessionToken": "s", "outletCode": "2", "languageCode": "english please"}, 400},
			{"ExpiredSession", map[string]string{"message": "x", "sessionToken": "expired"}, 401},
		} {
			t.Run(c.name, func(t *testing.T) {
				obj, form := map[string]any{}, url.Values{}
				for k, v := range c.fields {
					obj[k], form[k] = v, []string{v}
				}
				asJSON := e.do(http.MethodPost, pConvs, tokGuest, obj, nil)
				asForm := e.do(http.MethodPost, pConvs, tokGuest, form, nil)
				assert.Equal(t, c.status, asJSON.Status, asJSON.Raw)
				assert.Equal(t, asJSON.Status, asForm.Status)
				assert.JSONEq(t, asJSON.Raw, asForm.Raw)
				assert.Equal(t, "Failure", asForm.envelope(t).Status)
			})
		}
		// A status update by form is checked as by JSON.
		r := e.do(http.MethodPost, pConvs, tokUser, url.Values{"message": {"x"}, "sessionToken": {"s"}, "outletCode": {"2"}}, nil)
		code := r.conversation(t, "createConversationResponse")["code"].(string)
		asForm := e.do(http.MethodPut, pConvs+"/"+code+"/Status", tokUser, url.Values{"conversationStatus": {"paused"}, "sessionToken": {"s"}}, nil)
		asJSON := e.do(http.MethodPut, pConvs+"/"+code+"/Status", tokUser, obj{"conversationStatus": "paused", "sessionToken": "s"}, nil)
		require.Equal(t, http.StatusBadRequest, asForm.Status, asForm.Raw)
		assert.JSONEq(t, asJSON.Raw, asForm.Raw)
	})

	t.Run("NothingWrittenByARejectedForm", func(t *testing.T) {
		r := e.do(http.MethodPost, pConvs, tokUser, url.Values{"message": {"hello"}, "sessionToken": {"s"}, "outletCode": {"1"}}, nil)
		c := r.conversation(t, "createConversationResponse")
		code := c["code"].(string)
		for _, body := range []string{
			"message=a&Message=b&sessionToken=s",
			"message=a%FFb&sessionToken=s",
			"message=100%&sessionToken=s",
			"sessionToken=s",
		} {
			r := e.do(http.MethodPost, pConvs+"/"+code+"/Messages", tokUser, body,
				http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			assert.Equal(t, http.StatusBadRequest, r.Status, "%s: %s", body, r.Raw)
			assert.Equal(t, "Failure", r.envelope(t).Status)
		}
		got := e.do(http.MethodGet, fmt.Sprintf("%s/%s?sessionToken=s", pConvs, code), tokUser, nil, nil).
			conversation(t, "getConversationResponse")
		assert.Equal(t, []string{"hello"}, contents(got))
	})
}
