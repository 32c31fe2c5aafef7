package guestv40

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
)

// worldDirectory is the Directory that a dialect without one reads from
// the Service's World: an outlet is a data source (its Name,
// PropertyCode and ServiceCenterName), a guest a user (its names,
// Language and RoomNumber).
type worldDirectory struct{ w parley.World }

var _ Directory = worldDirectory{}

func (d worldDirectory) Outlet(ctx context.Context, channel, code string) (Outlet, error) {
	m, err := d.w.DataSources(ctx, channel, []string{code})
	if err != nil {
		return Outlet{}, err
	}
	ds, ok := m[code]
	if !ok {
		return Outlet{}, fmt.Errorf("outlet %q: %w", code, ErrUnknown)
	}
	return Outlet{Name: ds.Name, PropertyCode: ds.PropertyCode, ServiceCenterName: ds.ServiceCenterName}, nil
}

func (d worldDirectory) Guest(ctx context.Context, channel, id string) (Guest, error) {
	m, err := d.w.Users(ctx, channel, []string{id})
	if err != nil {
		return Guest{}, err
	}
	u, ok := m[id]
	if !ok {
		return Guest{}, fmt.Errorf("guest %q: %w", id, ErrUnknown)
	}
	return Guest{FirstName: u.FirstName, LastName: u.LastName, LanguageCode: u.Language, RoomNumber: u.RoomNumber}, nil
}
