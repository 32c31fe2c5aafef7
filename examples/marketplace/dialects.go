package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/httpapi/guestv40"
)

// api serves the three dialects through one kit handler, over the same
// Service, the same demo tokens and the same logger: seed 000's API (the
// /users/, /api/v1/remote/ and /public-... routes), seed 002's chat API
// (/api/v2/chat/) and seed 001's guest-messaging API
// (/API/V40/Interactive/, without regard to case).
func api(svc *parley.Service, logger *slog.Logger) (*httpapi.Handler, error) {
	conv, err := conversationsv1.Dialect(svc, conversationsv1.Options{Directory: world(), PublicChannel: channel})
	if err != nil {
		return nil, err
	}
	chat, err := chatv2.Dialect(svc, chatv2.Options{Catalog: chatv2.CatalogFunc(demoProduct)})
	if err != nil {
		return nil, err
	}
	guest, err := guestv40.Dialect(svc, guestv40.Options{
		Directory: &guestv40.StaticDirectory{
			Outlets: map[string]guestv40.Outlet{
				"1": {Name: "Test Shop", PropertyCode: "P-1", ServiceCenterName: "Test Shop support"},
				"2": {Name: "Sin's Shop", PropertyCode: "P-1", ServiceCenterName: "Sin's Shop support"},
			},
			Guests: map[string]guestv40.Guest{"1001": {FirstName: "Guest", LanguageCode: "en", RoomNumber: "101"}},
		},
		DefaultOutlet: firstOutlet,
	})
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Config{
		Authenticator: httpapi.AuthenticatorFunc(demoAuth()),
		Logger:        logger,
	}, conv, chat, guest)
}

// demoProduct is the example's catalog for seed 002: product 1, the TV,
// sold by Test Shop.
func demoProduct(_ context.Context, _, id string) (chatv2.Product, error) {
	if id != "1" {
		return chatv2.Product{}, fmt.Errorf("product %q: %w", id, chatv2.ErrUnknownProduct)
	}
	return chatv2.Product{DataSourceID: "1", ShopName: "Test Shop", ShopLogo: "https://example.com/test-shop.png"}, nil
}

// firstOutlet is seed 001's default outlet: a conversation that names none
// goes to the first shop.
func firstOutlet(context.Context, string, string) (string, error) { return "1", nil }
