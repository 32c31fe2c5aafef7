package main

import (
	"context"
	"log/slog"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/httpapi/guestv40"
	"github.com/parleyhq/parley/httpapi/operatorv1"
)

// api serves the four dialects through one kit handler, over the same
// Service, the same demo tokens and the same logger: seed 000's API (the
// /users/, /api/v1/remote/ and /public-... routes), seed 002's chat API
// (/api/v2/chat/), seed 001's guest-messaging API
// (/API/V40/Interactive/, without regard to case) and the operators'
// moderation API (/operator/v1/).
func api(svc *parley.Service, logger *slog.Logger) (*httpapi.Handler, error) {
	// Every dialect renders the Service's World (the users, shops and
	// products of world.go): none needs its own directory.
	conv, err := conversationsv1.Dialect(svc, conversationsv1.Options{PublicChannel: channel})
	if err != nil {
		return nil, err
	}
	chat, err := chatv2.Dialect(svc, chatv2.Options{})
	if err != nil {
		return nil, err
	}
	guest, err := guestv40.Dialect(svc, guestv40.Options{DefaultOutlet: firstOutlet})
	if err != nil {
		return nil, err
	}
	ops, err := operatorv1.Dialect(svc, operatorv1.Options{})
	if err != nil {
		return nil, err
	}
	return httpapi.New(httpapi.Config{
		Authenticator: httpapi.AuthenticatorFunc(demoAuth()),
		Logger:        logger,
	}, conv, chat, guest, ops)
}

// firstOutlet is seed 001's default outlet: a conversation that names none
// goes to the first shop.
func firstOutlet(context.Context, string, string) (string, error) { return "1", nil }
