package conversationsv1

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/message"
)

// timeLayout is seed 000's time format: RFC 3339 in UTC with microseconds
// ("2023-07-19T10:25:40.208173Z").
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// optTime is a time, or null when zero.
func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := formatTime(t)
	return &s
}

// optString is s, or null when empty.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// optID is an id, or null when empty.
func optID(s string) *httpapi.FlexID {
	if s == "" {
		return nil
	}
	id := httpapi.FlexID(s)
	return &id
}

// userJSON is seed 000's user object.
type userJSON struct {
	ID        httpapi.FlexID `json:"id"`
	FirstName string         `json:"first_name"`
	LastName  string         `json:"last_name"`
	Email     string         `json:"email"`
	Phone     *string        `json:"phone"`
	Gender    *string        `json:"gender"`
}

// publicUserJSON is the user object of the public listings: an allow-list
// of the id and the first name.
type publicUserJSON struct {
	ID        httpapi.FlexID `json:"id"`
	FirstName string         `json:"first_name"`
}

// dataSourceJSON is seed 000's datasource object.
type dataSourceJSON struct {
	PK               httpapi.FlexID  `json:"pk"`
	Name             string          `json:"name"`
	Slug             string          `json:"slug"`
	Title            string          `json:"title"`
	SupplierCode     string          `json:"supplier_code"`
	Address          *string         `json:"address"`
	Email            *string         `json:"email"`
	PhoneNumber      *string         `json:"phone_number"`
	FaxNumber        *string         `json:"fax_number"`
	KEPAddress       *string         `json:"kep_address"`
	MersisNumber     *string         `json:"mersis_number"`
	TradeAssociation *string         `json:"trade_association"`
	Extras           map[string]any  `json:"extras"`
	PriceList        *httpapi.FlexID `json:"price_list"`
	StockList        *httpapi.FlexID `json:"stock_list"`
	IsActive         bool            `json:"is_active"`
}

// publicDataSourceJSON is the datasource object of the public listings:
// an allow-list without any contact data.
type publicDataSourceJSON struct {
	PK       httpapi.FlexID `json:"pk"`
	Name     string         `json:"name"`
	Slug     string         `json:"slug"`
	Title    string         `json:"title"`
	IsActive bool           `json:"is_active"`
}

// itemJSON is seed 000's item_object.
type itemJSON struct {
	PK          httpapi.FlexID `json:"pk"`
	Name        string         `json:"name"`
	SKU         string         `json:"sku"`
	AbsoluteURL string         `json:"absolute_url"`
}

// messageJSON is a message of a message_set or of the messages listing.
type messageJSON struct {
	ID int64 `json:"id"`
	// Conversation is set in the messages listing only.
	Conversation   int64          `json:"conversation,omitempty"`
	MessageContent string         `json:"message_content"`
	UserType       *string        `json:"user_type"`
	ContentType    string         `json:"content_type"`
	ContentID      httpapi.FlexID `json:"content_id"`
	ContentObject  any            `json:"content_object"`
	CreatedDate    string         `json:"created_date"`
}

// conversationJSON is a conversation of a listing, or the one of a detail
// request: seed 000's fields and a few more.
type conversationJSON struct {
	ID int64 `json:"id"`
	// User is a user object, or in the public listings the bare id.
	User             any           `json:"user"`
	DataSource       any           `json:"datasource"`
	ItemContent      *string       `json:"item_content"`
	ItemObject       *itemJSON     `json:"item_object"`
	MessageSet       []messageJSON `json:"message_set"`
	ConversationType string        `json:"conversation_type"`
	LastMessageDate  *string       `json:"last_message_date"`
	Subject          *string       `json:"subject"`
	Status           string        `json:"status"`
	CreatedDate      string        `json:"created_date"`
	ModifiedDate     string        `json:"modified_date"`
	// UnreadCount is the caller's unread messages; absent in public.
	UnreadCount *int64 `json:"unread_count,omitempty"`
}

// startJSON answers a conversation POST (seed 000's create response; for
// a POST with conversation set, id is that conversation). Message is the
// id of the message written, to mark read or to page from.
type startJSON struct {
	ID               int64           `json:"id"`
	DataSource       httpapi.FlexID  `json:"datasource"`
	User             httpapi.FlexID  `json:"user"`
	Subject          *string         `json:"subject"`
	ItemContent      *string         `json:"item_content,omitempty"`
	ItemID           *httpapi.FlexID `json:"item_id,omitempty"`
	ConversationType string          `json:"conversation_type"`
	MessageContent   string          `json:"message_content"`
	UserType         *string         `json:"user_type"`
	ContentID        httpapi.FlexID  `json:"content_id"`
	ContentType      string          `json:"content_type"`
	Message          int64           `json:"message"`
}

func startResponse(r parley.Result) startJSON {
	c, m := r.Conversation, r.Message
	out := startJSON{
		ID: c.ID, DataSource: httpapi.FlexID(c.DataSourceID), User: httpapi.FlexID(c.UserID), Subject: optString(c.Subject),
		ConversationType: string(c.Type), MessageContent: m.Content, UserType: optString(string(m.Sender.UserType)),
		ContentID: httpapi.FlexID(m.Sender.ID), ContentType: string(m.Sender.Kind), Message: m.ID,
	}
	if !c.Item.IsZero() {
		out.ItemContent, out.ItemID = optString(string(c.Item.Kind)), optID(c.Item.ID)
	}
	return out
}

// postJSON answers a messages POST (seed 000's message response), with the
// new message's id and time.
type postJSON struct {
	ID             int64          `json:"id"`
	Conversation   int64          `json:"conversation"`
	MessageContent string         `json:"message_content"`
	UserType       *string        `json:"user_type"`
	ContentID      httpapi.FlexID `json:"content_id"`
	ContentType    string         `json:"content_type"`
	CreatedDate    string         `json:"created_date"`
}

func postResponse(r parley.Result) postJSON {
	m := r.Message
	return postJSON{
		ID: m.ID, Conversation: r.Conversation.ID, MessageContent: m.Content,
		UserType: optString(string(m.Sender.UserType)), ContentID: httpapi.FlexID(m.Sender.ID),
		ContentType: string(m.Sender.Kind), CreatedDate: formatTime(m.CreatedAt),
	}
}

// objects are the world's objects for one response.
type objects struct {
	users  map[string]parley.UserInfo
	dss    map[string]parley.DataSourceInfo
	items  map[conversation.Item]parley.ItemInfo
	public bool
	// encoded are the user and data source objects already encoded for
	// this response: a page repeats them (every message carries its
	// sender's), and each is encoded once.
	encoded map[objectKey]encodedObject
}

// objectKey names a user's or a data source's object.
type objectKey struct {
	kind message.SenderKind
	id   string
}

// once returns the object of key k that build makes, encoded the first
// time it is asked for. If it does not encode (a Directory's extras that
// JSON cannot hold), it returns the object, so that the response reports
// the error.
func (o objects) once(k objectKey, build func() any) any {
	if e, ok := o.encoded[k]; ok {
		return e
	}
	v := build()
	if o.encoded == nil {
		return v
	}
	b, err := appendValue(nil, v)
	if err != nil {
		return v
	}
	o.encoded[k] = b
	return encodedObject(b)
}

// lookup asks the Service's World for every user, data source and item
// that convs and msgs mention, in one call each.
func (d *dialect) lookup(ctx context.Context, channel string, public bool, convs []conversation.Conversation, msgs ...[]message.Message) (objects, error) {
	o := objects{public: public, encoded: map[objectKey]encodedObject{}}
	dir := d.svc.World()
	if dir == nil {
		return o, nil
	}
	var users, dss []string
	var items []conversation.Item
	for _, c := range convs {
		users, dss = append(users, c.UserID), append(dss, c.DataSourceID)
		if !c.Item.IsZero() {
			items = append(items, c.Item)
		}
	}
	for _, ms := range msgs {
		for _, m := range ms {
			if m.Sender.Kind == message.SenderUser {
				users = append(users, m.Sender.ID)
			} else {
				dss = append(dss, m.Sender.ID)
			}
		}
	}
	var err error
	if users = uniq(users); len(users) > 0 {
		if o.users, err = dir.Users(ctx, channel, users); err != nil {
			return o, fmt.Errorf("conversationsv1: world users: %w", err)
		}
	}
	if dss = uniq(dss); len(dss) > 0 {
		if o.dss, err = dir.DataSources(ctx, channel, dss); err != nil {
			return o, fmt.Errorf("conversationsv1: world data sources: %w", err)
		}
	}
	if len(items) > 0 {
		slices.SortFunc(items, func(a, b conversation.Item) int {
			return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
		})
		if o.items, err = dir.Items(ctx, channel, slices.Compact(items)); err != nil {
			return o, fmt.Errorf("conversationsv1: world items: %w", err)
		}
	}
	return o, nil
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// user renders a user; only the allow-listed fields when public.
func (o objects) user(id string) any {
	return o.once(objectKey{message.SenderUser, id}, func() any { return o.newUser(id) })
}

func (o objects) newUser(id string) any {
	u, ok := o.users[id]
	if !ok {
		u = parley.UserInfo{ID: id}
	}
	if o.public {
		return publicUserJSON{ID: httpapi.FlexID(id), FirstName: u.FirstName}
	}
	return userJSON{
		ID: httpapi.FlexID(id), FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		Phone: optString(u.Phone), Gender: optString(u.Gender),
	}
}

// dataSource renders a data source; only the allow-listed fields when public.
func (o objects) dataSource(id string) any {
	return o.once(objectKey{message.SenderDataSource, id}, func() any { return o.newDataSource(id) })
}

func (o objects) newDataSource(id string) any {
	d, ok := o.dss[id]
	if !ok {
		d = parley.DataSourceInfo{ID: id}
	}
	if o.public {
		return publicDataSourceJSON{PK: httpapi.FlexID(id), Name: d.Name, Slug: d.Slug, Title: d.Title, IsActive: d.IsActive}
	}
	extras := d.Extras
	if extras == nil {
		extras = map[string]any{}
	}
	return dataSourceJSON{
		PK: httpapi.FlexID(id), Name: d.Name, Slug: d.Slug, Title: d.Title, SupplierCode: d.SupplierCode,
		Address: optString(d.Address), Email: optString(d.Email), PhoneNumber: optString(d.PhoneNumber),
		FaxNumber: optString(d.FaxNumber), KEPAddress: optString(d.KEPAddress),
		MersisNumber: optString(d.MersisNumber), TradeAssociation: optString(d.TradeAssociation),
		Extras: extras, PriceList: optID(d.PriceList), StockList: optID(d.StockList), IsActive: d.IsActive,
	}
}

func (o objects) item(it conversation.Item) *itemJSON {
	if it.IsZero() {
		return nil
	}
	i, ok := o.items[it]
	if !ok {
		i = parley.ItemInfo{Item: it}
	}
	return &itemJSON{PK: httpapi.FlexID(it.ID), Name: i.Name, SKU: i.SKU, AbsoluteURL: i.AbsoluteURL}
}

// messages renders a list of messages with their conversation ids.
func (o objects) messages(msgs []message.Message) []messageJSON {
	out := make([]messageJSON, 0, len(msgs))
	for _, m := range msgs {
		j := o.message(m)
		j.Conversation = m.ConversationID
		out = append(out, j)
	}
	return out
}

func (o objects) message(m message.Message) messageJSON {
	out := messageJSON{
		ID: m.ID, MessageContent: m.Content, UserType: optString(string(m.Sender.UserType)),
		ContentType: string(m.Sender.Kind), ContentID: httpapi.FlexID(m.Sender.ID), CreatedDate: formatTime(m.CreatedAt),
	}
	if m.Sender.Kind == message.SenderUser {
		out.ContentObject = o.user(m.Sender.ID)
	} else {
		out.ContentObject = o.dataSource(m.Sender.ID)
	}
	return out
}

// conversation renders c with its message set, which it is given newest
// first and shows oldest first, as seed 000 does; unread is the caller's
// side, or "" for none.
func (o objects) conversation(c conversation.Conversation, set []message.Message, unread conversation.Side) conversationJSON {
	out := conversationJSON{
		ID: c.ID, DataSource: o.dataSource(c.DataSourceID), ItemObject: o.item(c.Item),
		ConversationType: string(c.Type), LastMessageDate: optTime(c.LastMessageAt), Subject: optString(c.Subject),
		Status: string(c.Status), CreatedDate: formatTime(c.CreatedAt), ModifiedDate: formatTime(c.ModifiedAt),
		MessageSet: make([]messageJSON, 0, len(set)),
	}
	if !c.Item.IsZero() {
		out.ItemContent = optString(string(c.Item.Kind))
	}
	if o.public {
		out.User = httpapi.FlexID(c.UserID)
	} else {
		out.User = o.user(c.UserID)
	}
	for _, m := range slices.Backward(set) {
		out.MessageSet = append(out.MessageSet, o.message(m))
	}
	if unread != "" {
		n := c.Read(unread).Unread
		out.UnreadCount = &n
	}
	return out
}
