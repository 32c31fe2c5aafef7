package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// maxCachedLists bounds the prepared listing queries kept by a Store (one
// per combination of filter fields in use).
const maxCachedLists = 256

// GetConversation implements store.Store.
func (s *Store) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	if err := s.check(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	c, err := scanConversation(s.st.getConversation.QueryRowContext(ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return conversation.Conversation{}, fmt.Errorf("sqlite: conversation %d: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return conversation.Conversation{}, s.fail(ctx, "get conversation", err)
	}
	return c, nil
}

// GetConversationByCode implements store.Store: one seek in the unique
// index conversations_code.
func (s *Store) GetConversationByCode(ctx context.Context, code uuid.UUID) (conversation.Conversation, error) {
	if err := s.check(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	c, err := scanConversation(s.st.conversationByCode.QueryRowContext(ctx, code[:]))
	if errors.Is(err, sql.ErrNoRows) {
		return conversation.Conversation{}, fmt.Errorf("sqlite: conversation code %s: %w", code, store.ErrNotFound)
	}
	if err != nil {
		return conversation.Conversation{}, s.fail(ctx, "get conversation by code", err)
	}
	return c, nil
}

// pageSize returns the number of rows to fetch for a page of limit items:
// one more, to learn whether another page follows.
func pageSize(limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("sqlite: limit %d: want at least 1", limit)
	}
	return min(limit, math.MaxInt32) + 1, nil
}

// listQuery is the SQL of a conversation listing: the page query and, for
// the total, the count of every match without the keyset.
type listQuery struct {
	page, count         string
	pageArgs, countArgs []any
}

// publicTypes is the set of types whose conversations are listed publicly:
// the generated column conversations.public is 1 for exactly these, and
// an index serves the listing.
var publicTypes = func() []conversation.Type {
	var ts []conversation.Type
	for _, t := range conversation.Types {
		if t.Public() {
			ts = append(ts, t)
		}
	}
	return ts
}()

// buildList translates a ConversationQuery to SQL with the semantics of
// q.Matches (the count query only if q.WithTotal). The conditions are equalities and ranges on
// the columns the listing indexes start with, so SQLite walks one index
// in (last_message_at, id) order and stops after the page.
func buildList(q store.ConversationQuery, limit int) listQuery {
	where := make([]string, 0, 8)
	args := make([]any, 0, 10)
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	f := store.NormalizeFilter(q.Filter)
	add("channel = ?", q.Channel)
	if q.Visible {
		where = append(where, "hidden = 0")
	}
	if f.UserID != "" {
		add("user_id = ?", f.UserID)
	}
	if f.DataSourceID != "" {
		add("datasource_id = ?", f.DataSourceID)
	}
	if f.ProductID != "" {
		add("item_kind = ? AND item_id = ?", string(conversation.ItemProduct), f.ProductID)
	}
	if f.OrderItemID != "" {
		add("item_kind = ? AND item_id = ?", string(conversation.ItemOrderItem), f.OrderItemID)
	}
	if f.ItemKind != conversation.ItemNone {
		add("item_kind = ?", string(f.ItemKind))
	}
	if len(q.Types) > 0 {
		types := slices.Clone(q.Types)
		slices.Sort(types)
		types = slices.Compact(types)
		switch {
		case slices.Equal(types, publicTypes):
			add("public = 1")
		case len(types) == 1:
			add("type = ?", string(types[0]))
		default:
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(types)), ", ")
			var a []any
			for _, t := range types {
				a = append(a, string(t))
			}
			add("type IN ("+marks+")", a...)
		}
	}
	if f.Type != "" {
		add("type = ?", string(f.Type))
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if !f.CreatedFrom.IsZero() {
		add("created_at >= ?", micros(f.CreatedFrom))
	}
	if !f.CreatedTo.IsZero() {
		add("created_at <= ?", micros(f.CreatedTo))
	}
	if !f.ModifiedFrom.IsZero() {
		add("modified_at >= ?", micros(f.ModifiedFrom))
	}
	if !f.ModifiedTo.IsZero() {
		add("modified_at <= ?", micros(f.ModifiedTo))
	}
	for _, eq := range []struct{ col, v string }{
		{"product_base_code", f.ProductBaseCode},
		{"user_first_name", f.UserFirstName},
		{"user_last_name", f.UserLastName},
		{"order_number", f.OrderNumber},
	} {
		if eq.v != "" {
			add(eq.col+" = ?", eq.v)
		}
	}
	var lq listQuery
	if q.WithTotal {
		lq.count = "SELECT count(*) FROM conversations WHERE " + strings.Join(where, " AND ")
		lq.countArgs = slices.Clone(args)
	}
	if q.After != nil {
		add("(last_message_at, id) < (?, ?)", micros(q.After.LastMessageAt), q.After.ID)
	}
	lq.page = "SELECT " + conversationColumns + " FROM conversations WHERE " + strings.Join(where, " AND ") +
		" ORDER BY last_message_at DESC, id DESC LIMIT ?"
	lq.pageArgs = append(args, limit)
	return lq
}

// seekQuery is the SQL of SeekConversations: the listing's own conditions
// and order, reading only the two columns of the position (both in every
// listing index, so SQLite counts off index entries and reads no row).
func seekQuery(q store.ConversationQuery, n int64) (string, []any) {
	q.Limit, q.WithTotal = 1, false
	lq := buildList(q, 1)
	_, rest, _ := strings.Cut(lq.page, " FROM conversations WHERE ")
	query := "SELECT last_message_at, id FROM conversations WHERE " + rest + " OFFSET ?"
	return query, append(lq.pageArgs, n-1)
}

// SeekConversations implements store.Seeker with an offset into the
// listing's index.
func (s *Store) SeekConversations(ctx context.Context, q store.ConversationQuery, n int64) (store.ConversationCursor, bool, error) {
	if n < 1 {
		return store.ConversationCursor{}, false, fmt.Errorf("sqlite: seek %d: want at least 1", n)
	}
	if err := s.check(ctx); err != nil {
		return store.ConversationCursor{}, false, err
	}
	query, args := seekQuery(q, n)
	st, done, err := s.listStmt(ctx, query)
	if err != nil {
		return store.ConversationCursor{}, false, s.fail(ctx, "seek conversations", err)
	}
	defer done()
	var at, id int64
	switch err := st.QueryRowContext(ctx, args...).Scan(&at, &id); {
	case errors.Is(err, sql.ErrNoRows):
		return store.ConversationCursor{}, false, nil
	case err != nil:
		return store.ConversationCursor{}, false, s.fail(ctx, "seek conversations", err)
	}
	return store.ConversationCursor{LastMessageAt: fromMicros(at), ID: id}, true, nil
}

// listStmt returns the prepared statement of a listing query, preparing it
// on the read pool the first time, and the function to call when done
// with it (which closes statements the full cache could not keep).
func (s *Store) listStmt(ctx context.Context, query string) (*sql.Stmt, func(), error) {
	s.listMu.Lock()
	defer s.listMu.Unlock()
	if st, ok := s.lists[query]; ok {
		return st, func() {}, nil
	}
	if s.closed.Load() {
		return nil, nil, store.ErrClosed
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if len(s.lists) >= maxCachedLists {
		return st, func() { st.Close() }, nil
	}
	s.lists[query] = st
	return st, func() {}, nil
}

// readTx runs fn on the read pool; in a read transaction (one snapshot
// for several queries) if snapshot is set.
func (s *Store) readTx(ctx context.Context, snapshot bool, fn func(bind func(*sql.Stmt) *sql.Stmt) error) error {
	if err := s.check(ctx); err != nil {
		return err
	}
	if !snapshot {
		return fn(func(st *sql.Stmt) *sql.Stmt { return st })
	}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(func(st *sql.Stmt) *sql.Stmt { return tx.StmtContext(ctx, st) }); err != nil {
		return err
	}
	return tx.Commit()
}

// ListConversations implements store.Store.
func (s *Store) ListConversations(ctx context.Context, q store.ConversationQuery) (store.Page[conversation.Conversation], error) {
	page := store.Page[conversation.Conversation]{Total: -1}
	n, err := pageSize(q.Limit)
	if err != nil {
		return page, err
	}
	if err := s.check(ctx); err != nil {
		return page, err
	}
	lq := buildList(q, n)
	// Statements are prepared before the read transaction starts: an
	// in-memory store has a single connection, which the transaction holds.
	pageSt, done, err := s.listStmt(ctx, lq.page)
	if err != nil {
		return page, s.fail(ctx, "list conversations", err)
	}
	defer done()
	var countSt *sql.Stmt
	if _, _, inbox := q.InboxParty(); q.WithTotal && !inbox {
		var done func()
		if countSt, done, err = s.listStmt(ctx, lq.count); err != nil {
			return page, s.fail(ctx, "list conversations", err)
		}
		defer done()
	}
	err = s.readTx(ctx, q.WithTotal, func(bind func(*sql.Stmt) *sql.Stmt) error {
		rows, err := bind(pageSt).QueryContext(ctx, lq.pageArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		page.Items = make([]conversation.Conversation, 0, min(n, 128))
		row := newConvRow()
		for rows.Next() {
			c, err := row.scan(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !q.WithTotal {
			return nil
		}
		if side, id, ok := q.InboxParty(); ok {
			t, err := s.partyTotals(ctx, bind, q.Channel, side, id)
			page.Total = t.Conversations
			return err
		}
		return bind(countSt).QueryRowContext(ctx, lq.countArgs...).Scan(&page.Total)
	})
	if err != nil {
		return store.Page[conversation.Conversation]{}, s.fail(ctx, "list conversations", err)
	}
	if len(page.Items) > q.Limit {
		page.Items, page.More = page.Items[:q.Limit], true
	}
	return page, nil
}

// ListMessages implements store.Store.
func (s *Store) ListMessages(ctx context.Context, q store.MessageQuery) (store.Page[message.Message], error) {
	page := store.Page[message.Message]{Total: -1}
	n, err := pageSize(q.Limit)
	if err != nil {
		return page, err
	}
	before := q.BeforeSeq
	if before == 0 {
		before = math.MaxInt64
	}
	err = s.readTx(ctx, q.WithTotal, func(bind func(*sql.Stmt) *sql.Stmt) error {
		list, count := s.st.listMessages, s.st.messageCount
		if q.Visible {
			list, count = s.st.mod.listVisibleMessages, s.st.mod.visibleCount
		}
		rows, err := bind(list).QueryContext(ctx, q.ConversationID, before, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		page.Items = make([]message.Message, 0, min(n, 128))
		row := newMsgRow()
		for rows.Next() {
			m, err := row.scan(rows)
			if err != nil {
				return err
			}
			page.Items = append(page.Items, m)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if !q.WithTotal {
			return nil
		}
		// The conversation counts its messages; a missing conversation
		// has none.
		err = bind(count).QueryRowContext(ctx, q.ConversationID).Scan(&page.Total)
		if errors.Is(err, sql.ErrNoRows) {
			page.Total, err = 0, nil
		}
		return err
	})
	if err != nil {
		return store.Page[message.Message]{}, s.fail(ctx, "list messages", err)
	}
	if len(page.Items) > q.Limit {
		page.Items, page.More = page.Items[:q.Limit], true
	}
	return page, nil
}

// MessagesAfter implements store.Store: one range of the index
// messages_conversation_id.
func (s *Store) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("sqlite: limit %d: want at least 1", q.Limit)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	rows, err := s.st.messagesAfter.QueryContext(ctx, q.ConversationID, q.ID, q.Seq, q.Limit)
	if err != nil {
		return nil, s.fail(ctx, "messages after", err)
	}
	defer rows.Close()
	var ms []message.Message
	row := newMsgRow()
	for rows.Next() {
		m, err := row.scan(rows)
		if err != nil {
			return nil, s.fail(ctx, "messages after", err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "messages after", err)
	}
	return ms, nil
}

// MessageSets implements store.Store: one statement for every id (see
// sqlMessageSets), the ids bound as one JSON array.
func (s *Store) MessageSets(ctx context.Context, q store.MessageSetQuery) ([][]message.Message, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("sqlite: message sets: limit %d: want at least 1", q.Limit)
	}
	if err := s.check(ctx); err != nil {
		return nil, err
	}
	ids := q.Conversations()
	if len(ids) == 0 {
		return q.Sets(nil), nil
	}
	arg := make([]byte, 0, 2+len(ids)*8)
	arg = append(arg, '[')
	for i, id := range ids {
		if i > 0 {
			arg = append(arg, ',')
		}
		arg = strconv.AppendInt(arg, id, 10)
	}
	arg = append(arg, ']')
	visible := 0
	if q.Visible {
		visible = 1
	}
	rows, err := s.st.messageSets.QueryContext(ctx, string(arg), q.Limit, visible)
	if err != nil {
		return nil, s.fail(ctx, "message sets", err)
	}
	defer rows.Close()
	msgs := make([]message.Message, 0, min(len(ids)*q.Limit, 1024))
	row := newMsgRow()
	for rows.Next() {
		m, err := row.scan(rows)
		if err != nil {
			return nil, s.fail(ctx, "message sets", err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "message sets", err)
	}
	return q.Sets(msgs), nil
}

// partyTotals reads the totals of the party id on side s of channel.
func (s *Store) partyTotals(ctx context.Context, bind func(*sql.Stmt) *sql.Stmt, channel string, side conversation.Side, id string) (store.PartyTotals, error) {
	var t store.PartyTotals
	err := bind(s.st.partyTotals).QueryRowContext(ctx, channel, string(side), id).Scan(
		&t.Conversations, &t.UnreadMessages, &t.UnreadConversations)
	return t, err
}

// Unread implements store.Store: one seek in party_totals.
func (s *Store) Unread(ctx context.Context, q store.UnreadQuery) (store.UnreadSummary, error) {
	if !q.Side.Valid() {
		return store.UnreadSummary{}, fmt.Errorf("sqlite: unread: unknown side %q", q.Side)
	}
	if err := s.check(ctx); err != nil {
		return store.UnreadSummary{}, err
	}
	t, err := s.partyTotals(ctx, func(st *sql.Stmt) *sql.Stmt { return st }, q.Channel, q.Side, q.PartyID)
	if err != nil {
		return store.UnreadSummary{}, s.fail(ctx, "unread", err)
	}
	return t.Unread(), nil
}
