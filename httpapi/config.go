package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
)

// Defaults applied by New to the zero fields of a Config.
const (
	// DefaultMaxBodyBytes is the largest request body accepted (1 MiB);
	// a larger one is answered 413.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMessageSetSize is how many messages each conversation of a
	// listing carries in its message_set.
	DefaultMessageSetSize = 10
	// MaxPageSize caps the page_size (or limit) query parameter; larger
	// values are lowered to it.
	MaxPageSize = 100
)

// Config configures a Handler. Only Authenticator is required.
type Config struct {
	// Authenticator tells who is calling. Required. The public endpoints
	// do not call it.
	Authenticator Authenticator

	// Directory supplies the user, data source and item objects that
	// responses embed. Optional: without it (or for an id it does not
	// know) an object carries only its id.
	Directory Directory

	// Prefix is the path under which the handler is mounted, such as
	// "/parley" (no trailing slash); routes are matched below it. Leave
	// it empty when mounting with http.StripPrefix instead: links in
	// responses are built from the path the client asked for, so they are
	// right either way.
	Prefix string

	// BaseURL, if set, is the scheme and host (and any path a reverse
	// proxy strips) that the next links of listings start with, such as
	// "https://api.example.com". Empty: taken from the request (https if
	// it came over TLS, else http, and its Host header, which the client
	// chooses: set BaseURL in production, or behind a proxy).
	BaseURL string

	// PublicChannel is the channel that /public-questions/ and
	// /public-reviews/ list. Empty: the client names it with the channel
	// query parameter, which is then required.
	PublicChannel string

	// MaxBodyBytes bounds request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64

	// MessageSetSize is how many of its newest messages each conversation
	// of a listing carries, oldest first; 0 means DefaultMessageSetSize.
	// At most MaxPageSize.
	MessageSetSize int

	// Logger receives server errors (with their request id) and, at debug
	// level, rejected requests. nil means slog.Default().
	Logger *slog.Logger

	// NewRequestID returns the id of a request that arrives without a
	// usable X-Request-Id header. nil: 16 random hex digits.
	NewRequestID func() string
}

// Authenticator tells who is calling: it returns the acting party of an
// authenticated request, and an error (any error) for a request without
// valid credentials, which is answered 401 with seed 000's
// {"detail": "Authentication credentials were not provided."}. The error
// text is never sent to the client.
type Authenticator interface {
	Authenticate(r *http.Request) (parley.Actor, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(r *http.Request) (parley.Actor, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (parley.Actor, error) { return f(r) }

// Directory supplies, from the program's own tables, the objects that
// responses embed for the ids Parley stores. Each method gets every id of
// one response at once and returns the objects it knows, keyed by id; a
// missing id is rendered with its id alone. An error fails the request
// with a 500 (logged, never shown).
type Directory interface {
	Users(ctx context.Context, channel string, ids []string) (map[string]User, error)
	DataSources(ctx context.Context, channel string, ids []string) (map[string]DataSource, error)
	Items(ctx context.Context, channel string, items []conversation.Item) (map[conversation.Item]Item, error)
}

// User is seed 000's user object: {id, first_name, last_name, email,
// phone, gender}. Empty Phone and Gender are rendered as null. Public
// responses carry only the id and the first name.
type User struct {
	ID        string
	FirstName string
	LastName  string
	Email     string
	Phone     string
	Gender    string
}

// DataSource is seed 000's datasource (seller) object. Empty optional
// strings (Address, Email, PhoneNumber, FaxNumber, KEPAddress,
// MersisNumber, TradeAssociation) and empty PriceList and StockList ids
// are rendered as null; nil Extras as {}. Public responses carry only pk,
// name, slug, title and is_active.
type DataSource struct {
	ID               string
	Name             string
	Slug             string
	Title            string
	SupplierCode     string
	Address          string
	Email            string
	PhoneNumber      string
	FaxNumber        string
	KEPAddress       string
	MersisNumber     string
	TradeAssociation string
	Extras           map[string]any
	PriceList        string
	StockList        string
	IsActive         bool
}

// Item is seed 000's item_object, for a product or an order item: {pk,
// name, sku, absolute_url}.
type Item struct {
	ID          string
	Name        string
	SKU         string
	AbsoluteURL string
}

// StaticDirectory is a Directory over fixed maps, for tests, examples and
// programs whose world is small. Its maps must not change while it is in
// use. It ignores the channel.
type StaticDirectory struct {
	UserMap       map[string]User
	DataSourceMap map[string]DataSource
	ItemMap       map[conversation.Item]Item
}

var _ Directory = (*StaticDirectory)(nil)

// Users returns the known users among ids.
func (d *StaticDirectory) Users(_ context.Context, _ string, ids []string) (map[string]User, error) {
	return pick(d.UserMap, ids), nil
}

// DataSources returns the known data sources among ids.
func (d *StaticDirectory) DataSources(_ context.Context, _ string, ids []string) (map[string]DataSource, error) {
	return pick(d.DataSourceMap, ids), nil
}

// Items returns the known items among items.
func (d *StaticDirectory) Items(_ context.Context, _ string, items []conversation.Item) (map[conversation.Item]Item, error) {
	return pick(d.ItemMap, items), nil
}

func pick[K comparable, V any](m map[K]V, keys []K) map[K]V {
	out := make(map[K]V, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Authenticator == nil {
		errs = append(errs, errors.New("Authenticator is nil"))
	}
	if c.Prefix != "" {
		if !strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") ||
			strings.ContainsAny(c.Prefix, "{}?#% \t\r\n") {
			errs = append(errs, fmt.Errorf("Prefix %q must start with / and not end with /, without {}?#%% or spaces", c.Prefix))
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("BaseURL %q must be an http or https URL without query", c.BaseURL))
		}
		c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("MaxBodyBytes is negative"))
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MessageSetSize < 0 || c.MessageSetSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("MessageSetSize must be between 0 and %d", MaxPageSize))
	}
	if c.MessageSetSize == 0 {
		c.MessageSetSize = DefaultMessageSetSize
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NewRequestID == nil {
		c.NewRequestID = randomRequestID
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("httpapi: invalid config: %w", err)
	}
	return c, nil
}
