package chatv2

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/message"
)

// Request fields and query parameters.
const (
	fProductID      = "product_id"
	fTitle          = "title"
	fMessage        = "message"
	fConversationID = "conversation_id"
	fLastMessageID  = "last_message_id"

	qPage    = "page"
	qPerPage = "per_page"
	qCursor  = "cursor"
	qWait    = "wait"
)

// inHouseShopName is seed 002's shop name of the marketplace's own products.
const inHouseShopName = "In House Product"

// idempotencyHeader names the optional header that makes a POST safe to
// retry (see parley.StartRequest.IdempotencyKey).
const idempotencyHeader = "Idempotency-Key"

// timeLayout is Laravel's JSON time format: ISO 8601 in UTC with
// microseconds ("2024-01-18T07:52:37.092395Z").
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// conversationJSON is seed 002's conversation.
type conversationJSON struct {
	ID             int64          `json:"id"`
	SenderID       httpapi.FlexID `json:"sender_id"`   // the customer (user)
	ReceiverID     httpapi.FlexID `json:"receiver_id"` // the seller (data source)
	Title          *string        `json:"title"`
	SenderViewed   int            `json:"sender_viewed"`
	ReceiverViewed int            `json:"receiver_viewed"`
	CreatedAt      string         `json:"created_at"`
	UpdatedAt      string         `json:"updated_at"`
}

// viewed is 1 when a side has no unread message, else 0.
func viewed(r conversation.ReadState) int {
	if r.Unread == 0 {
		return 1
	}
	return 0
}

func renderConversation(c conversation.Conversation) conversationJSON {
	out := conversationJSON{
		ID: c.ID, SenderID: httpapi.FlexID(c.UserID), ReceiverID: httpapi.FlexID(c.DataSourceID),
		SenderViewed: viewed(c.UserRead), ReceiverViewed: viewed(c.SellerRead),
		CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.ModifiedAt),
	}
	if c.Subject != "" {
		out.Title = &c.Subject
	}
	return out
}

// messageJSON is seed 002's message. UserID is the sender: the user, or
// for a seller's message its data source.
type messageJSON struct {
	ID             int64          `json:"id"`
	ConversationID int64          `json:"conversation_id"`
	UserID         httpapi.FlexID `json:"user_id"`
	Message        string         `json:"message"`
	CreatedAt      string         `json:"created_at"`
}

func renderMessages(msgs []message.Message) []messageJSON {
	out := make([]messageJSON, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, messageJSON{
			ID: m.ID, ConversationID: m.ConversationID, UserID: httpapi.FlexID(m.Sender.ID),
			Message: m.Content, CreatedAt: formatTime(m.CreatedAt),
		})
	}
	return out
}

// dataJSON is a Laravel resource collection: {"data": [...]}.
type dataJSON struct {
	Data any `json:"data"`
}

// pageJSON is a listing, in the shape of Laravel's cursor paginator
// (CursorPaginator::toArray). CurrentPage is set when the client pages by
// number (no cursor); previous pages are not linked.
type pageJSON struct {
	CurrentPage *int    `json:"current_page,omitempty"`
	Data        any     `json:"data"`
	Path        string  `json:"path"`
	PerPage     int     `json:"per_page"`
	NextCursor  *string `json:"next_cursor"`
	NextPageURL *string `json:"next_page_url"`
	PrevCursor  *string `json:"prev_cursor"`
	PrevPageURL *string `json:"prev_page_url"`
}

// pageParams are a listing's paging parameters.
type pageParams struct {
	perPage    int
	perPageSet bool
	cursor     string
	page       int // 0: not given
}

// parsePage reads per_page, cursor and page; page and cursor exclude each
// other.
func (d *dialect) parsePage(q url.Values) (pageParams, error) {
	pp := pageParams{perPage: d.opts.PerPage, cursor: q.Get(qCursor)}
	fields := httpapi.Fields{}
	if v := q.Get(qPerPage); v != "" {
		n, ok := wire.PositiveInt(v)
		switch {
		case ok:
			pp.perPage, pp.perPageSet = int(min(n, MaxPerPage)), true
		case len(v) <= 40 && wire.Digits(v) && v[0] != '0':
			pp.perPage, pp.perPageSet = MaxPerPage, true // too large for int64: capped
		default:
			fields.Add(qPerPage, "must be a positive integer")
		}
	}
	if v := q.Get(qPage); v != "" {
		n, ok := wire.PositiveInt(v)
		switch {
		case !ok || n > 1<<30:
			fields.Add(qPage, "must be a positive integer")
		case pp.cursor != "" && n != 1:
			fields.Add(qPage, "cannot be combined with cursor")
		default:
			pp.page = int(n)
		}
	}
	return pp, fields.Err()
}

// fetch returns the page the parameters ask for: by cursor, or by number.
func fetch[T any](c *httpapi.Call, pp pageParams, list func(parley.PageRequest) (parley.Page[T], error)) (parley.Page[T], error) {
	if pp.cursor != "" {
		return list(parley.PageRequest{Limit: pp.perPage, Cursor: pp.cursor})
	}
	return httpapi.PageByNumber(c, qPage, max(pp.page, 1), pp.perPage, false, list)
}

// paginator builds a listing response.
func paginator(c *httpapi.Call, pp pageParams, next string, data any) pageJSON {
	path := c.Link(c.Path(), nil)
	out := pageJSON{Data: data, Path: path, PerPage: pp.perPage}
	if pp.cursor == "" {
		n := max(pp.page, 1)
		out.CurrentPage = &n
	}
	if next != "" {
		q := url.Values{qCursor: {next}}
		if pp.perPageSet {
			q.Set(qPerPage, strconv.Itoa(pp.perPage))
		}
		u := c.Link(c.Path(), q)
		out.NextCursor, out.NextPageURL = &next, &u
	}
	return out
}

// conversations serves GET /api/v2/chat/conversations: the caller's
// message conversations (a customer's own, a seller's data source's),
// most recent activity first.
func (d *dialect) conversations(c *httpapi.Call) error {
	pp, err := d.parsePage(c.R.URL.Query())
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	f := conversation.Filter{Type: conversation.TypeMessage}
	page, err := fetch(c, pp, func(p parley.PageRequest) (parley.Page[conversation.Conversation], error) {
		return d.svc.List(ctx, c.Actor, f, p)
	})
	if err != nil {
		return err
	}
	data := make([]conversationJSON, 0, len(page.Items))
	for _, conv := range page.Items {
		data = append(data, renderConversation(conv))
	}
	c.JSON(http.StatusOK, paginator(c, pp, page.Next, data))
	return nil
}

// pathID reads a positive integer path value; anything else is not found.
// With lastID (a last_message_id) 0 is allowed too, and a number too large
// for an id is read as the largest one: past every message, not unknown.
func pathID(r *http.Request, name string, lastID bool) (int64, error) {
	v := r.PathValue(name)
	n, ok := wire.PositiveInt(v)
	switch {
	case !lastID:
	case v == "0":
		n, ok = 0, true
	case !ok && len(v) >= 19 && wire.Digits(v) && v[0] != '0':
		n, ok = math.MaxInt64, true
	}
	if !ok {
		return 0, httpapi.NewProblem(httpapi.CodeNotFound)
	}
	return n, nil
}

// messages serves GET /api/v2/chat/messages/{conversation_id}: a page of
// the conversation's messages, most recent first. Viewing the first page
// marks the conversation read for the caller up to its newest message.
func (d *dialect) messages(c *httpapi.Call) error {
	id, err := pathID(c.R, fConversationID, false)
	if err != nil {
		return err
	}
	pp, err := d.parsePage(c.R.URL.Query())
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	conv, err := d.svc.Get(ctx, c.Actor, id)
	if err != nil {
		return err
	}
	page, err := fetch(c, pp, func(p parley.PageRequest) (parley.Page[message.Message], error) {
		return d.svc.Messages(ctx, c.Actor, id, p)
	})
	if err != nil {
		return err
	}
	if pp.cursor == "" && pp.page <= 1 && len(page.Items) > 0 && page.Items[0].Seq > conv.Read(side(c)).ReadSeq {
		if _, err := d.svc.MarkRead(ctx, c.Actor, id, page.Items[0].ID); err != nil {
			return err
		}
	}
	c.JSON(http.StatusOK, paginator(c, pp, page.Next, renderMessages(page.Items)))
	return nil
}

// createJSON answers create-conversation.
type createJSON struct {
	Result         bool    `json:"result"`
	Message        string  `json:"message"`
	ConversationID int64   `json:"conversation_id"`
	ShopName       string  `json:"shop_name"`
	ShopLogo       *string `json:"shop_logo"`
	Title          *string `json:"title"`
}

// decode reads the request body as a JSON object with the required fields
// present; done reports type errors and missing fields as one 422.
func decode(c *httpapi.Call, required ...string) (*httpapi.Object, func() error, error) {
	o, err := c.Object(false)
	if err != nil {
		return nil, nil, err
	}
	done := func() error {
		fields := httpapi.Fields{}
		typeErrors(fields, o.TypeErrors)
		for _, name := range required {
			if !o.Has(name) {
				fields.Add(name, "is required")
			}
		}
		return fields.Err()
	}
	return o, done, nil
}

// createConversation serves POST /api/v2/chat/create-conversation with
// {product_id, title, message}: a customer starts a conversation about a
// product with the product's seller. There is one conversation per
// customer and product: if it exists, the message is added to it and the
// answer names it (message "Message added to the existing conversation."),
// so a client that creates twice loses nothing.
func (d *dialect) createConversation(c *httpapi.Call) error {
	if c.Actor.Kind() != parley.ActorUser {
		p := httpapi.NewProblem(httpapi.CodePermission)
		p.Err = &parley.PermissionError{Reason: "only customers start a conversation about a product"}
		return p
	}
	o, done, err := decode(c, fProductID, fMessage)
	if err != nil {
		return err
	}
	productID, title, content := o.ID(fProductID), o.String(fTitle), o.String(fMessage)
	if err := done(); err != nil {
		return err
	}
	ctx := c.R.Context()
	prod, err := d.opts.Catalog.Product(ctx, c.Actor.Channel(), productID)
	switch {
	case errors.Is(err, ErrUnknownProduct):
		return httpapi.Invalid(fProductID, "The selected product id is invalid.")
	case err != nil:
		return fmt.Errorf("chatv2: catalog: product %q: %w", wire.Clip(productID, 64), err)
	}
	key := c.R.Header.Get(idempotencyHeader)
	res, err := d.svc.Start(ctx, c.Actor, parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: prod.DataSourceID, Item: conversation.Product(productID),
		Subject: title, Content: content, IdempotencyKey: key,
	})
	note := "Conversation created"
	var exists *parley.ConversationExistsError
	if errors.As(err, &exists) {
		// A retried create-into-existing replays this post: its key is
		// distinct from the start's, which wrote nothing.
		if key != "" {
			key = "existing:" + key
		}
		res, err = d.svc.Post(ctx, c.Actor, parley.PostRequest{ConversationID: exists.ID, Content: content, IdempotencyKey: key})
		note = "Message added to the existing conversation"
	}
	if err != nil {
		return err
	}
	out := createJSON{Result: true, Message: note, ConversationID: res.Conversation.ID, ShopName: prod.ShopName}
	if prod.InHouse {
		out.ShopName = inHouseShopName
	}
	if prod.ShopLogo != "" {
		out.ShopLogo = &prod.ShopLogo
	}
	if s := res.Conversation.Subject; s != "" {
		out.Title = &s
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// insertMessage serves POST /api/v2/chat/insert-message with
// {conversation_id, message}: the created message, in a collection
// ({"data": [message]}).
func (d *dialect) insertMessage(c *httpapi.Call) error {
	o, done, err := decode(c, fConversationID, fMessage)
	if err != nil {
		return err
	}
	id, content := o.Int(fConversationID), o.String(fMessage)
	if err := done(); err != nil {
		return err
	}
	res, err := d.svc.Post(c.R.Context(), c.Actor, parley.PostRequest{
		ConversationID: id, Content: content, IdempotencyKey: c.R.Header.Get(idempotencyHeader),
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, dataJSON{Data: renderMessages([]message.Message{res.Message})})
	return nil
}

// newMessages serves GET
// /api/v2/chat/get-new-messages/{conversation_id}/{last_message_id}: the
// messages after last_message_id (0: all), most recent first, at most
// MaxPerPage of them (the oldest ones first: a client that goes on from
// the newest it got misses nothing). With ?wait=N (seconds, capped at
// Config.MaxWait) it answers as soon as there is a message, or with an
// empty list after N seconds; the server's WriteTimeout is extended for
// the wait.
func (d *dialect) newMessages(c *httpapi.Call) error {
	id, err := pathID(c.R, fConversationID, false)
	if err != nil {
		return err
	}
	after, err := pathID(c.R, fLastMessageID, true)
	if err != nil {
		return err
	}
	wait, err := c.ParseWait(qWait, c.R.URL.Query().Get(qWait))
	if err != nil {
		return err
	}
	msgs, err := c.WaitMessages(d.svc, c.Actor, id, after, MaxPerPage, wait)
	if err != nil {
		return err
	}
	slices.Reverse(msgs)
	c.JSON(http.StatusOK, dataJSON{Data: renderMessages(msgs)})
	return nil
}
