package store

import (
	"slices"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// The helpers below are the arithmetic of the store contract, written once
// for every backend: a store that keeps conversations as Go values calls
// them; a store that updates rows in SQL computes the same values in its
// statements, and the conformance suite (store/storetest) checks that both
// agree. Application code never needs them.

// ApplyFirst makes m the first message of the new conversation c, as
// CreateConversation stores it: whatever message state c carries is
// replaced (LastMessageID, LastMessageAt, ModifiedAt, LastSeq,
// MessageCount and both read states), then m is applied with
// ApplyMessage. m.ID may still be 0; a store that assigns it later sets
// m.ID and c.LastMessageID together.
func ApplyFirst(c *conversation.Conversation, m *message.Message) {
	c.LastMessageID, c.LastMessageAt, c.ModifiedAt = 0, time.Time{}, time.Time{}
	c.LastSeq, c.MessageCount = 0, 0
	c.UserRead, c.SellerRead = conversation.ReadState{}, conversation.ReadState{}
	ApplyMessage(c, m)
}

// ApplyMessage records m as the newest message of c, the way every store
// applies a message:
//
//   - m gets the next sequence number (m.Seq = c.LastSeq+1) and
//     m.ConversationID = c.ID;
//   - activity never goes backwards: m.CreatedAt is moved forward to c's
//     LastMessageAt or ModifiedAt if it is earlier (a writer that read the
//     clock before another writer's message was applied is dated at that
//     message's time), so that within a conversation message times never
//     decrease with Seq and LastMessageAt and ModifiedAt never decrease;
//   - c's LastSeq, MessageCount, LastMessageID (= m.ID), LastMessageAt
//     and ModifiedAt (= m.CreatedAt) follow;
//   - the sender's side has read everything up to its own message (its
//     ReadSeq is m.Seq and its Unread 0); the other side has one more
//     unread message.
//
// The side is the sender's kind (conversation.Side(m.Sender.Kind)). m.ID
// may still be 0; a store that assigns it later sets m.ID and
// c.LastMessageID together.
func ApplyMessage(c *conversation.Conversation, m *message.Message) {
	m.CreatedAt = latest(m.CreatedAt, c.LastMessageAt, c.ModifiedAt)
	c.LastSeq++
	c.MessageCount++
	m.Seq, m.ConversationID = c.LastSeq, c.ID
	c.LastMessageID = m.ID
	c.LastMessageAt, c.ModifiedAt = m.CreatedAt, m.CreatedAt
	own, other := &c.UserRead, &c.SellerRead
	if conversation.Side(m.Sender.Kind) == conversation.SideSeller {
		own, other = other, own
	}
	own.ReadSeq, own.Unread = m.Seq, 0
	other.Unread++
}

// ApplyStatus records a status change made at time at: c.Status becomes
// status, and c.ModifiedAt becomes at unless it is already later
// (ModifiedAt never moves backwards).
func ApplyStatus(c *conversation.Conversation, status conversation.Status, at time.Time) {
	c.Status = status
	c.ModifiedAt = latest(at, c.ModifiedAt)
}

// ApplyRead records that side s has read c up to the message with
// sequence number seq, after which the conversation holds otherAfter
// messages of the other side (the messages with a Seq above seq whose
// sender's kind is s.Other()). It is the one definition of the unread
// count that MarkRead keeps: the messages of the other side after the
// read position. A position behind or at the current one changes
// nothing: ApplyRead then returns false, and the store writes nothing.
func ApplyRead(c *conversation.Conversation, s conversation.Side, seq, otherAfter int64) bool {
	rs := &c.UserRead
	if s == conversation.SideSeller {
		rs = &c.SellerRead
	}
	if seq <= rs.ReadSeq {
		return false
	}
	rs.ReadSeq, rs.Unread = seq, otherAfter
	return true
}

// latest returns the latest of the given times.
func latest(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}

// NormalizeFilter returns f with its time bounds at TimePrecision, keeping
// exactly the conversations that f keeps: a From bound between two
// precision steps is rounded up, a To bound rounded down. Stores keep
// times at TimePrecision, so comparing their times with the normalised
// bounds at TimePrecision (as SQL stores do) selects the same
// conversations as Matches. Every store normalises a query's filter with
// it before translating the bounds.
func NormalizeFilter(f conversation.Filter) conversation.Filter {
	f.CreatedFrom, f.ModifiedFrom = ceilTime(f.CreatedFrom), ceilTime(f.ModifiedFrom)
	f.CreatedTo, f.ModifiedTo = floorTime(f.CreatedTo), floorTime(f.ModifiedTo)
	return f
}

// floorTime rounds t down to TimePrecision; the zero time stays zero.
func floorTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(TimePrecision)
}

// ceilTime rounds t up to TimePrecision; the zero time stays zero.
func ceilTime(t time.Time) time.Time {
	d := floorTime(t)
	if d.Equal(t) {
		return d
	}
	return d.Add(TimePrecision)
}

// Matches reports whether ListConversations lists c for q (ignoring the
// cursor q.After and the page size): c is in q.Channel, is not Hidden if
// q.Visible, has one of q.Types (if any) and satisfies every set field of q.Filter (fields
// combine with AND; time bounds are inclusive). Stores that filter in
// memory use it; SQL stores translate the same fields to WHERE clauses,
// with the bounds of NormalizeFilter, and the conformance suite checks
// that they agree.
func (q ConversationQuery) Matches(c conversation.Conversation) bool {
	f := q.Filter
	inRange := func(t, from, to time.Time) bool {
		return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
	}
	switch {
	case c.Channel != q.Channel,
		q.Visible && c.Hidden,
		len(q.Types) > 0 && !slices.Contains(q.Types, c.Type),
		!inRange(c.CreatedAt, f.CreatedFrom, f.CreatedTo),
		!inRange(c.ModifiedAt, f.ModifiedFrom, f.ModifiedTo),
		f.UserID != "" && c.UserID != f.UserID,
		f.DataSourceID != "" && c.DataSourceID != f.DataSourceID,
		f.ProductID != "" && c.Item != conversation.Product(f.ProductID),
		f.OrderItemID != "" && c.Item != conversation.OrderItem(f.OrderItemID),
		f.ItemKind != conversation.ItemNone && c.Item.Kind != f.ItemKind,
		f.Type != "" && c.Type != f.Type,
		f.Status != "" && c.Status != f.Status,
		f.ProductBaseCode != "" && c.Attributes.ProductBaseCode != f.ProductBaseCode,
		f.UserFirstName != "" && c.Attributes.UserFirstName != f.UserFirstName,
		f.UserLastName != "" && c.Attributes.UserLastName != f.UserLastName,
		f.OrderNumber != "" && c.Attributes.OrderNumber != f.OrderNumber:
		return false
	}
	return true
}

// PartyTotals are the totals a store keeps for one party (a user or a
// data source) in one channel, so that reading them costs the same
// whatever the number of the party's conversations (see the party totals
// in the package documentation).
type PartyTotals struct {
	// Conversations is the number of the party's conversations.
	Conversations int64
	// UnreadMessages is the sum of the party's side's Unread over them.
	UnreadMessages int64
	// UnreadConversations is the number of them whose Unread (on the
	// party's side) is above zero.
	UnreadConversations int64
}

// Contribution returns what conversation c adds to the totals of its
// party on side s: one conversation, s's Unread, and one unread
// conversation if that is above zero. It is the one definition of the
// party totals: a party's totals are the sum of Contribution over its
// conversations.
func Contribution(c conversation.Conversation, s conversation.Side) PartyTotals {
	n := c.Read(s).Unread
	var unread int64
	if n > 0 {
		unread = 1
	}
	return PartyTotals{Conversations: 1, UnreadMessages: n, UnreadConversations: unread}
}

// Change returns the change of the totals of the party on side s when a
// write turns conversation before into after (CreateConversation: before
// is nil). A store adds it to the party's totals in the write's
// transaction; a zero change needs no write.
func Change(before *conversation.Conversation, after conversation.Conversation, s conversation.Side) PartyTotals {
	d := Contribution(after, s)
	if before != nil {
		d = d.Sub(Contribution(*before, s))
	}
	return d
}

// Add returns t plus d.
func (t PartyTotals) Add(d PartyTotals) PartyTotals {
	return PartyTotals{t.Conversations + d.Conversations, t.UnreadMessages + d.UnreadMessages, t.UnreadConversations + d.UnreadConversations}
}

// Sub returns t minus d.
func (t PartyTotals) Sub(d PartyTotals) PartyTotals {
	return PartyTotals{t.Conversations - d.Conversations, t.UnreadMessages - d.UnreadMessages, t.UnreadConversations - d.UnreadConversations}
}

// IsZero reports whether every total is zero.
func (t PartyTotals) IsZero() bool { return t == PartyTotals{} }

// Unread returns the unread part of t, as Store.Unread reports it.
func (t PartyTotals) Unread() UnreadSummary {
	return UnreadSummary{Messages: t.UnreadMessages, Conversations: t.UnreadConversations}
}

// PartyOf returns the party of c on side s: its UserID (SideUser) or its
// DataSourceID (SideSeller).
func PartyOf(c conversation.Conversation, s conversation.Side) string {
	if s == conversation.SideSeller {
		return c.DataSourceID
	}
	return c.UserID
}

// InboxParty reports whether q selects the whole inbox of one party, and
// which: a channel and exactly one of Filter.UserID and
// Filter.DataSourceID, with no other filter field and no Types. The
// number of such a listing's conversations is the party's
// PartyTotals.Conversations, which a store reads instead of counting
// (see ConversationQuery.WithTotal).
func (q ConversationQuery) InboxParty() (conversation.Side, string, bool) {
	f := q.Filter
	f.UserID, f.DataSourceID = "", ""
	if len(q.Types) > 0 || f != (conversation.Filter{}) {
		return "", "", false
	}
	switch u, d := q.Filter.UserID, q.Filter.DataSourceID; {
	case u != "" && d == "":
		return conversation.SideUser, u, true
	case d != "" && u == "":
		return conversation.SideSeller, d, true
	}
	return "", "", false
}
