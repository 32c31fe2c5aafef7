package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/message"
)

// world returns seed 000's example world: the users, data sources and
// items that the API's responses show. A real program reads these from its
// own tables through a conversationsv1.Directory.
func world() *conversationsv1.StaticDirectory {
	tv := conversationsv1.Item{ID: "1", Name: "Q800T QLED 8K Smart TV", SKU: "328187", AbsoluteURL: "/product/1/"}
	return &conversationsv1.StaticDirectory{
		UserMap: map[string]conversationsv1.User{
			"545382": {ID: "545382", Email: "akinon@hotmail.com"},
			"545383": {ID: "545383"},
			"1001":   {ID: "1001", FirstName: "Guest"},
		},
		DataSourceMap: map[string]conversationsv1.DataSource{
			"1": {ID: "1", Name: "Test Shop", Slug: "test-shop", Title: "Test shopping", SupplierCode: "ard-123",
				PriceList: "1", StockList: "1", IsActive: true},
			"2": {ID: "2", Name: "Sin's Shop", Slug: "sin-shop", Title: "Sin's shopping", SupplierCode: "sin-123",
				IsActive: true},
		},
		ItemMap: map[conversation.Item]conversationsv1.Item{
			conversation.Product("1"):   tv,
			conversation.OrderItem("1"): {ID: "1", Name: tv.Name, SKU: tv.SKU, AbsoluteURL: "/account/orders/1/"},
		},
	}
}

// seedWrite is one write of the demo's starting conversations.
type seedWrite struct {
	key   string // idempotency key: seeding again replays instead of writing
	actor parley.Actor
	start *parley.StartRequest
	// reply, with start nil, answers the conversation of the start with
	// key replyTo.
	replyTo string
	content string
}

func seedWrites() ([]seedWrite, error) {
	seller1, err := parley.Integration(channel).OnBehalfOf(message.DataSource("1"))
	if err != nil {
		return nil, err
	}
	return []seedWrite{
		{key: "seed-question-tv", actor: parley.User(channel, "545382"), start: &parley.StartRequest{
			Type: conversation.TypeQuestion, DataSourceID: "1", Item: conversation.Product("1"),
			Content: "Does the Q800T support HDMI 2.1?"}},
		{key: "seed-answer-tv", actor: seller1, replyTo: "seed-question-tv",
			content: "Yes: all four HDMI ports are 2.1."},
		{key: "seed-message-shop", actor: parley.User(channel, "545383"), start: &parley.StartRequest{
			Type: conversation.TypeMessage, DataSourceID: "1", Content: "Hello, this is a message."}},
		{key: "seed-review-order", actor: parley.User(channel, "545383"), start: &parley.StartRequest{
			Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.OrderItem("1"),
			Content: "Arrived in two days, the picture is superb."}},
		{key: "seed-guest-question", actor: parley.Guest(channel, "1001"), start: &parley.StartRequest{
			Type: conversation.TypeQuestion, DataSourceID: "2", Content: "Do you ship abroad?"}},
	}, nil
}

// seed writes the demo's starting conversations. It is idempotent: every
// write carries an idempotency key, so a second run (or a restart over the
// same file) replays them and writes nothing; a conversation that exists
// without its key (started by hand) is left as it is.
func seed(ctx context.Context, svc *parley.Service) error {
	writes, err := seedWrites()
	if err != nil {
		return err
	}
	started := map[string]int64{}
	for _, w := range writes {
		if w.start == nil {
			id, ok := started[w.replyTo]
			if !ok {
				continue
			}
			_, err := svc.Post(ctx, w.actor, parley.PostRequest{ConversationID: id, Content: w.content, IdempotencyKey: w.key})
			if err != nil {
				return fmt.Errorf("seed %s: %w", w.key, err)
			}
			continue
		}
		r := *w.start
		r.IdempotencyKey = w.key
		res, err := svc.Start(ctx, w.actor, r)
		if errors.Is(err, parley.ErrConversationExists) {
			continue
		}
		if err != nil {
			return fmt.Errorf("seed %s: %w", w.key, err)
		}
		started[w.key] = res.Conversation.ID
	}
	return nil
}
