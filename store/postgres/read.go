package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// errLimit is returned for a page size below 1.
func errLimit(limit int) error { return fmt.Errorf("limit %d: must be at least 1", limit) }

// GetConversation returns the conversation with the given id, or
// store.ErrNotFound.
func (s *Store) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	return s.oneConversation(ctx, "get conversation", s.q.getConversation, id, "conversation")
}

// GetConversationByCode returns the conversation with the given code, or
// store.ErrNotFound: one seek in the unique index conversations_code.
func (s *Store) GetConversationByCode(ctx context.Context, code uuid.UUID) (conversation.Conversation, error) {
	return s.oneConversation(ctx, "get conversation by code", s.q.byCode, code, "conversation code")
}

// oneConversation returns the conversation that query selects with key,
// or store.ErrNotFound naming it what key.
func (s *Store) oneConversation(ctx context.Context, op, query string, key any, what string) (conversation.Conversation, error) {
	var res conversation.Conversation
	err := s.do(ctx, op, func(ctx context.Context) error {
		cs := newConvScan()
		err := s.pool.QueryRow(ctx, query, key).Scan(cs.dest[:]...)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("%s %v", what, key)
		}
		res = cs.result()
		return err
	})
	return res, err
}

// ListConversations returns a keyset page of a channel's conversations,
// newest activity first. The page and, with WithTotal, the count are sent
// together: one round trip. The total of a party's whole inbox is the
// sum of its totals' parts (see store.ConversationQuery.InboxParty), not
// a count.
func (s *Store) ListConversations(ctx context.Context, q store.ConversationQuery) (store.Page[conversation.Conversation], error) {
	var res store.Page[conversation.Conversation]
	if q.Limit < 1 {
		return res, s.fail(ctx, "list conversations", errLimit(q.Limit))
	}
	err := s.do(ctx, "list conversations", func(ctx context.Context) error {
		return s.read(ctx, func(ctx context.Context, db querier) error {
			page, pageArgs, count, countArgs := s.conversationSQL(q)
			b := &pgx.Batch{}
			b.Queue(page, pageArgs...)
			side, party, inbox := q.InboxParty()
			switch {
			case q.WithTotal && inbox:
				b.Queue(s.q.partyTotals, q.Channel, string(side), party)
			case q.WithTotal:
				b.Queue(count, countArgs...)
			}
			br := db.SendBatch(ctx, b)
			defer br.Close()
			items, err := scanConversations(br, q.Limit+1)
			if err != nil {
				return err
			}
			res = store.Page[conversation.Conversation]{Items: items, Total: -1}
			if len(items) > q.Limit {
				res.Items, res.More = items[:q.Limit], true
			}
			switch {
			case q.WithTotal && inbox:
				t, err := scanTotals(br.QueryRow())
				if err != nil {
					return err
				}
				res.Total = t.Conversations
			case q.WithTotal:
				if err := br.QueryRow().Scan(&res.Total); err != nil {
					return err
				}
			}
			return br.Close()
		})
	})
	return res, err
}

func scanConversations(br pgx.BatchResults, capacity int) ([]conversation.Conversation, error) {
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	items := make([]conversation.Conversation, 0, min(capacity, 128))
	cs := newConvScan()
	for rows.Next() {
		if err := rows.Scan(cs.dest[:]...); err != nil {
			return nil, err
		}
		items = append(items, cs.result())
	}
	return items, rows.Err()
}

// conversationSQL returns the statements of a conversation listing: the
// page (with the cursor and the limit plus one, to learn whether more
// follow) and the count (without the cursor). Every condition is an
// equality or a range on the columns of one of the listing indexes, and
// the order is the indexes' order, so a page reads at most Limit+1 index
// entries past the cursor when a leading index matches.
func (s *Store) conversationSQL(q store.ConversationQuery) (page string, pageArgs []any, count string, countArgs []any) {
	var where strings.Builder
	args := []any{q.Channel}
	where.WriteString("channel = $1")
	add := func(cond string, v any) {
		args = append(args, v)
		where.WriteString(" AND ")
		where.WriteString(strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args))))
	}
	f := store.NormalizeFilter(q.Filter)
	if !f.CreatedFrom.IsZero() {
		add("created_at >= ?", f.CreatedFrom)
	}
	if !f.CreatedTo.IsZero() {
		add("created_at <= ?", f.CreatedTo)
	}
	if !f.ModifiedFrom.IsZero() {
		add("modified_at >= ?", f.ModifiedFrom)
	}
	if !f.ModifiedTo.IsZero() {
		add("modified_at <= ?", f.ModifiedTo)
	}
	eq := func(col, v string) {
		if v != "" {
			add(col+" = ?", v)
		}
	}
	eq("user_id", f.UserID)
	eq("datasource_id", f.DataSourceID)
	if f.ProductID != "" {
		add("item_kind = '"+string(conversation.ItemProduct)+"' AND item_id = ?", f.ProductID)
	}
	if f.OrderItemID != "" {
		add("item_kind = '"+string(conversation.ItemOrderItem)+"' AND item_id = ?", f.OrderItemID)
	}
	eq("item_kind", string(f.ItemKind))
	eq("type", string(f.Type))
	eq("status", string(f.Status))
	eq("product_base_code", f.ProductBaseCode)
	eq("user_first_name", f.UserFirstName)
	eq("user_last_name", f.UserLastName)
	eq("order_number", f.OrderNumber)
	// A listing of public types only says so, for the public index.
	public := f.Type.Public()
	if len(q.Types) > 0 {
		public = true
		for _, t := range q.Types {
			public = public && t.Public()
		}
	}
	if public {
		where.WriteString(" AND public")
	}
	if q.Visible {
		where.WriteString(" AND NOT hidden")
	}
	switch len(q.Types) {
	case 0:
	case 1:
		add("type = ?", string(q.Types[0]))
	default:
		types := make([]string, len(q.Types))
		for i, t := range q.Types {
			types[i] = string(t)
		}
		add("type = ANY(?::text[])", types)
	}
	filter := where.String()
	countArgs = append([]any(nil), args...)
	count = "SELECT count(*) FROM " + s.q.conversationsTable + " WHERE " + filter

	if q.After != nil {
		args = append(args, q.After.LastMessageAt, q.After.ID)
		n := len(args)
		where.WriteString(fmt.Sprintf(" AND (last_message_at, id) < ($%d, $%d)", n-1, n))
	}
	args = append(args, q.Limit+1)
	page = "SELECT " + list(convColumns, "") + " FROM " + s.q.conversationsTable + " WHERE " + where.String() +
		" ORDER BY last_message_at DESC, id DESC LIMIT $" + strconv.Itoa(len(args))
	return page, args, count, countArgs
}

// SeekConversations implements store.Seeker: the listing's own
// conditions and order with an offset, reading only the position's two
// columns, which every listing index holds (an index-only scan while the
// table is vacuumed).
func (s *Store) SeekConversations(ctx context.Context, q store.ConversationQuery, n int64) (store.ConversationCursor, bool, error) {
	var pos store.ConversationCursor
	if n < 1 {
		return pos, false, s.fail(ctx, "seek conversations", fmt.Errorf("seek %d: want at least 1", n))
	}
	found := false
	err := s.do(ctx, "seek conversations", func(ctx context.Context) error {
		q.Limit, q.WithTotal = 0, false
		page, args, _, _ := s.conversationSQL(q)
		_, rest, _ := strings.Cut(page, " WHERE ")
		args[len(args)-1] = 1 // the LIMIT
		args = append(args, n-1)
		query := "SELECT last_message_at, id FROM " + s.q.conversationsTable + " WHERE " + rest + " OFFSET $" + strconv.Itoa(len(args))
		err := s.pool.QueryRow(ctx, query, args...).Scan(&pos.LastMessageAt, &pos.ID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		pos.LastMessageAt, found = pos.LastMessageAt.UTC(), true
		return nil
	})
	return pos, found, err
}

// ListMessages returns a page of a conversation's messages, newest first:
// one round trip, with the total.
func (s *Store) ListMessages(ctx context.Context, q store.MessageQuery) (store.Page[message.Message], error) {
	var res store.Page[message.Message]
	if q.Limit < 1 {
		return res, s.fail(ctx, "list messages", errLimit(q.Limit))
	}
	err := s.do(ctx, "list messages", func(ctx context.Context) error {
		return s.read(ctx, func(ctx context.Context, db querier) error {
			before := q.BeforeSeq
			if before == 0 {
				before = math.MaxInt64
			}
			b := &pgx.Batch{}
			list, total := s.q.listMessages, s.q.messageTotal
			if q.Visible {
				list, total = s.q.mod.listVisibleMessages, s.q.mod.visibleTotal
			}
			b.Queue(list, q.ConversationID, before, q.Limit+1)
			if q.WithTotal {
				b.Queue(total, q.ConversationID)
			}
			br := db.SendBatch(ctx, b)
			defer br.Close()
			rows, err := br.Query()
			if err != nil {
				return err
			}
			items, err := scanMessages(rows, q.Limit+1)
			if err != nil {
				return err
			}
			res = store.Page[message.Message]{Items: items, Total: -1}
			if len(items) > q.Limit {
				res.Items, res.More = items[:q.Limit], true
			}
			if q.WithTotal {
				if err := br.QueryRow().Scan(&res.Total); err != nil {
					return err
				}
			}
			return br.Close()
		})
	})
	return res, err
}

// MessageSets returns the newest messages of several conversations: one
// statement (see queries.messageSets), the ids bound as one array.
func (s *Store) MessageSets(ctx context.Context, q store.MessageSetQuery) ([][]message.Message, error) {
	if q.Limit < 1 {
		return nil, s.fail(ctx, "message sets", errLimit(q.Limit))
	}
	var res [][]message.Message
	err := s.do(ctx, "message sets", func(ctx context.Context) error {
		ids := q.Conversations()
		if len(ids) == 0 {
			res = q.Sets(nil)
			return nil
		}
		rows, err := s.pool.Query(ctx, s.q.messageSets, ids, q.Limit, q.Visible)
		if err != nil {
			return err
		}
		msgs, err := scanMessages(rows, len(ids)*q.Limit)
		if err != nil {
			return err
		}
		res = q.Sets(msgs)
		return nil
	})
	return res, err
}

// scanMessages reads the message rows; it returns nil if there are none.
func scanMessages(rows pgx.Rows, capacity int) ([]message.Message, error) {
	defer rows.Close()
	var items []message.Message
	ms := newMessageScan()
	for rows.Next() {
		if err := rows.Scan(ms.dest[:]...); err != nil {
			return nil, err
		}
		if items == nil {
			items = make([]message.Message, 0, min(capacity, 128))
		}
		items = append(items, ms.result())
	}
	return items, rows.Err()
}

// MessagesAfter returns up to q.Limit messages of a conversation after a
// position: one statement, one range of the index messages_conversation_id.
func (s *Store) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	var res []message.Message
	if q.Limit < 1 {
		return nil, s.fail(ctx, "messages after", errLimit(q.Limit))
	}
	err := s.do(ctx, "messages after", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, s.q.messagesAfter, q.ConversationID, q.ID, q.Seq, q.Limit)
		if err != nil {
			return err
		}
		// An empty poll is the common answer: let the slice grow.
		res, err = scanMessages(rows, 1)
		return err
	})
	return res, err
}

// scanTotals reads a row of the partyTotals query.
func scanTotals(row pgx.Row) (store.PartyTotals, error) {
	var t store.PartyTotals
	err := row.Scan(&t.Conversations, &t.UnreadMessages, &t.UnreadConversations)
	return t, err
}

// Unread reads one party's totals: one statement that sums the parts of
// its row in party_totals.
func (s *Store) Unread(ctx context.Context, q store.UnreadQuery) (store.UnreadSummary, error) {
	var res store.UnreadSummary
	if !q.Side.Valid() {
		return res, s.fail(ctx, "unread", fmt.Errorf("unknown side %q", q.Side))
	}
	err := s.do(ctx, "unread", func(ctx context.Context) error {
		return s.read(ctx, func(ctx context.Context, db querier) error {
			t, err := scanTotals(db.QueryRow(ctx, s.q.partyTotals, q.Channel, string(q.Side), q.PartyID))
			res = t.Unread()
			return err
		})
	})
	return res, err
}
