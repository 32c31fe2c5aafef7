package guestv40

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// Defaults applied to the zero fields of Options.
const (
	// DefaultPageSize is how many of a conversation's newest messages a
	// response carries.
	DefaultPageSize = 50
	// MaxPageSize caps the pageSize query parameter.
	MaxPageSize = 100
)

// Options configure seed 001's dialect. All are optional.
type Options struct {
	// Directory supplies the fields the program owns: outlet names,
	// property codes, service center names, guest names, rooms and
	// languages. nil: the Service's World supplies them (an outlet is a
	// parley.DataSourceInfo, a guest a parley.UserInfo); without either
	// those fields are null (guest names then come from the attributes
	// stored when the conversation started).
	Directory Directory

	// Session checks the sessionToken of a request and returns the token
	// to send back. Without it any non-empty token is accepted and echoed.
	Session SessionFunc

	// DefaultOutlet picks the outlet of a conversation whose create
	// request leaves outletCode empty (seed 001: "the first available
	// outlet will be selected"). Without it, outletCode is required.
	DefaultOutlet func(ctx context.Context, channel, userID string) (string, error)

	// PageSize is how many of a conversation's newest messages a response
	// carries when the request names none; 0 means DefaultPageSize. At
	// most MaxPageSize.
	PageSize int
}

// SessionFunc checks the sessionToken a request carries for the
// authenticated actor and returns the token to send back (generally the
// same; seed 001 allows it to change). An error answers 401.
type SessionFunc func(ctx context.Context, a parley.Actor, token string) (string, error)

// Directory supplies, from the program's own tables, the fields of seed
// 001 that Parley does not keep. Methods return an error wrapping
// ErrUnknown for a code or id they do not know; any other error is a 500.
type Directory interface {
	// Outlet returns the outlet (data source) with the given code.
	Outlet(ctx context.Context, channel, outletCode string) (Outlet, error)
	// Guest returns the guest (user) with the given id.
	Guest(ctx context.Context, channel, userID string) (Guest, error)
}

// ErrUnknown is returned (wrapped) by a Directory for an outlet or a guest
// it does not know. Check it with errors.Is.
var ErrUnknown = errors.New("guestv40: unknown")

// Outlet is what seed 001 shows of an outlet (a Parley data source).
type Outlet struct {
	Name              string // outletName
	PropertyCode      string // propertyCode: the property (hotel) the outlet belongs to
	ServiceCenterName string // serviceCenterName of the outlet's messages
}

// Guest is what seed 001 shows of a guest (a Parley user).
type Guest struct {
	FirstName    string
	LastName     string
	LanguageCode string // the guest's language: the default language of their messages
	RoomNumber   string
}

// StaticDirectory is a Directory over fixed maps, for tests, examples and
// small programs. Its maps must not change while it is in use. It ignores
// the channel.
type StaticDirectory struct {
	Outlets map[string]Outlet
	Guests  map[string]Guest
}

var _ Directory = (*StaticDirectory)(nil)

// Outlet returns the outlet with the given code.
func (d *StaticDirectory) Outlet(_ context.Context, _, code string) (Outlet, error) {
	o, ok := d.Outlets[code]
	if !ok {
		return Outlet{}, fmt.Errorf("outlet %q: %w", code, ErrUnknown)
	}
	return o, nil
}

// Guest returns the guest with the given user id.
func (d *StaticDirectory) Guest(_ context.Context, _, id string) (Guest, error) {
	g, ok := d.Guests[id]
	if !ok {
		return Guest{}, fmt.Errorf("guest %q: %w", id, ErrUnknown)
	}
	return g, nil
}

// withDefaults validates o (and that svc is set) and fills its zero
// fields.
func (o Options) withDefaults(svc *parley.Service) (Options, error) {
	var errs []error
	if o.PageSize < 0 || o.PageSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("PageSize must be between 0 and %d", MaxPageSize))
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.Directory == nil && svc != nil && svc.World() != nil {
		o.Directory = worldDirectory{svc.World()}
	}
	return o, httpapi.CheckOptions("guestv40", svc, errs...)
}
