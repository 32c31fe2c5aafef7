package guestv40

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/internal/wire"
	"github.com/parleyhq/parley/message"
)

// Request fields and query parameters.
const (
	fMessage            = "message"
	fConversationType   = "conversationType"
	fOutletCode         = "outletCode"
	fOrderCode          = "orderCode"
	fSessionToken       = "sessionToken"
	fLanguageCode       = "languageCode"
	fConversationStatus = "conversationStatus"

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

// conversationJSON is seed 001's conversation. Every field the document
// gives as a string is a string, never null: "" where Parley or the
// Directory has no value (see the package doc, Strings).
type conversationJSON struct {
	Code               string        `json:"code"`
	Subject            string        `json:"subject"`
	OutletCode         string        `json:"outletCode"`
	OrderCode          string        `json:"orderCode"`
	OutletName         string        `json:"outletName"`
	PropertyCode       string        `json:"propertyCode"`
	RoomNumber         string        `json:"roomNumber"`
	GuestFirstName     string        `json:"guestFirstName"`
	GuestLastName      string        `json:"guestLastName"`
	GuestLanguageCode  string        `json:"guestLanguageCode"`
	ConversationStatus string        `json:"conversationStatus"`
	ConversationType   string        `json:"conversationType"`
	Messages           []messageJSON `json:"messages"`
}

// messageJSON is seed 001's message; its strings are never null either.
type messageJSON struct {
	CreateDate        string `json:"createDate"`
	Code              string `json:"code"`
	IsRead            bool   `json:"isRead"`
	ServiceCenterName string `json:"serviceCenterName"`
	MessageType       string `json:"messageType"`
	Content           string `json:"content"`
	FirstName         string `json:"firstName"`
	LastName          string `json:"lastName"`
	LanguageCode      string `json:"languageCode"`
	IsTranslated      bool   `json:"isTranslated"`
	ConversationID    int64  `json:"conversationId"`
}

// contentJSON is the content of a conversation response. NextPageToken,
// when set, continues with older messages (?pageToken=).
type contentJSON struct {
	Conversation  conversationJSON `json:"conversation"`
	NextPageToken string           `json:"nextPageToken,omitempty"`
}

// request is a decoded write request.
type request struct {
	message, conversationType, outletCode, orderCode, sessionToken, languageCode, status string
}

// decode reads a write request body: field names match without regard to
// case (as ASP.NET binds them); sessionToken is required, and so are the
// fields named in required. The session token is checked before anything
// else is.
func (d *dialect) decode(c *httpapi.Call, required ...string) (request, error) {
	o, err := c.Object(true)
	if err != nil {
		return request{}, err
	}
	req := request{
		message: o.String(fMessage), conversationType: o.String(fConversationType),
		outletCode: o.ID(fOutletCode), orderCode: o.ID(fOrderCode),
		sessionToken: o.String(fSessionToken), languageCode: o.String(fLanguageCode),
		status: o.String(fConversationStatus),
	}
	setToken(c, req.sessionToken)
	fields := httpapi.Fields{}
	for _, e := range o.TypeErrors {
		reason := "must be a string"
		if e.Want == httpapi.WantID {
			reason = "must be a string or an integer"
		}
		fields.Add(e.Field, reason)
	}
	if req.sessionToken == "" && len(fields[fSessionToken]) == 0 {
		fields.Add(fSessionToken, "is required")
	}
	for _, name := range required {
		if !o.Has(name) {
			fields.Add(name, "is required")
		}
	}
	switch strings.ToLower(req.conversationType) {
	case "":
	case typeGuest:
		req.conversationType = typeGuest
		if s, _ := c.Actor.Sender(); s.Kind == message.SenderUser && s.UserType != message.UserGuest {
			fields.Add(fConversationType, "must be empty for a registered user: a guest's conversation is written by the guest")
		}
	default:
		fields.Add(fConversationType, fmt.Sprintf("must be empty or \"guest\", not %q", wire.Clip(req.conversationType, 40)))
	}
	if err := fields.Err(); err != nil {
		return request{}, err
	}
	_, err = d.session(c, req.sessionToken)
	return req, err
}

// createConversation serves POST .../Conversations: a guest starts a
// conversation with an outlet (Options.DefaultOutlet's if outletCode is
// empty), about an order if orderCode is set. Parley keeps one
// conversation per guest, outlet and order: if it exists, the message is
// added to it and the response is that conversation.
func (d *dialect) createConversation(c *httpapi.Call) error {
	req, err := d.decode(c, fMessage)
	if err != nil {
		return err
	}
	if c.Actor.Kind() != parley.ActorUser {
		p := httpapi.NewProblem(httpapi.CodePermission)
		p.Err = &parley.PermissionError{Reason: c.Actor.Kind().String() + " cannot create a guest conversation"}
		return p
	}
	to, err := readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	sender, _ := c.Actor.Sender()
	outlet := req.outletCode
	switch {
	case outlet == "" && d.opts.DefaultOutlet == nil:
		return httpapi.Invalid(fOutletCode, "is required")
	case outlet == "":
		if outlet, err = d.opts.DefaultOutlet(ctx, c.Actor.Channel(), sender.ID); err != nil {
			return fmt.Errorf("guestv40: default outlet: %w", err)
		}
	case d.opts.Directory != nil:
		if _, err := d.opts.Directory.Outlet(ctx, c.Actor.Channel(), outlet); errors.Is(err, ErrUnknown) {
			return httpapi.Invalid(fOutletCode, fmt.Sprintf("Unknown outlet %q.", wire.Clip(outlet, 64)))
		} else if err != nil {
			return fmt.Errorf("guestv40: directory: outlet: %w", err)
		}
	}
	lang := req.languageCode
	if lang == "" {
		g, err := d.guest(ctx, c.Actor.Channel(), sender.ID)
		if err != nil {
			return err
		}
		lang = g.LanguageCode
	}
	var item conversation.Item
	if req.orderCode != "" {
		item = conversation.OrderItem(req.orderCode)
	}
	key := c.R.Header.Get(idempotencyHeader)
	res, err := d.svc.Start(ctx, c.Actor, parley.StartRequest{
		Type: conversation.TypeMessage, DataSourceID: outlet, Item: item,
		Content: req.message, Language: lang, IdempotencyKey: key,
	})
	var exists *parley.ConversationExistsError
	if errors.As(err, &exists) {
		if key != "" {
			key = "existing:" + key
		}
		res, err = d.svc.Post(ctx, c.Actor, parley.PostRequest{
			ConversationID: exists.ID, Content: req.message, Language: lang, IdempotencyKey: key,
		})
	}
	if err != nil {
		return err
	}
	content, err := d.content(ctx, c, res.Conversation, parley.PageRequest{Limit: d.opts.PageSize}, to, false)
	if err != nil {
		return err
	}
	succeed(c, respCreateConversation, content)
	return nil
}

// getConversation serves GET .../Conversations/{code}?sessionToken=...:
// the conversation with its newest messages (pageSize, at most 100),
// oldest first; nextPageToken continues with older ones (?pageToken=).
// languageCode (or the Accept-Language header) asks for the messages in
// that language. Viewing the newest messages marks them read for the
// caller.
func (d *dialect) getConversation(c *httpapi.Call) error {
	q := c.R.URL.Query()
	tok := q.Get(fSessionToken)
	setToken(c, tok)
	fields := httpapi.Fields{}
	if tok == "" {
		fields.Add(fSessionToken, "is required")
	}
	p := parley.PageRequest{Limit: d.opts.PageSize, Cursor: q.Get(qPageToken)}
	if v := q.Get(qPageSize); v != "" {
		n, ok := wire.PositiveInt(v)
		if !ok {
			fields.Add(qPageSize, "must be a positive integer")
		}
		p.Limit = int(min(n, MaxPageSize))
	}
	if err := fields.Err(); err != nil {
		return err
	}
	if _, err := d.session(c, tok); err != nil {
		return err
	}
	to, err := readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	conv, err := d.resolve(ctx, c.Actor, c.R.PathValue("code"))
	if err != nil {
		return err
	}
	content, err := d.content(ctx, c, conv, p, to, true)
	if err != nil {
		return err
	}
	succeed(c, respGetConversation, content)
	return nil
}

// createMessage serves POST .../Conversations/{code}/Messages with
// {message, sessionToken, languageCode}: a message added to the
// conversation by the guest or the outlet. The response is the
// conversation with the new message.
func (d *dialect) createMessage(c *httpapi.Call) error {
	req, err := d.decode(c, fMessage)
	if err != nil {
		return err
	}
	to, err := readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	conv, err := d.resolve(ctx, c.Actor, c.R.PathValue("code"))
	if err != nil {
		return err
	}
	lang := req.languageCode
	if sender, ok := c.Actor.Sender(); ok && lang == "" && sender.Kind == message.SenderUser {
		g, err := d.guest(ctx, c.Actor.Channel(), sender.ID)
		if err != nil {
			return err
		}
		lang = g.LanguageCode
	}
	res, err := d.svc.Post(ctx, c.Actor, parley.PostRequest{
		ConversationID: conv.ID, Content: req.message, Language: lang,
		IdempotencyKey: c.R.Header.Get(idempotencyHeader),
	})
	if err != nil {
		return err
	}
	first, err := d.first(ctx, c.Actor, res.Conversation.ID, nil)
	if err != nil {
		return err
	}
	out, err := d.render(ctx, c.Actor.Channel(), res.Conversation, first, d.svc.Translate(ctx, to, []message.Message{res.Message}))
	if err != nil {
		return err
	}
	succeed(c, respCreateMessage, contentJSON{Conversation: out})
	return nil
}

// setStatus serves PUT .../Conversations/{code}/Status with
// {conversationStatus, sessionToken}: the guest or the outlet closes
// ("closed") or reopens ("open") the conversation. The response is the
// conversation.
func (d *dialect) setStatus(c *httpapi.Call) error {
	req, err := d.decode(c, fConversationStatus)
	if err != nil {
		return err
	}
	st := conversation.Status(strings.ToLower(req.status))
	if !st.Valid() {
		return httpapi.Invalid(fConversationStatus, fmt.Sprintf("must be \"open\" or \"closed\", not %q", wire.Clip(req.status, 40)))
	}
	to, err := readerLanguage(c)
	if err != nil {
		return err
	}
	ctx := c.R.Context()
	conv, err := d.resolve(ctx, c.Actor, c.R.PathValue("code"))
	if err != nil {
		return err
	}
	if conv, err = d.svc.SetStatus(ctx, c.Actor, conv.ID, st); err != nil {
		return err
	}
	content, err := d.content(ctx, c, conv, parley.PageRequest{Limit: d.opts.PageSize}, to, false)
	if err != nil {
		return err
	}
	succeed(c, respSetStatus, content)
	return nil
}

// content renders a conversation with a page of its messages, oldest
// first, in language to (if set). With markRead, a first page newer than
// the caller's read position marks the conversation read up to it.
func (d *dialect) content(ctx context.Context, c *httpapi.Call, conv conversation.Conversation, p parley.PageRequest, to string, markRead bool) (contentJSON, error) {
	page, err := d.svc.Messages(ctx, c.Actor, conv.ID, p)
	if err != nil {
		return contentJSON{}, err
	}
	if sender, ok := c.Actor.Sender(); ok && markRead && p.Cursor == "" && len(page.Items) > 0 &&
		page.Items[0].Seq > conv.Read(conversation.Side(sender.Kind)).ReadSeq {
		if conv, err = d.svc.MarkRead(ctx, c.Actor, conv.ID, page.Items[0].ID); err != nil {
			return contentJSON{}, err
		}
	}
	first, err := d.first(ctx, c.Actor, conv.ID, page.Items)
	if err != nil {
		return contentJSON{}, err
	}
	msgs := slices.Clone(page.Items)
	slices.Reverse(msgs)
	out, err := d.render(ctx, c.Actor.Channel(), conv, first, d.svc.Translate(ctx, to, msgs))
	if err != nil {
		return contentJSON{}, err
	}
	return contentJSON{Conversation: out, NextPageToken: page.Next}, nil
}

// first returns a conversation's first message: from msgs if it is there,
// else from the store.
func (d *dialect) first(ctx context.Context, a parley.Actor, id int64, msgs []message.Message) (message.Message, error) {
	for _, m := range msgs {
		if m.Seq == 1 {
			return m, nil
		}
	}
	ms, err := d.svc.Poll(ctx, a, id, 0, 1)
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
func (d *dialect) render(ctx context.Context, channel string, conv conversation.Conversation, first message.Message, msgs []message.Message) (conversationJSON, error) {
	outlet, err := d.outlet(ctx, channel, conv.DataSourceID)
	if err != nil {
		return conversationJSON{}, err
	}
	guest, err := d.guest(ctx, channel, conv.UserID)
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
		Code: conv.Code.String(), Subject: conv.Subject, OutletCode: conv.DataSourceID,
		OutletName: outlet.Name, PropertyCode: outlet.PropertyCode, RoomNumber: guest.RoomNumber,
		GuestFirstName: guest.FirstName, GuestLastName: guest.LastName, GuestLanguageCode: guest.LanguageCode,
		ConversationStatus: string(conv.Status), Messages: make([]messageJSON, 0, len(msgs)),
	}
	if conv.Item.Kind == conversation.ItemOrderItem {
		out.OrderCode = conv.Item.ID
	}
	if first.Sender.Kind == message.SenderUser && first.Sender.UserType == message.UserGuest {
		out.ConversationType = typeGuest
	}
	for _, m := range msgs {
		side := conversation.Side(m.Sender.Kind)
		j := messageJSON{
			CreateDate: m.CreatedAt.UTC().Format(timeLayout), Code: m.Code.String(),
			IsRead: conv.IsReadBy(side.Other(), m.Seq), Content: m.Content,
			LanguageCode: m.Language, IsTranslated: m.TranslatedFrom != "", ConversationID: m.ConversationID,
		}
		if m.Sender.Kind == message.SenderUser {
			j.MessageType, j.FirstName, j.LastName = typeGuest, guest.FirstName, guest.LastName
		} else {
			j.MessageType, j.ServiceCenterName = typeOutlet, outlet.ServiceCenterName
		}
		out.Messages = append(out.Messages, j)
	}
	return out, nil
}

// outlet asks the Directory for an outlet; unknown is zero.
func (d *dialect) outlet(ctx context.Context, channel, code string) (Outlet, error) {
	if d.opts.Directory == nil {
		return Outlet{}, nil
	}
	o, err := d.opts.Directory.Outlet(ctx, channel, code)
	if err != nil && !errors.Is(err, ErrUnknown) {
		return Outlet{}, fmt.Errorf("guestv40: directory: outlet: %w", err)
	}
	return o, nil
}

// guest asks the Directory for a guest; unknown is zero.
func (d *dialect) guest(ctx context.Context, channel, userID string) (Guest, error) {
	if d.opts.Directory == nil {
		return Guest{}, nil
	}
	g, err := d.opts.Directory.Guest(ctx, channel, userID)
	if err != nil && !errors.Is(err, ErrUnknown) {
		return Guest{}, fmt.Errorf("guestv40: directory: guest: %w", err)
	}
	return g, nil
}

// readerLanguage is the language the reader asks for: the languageCode
// query parameter (400 if malformed), else the preferred language of the
// Accept-Language header (ignored if malformed), else "" (as written).
func readerLanguage(c *httpapi.Call) (string, error) {
	if v := c.R.URL.Query().Get(fLanguageCode); v != "" {
		if !validLanguage(v) {
			return "", httpapi.Invalid(fLanguageCode, "must be a language code such as en or pt-BR")
		}
		return v, nil
	}
	return acceptLanguage(c.R.Header.Get("Accept-Language")), nil
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
func (d *dialect) resolve(ctx context.Context, a parley.Actor, ref string) (conversation.Conversation, error) {
	if id, ok := wire.PositiveInt(ref); ok {
		return d.svc.Get(ctx, a, id)
	}
	code, err := uuid.Parse(ref)
	if err != nil || code == uuid.Nil {
		notFound := httpapi.NewProblem(httpapi.CodeNotFound)
		notFound.Message = "The conversation was not found."
		return conversation.Conversation{}, notFound
	}
	return d.svc.GetByCode(ctx, a, code)
}
