package parley

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley/conversation"
)

// World is the embedding marketplace's own world: its users (registered
// and guests), its data sources (sellers, shops, outlets) and its items
// (products and order items). Parley keeps none of them; a program
// implements World once, over its own tables, and gives it to the Service
// (Options.World).
//
// The Service asks it, when a conversation starts, whether the user, the
// data source and the item exist (a start naming one it does not know is
// refused with an *UnknownError, see ErrUnknown) and for the attributes it
// stores with the conversation (user names, product base code, order
// number: the list filters of seed 000). The HTTP dialects ask it, through
// Service.World, for the objects they render (seed 000's user, datasource
// and item objects, seed 001's outlets and guests, seed 002's product
// sellers and shops).
//
// Each method gets a batch of ids of one channel and returns the records
// it knows, keyed by id; an id it does not know is left out of the map (it
// is not an error). An error fails the caller's request (a start, or a
// response being rendered) and is returned wrapped.
//
// Without a World (Options.World nil) every party and item is accepted, as
// the program named it, and no attributes are stored.
type World interface {
	// Users returns the known users among ids.
	Users(ctx context.Context, channel string, ids []string) (map[string]UserInfo, error)
	// DataSources returns the known data sources among ids.
	DataSources(ctx context.Context, channel string, ids []string) (map[string]DataSourceInfo, error)
	// Items returns the known products and order items among items.
	Items(ctx context.Context, channel string, items []conversation.Item) (map[conversation.Item]ItemInfo, error)
}

// UserInfo is what the program's world holds of a user. Every field but
// ID is optional; the dialects render an empty optional string as null.
type UserInfo struct {
	ID        string
	FirstName string // stored with a conversation at its start (Attributes.UserFirstName)
	LastName  string // stored with a conversation at its start (Attributes.UserLastName)
	Email     string
	Phone     string
	Gender    string
	// Guest marks an unregistered user.
	Guest bool
	// Language is the user's language (seed 001's languageCode).
	Language string
	// RoomNumber is a guest's room (seed 001).
	RoomNumber string
}

// DataSourceInfo is what the program's world holds of a data source (a
// seller). Every field but ID is optional; the dialects render an empty
// optional string as null and nil Extras as {}.
type DataSourceInfo struct {
	ID               string
	Name             string // the shop's name (seed 001's outletName, seed 002's shop_name)
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
	PriceList        string // id of its price list
	StockList        string // id of its stock list
	IsActive         bool
	// Logo is the URL of the shop's logo (seed 002's shop_logo).
	Logo string
	// InHouse marks the marketplace's own shop (seed 002's "In House
	// Product").
	InHouse bool
	// PropertyCode is the property (hotel) an outlet belongs to (seed
	// 001).
	PropertyCode string
	// ServiceCenterName names who answers for the outlet (seed 001).
	ServiceCenterName string
}

// ItemInfo is what the program's world holds of a product or an order
// item.
type ItemInfo struct {
	Item        conversation.Item
	Name        string
	SKU         string
	AbsoluteURL string
	// DataSourceID is the seller of the product or of the order item.
	// Seed 002 starts a conversation about a product with it.
	DataSourceID string
	// BaseCode is the product's base code (of the ordered product, for an
	// order item); stored with a conversation at its start
	// (Attributes.ProductBaseCode).
	BaseCode string
	// OrderNumber is the number of the order an order item belongs to;
	// stored with a conversation at its start (Attributes.OrderNumber).
	OrderNumber string
}

// Entity is a kind of thing the program's World knows.
type Entity string

// The entities of a World.
const (
	EntityUser       Entity = "user"
	EntityDataSource Entity = "data source"
	EntityProduct    Entity = "product"
	EntityOrderItem  Entity = "order item"
)

// ErrUnknown: a start named a user, data source, product or order item
// that the Service's World does not know. The error is a *ValidationError
// naming the field (so errors.Is(err, ErrInvalid) holds too) that wraps an
// *UnknownError telling which entity and id. Nothing was written. Check it
// with errors.Is, and read the entity with errors.As.
var ErrUnknown = errors.New("parley: unknown")

// UnknownError names what the World did not know. It unwraps to
// ErrUnknown.
type UnknownError struct {
	Entity Entity
	ID     string
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("parley: unknown %s %q", e.Entity, e.ID)
}

// Unwrap returns ErrUnknown.
func (e *UnknownError) Unwrap() error { return ErrUnknown }

// StaticWorld is a World over fixed maps, for tests, examples and
// programs whose world is small. Its maps must not change while it is in
// use. It ignores the channel.
type StaticWorld struct {
	UserMap       map[string]UserInfo
	DataSourceMap map[string]DataSourceInfo
	ItemMap       map[conversation.Item]ItemInfo
}

var _ World = (*StaticWorld)(nil)

// Users returns the known users among ids.
func (w *StaticWorld) Users(_ context.Context, _ string, ids []string) (map[string]UserInfo, error) {
	return pick(w.UserMap, ids), nil
}

// DataSources returns the known data sources among ids.
func (w *StaticWorld) DataSources(_ context.Context, _ string, ids []string) (map[string]DataSourceInfo, error) {
	return pick(w.DataSourceMap, ids), nil
}

// Items returns the known items among items.
func (w *StaticWorld) Items(_ context.Context, _ string, items []conversation.Item) (map[conversation.Item]ItemInfo, error) {
	return pick(w.ItemMap, items), nil
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

// World returns the Service's World, or nil if it has none. The HTTP
// dialects render the program's objects from it.
func (s *Service) World() World { return s.opts.World }

// startWorld asks the World whether the parties and item of a start
// exist, and returns the attributes stored with the conversation. Unknown
// parties are *ValidationErrors wrapping *UnknownErrors, one per field.
func (s *Service) startWorld(ctx context.Context, channel, userID, dsID string, item conversation.Item) (conversation.Attributes, error) {
	w := s.opts.World
	var attrs conversation.Attributes
	if w == nil {
		return attrs, nil
	}
	var f fieldErrors
	unknown := func(field string, e Entity, id string) {
		u := &UnknownError{Entity: e, ID: id}
		f = append(f, &ValidationError{Field: field, Reason: fmt.Sprintf("unknown %s %q", e, id), Err: u})
	}
	users, err := w.Users(ctx, channel, []string{userID})
	if err != nil {
		return attrs, fmt.Errorf("parley: world: users: %w", err)
	}
	if u, ok := users[userID]; ok {
		attrs.UserFirstName, attrs.UserLastName = u.FirstName, u.LastName
	} else {
		unknown(FieldUser, EntityUser, userID)
	}
	dss, err := w.DataSources(ctx, channel, []string{dsID})
	if err != nil {
		return attrs, fmt.Errorf("parley: world: data sources: %w", err)
	}
	if _, ok := dss[dsID]; !ok {
		unknown(FieldDataSource, EntityDataSource, dsID)
	}
	if !item.IsZero() {
		items, err := w.Items(ctx, channel, []conversation.Item{item})
		if err != nil {
			return attrs, fmt.Errorf("parley: world: items: %w", err)
		}
		if it, ok := items[item]; ok {
			attrs.ProductBaseCode, attrs.OrderNumber = it.BaseCode, it.OrderNumber
		} else {
			e := EntityProduct
			if item.Kind == conversation.ItemOrderItem {
				e = EntityOrderItem
			}
			unknown(FieldItemID, e, item.ID)
		}
	}
	return attrs, f.err()
}
