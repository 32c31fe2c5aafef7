package httpapi

import (
	"bytes"
	"net/http"
	"slices"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// DefaultPageSize is the page size of a listing whose request names none.
const DefaultPageSize = 20

// idempotencyHeader names the optional header that makes a POST safe to
// retry (see parley.StartRequest.IdempotencyKey).
const idempotencyHeader = "Idempotency-Key"

// writer returns the actor that writes a request: the caller itself, or,
// when the body names a sender with content_type and content_id, the
// caller acting for that sender. Only an integration may name a party
// other than itself (parley.Actor.OnBehalfOf); a user or seller naming
// anyone else is ErrPermission. An integration must name one.
func (c *call) writer(kind message.SenderKind, id string, userType message.UserType) (parley.Actor, error) {
	if kind == "" && id == "" {
		if c.actor.Kind() == parley.ActorIntegration {
			errs := fieldErrs{}
			errs.add(fContentType, msgRequired)
			errs.add(fContentID, msgRequired)
			return parley.Actor{}, errs.err()
		}
		return c.actor, nil
	}
	errs := fieldErrs{}
	if kind == "" {
		errs.add(fContentType, msgRequired)
	}
	if id == "" {
		errs.add(fContentID, msgRequired)
	}
	if err := errs.err(); err != nil {
		return parley.Actor{}, err
	}
	s := message.Sender{Kind: kind, ID: id}
	if kind == message.SenderUser {
		s.UserType = userType
	}
	return c.actor.OnBehalfOf(s)
}

// side is the conversation side whose read state the caller sees: a user's
// own, and the seller's for sellers and integrations.
func (c *call) side() conversation.Side {
	if c.actor.Kind() == parley.ActorUser {
		return conversation.SideUser
	}
	return conversation.SideSeller
}

// conversationID reads the {id} path value; a malformed id is not found.
func (c *call) conversationID() (int64, error) {
	id, ok := flexInt64(FlexID(c.r.PathValue("id")))
	if !ok {
		return 0, &Error{Status: http.StatusNotFound, Body: bodyNotFound}
	}
	return id, nil
}

// listConversations serves GET .../conversations/: the caller's
// conversations, newest activity first, filtered by seed 000's filters.
func (h *Handler) listConversations(c *call) error {
	q := c.r.URL.Query()
	if err := checkParams(q, pagingParams, publicFilters, privateFilters); err != nil {
		return err
	}
	errs := fieldErrs{}
	f := parseFilter(q, errs)
	p := parsePage(q, errs)
	if err := errs.err(); err != nil {
		return err
	}
	page, err := h.svc.List(c.r.Context(), c.actor, f, p)
	if err != nil {
		return err
	}
	items, err := h.renderConversations(c, page.Items, false)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, h.page(c, page.Total, page.Next, p.Limit, items))
	return nil
}

// page builds a listing response.
func (h *Handler) page(c *call, total int64, next string, limit int, results any) pageJSON {
	out := pageJSON{Count: max(total, 0), Results: results}
	if next != "" {
		u := h.nextURL(c.r, next, limit)
		out.Next = &u
	}
	return out
}

// renderConversations renders a page of conversations with their newest
// messages and the Directory's objects.
func (h *Handler) renderConversations(c *call, convs []conversation.Conversation, public bool) ([]conversationJSON, error) {
	ctx := c.r.Context()
	sets := make([][]message.Message, len(convs))
	var all []message.Message
	for i, conv := range convs {
		var page parley.Page[message.Message]
		var err error
		p := parley.PageRequest{Limit: h.cfg.MessageSetSize}
		if public {
			page, err = h.svc.PublicMessages(ctx, c.channel, conv.ID, p)
		} else {
			page, err = h.svc.Messages(ctx, c.actor, conv.ID, p)
		}
		if err != nil {
			return nil, err
		}
		slices.Reverse(page.Items) // oldest first, as seed 000 shows them
		sets[i] = page.Items
		all = append(all, page.Items...)
	}
	o, err := h.lookup(ctx, c.channel, public, convs, all)
	if err != nil {
		return nil, err
	}
	var side conversation.Side
	if !public {
		side = c.side()
	}
	out := make([]conversationJSON, 0, len(convs))
	for i, conv := range convs {
		out = append(out, o.conversation(conv, sets[i], side))
	}
	return out, nil
}

// getConversation serves GET .../conversations/{id}/.
func (h *Handler) getConversation(c *call) error {
	if err := checkParams(c.r.URL.Query(), []string{qFormat}); err != nil {
		return err
	}
	id, err := c.conversationID()
	if err != nil {
		return err
	}
	conv, err := h.svc.Get(c.r.Context(), c.actor, id)
	if err != nil {
		return err
	}
	items, err := h.renderConversations(c, []conversation.Conversation{conv}, false)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, items[0])
	return nil
}

// createConversation serves POST .../conversations/: it starts a
// conversation with its first message, or, when the body names a
// conversation, adds a message to it (seed 000's "Adding New Messages").
// With conversation set, only message_content, content_type, content_id,
// user_type and language_code are used; the other fields are ignored.
func (h *Handler) createConversation(c *call) error {
	req, err := h.decode(c)
	if err != nil {
		return err
	}
	errs := fieldErrs{}
	if !req.present[fMessageContent] {
		errs.add(fMessageContent, msgRequired)
	}
	if req.Conversation == 0 && !req.present[fConversationType] {
		errs.add(fConversationType, msgRequired)
	}
	if err := errs.err(); err != nil {
		return err
	}
	a, err := c.writer(req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	ctx, key := c.r.Context(), c.r.Header.Get(idempotencyHeader)
	var res parley.Result
	if req.Conversation != 0 {
		res, err = h.svc.Post(ctx, a, parley.PostRequest{
			ConversationID: req.Conversation, Content: req.MessageContent, Language: req.Language, IdempotencyKey: key,
		})
	} else {
		res, err = h.svc.Start(ctx, a, parley.StartRequest{
			Type: req.ConversationType, UserID: req.User, DataSourceID: req.DataSource,
			Item:    conversation.Item{Kind: req.ItemContent, ID: req.ItemID},
			Subject: req.Subject, Content: req.MessageContent, Language: req.Language, IdempotencyKey: key,
		})
	}
	if err != nil {
		return err
	}
	c.json(http.StatusOK, startResponse(res))
	return nil
}

// decode reads and decodes a write request body.
func (h *Handler) decode(c *call) (writeRequest, error) {
	body, err := readBody(c.w, c.r, h.cfg.MaxBodyBytes)
	if err != nil {
		return writeRequest{}, err
	}
	return decodeWrite(body)
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
func (h *Handler) markRead(c *call) error {
	id, err := c.conversationID()
	if err != nil {
		return err
	}
	body, err := readBody(c.w, c.r, h.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	var req writeRequest
	if len(bytes.TrimSpace(body)) > 0 {
		if req, err = decodeWrite(body); err != nil {
			return err
		}
	}
	a, err := c.writer(req.ContentType, req.ContentID, req.UserType)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	upTo := req.Message
	if upTo == 0 {
		conv, err := h.svc.Get(ctx, a, id)
		if err != nil {
			return err
		}
		upTo = conv.LastMessageID
	}
	conv, err := h.svc.MarkRead(ctx, a, id, upTo)
	if err != nil {
		return err
	}
	s, _ := a.Sender()
	c.json(http.StatusOK, readJSON{ID: conv.ID, Message: upTo, UnreadCount: conv.Read(conversation.Side(s.Kind)).Unread})
	return nil
}

// unreadJSON is the unread summary.
type unreadJSON struct {
	Messages      int64 `json:"messages"`
	Conversations int64 `json:"conversations"`
}

// unread serves GET .../unread/: the caller's unread messages and the
// number of conversations that have some. An integration names the party
// with the content_type and content_id query parameters.
func (h *Handler) unread(c *call) error {
	q := c.r.URL.Query()
	if err := checkParams(q, []string{fContentType, fContentID, qFormat}); err != nil {
		return err
	}
	kind := message.SenderKind(q.Get(fContentType))
	if kind != "" && !kind.Valid() {
		return fieldErrs{fContentType: {notAChoice(string(kind))}}.err()
	}
	a, err := c.writer(kind, q.Get(fContentID), "")
	if err != nil {
		return err
	}
	u, err := h.svc.Unread(c.r.Context(), a)
	if err != nil {
		return err
	}
	c.json(http.StatusOK, unreadJSON{Messages: u.Messages, Conversations: u.Conversations})
	return nil
}
