package parley

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// PageRequest asks for one page of a listing.
type PageRequest struct {
	// Limit is the page size: 0 means Limits.DefaultPageSize, and larger
	// sizes than Limits.MaxPageSize are capped to it.
	Limit int
	// Cursor continues a listing: the Next of the previous page. Cursors
	// are opaque; an altered one is ErrInvalidCursor.
	Cursor string
	// WithTotal asks for the exact number of matching items; without it
	// Page.Total is -1. The total of a party's whole inbox (List by a user
	// or a seller with no other filter) is read from the party's totals,
	// which stores keep in every write: it costs the same whatever the
	// party's size. Any other total (a filtered listing, a channel's, the
	// public listings) is a count of the matches over the listing's
	// index, which grows with the number of matches: ask for it only when
	// it is shown.
	WithTotal bool
	// Offset skips that many items (after Cursor, when both are set)
	// before the page: page number N of Limit items is Offset
	// (N-1)*Limit, and equals what following Next N-1 times gives.
	// Messages cost the same at any depth (the page starts at a Seq
	// computed from the offset); conversations cost one more read, an
	// offset into the store's listing index (store.Seeker), which counts
	// index entries without reading their rows (a store without a Seeker
	// is walked). A page past the end is empty. Negative is a
	// *ValidationError of FieldOffset.
	Offset int64
}

// Page is one page of a listing.
type Page[T any] struct {
	Items []T
	// Next is the cursor of the next page, or "" on the last page.
	Next string
	// Total is the number of matching items, or -1 if not asked for.
	Total int64
}

func (s *Service) limit(p PageRequest) (int, error) {
	switch {
	case p.Offset < 0:
		return 0, &ValidationError{Field: FieldOffset, Reason: "must not be negative"}
	case p.Limit < 0:
		return 0, &ValidationError{Field: FieldLimit, Reason: "must not be negative"}
	case p.Limit == 0:
		return s.opts.Limits.DefaultPageSize, nil
	}
	return min(p.Limit, s.opts.Limits.MaxPageSize), nil
}

// List returns the actor's conversations, newest activity first: a user's
// own, a seller's data source's, or, for an integration acting for itself,
// the whole channel's. Filter fields narrow the result; a filter on
// another party than the actor matches nothing.
func (s *Service) List(ctx context.Context, a Actor, f conversation.Filter, p PageRequest) (Page[conversation.Conversation], error) {
	if err := s.checkActor(a); err != nil {
		return Page[conversation.Conversation]{}, err
	}
	if sender, ok := a.Sender(); ok {
		own := &f.UserID
		if sender.Kind == message.SenderDataSource {
			own = &f.DataSourceID
		}
		if *own != "" && *own != sender.ID {
			return Page[conversation.Conversation]{Total: emptyTotal(p)}, nil
		}
		*own = sender.ID
	}
	return s.list(ctx, a.channel, f, nil, false, p)
}

func emptyTotal(p PageRequest) int64 {
	if p.WithTotal {
		return 0
	}
	return -1
}

// PublicList returns the public conversations of a channel (seed 000's
// public questions and reviews): t is conversation.TypeQuestion or
// conversation.TypeReview, or "" for both. Only the public filters apply
// (dates, user, product, order item, item type, data source, product base
// code); the others are ignored. Conversations an operator has hidden are
// left out. The conversations carry no private data: their attributes
// other than the product base code and their read state are cleared, and
// their MessageCount leaves hidden messages out.
func (s *Service) PublicList(ctx context.Context, channel string, t conversation.Type, f conversation.Filter, p PageRequest) (Page[conversation.Conversation], error) {
	var fe fieldErrors
	s.opts.Limits.id(&fe, FieldChannel, channel)
	if t != "" && !t.Public() {
		fe.add(FieldConversationType, fmt.Sprintf("%q is not a public type (question, review)", t))
	}
	if err := fe.err(); err != nil {
		return Page[conversation.Conversation]{}, err
	}
	types := []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}
	if t != "" {
		types = []conversation.Type{t}
	}
	f.Type, f.Status, f.UserFirstName, f.UserLastName, f.OrderNumber = "", "", "", "", ""
	page, err := s.list(ctx, channel, f, types, true, p)
	for i := range page.Items {
		page.Items[i] = Public(page.Items[i])
	}
	return page, err
}

// ConversationMessages is a conversation of a listing with its newest
// messages (seed 000's message set).
type ConversationMessages struct {
	Conversation conversation.Conversation
	// Messages are the conversation's newest messages, newest first.
	Messages []message.Message
}

// ListWithMessages is List with each conversation's newest messages: at
// most n of each, n capped to Limits.MaxPageSize (0: none, negative:
// a *ValidationError). The permission rules are List's; the messages of a
// whole page are read at once, after the listing, so a page costs the
// same number of store reads whatever its size.
func (s *Service) ListWithMessages(ctx context.Context, a Actor, f conversation.Filter, p PageRequest, n int) (Page[ConversationMessages], error) {
	if err := checkSetSize(n); err != nil {
		return Page[ConversationMessages]{}, err
	}
	page, err := s.List(ctx, a, f, p)
	if err != nil {
		return Page[ConversationMessages]{}, err
	}
	return s.withMessages(ctx, &a, page, n)
}

// PublicListWithMessages is PublicList with each conversation's newest
// messages, as ListWithMessages reads them.
func (s *Service) PublicListWithMessages(ctx context.Context, channel string, t conversation.Type, f conversation.Filter, p PageRequest, n int) (Page[ConversationMessages], error) {
	if err := checkSetSize(n); err != nil {
		return Page[ConversationMessages]{}, err
	}
	page, err := s.PublicList(ctx, channel, t, f, p)
	if err != nil {
		return Page[ConversationMessages]{}, err
	}
	return s.withMessages(ctx, nil, page, n)
}

// GetWithMessages is Get with the conversation's newest messages, as
// ListWithMessages reads them.
func (s *Service) GetWithMessages(ctx context.Context, a Actor, id int64, n int) (ConversationMessages, error) {
	if err := checkSetSize(n); err != nil {
		return ConversationMessages{}, err
	}
	c, err := s.Get(ctx, a, id)
	if err != nil {
		return ConversationMessages{}, err
	}
	page, err := s.withMessages(ctx, &a, Page[conversation.Conversation]{Items: []conversation.Conversation{c}}, n)
	if err != nil {
		return ConversationMessages{}, err
	}
	return page.Items[0], nil
}

func checkSetSize(n int) error {
	if n < 0 {
		return &ValidationError{Field: FieldLimit, Reason: "messages per conversation must not be negative"}
	}
	return nil
}

// withMessages adds to the conversations of a page, which actor a may see,
// their newest n messages, as Messages shows them: one store read for the
// whole page. A nil a is the public listings: hidden messages are left
// out, as PublicMessages does.
func (s *Service) withMessages(ctx context.Context, a *Actor, page Page[conversation.Conversation], n int) (Page[ConversationMessages], error) {
	out := Page[ConversationMessages]{Items: make([]ConversationMessages, len(page.Items)), Next: page.Next, Total: page.Total}
	for i, c := range page.Items {
		out.Items[i].Conversation = c
	}
	if n == 0 || len(page.Items) == 0 {
		return out, nil
	}
	ids := make([]int64, len(page.Items))
	for i, c := range page.Items {
		ids[i] = c.ID
	}
	q := store.MessageSetQuery{ConversationIDs: ids, Limit: min(n, s.opts.Limits.MaxPageSize), Visible: a == nil}
	sets, err := s.store.MessageSets(ctx, q)
	if err != nil {
		return Page[ConversationMessages]{}, fmt.Errorf("parley: message sets: %w", err)
	}
	for i := range out.Items {
		out.Items[i].Messages = sets[i]
		if a != nil {
			out.Items[i].Messages = s.shown(*a, out.Items[i].Conversation, sets[i])
		}
	}
	return out, nil
}

// Public returns c without its private data: the user's names, the order
// number and both sides' read state; and without what an operator hid:
// MessageCount counts the visible messages only.
func Public(c conversation.Conversation) conversation.Conversation {
	c.Attributes = conversation.Attributes{ProductBaseCode: c.Attributes.ProductBaseCode}
	c.UserRead, c.SellerRead = conversation.ReadState{}, conversation.ReadState{}
	c.MessageCount -= c.HiddenMessages
	c.HiddenMessages = 0
	return c
}

func (s *Service) list(ctx context.Context, channel string, f conversation.Filter, types []conversation.Type, visible bool, p PageRequest) (Page[conversation.Conversation], error) {
	var out Page[conversation.Conversation]
	if err := s.checkFilter(f); err != nil {
		return out, err
	}
	limit, err := s.limit(p)
	if err != nil {
		return out, err
	}
	after, err := s.conversationCursor(p.Cursor)
	if err != nil {
		return out, err
	}
	q := store.ConversationQuery{Channel: channel, Filter: f, Types: types, After: after, Limit: limit, WithTotal: p.WithTotal, Visible: visible}
	if p.Offset > 0 {
		pos, ok, err := s.seekConversations(ctx, q, p.Offset)
		if err != nil {
			return out, fmt.Errorf("parley: list conversations: %w", err)
		}
		if !ok {
			// Past the end: an empty page, with the total if asked.
			return s.emptyPage(ctx, q)
		}
		q.After = &pos
	}
	page, err := s.store.ListConversations(ctx, q)
	if err != nil {
		return out, fmt.Errorf("parley: list conversations: %w", err)
	}
	out.Items, out.Total = page.Items, page.Total
	if page.More && len(page.Items) > 0 {
		last := page.Items[len(page.Items)-1]
		out.Next = s.sealCursor(cursorConversations, last.LastMessageAt.UnixMicro(), last.ID)
	}
	return out, nil
}

// seekConversations returns the position of the n-th conversation of q's
// listing (after q.After): with the store's Seeker in one read, else by
// walking the listing.
func (s *Service) seekConversations(ctx context.Context, q store.ConversationQuery, n int64) (store.ConversationCursor, bool, error) {
	if sk, ok := s.store.(store.Seeker); ok {
		return sk.SeekConversations(ctx, q, n)
	}
	q.WithTotal = false
	for {
		q.Limit = int(min(n, seekStep))
		page, err := s.store.ListConversations(ctx, q)
		if err != nil || len(page.Items) < q.Limit {
			return store.ConversationCursor{}, false, err
		}
		last := page.Items[len(page.Items)-1]
		pos := store.ConversationCursor{LastMessageAt: last.LastMessageAt, ID: last.ID}
		if n -= int64(q.Limit); n == 0 {
			return pos, true, nil
		}
		q.After = &pos
	}
}

// seekMessages returns the BeforeSeq at which a page of c's messages
// starts after skipping n of them from before (0: the newest), and false
// past the end. Seqs have no gaps, so it is arithmetic, unless only
// visible messages are listed and some are hidden: it then walks them.
func (s *Service) seekMessages(ctx context.Context, c conversation.Conversation, visible bool, before, n int64) (int64, bool, error) {
	if before == 0 {
		before = c.LastSeq + 1
	}
	if !visible || c.HiddenMessages == 0 {
		before -= min(n, before)
		return before, before > 1, nil // BeforeSeq 1 would list nothing
	}
	for n > 0 {
		q := store.MessageQuery{ConversationID: c.ID, BeforeSeq: before, Limit: int(min(n, seekStep)), Visible: true}
		page, err := s.store.ListMessages(ctx, q)
		if err != nil || len(page.Items) < q.Limit {
			return 0, false, err
		}
		before = page.Items[len(page.Items)-1].Seq
		n -= int64(q.Limit)
	}
	return before, true, nil
}

// seekStep is how many items a walk to a position reads at once (from a
// store without a Seeker, or the visible messages of a conversation with
// hidden ones).
const seekStep = 1000

// emptyPage is the page past the end of q's listing: no items, and the
// total if asked.
func (s *Service) emptyPage(ctx context.Context, q store.ConversationQuery) (Page[conversation.Conversation], error) {
	out := Page[conversation.Conversation]{Items: []conversation.Conversation{}, Total: -1}
	if !q.WithTotal {
		return out, nil
	}
	q.After, q.Limit = nil, 1
	page, err := s.store.ListConversations(ctx, q)
	if err != nil {
		return Page[conversation.Conversation]{}, fmt.Errorf("parley: list conversations: %w", err)
	}
	out.Total = page.Total
	return out, nil
}

// checkFilter validates the enum and id fields of a filter.
func (s *Service) checkFilter(f conversation.Filter) error {
	var fe fieldErrors
	l := s.opts.Limits
	if f.Type != "" && !f.Type.Valid() {
		fe.add(FieldConversationType, fmt.Sprintf("%q is not a valid choice (message, question, review)", f.Type))
	}
	if !f.ItemKind.Valid() {
		fe.add(FieldItemContent, fmt.Sprintf("%q is not a valid choice (product, orderitem)", f.ItemKind))
	}
	if f.Status != "" && !f.Status.Valid() {
		fe.add(FieldStatus, fmt.Sprintf("%q is not a valid choice (open, closed)", f.Status))
	}
	for _, v := range []struct{ field, value string }{
		{FieldUser, f.UserID}, {FieldDataSource, f.DataSourceID}, {FieldItemID, f.ProductID}, {FieldItemID, f.OrderItemID},
		{FieldFilter, f.ProductBaseCode}, {FieldFilter, f.UserFirstName}, {FieldFilter, f.UserLastName}, {FieldFilter, f.OrderNumber},
	} {
		if v.value == "" {
			continue
		}
		if len(v.value) > 4*l.MaxIDBytes {
			fe.add(v.field, "is too long")
		} else if why := checkText(v.value, textSubject); why != "" {
			fe.add(v.field, why)
		}
	}
	return fe.err()
}

// Messages returns a page of a conversation's messages, newest first.
func (s *Service) Messages(ctx context.Context, a Actor, conversationID int64, p PageRequest) (Page[message.Message], error) {
	if err := s.checkActor(a); err != nil {
		return Page[message.Message]{}, err
	}
	c, err := s.conversation(ctx, a, conversationID)
	if err != nil {
		return Page[message.Message]{}, err
	}
	page, err := s.messages(ctx, c, false, p)
	page.Items = s.shown(a, c, page.Items)
	return page, err
}

// PublicMessages returns a page of a public conversation's messages,
// newest first, for the public listings. A private conversation, and one
// an operator has hidden, is not found; hidden messages are left out.
func (s *Service) PublicMessages(ctx context.Context, channel string, conversationID int64, p PageRequest) (Page[message.Message], error) {
	c, err := s.conversation(ctx, Integration(channel), conversationID)
	if err != nil {
		return Page[message.Message]{}, err
	}
	if !c.Type.Public() || c.Hidden {
		return Page[message.Message]{}, fmt.Errorf("parley: conversation %d: %w", conversationID, ErrNotFound)
	}
	return s.messages(ctx, c, true, p)
}

// shown returns msgs as actor a sees them in conversation c: an operator
// sees everything; anyone else sees a hidden message, and every message
// of a hidden conversation, as Hidden without its Content, unless
// Options.ShowHiddenToParties.
func (s *Service) shown(a Actor, c conversation.Conversation, msgs []message.Message) []message.Message {
	if a.kind == ActorOperator || s.opts.ShowHiddenToParties {
		return msgs
	}
	for i := range msgs {
		if msgs[i].Hidden || c.Hidden {
			msgs[i].Hidden, msgs[i].Content = true, ""
		}
	}
	return msgs
}

// messages returns a page of c's messages (with visible, only those not
// hidden). A page by offset starts from a Seq computed from c.LastSeq, as
// Seqs have no gaps (see package store); a visible-only listing of a
// conversation with hidden messages has gaps, and is walked instead.
func (s *Service) messages(ctx context.Context, c conversation.Conversation, visible bool, p PageRequest) (Page[message.Message], error) {
	var out Page[message.Message]
	limit, err := s.limit(p)
	if err != nil {
		return out, err
	}
	before, err := s.messageCursor(p.Cursor)
	if err != nil {
		return out, err
	}
	if p.Offset > 0 {
		var ok bool
		if before, ok, err = s.seekMessages(ctx, c, visible, before, p.Offset); err != nil {
			return out, fmt.Errorf("parley: list messages: %w", err)
		}
		if !ok {
			// Past the end.
			out.Items, out.Total = []message.Message{}, -1
			if p.WithTotal {
				out.Total = c.MessageCount
				if visible {
					out.Total -= c.HiddenMessages
				}
			}
			return out, nil
		}
	}
	page, err := s.store.ListMessages(ctx, store.MessageQuery{ConversationID: c.ID, BeforeSeq: before, Limit: limit, WithTotal: p.WithTotal, Visible: visible})
	if err != nil {
		return out, fmt.Errorf("parley: list messages: %w", err)
	}
	out.Items, out.Total = page.Items, page.Total
	if page.More && len(page.Items) > 0 {
		out.Next = s.sealCursor(cursorMessages, page.Items[len(page.Items)-1].Seq)
	}
	return out, nil
}
