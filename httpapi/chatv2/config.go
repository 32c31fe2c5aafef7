package chatv2

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// Defaults applied to the zero fields of Options.
const (
	// DefaultPerPage is the page size of the listings when the request
	// names none (per_page).
	DefaultPerPage = 10
	// MaxPerPage caps per_page.
	MaxPerPage = 100
)

// Options configure seed 002's dialect. Without a Catalog the Service
// must have a World.
type Options struct {
	// Catalog tells which seller sells a product: a conversation started
	// with create-conversation is with the product's data source. nil:
	// the Service's World tells it (parley.ItemInfo.DataSourceID, and the
	// shop from its parley.DataSourceInfo).
	Catalog Catalog

	// PerPage is the page size of the listings when the request names
	// none; 0 means DefaultPerPage. At most MaxPerPage.
	PerPage int
}

// Catalog tells, from the program's own tables, who sells a product.
type Catalog interface {
	// Product returns the product with the given id in channel, or an
	// error wrapping ErrUnknownProduct if there is none (answered 422 on
	// product_id). Any other error is a 500.
	Product(ctx context.Context, channel, productID string) (Product, error)
}

// CatalogFunc adapts a function to the Catalog interface.
type CatalogFunc func(ctx context.Context, channel, productID string) (Product, error)

// Product calls f(ctx, channel, productID).
func (f CatalogFunc) Product(ctx context.Context, channel, productID string) (Product, error) {
	return f(ctx, channel, productID)
}

// ErrUnknownProduct is returned (wrapped) by a Catalog for a product it
// does not know. Check it with errors.Is.
var ErrUnknownProduct = errors.New("chatv2: unknown product")

// Product is what create-conversation needs to know of a product.
type Product struct {
	// DataSourceID is the seller (data source) that sells the product.
	// Required.
	DataSourceID string
	// InHouse marks the marketplace's own products: the response's
	// shop_name is then "In House Product", as seed 002 says.
	InHouse bool
	// ShopName is the seller's shop name.
	ShopName string
	// ShopLogo is the URL of the seller's shop logo; empty is null.
	ShopLogo string
}

// withDefaults validates o (and that svc is set) and fills its zero
// fields.
func (o Options) withDefaults(svc *parley.Service) (Options, error) {
	var errs []error
	if o.Catalog == nil && svc != nil && svc.World() != nil {
		o.Catalog = worldCatalog{svc.World()}
	}
	if o.Catalog == nil {
		errs = append(errs, errors.New("Catalog is nil and the Service has no World"))
	}
	if o.PerPage < 0 || o.PerPage > MaxPerPage {
		errs = append(errs, fmt.Errorf("PerPage must be between 0 and %d", MaxPerPage))
	}
	if o.PerPage == 0 {
		o.PerPage = DefaultPerPage
	}
	return o, httpapi.CheckOptions("chatv2", svc, errs...)
}
