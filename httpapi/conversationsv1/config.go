package conversationsv1

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
)

// Defaults applied to the zero fields of Options.
const (
	// DefaultMaxBodyBytes is the largest request body accepted (1 MiB)
	// when the kit's Config names no limit; a larger one is answered 413.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMessageSetSize is how many messages each conversation of a
	// listing carries in its message_set.
	DefaultMessageSetSize = 10
	// DefaultPageSize is the page size of a listing whose request names
	// none.
	DefaultPageSize = 20
	// MaxPageSize caps the page_size (or limit) query parameter; larger
	// values are lowered to it.
	MaxPageSize = 100
)

// Options configure seed 000's dialect. All are optional.
type Options struct {
	// Directory supplies the user, data source and item objects that
	// responses embed. Without it (or for an id it does not know) an
	// object carries only its id.
	Directory Directory

	// PublicChannel is the channel that /public-questions/ and
	// /public-reviews/ list. Empty: the client names it with the channel
	// query parameter, which is then required.
	PublicChannel string

	// MessageSetSize is how many of its newest messages each conversation
	// of a listing carries, oldest first; 0 means DefaultMessageSetSize.
	// At most MaxPageSize.
	MessageSetSize int
}

// withDefaults validates o (and that svc is set) and fills its zero
// fields.
func (o Options) withDefaults(svc *parley.Service) (Options, error) {
	var errs []error
	if o.MessageSetSize < 0 || o.MessageSetSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("MessageSetSize must be between 0 and %d", MaxPageSize))
	}
	if o.MessageSetSize == 0 {
		o.MessageSetSize = DefaultMessageSetSize
	}
	return o, httpapi.CheckOptions("conversationsv1", svc, errs...)
}

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
