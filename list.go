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
	// WithTotal asks for the exact number of matching items, which costs
	// a count; without it Page.Total is -1.
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
	return s.list(ctx, a.channel, f, nil, p)
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
// code); the others are ignored. The conversations carry no private data:
// their attributes other than the product base code and their read state
// are cleared.
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
	page, err := s.list(ctx, channel, f, types, p)
	for i := range page.Items {
		page.Items[i] = Public(page.Items[i])
	}
	return page, err
}

// Public returns c without its private data: the user's names, the order
// number and both sides' read state.
func Public(c conversation.Conversation) conversation.Conversation {
	c.Attributes = conversation.Attributes{ProductBaseCode: c.Attributes.ProductBaseCode}
	c.UserRead, c.SellerRead = conversation.ReadState{}, conversation.ReadState{}
	return c
}

func (s *Service) list(ctx context.Context, channel string, f conversation.Filter, types []conversation.Type, p PageRequest) (Page[conversation.Conversation], error) {
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
	q := store.ConversationQuery{Channel: channel, Filter: f, Types: types, After: after, Limit: limit, WithTotal: p.WithTotal}
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

// seekStep is how many conversations a walk to a position reads at once
// from a store without a Seeker.
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
	return s.messages(ctx, c, p)
}

// PublicMessages returns a page of a public conversation's messages,
// newest first, for the public listings. A private conversation is not
// found.
func (s *Service) PublicMessages(ctx context.Context, channel string, conversationID int64, p PageRequest) (Page[message.Message], error) {
	c, err := s.conversation(ctx, Integration(channel), conversationID)
	if err != nil {
		return Page[message.Message]{}, err
	}
	if !c.Type.Public() {
		return Page[message.Message]{}, fmt.Errorf("parley: conversation %d: %w", conversationID, ErrNotFound)
	}
	return s.messages(ctx, c, p)
}

// messages returns a page of c's messages. A page by offset starts from
// a Seq computed from c.LastSeq: Seqs have no gaps (see package store).
func (s *Service) messages(ctx context.Context, c conversation.Conversation, p PageRequest) (Page[message.Message], error) {
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
		if before == 0 {
			before = c.LastSeq + 1
		}
		if before -= min(p.Offset, before); before <= 1 {
			// Past the end: no message has a Seq below 1. (BeforeSeq 0
			// would mean "from the newest".)
			out.Items, out.Total = []message.Message{}, -1
			if p.WithTotal {
				out.Total = c.MessageCount
			}
			return out, nil
		}
	}
	page, err := s.store.ListMessages(ctx, store.MessageQuery{ConversationID: c.ID, BeforeSeq: before, Limit: limit, WithTotal: p.WithTotal})
	if err != nil {
		return out, fmt.Errorf("parley: list messages: %w", err)
	}
	out.Items, out.Total = page.Items, page.Total
	if page.More && len(page.Items) > 0 {
		out.Next = s.sealCursor(cursorMessages, page.Items[len(page.Items)-1].Seq)
	}
	return out, nil
}
