package main

import (
	"context"
	"fmt"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/httpapi/guestv40"
)

// mountDialects serves seed 002's chat API (/api/v2/chat/) and seed 001's
// guest-messaging API (/API/V40/Interactive/) beside seed 000's API, all
// over the same Service and the same demo tokens.
func mountDialects(svc *parley.Service, api http.Handler, auth httpapi.Authenticator) (http.Handler, error) {
	chat, err := chatv2.New(svc, chatv2.Config{Authenticator: auth, Catalog: chatv2.CatalogFunc(demoProduct)})
	if err != nil {
		return nil, err
	}
	guest, err := guestv40.New(svc, guestv40.Config{Authenticator: auth, DefaultOutlet: firstOutlet, Directory: &guestv40.StaticDirectory{
		Outlets: map[string]guestv40.Outlet{
			"1": {Name: "Test Shop", PropertyCode: "P-1", ServiceCenterName: "Test Shop support"},
			"2": {Name: "Sin's Shop", PropertyCode: "P-1", ServiceCenterName: "Sin's Shop support"},
		},
		Guests: map[string]guestv40.Guest{"1001": {FirstName: "Guest", LanguageCode: "en", RoomNumber: "101"}},
	}})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/", api)
	mux.Handle("/api/v2/chat/", chat)
	mux.Handle("/API/V40/Interactive/", guest)
	mux.Handle("/api/v40/interactive/", guest)
	return mux, nil
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
