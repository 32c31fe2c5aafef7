package conversationsv1

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/message"
)

// idempotencyHeader names the optional header that makes a POST safe to
// retry (see parley.StartRequest.IdempotencyKey).
const idempotencyHeader = "Idempotency-Key"

// writer returns the actor that writes a request: the caller itself, or,
// when the body names a sender with content_type and content_id, the
// caller acting for that sender. Only an integration may name a party
// other than itself (parley.Actor.OnBehalfOf); a user or seller naming
// anyone else is ErrPermission. An integration must name one.
func writer(c *httpapi.Call, kind message.SenderKind, id string, userType message.UserType) (parley.Actor, error) {
	if kind == "" && id == "" {
		if c.Actor.Kind() == parley.ActorIntegration {
			errs := httpapi.Fields{}
			errs.Add(fContentType, "is required")
			errs.Add(fContentID, "is required")
			return parley.Actor{}, errs.Err()
		}
		return c.Actor, nil
	}
	errs := httpapi.Fields{}
	if kind == "" {
		errs.Add(fContentType, "is required")
	}
	if id == "" {
		errs.Add(fContentID, "is required")
	}
	if err := errs.Err(); err != nil {
		return parley.Actor{}, err
	}
	s := message.Sender{Kind: kind, ID: id}
	if kind == message.SenderUser {
		s.UserType = userType
	}
	return c.Actor.OnBehalfOf(s)
}

// side is the conversation side whose read state the caller sees: a user's
// own, and the seller's for sellers and integrations.
func side(c *httpapi.Call) conversation.Side {
	if c.Actor.Kind() == parley.ActorUser {
		return conversation.SideUser
	}
	return conversation.SideSeller
}

// conversationID reads the {id} path value; a malformed id is not found.
func conversationID(c *httpapi.Call) (int64, error) {
	id, ok := wire.PositiveInt(c.R.PathValue("id"))
	if !ok {
		return 0, httpapi.NewProblem(httpapi.CodeNotFound)
	}
	return id, nil
}

// listConversations serves GET .../conversations/: the caller's
// conversations, newest activity first, filtered by seed 000's filters.
func (d *dialect) listConversations(c *httpapi.Call) error {
	q := c.R.URL.Query()
	if err := checkParams(q, pagingParams, publicFilters, privateFilters); err != nil {
		return err
	}
	errs := httpapi.Fields{}
	f := parseFilter(q, errs)
	pp := parsePage(q, errs)
	if err := errs.Err(); err != nil {
		return err
	}
	page, err := fetch(c, pp, func(p parley.PageRequest) (parley.Page[parley.ConversationMessages], error) {
		return d.svc.ListWithMessages(c.R.Context(), c.Actor, f, p, d.setSize(p))
	})
	if err != nil {
		return httpapi.Rename(err, filterNames)
	}
	items, err := d.renderConversations(c, page.Items, false)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, listing(c, pp, page.Total, page.Next, items))
	return nil
}

// setSize is the number of messages per conversation to read with the
// listing page p: the listing's pages always ask for their total (see
// fetch), and the steps that only reach a page by number do not, so they
// read no messages.
func (d *dialect) setSize(p parley.PageRequest) int {
	if !p.WithTotal {
		return 0
	}
	return d.opts.MessageSetSize
}

// renderConversations renders a page of conversations with their newest
// messages (newest first, as the Service returns them) and the
// World's objects.
func (d *dialect) renderConversations(c *httpapi.Call, convs []parley.ConversationMessages, public bool) ([]conversationJSON, error) {
	ctx := c.R.Context()
	channel := c.Actor.Channel()
	if public {
		channel = d.publicChannelOf(c)
	}
	plain := make([]conversation.Conversation, len(convs))
	sets := make([][]message.Message, len(convs))
	for i, item := range convs {
		plain[i], sets[i] = item.Conversation, item.Messages
	}
	o, err := d.lookup(ctx, channel, public, plain, sets...)
	if err != nil {
		return nil, err
	}
	var s conversation.Side
	if !public {
		s = side(c)
	}
	out := make([]conversationJSON, 0, len(convs))
	for _, item := range convs {
		out = append(out, o.conversation(item.Conversation, item.Messages, s))
	}
	return out, nil
}

// getConversation serves GET .../conversations/{id}/.
func (d *dialect) getConversation(c *httpapi.Call) error {
	if err := checkParams(c.R.URL.Query(), []string{qFormat}); err != nil {
		return err
	}
	id, err := conversationID(c)
	if err != nil {
		return err
	}
	conv, err := d.svc.GetWithMessages(c.R.Context(), c.Actor, id, d.opts.MessageSetSize)
	if err != nil {
		return err
	}
	return d.writeConversation(c, conv)
}

// writeConversation answers with one conversation, as the detail route
// shows it.
func (d *dialect) writeConversation(c *httpapi.Call, conv parley.ConversationMessages) error {
	items, err := d.renderConversations(c, []parley.ConversationMessages{conv}, false)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, items[0])
	return nil
}

// createConversation serves POST .../conversations/: it starts a
// conversation with its first message, or, when the body names a
// conversation, adds a message to it (seed 000's "Adding New Messages").
// With conversation set, only message_content, content_type, content_id,
// user_type and language_code are used; the other fields are ignored. A
// start written by a user must name its datasource, as seed 000 lists it.
func (d *dialect) createConversation(c *httpapi.Call) error {
	req, err := decode(c)
	if err != nil {
		return err
	}
	errs := httpapi.Fields{}
	if !req.has(fMessageContent) {
		errs.Add(fMessageContent, "is required")
	}
	if req.Conversation == 0 && !req.has(fConversationType) {
		errs.Add(fConversationType, "is required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	a, err := writer(c, req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	ctx, key := c.R.Context(), c.R.Header.Get(idempotencyHeader)
	var res parley.Result
	if req.Conversation != 0 {
		res, err = d.svc.Post(ctx, a, parley.PostRequest{
			ConversationID: req.Conversation, Content: req.MessageContent, Language: req.Language, IdempotencyKey: key,
		})
	} else {
		if s, _ := a.Sender(); s.Kind == message.SenderUser && req.DataSource == "" {
			return httpapi.Invalid(fDataSource, "is required")
		}
		res, err = d.svc.Start(ctx, a, parley.StartRequest{
			Type: req.ConversationType, UserID: req.User, DataSourceID: req.DataSource,
			Item:    conversation.Item{Kind: req.ItemContent, ID: req.ItemID},
			Subject: req.Subject, Content: req.MessageContent, Language: req.Language, IdempotencyKey: key,
		})
	}
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, startResponse(res))
	return nil
}

// setStatus serves PATCH .../conversations/{id}/ with {"status":
// "closed"} or {"status": "open"}: either party closes or reopens the
// conversation (an integration names the party with content_type and
// content_id). It answers with the conversation.
func (d *dialect) setStatus(c *httpapi.Call) error {
	id, err := conversationID(c)
	if err != nil {
		return err
	}
	req, err := decode(c)
	if err != nil {
		return err
	}
	if !req.has(fStatus) {
		return httpapi.Invalid(fStatus, "is required")
	}
	a, err := writer(c, req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	conv, err := d.svc.SetStatus(ctx, a, id, req.Status)
	if err != nil {
		return err
	}
	msgs, err := d.svc.Messages(ctx, c.Actor, conv.ID, parley.PageRequest{Limit: d.opts.MessageSetSize})
	if err != nil {
		return err
	}
	return d.writeConversation(c, parley.ConversationMessages{Conversation: conv, Messages: msgs.Items})
}

// readJSON is the answer of the read endpoint.
type readJSON struct {
	ID          int64 `json:"id"`
	Message     int64 `json:"message"`
	UnreadCount int64 `json:"unread_count"`
}

// markRead serves POST .../conversations/{id}/read/ with {"message": id}:
// the caller has read the conversation up to and including that message
// (all of it when message is absent or the body is empty). An integration
// names the side it reads for with content_type and content_id.
func (d *dialect) markRead(c *httpapi.Call) error {
	id, err := conversationID(c)
	if err != nil {
		return err
	}
	body, err := c.Body()
	if err != nil {
		return err
	}
	var req writeRequest
	if !isBlank(body) {
		o, err := httpapi.DecodeObject(body, false)
		if err != nil {
			return err
		}
		if req, err = decodeObject(o); err != nil {
			return err
		}
	}
	a, err := writer(c, req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	upTo := req.Message
	if upTo == 0 {
		conv, err := d.svc.Get(ctx, a, id)
		if err != nil {
			return err
		}
		upTo = conv.LastMessageID
	}
	conv, err := d.svc.MarkRead(ctx, a, id, upTo)
	if err != nil {
		return err
	}
	s, _ := a.Sender()
	c.JSON(http.StatusOK, readJSON{ID: conv.ID, Message: upTo, UnreadCount: conv.Read(conversation.Side(s.Kind)).Unread})
	return nil
}

func isBlank(b []byte) bool {
	for _, ch := range b {
		if ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' {
			return false
		}
	}
	return true
}

// unreadJSON is the unread summary.
type unreadJSON struct {
	Messages      int64 `json:"messages"`
	Conversations int64 `json:"conversations"`
}

// unread serves GET .../unread/: the caller's unread messages and the
// number of conversations that have some. An integration names the party
// with the content_type and content_id query parameters.
func (d *dialect) unread(c *httpapi.Call) error {
	q := c.R.URL.Query()
	if err := checkParams(q, []string{fContentType, fContentID, qFormat}); err != nil {
		return err
	}
	kind := message.SenderKind(q.Get(fContentType))
	if kind != "" && !kind.Valid() {
		return httpapi.Invalid(fContentType, notAChoice(string(kind)))
	}
	a, err := writer(c, kind, q.Get(fContentID), "")
	if err != nil {
		return err
	}
	u, err := d.svc.Unread(c.R.Context(), a)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, unreadJSON{Messages: u.Messages, Conversations: u.Conversations})
	return nil
}
