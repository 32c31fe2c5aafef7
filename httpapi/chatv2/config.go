package chatv2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley/httpapi"
)

// Defaults applied by New to the zero fields of a Config.
const (
	// DefaultPerPage is the page size of the listings when the request
	// names none (per_page).
	DefaultPerPage = 10
	// MaxPerPage caps per_page.
	MaxPerPage = 100
	// DefaultMaxWait caps the wait query parameter of get-new-messages.
	DefaultMaxWait = httpapi.DefaultMaxWait
	// DefaultMaxPageDepth is how many items deep a listing may be paged by
	// number (?page=N); deeper pages are reached with next_page_url.
	DefaultMaxPageDepth = 1000
	// DefaultMaxBodyBytes bounds request bodies (64 KiB).
	DefaultMaxBodyBytes = 64 << 10
)

// Config configures a Handler. Authenticator and Catalog are required.
type Config struct {
	// Authenticator tells who is calling (seed 002's auth:sanctum). Users
	// (customers) and sellers may call; an integration is refused (403):
	// this dialect has no field to name the party it acts for.
	Authenticator httpapi.Authenticator

	// Catalog tells which seller sells a product: a conversation started
	// with create-conversation is with the product's data source.
	Catalog Catalog

	// Prefix is the path under which the handler is mounted, such as
	// "/shop" (no trailing slash); routes are matched below it, at
	// Prefix+"/api/v2/chat/...". Leave it empty when mounting at the root.
	Prefix string

	// BaseURL, if set, is the scheme and host (and any path a reverse
	// proxy strips) that the path and next_page_url of listings start
	// with, such as "https://shop.example.com". Empty: taken from the
	// request.
	BaseURL string

	// PerPage is the page size of the listings when the request names
	// none; 0 means DefaultPerPage. At most MaxPerPage.
	PerPage int

	// MaxWait caps the wait parameter of get-new-messages; 0 means
	// DefaultMaxWait. A negative MaxWait disables waiting: the parameter
	// is accepted and ignored.
	MaxWait time.Duration

	// MaxPageDepth is how many items deep a listing may be paged by
	// number; 0 means DefaultMaxPageDepth.
	MaxPageDepth int

	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// Logger receives server errors and, at debug level, rejected
	// requests. nil means slog.Default().
	Logger *slog.Logger
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

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Authenticator == nil {
		errs = append(errs, errors.New("Authenticator is nil"))
	}
	if c.Catalog == nil {
		errs = append(errs, errors.New("Catalog is nil"))
	}
	if c.Prefix != "" && (!strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") ||
		strings.ContainsAny(c.Prefix, "{}?#% \t\r\n")) {
		errs = append(errs, fmt.Errorf("Prefix %q must start with / and not end with /, without {}?#%% or spaces", c.Prefix))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("BaseURL %q must be an http or https URL without query", c.BaseURL))
		}
		c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	}
	if c.PerPage < 0 || c.PerPage > MaxPerPage {
		errs = append(errs, fmt.Errorf("PerPage must be between 0 and %d", MaxPerPage))
	}
	if c.PerPage == 0 {
		c.PerPage = DefaultPerPage
	}
	if c.MaxWait == 0 {
		c.MaxWait = DefaultMaxWait
	}
	if c.MaxPageDepth < 0 {
		errs = append(errs, errors.New("MaxPageDepth is negative"))
	}
	if c.MaxPageDepth == 0 {
		c.MaxPageDepth = DefaultMaxPageDepth
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("MaxBodyBytes is negative"))
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("chatv2: invalid config: %w", err)
	}
	return c, nil
}
