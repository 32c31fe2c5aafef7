package chatv2_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// TestWorld_Catalog: without a Catalog the dialect asks the Service's
// World who sells a product; a product it does not know is refused on
// product_id and nothing is written.
func TestWorld_Catalog(t *testing.T) {
	world := &parley.StaticWorld{
		UserMap: map[string]parley.UserInfo{"545382": {ID: "545382"}},
		DataSourceMap: map[string]parley.DataSourceInfo{
			"1": {ID: "1", Name: "Test Shop", Logo: "https://shop.example/logo.png"},
			"9": {ID: "9", InHouse: true},
		},
		ItemMap: map[conversation.Item]parley.ItemInfo{
			conversation.Product("1"): {Item: conversation.Product("1"), DataSourceID: "1"},
			conversation.Product("9"): {Item: conversation.Product("9"), DataSourceID: "9"},
			conversation.Product("5"): {Item: conversation.Product("5")}, // no seller
		},
	}
	e := kittest.Build(t, nil, chatv2.Options{}, chatv2.Dialect, func(po *parley.Options, _ *httpapi.Config, _ *chatv2.Options) {
		po.World = world
	})
	r := e.Do(http.MethodPost, pCreate, tokUser1, obj{"product_id": 1, "title": "T", "message": "Hi"}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	got := r.Object(t)
	assert.Equal(t, "Test Shop", got["shop_name"], r.Raw)
	assert.Equal(t, "https://shop.example/logo.png", got["shop_logo"], r.Raw)
	r = e.Do(http.MethodPost, pCreate, tokUser1, obj{"product_id": 9, "message": "Hi"}, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	assert.Equal(t, "In House Product", r.Object(t)["shop_name"], r.Raw)

	for _, id := range []any{999, 5} {
		r = e.Do(http.MethodPost, pCreate, tokUser1, obj{"product_id": id, "message": "Hi"}, nil)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Raw)
		assert.Contains(t, r.Object(t)["errors"], "product_id", r.Raw)
	}
	p, err := e.Svc.List(t.Context(), parley.Integration("1"), conversation.Filter{}, parley.PageRequest{WithTotal: true})
	require.NoError(t, err)
	assert.EqualValues(t, 2, p.Total, "nothing written for the unknown products")

	// Without a Catalog or a World, the dialect cannot know sellers.
	svc, err := parley.New(e.Store, parley.Options{})
	require.NoError(t, err)
	_, err = chatv2.Dialect(svc, chatv2.Options{})
	assert.ErrorContains(t, err, "Catalog is nil and the Service has no World")
}
