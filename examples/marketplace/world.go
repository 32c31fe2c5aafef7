package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/notify/email"
)

// demoWorld is the marketplace's own world, which Parley does not keep:
// its users and guests, its two shops, their products and the order items
// of its orders. A real program reads these from its own tables; the
// Service asks it whether the parties and item of a new conversation
// exist (and stores their names, base code and order number for seed
// 000's filters), the three dialects render their objects from it, and
// the notification emails go to the addresses it knows.
type demoWorld struct {
	parley.StaticWorld
}

var (
	_ parley.World     = (*demoWorld)(nil)
	_ email.Recipients = (*demoWorld)(nil)
)

// world returns seed 000's example world.
func world() *demoWorld {
	tv := parley.ItemInfo{Item: conversation.Product("1"), Name: "Q800T QLED 8K Smart TV", SKU: "328187",
		AbsoluteURL: "/product/1/", DataSourceID: "1", BaseCode: "Q800T"}
	soundbar := parley.ItemInfo{Item: conversation.Product("2"), Name: "HW-Q990C Soundbar", SKU: "412907",
		AbsoluteURL: "/product/2/", DataSourceID: "2", BaseCode: "HWQ990"}
	ordered := func(id, order string, p parley.ItemInfo) parley.ItemInfo {
		p.Item, p.OrderNumber, p.AbsoluteURL = conversation.OrderItem(id), order, "/account/orders/"+order+"/"
		return p
	}
	return &demoWorld{parley.StaticWorld{
		UserMap: map[string]parley.UserInfo{
			"545382": {ID: "545382", FirstName: "Ada", LastName: "Demir", Email: "akinon@hotmail.com", Language: "tr"},
			"545383": {ID: "545383", FirstName: "Sinan", LastName: "Kaya", Email: "user-545383@example.com", Gender: "male"},
			"1001": {ID: "1001", FirstName: "Guest", LastName: "Lima", Email: "guest-1001@example.com", Guest: true,
				Language: "en", RoomNumber: "101"},
		},
		DataSourceMap: map[string]parley.DataSourceInfo{
			"1": {ID: "1", Name: "Test Shop", Slug: "test-shop", Title: "Test shopping", SupplierCode: "ard-123",
				Email: "test-shop@example.com", PriceList: "1", StockList: "1", IsActive: true,
				Logo: "https://example.com/test-shop.png", PropertyCode: "P-1", ServiceCenterName: "Test Shop support"},
			"2": {ID: "2", Name: "Sin's Shop", Slug: "sin-shop", Title: "Sin's shopping", SupplierCode: "sin-123",
				Email: "sin-shop@example.com", IsActive: true, PropertyCode: "P-1", ServiceCenterName: "Sin's Shop support"},
		},
		ItemMap: map[conversation.Item]parley.ItemInfo{
			tv.Item:                     tv,
			soundbar.Item:               soundbar,
			conversation.OrderItem("1"): ordered("1", "ORD-1001", tv),
			conversation.OrderItem("2"): ordered("2", "ORD-1002", soundbar),
		},
	}}
}

// Address returns the email address of a user or a shop of the world.
// A party it does not know, or that has no address, gets no email.
func (w *demoWorld) Address(_ context.Context, _ string, p notify.Party) (string, string, error) {
	switch p.Kind {
	case message.SenderUser:
		u, ok := w.UserMap[p.ID]
		if !ok {
			return "", "", nil
		}
		return strings.TrimSpace(u.FirstName + " " + u.LastName), u.Email, nil
	case message.SenderDataSource:
		ds, ok := w.DataSourceMap[p.ID]
		if !ok {
			return "", "", nil
		}
		return ds.Name, ds.Email, nil
	}
	return "", "", nil
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
