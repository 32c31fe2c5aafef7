package guestv40

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi/internal/dialect"
	"github.com/parleyhq/parley/message"
)

// Request fields and query parameters.
const (
	fMessage          = "message"
	fConversationType = "conversationType"
	fOutletCode       = "outletCode"
	fOrderCode        = "orderCode"
	fSessionToken     = "sessionToken"
	fLanguageCode     = "languageCode"

	qPageSize  = "pageSize"
	qPageToken = "pageToken"
)

// The values of conversationType and messageType.
const (
	typeGuest  = "guest"
	typeOutlet = "outlet"
)

// idempotencyHeader names the optional header that makes a POST safe to
// retry.
const idempotencyHeader = "Idempotency-Key"

// timeLayout is seed 001's time format, .NET's round-trip format with an
// offset ("2025-01-18T07:52:37.0923950+00:00").
const timeLayout = "2006-01-02T15:04:05.0000000-07:00"

// conversationJSON is seed 001's conversation.
type conversationJSON struct {
	Code               string        `json:"code"`
	Subject            *string       `json:"subject"`
	OutletCode         string        `json:"outletCode"`
	OrderCode          *string       `json:"orderCode"`
	OutletName         *string       `json:"outletName"`
	PropertyCode       *string       `json:"propertyCode"`
	RoomNumber         *string       `json:"roomNumber"`
	GuestFirstName     *string       `json:"guestFirstName"`
	GuestLastName      *string       `json:"guestLastName"`
	GuestLanguageCode  *string       `json:"guestLanguageCode"`
	ConversationStatus string        `json:"conversationStatus"`
	ConversationType   string        `json:"conversationType"`
	Messages           []messageJSON `json:"messages"`
}

// messageJSON is seed 001's message.
type messageJSON struct {
	CreateDate        string  `json:"createDate"`
	Code              string  `json:"code"`
	IsRead            bool    `json:"isRead"`
	ServiceCenterName *string `json:"serviceCenterName"`
	MessageType       string  `json:"messageType"`
	Content           string  `json:"content"`
	FirstName         *string `json:"firstName"`
	LastName          *string `json:"lastName"`
	LanguageCode      *string `json:"languageCode"`
	IsTranslated      bool    `json:"isTranslated"`
	ConversationID    int64   `json:"conversationId"`
}

// contentJSON is the content of a conversation response. NextPageToken,
// when set, continues with older messages (?pageToken=).
type contentJSON struct {
	Conversation  conversationJSON `json:"conversation"`
	NextPageToken string           `json:"nextPageToken,omitempty"`
}

// opt is s, or null when empty.
func opt(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// request is a decoded write request.
type request struct {
	message, conversationType, outletCode, orderCode, sessionToken, languageCode string
}

// decode reads a write request body: field names match without regard to
// case (as ASP.NET binds them); sessionToken and message are required.
// The session token is checked before anything else is.
func (h *Handler) decode(c *call) (request, error) {
	body, err := dialect.ReadBody(c.w, c.r, h.cfg.MaxBodyBytes)
	if err != nil {
		return request{}, err
	}
	o, err := dialect.DecodeObject(body, true)
	if err != nil {
		return request{}, err
	}
	req := request{
		message: o.String(fMessage), conversationType: o.String(fConversationType),
		outletCode: o.ID(fOutletCode), orderCode: o.ID(fOrderCode),
		sessionToken: o.String(fSessionToken), languageCode: o.String(fLanguageCode),
	}
	c.token = req.sessionToken
	fields := map[string][]string{}
	for _, e := range o.Errs {
		reason := "must be a string"
		if e.Want == dialect.WantID {
			reason = "must be a string or an integer"
		}
		fields[e.Field] = append(fields[e.Field], reason)
	}
	if req.sessionToken == "" && len(fields[fSessionToken]) == 0 {
		fields[fSessionToken] = append(fields[fSessionToken], "is required")
	}
	if !o.Has(fMessage) {
		fields[fMessage] = append(fields[fMessage], "is required")
	}
	switch strings.ToLower(req.conversationType) {
	case "", typeGuest:
		req.conversationType = strings.ToLower(req.conversationType)
	default:
		fields[fConversationType] = append(fields[fConversationType],
			fmt.Sprintf("must be empty or \"guest\", not %q", dialect.Clip(req.conversationType, 40)))
	}
	if len(fields) > 0 {
		return request{}, invalid(fields)
	}
	return req, h.session(c, req.sessionToken)
}

// createConversation serves POST .../Conversations: a guest starts a
// conversation with an outlet (the default one if outletCode is empty),
// about an order if orderCode is set. Parley keeps one conversation per
// guest, outlet and order: if it exists, the message is added to it and
// the response is that conversation.
func (h *Handler) createConversation(c *call) error {
	req, err := h.decode(c)
	if err != nil {
		return err
	}
	if c.actor.Kind() != parley.ActorUser {
		return &dialect.Problem{Status: http.StatusForbidden, Message: "Only a guest can create a conversation."}
	}
	to, err := h.readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	writer := c.actor
	sender, _ := writer.Sender()
	if req.conversationType == typeGuest {
		writer = parley.Guest(writer.Channel(), sender.ID) // the guest writes, with the guest's name
	}
	if req.outletCode != "" && h.cfg.Directory != nil {
		if _, err := h.cfg.Directory.Outlet(ctx, c.actor.Channel(), req.outletCode); errors.Is(err, ErrUnknown) {
			return invalid(map[string][]string{fOutletCode: {fmt.Sprintf("Unknown outlet %q.", dialect.Clip(req.outletCode, 64))}})
		} else if err != nil {
			return fmt.Errorf("guestv40: directory: outlet: %w", err)
		}
	}
	lang := req.languageCode
	if lang == "" {
		g, err := h.guest(ctx, c.actor.Channel(), sender.ID)
		if err != nil {
			return err
		}
		lang = g.LanguageCode
	}
	var item conversation.Item
	if req.orderCode != "" {
		item = conversation.OrderItem(req.orderCode)
	}
	outlet := req.outletCode
	if outlet == "" && h.cfg.DefaultOutlet != nil {
		if outlet, err = h.cfg.DefaultOutlet(ctx, c.actor.Channel(), sender.ID); err != nil {
			return fmt.Errorf("guestv40: default outlet: %w", err)
		}
	}
	key := c.r.Header.Get(idempotencyHeader)
	res, err := h.svc.Start(ctx, writer, parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: outlet, Item: item,
		Content: req.message, Language: lang, IdempotencyKey: key,
	})
	var exists *parley.ConversationExistsError
	if errors.As(err, &exists) {
		if key != "" {
			key = "existing:" + key
		}
		res, err = h.svc.Post(ctx, writer, parley.PostRequest{
			ConversationID: exists.ID, Content: req.message, Language: lang, IdempotencyKey: key,
		})
	}
	if err != nil {
		return err
	}
	content, err := h.content(ctx, c, res.Conversation, parley.PageRequest{Limit: h.cfg.PageSize}, to, false)
	if err != nil {
		return err
	}
	h.succeed(c, respCreateConversation, content)
	return nil
}

// getConversation serves GET .../Conversations/{code}?sessionToken=...:
// the conversation with its newest messages (pageSize, at most 100),
// oldest first; nextPageToken continues with older ones (?pageToken=).
// languageCode (or the Accept-Language header) asks for the messages in
// that language. Viewing the newest messages marks them read for the
// caller.
func (h *Handler) getConversation(c *call) error {
	q := c.r.URL.Query()
	c.token = q.Get(fSessionToken)
	fields := map[string][]string{}
	if c.token == "" {
		fields[fSessionToken] = append(fields[fSessionToken], "is required")
	}
	p := parley.PageRequest{Limit: h.cfg.PageSize, Cursor: q.Get(qPageToken)}
	if v := q.Get(qPageSize); v != "" {
		n, ok := dialect.PositiveInt(v)
		if !ok {
			fields[qPageSize] = append(fields[qPageSize], "must be a positive integer")
		}
		p.Limit = int(min(n, MaxPageSize))
	}
	if len(fields) > 0 {
		return invalid(fields)
	}
	if err := h.session(c, c.token); err != nil {
		return err
	}
	to, err := h.readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	conv, err := h.resolve(ctx, c.actor, c.r.PathValue("code"))
	if err != nil {
		return err
	}
	content, err := h.content(ctx, c, conv, p, to, true)
	if err != nil {
		return err
	}
	h.succeed(c, respGetConversation, content)
	return nil
}

// createMessage serves POST .../Conversations/{code}/Messages with
// {message, sessionToken, languageCode}: a message added to the
// conversation by the guest or the outlet. The response is the
// conversation with the new message.
func (h *Handler) createMessage(c *call) error {
	req, err := h.decode(c)
	if err != nil {
		return err
	}
	to, err := h.readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.r.Context()
	conv, err := h.resolve(ctx, c.actor, c.r.PathValue("code"))
	if err != nil {
		return err
	}
	writer := c.actor
	if sender, ok := writer.Sender(); ok && req.conversationType == typeGuest && sender.Kind == message.SenderUser {
		writer = parley.Guest(writer.Channel(), sender.ID)
	}
	lang := req.languageCode
	if sender, ok := writer.Sender(); ok && lang == "" && sender.Kind == message.SenderUser {
		g, err := h.guest(ctx, c.actor.Channel(), sender.ID)
		if err != nil {
			return err
		}
		lang = g.LanguageCode
	}
	res, err := h.svc.Post(ctx, writer, parley.PostRequest{
		ConversationID: conv.ID, Content: req.message, Language: lang,
		IdempotencyKey: c.r.Header.Get(idempotencyHeader),
	})
	if err != nil {
		return err
	}
	first, err := h.first(ctx, c.actor, res.Conversation.ID, nil)
	if err != nil {
		return err
	}
	out, err := h.render(ctx, c.actor.Channel(), res.Conversation, first, h.svc.Translate(ctx, to, []message.Message{res.Message}))
	if err != nil {
		return err
	}
	h.succeed(c, respCreateMessage, contentJSON{Conversation: out})
	return nil
}

// content renders a conversation with a page of its messages, oldest
// first, in language to (if set). With markRead, a first page newer than
// the caller's read position marks the conversation read up to it.
func (h *Handler) content(ctx context.Context, c *call, conv conversation.Conversation, p parley.PageRequest, to string, markRead bool) (contentJSON, error) {
	page, err := h.svc.Messages(ctx, c.actor, conv.ID, p)
	if err != nil {
		return contentJSON{}, err
	}
	if sender, ok := c.actor.Sender(); ok && markRead && p.Cursor == "" && len(page.Items) > 0 &&
		page.Items[0].Seq > conv.Read(conversation.Side(sender.Kind)).ReadSeq {
		if conv, err = h.svc.MarkRead(ctx, c.actor, conv.ID, page.Items[0].ID); err != nil {
			return contentJSON{}, err
		}
	}
	first, err := h.first(ctx, c.actor, conv.ID, page.Items)
	if err != nil {
		return contentJSON{}, err
	}
	msgs := slices.Clone(page.Items)
	slices.Reverse(msgs)
	out, err := h.render(ctx, c.actor.Channel(), conv, first, h.svc.Translate(ctx, to, msgs))
	if err != nil {
		return contentJSON{}, err
	}
	return contentJSON{Conversation: out, NextPageToken: page.Next}, nil
}

// first returns a conversation's first message: from msgs if it is there,
// else from the store.
func (h *Handler) first(ctx context.Context, a parley.Actor, id int64, msgs []message.Message) (message.Message, error) {
	for _, m := range msgs {
		if m.Seq == 1 {
			return m, nil
		}
	}
	ms, err := h.svc.Poll(ctx, a, id, 0, 1)
	if err != nil {
		return message.Message{}, err
	}
	if len(ms) == 0 {
		return message.Message{}, fmt.Errorf("guestv40: conversation %d has no first message", id)
	}
	return ms[0], nil
}

// render builds seed 001's conversation with the given messages. Its
// conversationType is "guest" when a guest wrote the first message.
func (h *Handler) render(ctx context.Context, channel string, conv conversation.Conversation, first message.Message, msgs []message.Message) (conversationJSON, error) {
	outlet, err := h.outlet(ctx, channel, conv.DataSourceID)
	if err != nil {
		return conversationJSON{}, err
	}
	guest, err := h.guest(ctx, channel, conv.UserID)
	if err != nil {
		return conversationJSON{}, err
	}
	if guest.FirstName == "" && guest.LastName == "" {
		guest.FirstName, guest.LastName = conv.Attributes.UserFirstName, conv.Attributes.UserLastName
	}
	if guest.LanguageCode == "" {
		guest.LanguageCode = conv.Language
	}
	out := conversationJSON{
		Code: conv.Code.String(), Subject: opt(conv.Subject), OutletCode: conv.DataSourceID,
		OutletName: opt(outlet.Name), PropertyCode: opt(outlet.PropertyCode), RoomNumber: opt(guest.RoomNumber),
		GuestFirstName: opt(guest.FirstName), GuestLastName: opt(guest.LastName), GuestLanguageCode: opt(guest.LanguageCode),
		ConversationStatus: string(conv.Status), Messages: make([]messageJSON, 0, len(msgs)),
	}
	if conv.Item.Kind == conversation.ItemOrderItem {
		out.OrderCode = opt(conv.Item.ID)
	}
	if first.Sender.Kind == message.SenderUser && first.Sender.UserType == message.UserGuest {
		out.ConversationType = typeGuest
	}
	for _, m := range msgs {
		side := conversation.Side(m.Sender.Kind)
		j := messageJSON{
			CreateDate: m.CreatedAt.UTC().Format(timeLayout), Code: m.Code.String(),
			IsRead: conv.IsReadBy(side.Other(), m.Seq), Content: m.Content,
			LanguageCode: opt(m.Language), IsTranslated: m.TranslatedFrom != "", ConversationID: m.ConversationID,
		}
		if m.Sender.Kind == message.SenderUser {
			j.MessageType, j.FirstName, j.LastName = typeGuest, opt(guest.FirstName), opt(guest.LastName)
		} else {
			j.MessageType, j.ServiceCenterName = typeOutlet, opt(outlet.ServiceCenterName)
		}
		out.Messages = append(out.Messages, j)
	}
	return out, nil
}

// outlet asks the Directory for an outlet; unknown is zero.
func (h *Handler) outlet(ctx context.Context, channel, code string) (Outlet, error) {
	if h.cfg.Directory == nil {
		return Outlet{}, nil
	}
	o, err := h.cfg.Directory.Outlet(ctx, channel, code)
	if err != nil && !errors.Is(err, ErrUnknown) {
		return Outlet{}, fmt.Errorf("guestv40: directory: outlet: %w", err)
	}
	return o, nil
}

// guest asks the Directory for a guest; unknown is zero.
func (h *Handler) guest(ctx context.Context, channel, userID string) (Guest, error) {
	if h.cfg.Directory == nil {
		return Guest{}, nil
	}
	g, err := h.cfg.Directory.Guest(ctx, channel, userID)
	if err != nil && !errors.Is(err, ErrUnknown) {
		return Guest{}, fmt.Errorf("guestv40: directory: guest: %w", err)
	}
	return g, nil
}

// readerLanguage is the language the reader asks for: the languageCode
// query parameter (400 if malformed), else the preferred language of the
// Accept-Language header (ignored if malformed), else "" (as written).
func (h *Handler) readerLanguage(c *call) (string, error) {
	if v := c.r.URL.Query().Get(fLanguageCode); v != "" {
		if !validLanguage(v) {
			return "", invalid(map[string][]string{fLanguageCode: {"must be a language code such as en or pt-BR"}})
		}
		return v, nil
	}
	return acceptLanguage(c.r.Header.Get("Accept-Language")), nil
}

// acceptLanguage returns the language of highest quality in an
// Accept-Language header, or "".
func acceptLanguage(header string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		if tag = strings.TrimSpace(tag); q > bestQ && tag != "*" && validLanguage(tag) {
			best, bestQ = tag, q
		}
	}
	return best
}

// validLanguage reports whether s looks like a BCP 47 tag: subtags of 1
// to 8 ASCII letters or digits, the first of 2 or more letters; at most 35
// bytes.
func validLanguage(s string) bool {
	if len(s) > 35 || !utf8.ValidString(s) {
		return false
	}
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && len(part) < 2) {
			return false
		}
		for j := 0; j < len(part); j++ {
			ch := part[j] | 0x20
			if !(ch >= 'a' && ch <= 'z' || i > 0 && part[j] >= '0' && part[j] <= '9') {
				return false
			}
		}
	}
	return true
}

// resolve finds the conversation a path names: by its numeric id (the
// messages' conversationId), or by its code, with one indexed lookup.
// Anything else, or a code not found, is 404.
func (h *Handler) resolve(ctx context.Context, a parley.Actor, ref string) (conversation.Conversation, error) {
	if id, ok := dialect.PositiveInt(ref); ok {
		return h.svc.Get(ctx, a, id)
	}
	code, err := uuid.Parse(ref)
	if err != nil || code == uuid.Nil {
		return conversation.Conversation{}, &dialect.Problem{Status: http.StatusNotFound, Message: "The conversation was not found."}
	}
	return h.svc.GetByCode(ctx, a, code)
}
