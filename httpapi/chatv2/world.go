package chatv2

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
)

// worldCatalog is the Catalog that a dialect without one reads from the
// Service's World: a product's seller is its ItemInfo.DataSourceID, and
// the shop is that data source (its Name, Logo and InHouse).
type worldCatalog struct{ w parley.World }

var _ Catalog = worldCatalog{}

func (c worldCatalog) Product(ctx context.Context, channel, id string) (Product, error) {
	item := conversation.Product(id)
	items, err := c.w.Items(ctx, channel, []conversation.Item{item})
	if err != nil {
		return Product{}, err
	}
	it, ok := items[item]
	if !ok || it.DataSourceID == "" {
		return Product{}, fmt.Errorf("product %q: %w", id, ErrUnknownProduct)
	}
	dss, err := c.w.DataSources(ctx, channel, []string{it.DataSourceID})
	if err != nil {
		return Product{}, err
	}
	ds := dss[it.DataSourceID]
	return Product{DataSourceID: it.DataSourceID, InHouse: ds.InHouse, ShopName: ds.Name, ShopLogo: ds.Logo}, nil
}
