package guestv40_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/guestv40"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// TestWorld_Directory: without a Directory the dialect shows the outlets
// and guests of the Service's World; an outlet, order or guest it does
// not know is a 400 naming the field, and nothing is written.
func TestWorld_Directory(t *testing.T) {
	world := &parley.StaticWorld{
		UserMap: map[string]parley.UserInfo{"1001": {ID: "1001", FirstName: "Ana", LastName: "Lima", Guest: true, Language: "pt", RoomNumber: "214"}},
		DataSourceMap: map[string]parley.DataSourceInfo{
			"1": {ID: "1", Name: "Front desk", PropertyCode: "HTL-1", ServiceCenterName: "Reception"},
		},
		ItemMap: map[conversation.Item]parley.ItemInfo{conversation.OrderItem("7"): {Item: conversation.OrderItem("7"), OrderNumber: "R-7"}},
	}
	e := kittest.Build(t, nil, guestv40.Options{
		DefaultOutlet: func(context.Context, string, string) (string, error) { return "1", nil },
	}, guestv40.Dialect, func(po *parley.Options, _ *httpapi.Config, _ *guestv40.Options) { po.World = world })
	do := func(token string, body obj) response {
		return response{e.Do(http.MethodPost, pConvs, token, body, nil)}
	}

	c := do(tokGuest, obj{"message": "Towels, please", "outletCode": "1", "orderCode": "7", "sessionToken": "s"}).
		conversation(t, "createConversationResponse")
	assert.Equal(t, "Front desk", c["outletName"])
	assert.Equal(t, "HTL-1", c["propertyCode"])
	assert.Equal(t, "214", c["roomNumber"])
	assert.Equal(t, "Ana", c["guestFirstName"])

	for field, body := range map[string]obj{
		"outletCode": {"message": "Hi", "outletCode": "999", "sessionToken": "s"},
		"orderCode":  {"message": "Hi", "outletCode": "1", "orderCode": "999", "sessionToken": "s"},
	} {
		r := do(tokGuest, body)
		assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
		assert.Contains(t, r.envelope(t).Errors, field, r.Raw)
	}
	// User 545382 is not in this world.
	r := do(tokUser, obj{"message": "Hi", "outletCode": "1", "sessionToken": "s"})
	assert.Equal(t, http.StatusBadRequest, r.Status, r.Raw)
	assert.Contains(t, r.envelope(t).Errors, "guest", r.Raw)
	p, err := e.Svc.List(t.Context(), parley.Integration("1"), conversation.Filter{}, parley.PageRequest{WithTotal: true})
	require.NoError(t, err)
	assert.EqualValues(t, 1, p.Total, "nothing written for the unknown parties")
}
