package main

import (
	"errors"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
)

// channel is the one channel (storefront) of the demo world.
const channel = "1"

// demoToken is a fixed bearer token of the demo. DEMO ONLY: a real program
// checks real credentials.
type demoToken struct {
	token string
	who   string
	actor parley.Actor
}

func demoTokens() []demoToken {
	return []demoToken{
		{"demo-user-545382", "user 545382 (registered)", parley.User(channel, "545382")},
		{"demo-user-545383", "user 545383 (registered)", parley.User(channel, "545383")},
		{"demo-guest-1001", "user 1001 (guest)", parley.Guest(channel, "1001")},
		{"demo-seller-1", "seller of data source 1, Test Shop", parley.Seller(channel, "1")},
		{"demo-seller-2", "seller of data source 2, Sin's Shop", parley.Seller(channel, "2")},
		{"demo-channel-1", "trusted integration of channel 1 (remote API; names the sender)", parley.Integration(channel)},
		{"demo-operator-1", "operator (trust and safety staff) of channel 1", parley.Operator(channel, "staff-1")},
	}
}

var errNoToken = errors.New("no valid demo token")

// demoAuth returns the Authenticator of the demo tokens. It accepts
// "Authorization: Token <token>" and "Authorization: Bearer <token>".
func demoAuth() func(r *http.Request) (parley.Actor, error) {
	actors := map[string]parley.Actor{}
	for _, t := range demoTokens() {
		actors[t.token] = t.actor
	}
	return func(r *http.Request) (parley.Actor, error) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || (!strings.EqualFold(scheme, "Token") && !strings.EqualFold(scheme, "Bearer")) {
			return parley.Actor{}, errNoToken
		}
		a, ok := actors[strings.TrimSpace(token)]
		if !ok {
			return parley.Actor{}, errNoToken
		}
		return a, nil
	}
}
