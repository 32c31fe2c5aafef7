package postgres

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// seedForPlans fills e's tables with enough rows (20k conversations in 200
// sellers' inboxes, 100k messages and a conversation of 3000, 20k events) for the planner to prefer
// indexes wherever they apply, and analyzes them.
func seedForPlans(t *testing.T, e *testEnv) {
	t.Helper()
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := e.admin.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO `+e.table("conversations")+` (code, channel, type, user_id, datasource_id, item_kind, item_id,
		subject, status, started_by, language, user_first_name, user_last_name, product_base_code, order_number,
		created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
		user_read_seq, user_unread, seller_read_seq, seller_unread)
	SELECT gen_random_uuid(), CASE WHEN i % 10 = 0 THEN 'app' ELSE 'web' END,
		(ARRAY['message', 'question', 'review'])[i % 3 + 1], 'u' || (i % 5000), 'd' || (i % 200),
		'product', 'p' || i, 'subject', 'open', 'user', 'en', 'Ada', 'L', 'B' || (i % 1000), 'O' || i,
		$1::timestamptz + i * interval '1 second', $1::timestamptz + i * interval '1 second',
		$1::timestamptz + ((i * 7919) % 20000) * interval '1 second', 0, 5, 5, 5, 0, 4, 1
	FROM generate_series(1, 20000) AS i`, t0)
	exec(`INSERT INTO ` + e.table("messages") + ` (code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
	SELECT gen_random_uuid(), c.id, s.seq, CASE WHEN s.seq % 2 = 0 THEN 'datasource' ELSE 'user' END, 'x', '', 'content', 'en', c.created_at
	FROM ` + e.table("conversations") + ` AS c, generate_series(1, 5) AS s (seq)`)
	exec(`INSERT INTO `+e.table("events")+` (id, kind, channel, conversation_id, message_id, conversation_type,
		recipient_kind, recipient_id, sender_kind, sender_id, created_at, due_at, digest_key, state, attempts, last_error)
	SELECT lpad(i::text, 36, '0'), 'message.posted', 'web', i, i, 'message', 'datasource', 'd', 'user', 'u',
		$1::timestamptz, $1::timestamptz + i * interval '1 second', 'web|datasource|d|' || (i % 5000),
		(ARRAY['pending', 'done', 'done', 'dead'])[i % 4 + 1], 0, ''
	FROM generate_series(1, 20000) AS i`, t0)
	// Conversation 42 is a long one: its pages must come out of the
	// (conversation_id, seq) index in order.
	exec(`INSERT INTO ` + e.table("messages") + ` (code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
	SELECT gen_random_uuid(), 42, s.seq, 'user', 'x', '', 'content', 'en', now()
	FROM generate_series(6, 3000) AS s (seq)`)
	exec(`ANALYZE ` + e.table("conversations") + `, ` + e.table("messages") + `, ` + e.table("events"))
}

// planNode is a node of EXPLAIN (FORMAT JSON).
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

// explain returns the plan of sql with args.
func explain(t *testing.T, e *testEnv, sql string, args ...any) planNode {
	t.Helper()
	var out []byte
	require.NoError(t, e.admin.QueryRow(context.Background(), "EXPLAIN (FORMAT JSON) "+sql, args...).Scan(&out))
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	require.NoError(t, json.Unmarshal(out, &plans), "%s", out)
	require.Len(t, plans, 1)
	return plans[0].Plan
}

// String returns the plan in one line: nodes, relations and indexes.
func (n planNode) String() string {
	s := n.NodeType
	if n.RelationName != "" {
		s += " on " + n.RelationName
	}
	if n.IndexName != "" {
		s += " using " + n.IndexName
	}
	if len(n.Plans) > 0 {
		var kids []string
		for _, c := range n.Plans {
			kids = append(kids, c.String())
		}
		s += " (" + strings.Join(kids, ", ") + ")"
	}
	return s
}

// walk calls fn on every node of the plan.
func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

func TestExplain_HotQueries(t *testing.T) {
	e := newEnv(t, 0)
	seedForPlans(t, e)
	q := e.q
	at := t0.Add(10 * time.Hour)
	cursor := &store.ConversationCursor{LastMessageAt: t0.Add(time.Hour), ID: 5000}
	type check struct {
		sql    string
		args   []any
		noSort bool // the page must come out of an index in order
	}
	page := func(cq store.ConversationQuery) check {
		sql, args, _, _ := e.conversationSQL(cq)
		return check{sql, args, true}
	}
	count := func(cq store.ConversationQuery) check {
		_, _, sql, args := e.conversationSQL(cq)
		return check{sql, args, false}
	}
	sellerInbox := store.ConversationQuery{Channel: "web", Filter: conversation.Filter{DataSourceID: "d7"}, Limit: 21}
	sellerInboxNext := sellerInbox
	sellerInboxNext.After = cursor
	userInbox := store.ConversationQuery{Channel: "web", Filter: conversation.Filter{UserID: "u7"}, Limit: 21, After: cursor}
	channel := store.ConversationQuery{Channel: "web", Limit: 21, After: cursor}
	questions := store.ConversationQuery{Channel: "web", Types: []conversation.Type{conversation.TypeQuestion}, Limit: 21}
	public := store.ConversationQuery{Channel: "web", Limit: 21,
		Types: []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}}
	publicOfSeller := public
	publicOfSeller.Filter.DataSourceID = "d7"
	productPage := public
	productPage.Filter.ProductID = "p7"
	orderItem := store.ConversationQuery{Channel: "web", Limit: 21, Filter: conversation.Filter{OrderItemID: "o7"}}
	post := postParams(42, sellerSender, "x", at)
	open := conversation.StatusOpen
	start := startParams("web", "u", "d", conversation.TypeMessage, conversation.Item{}, at)

	plain := func(guard *conversation.Conversation) check {
		sql, args := e.appendStatement(&post, nil, guard)
		return check{sql, args, false}
	}
	checks := map[string]check{
		"SellerInbox":        page(sellerInbox),
		"SellerInboxNext":    page(sellerInboxNext),
		"SellerInboxCount":   count(sellerInbox),
		"UserInbox":          page(userInbox),
		"Channel":            page(channel),
		"Questions":          page(questions),
		"Public":             page(public),
		"PublicOfSeller":     page(publicOfSeller),
		"ProductPage":        page(productPage),
		"OrderItem":          page(orderItem),
		"GetConversation":    {q.getConversation, []any{int64(42)}, false},
		"ConversationByCode": {q.byCode, []any{newUUID()}, false},
		"LockConversation":   {q.lockConversation, []any{int64(42)}, false},
		"ListMessages":       {q.listMessages, []any{int64(42), int64(math.MaxInt64), 51}, true},
		"MessageTotal":       {q.messageTotal, []any{int64(42)}, false},
		"MessageSets":        {q.messageSets, []any{[]int64{42, 7, 4000, 99}, 3, false}, true},
		"MessageSetsVisible": {q.messageSets, []any{[]int64{42, 7, 4000, 99}, 3, true}, true},
		"MessagesFromStart":  {q.messagesAfter, []any{int64(42), int64(0), int64(0), 50}, true},
		"MessagesAfterID":    {q.messagesAfter, []any{int64(42), int64(100), int64(0), 50}, true},
		"MessagesAfterSeq":   {q.messagesAfter, []any{int64(42), int64(0), int64(3), 50}, true},
		"ReadPosition":       {q.readPosition, []any{int64(100), int64(42), "datasource"}, false},
		"PartyTotals":        {q.partyTotals, []any{"web", "datasource", "d7"}, false},
		"ClaimEvents":        {q.claimEvents, []any{at, "w", at.Add(time.Minute), 10}, false},
		"ClaimEventsDigest":  {q.claimEventsDigest, []any{at, "w", at.Add(time.Minute), 10}, false},
		"ListDeadEvents":     {q.listDeadEvents, []any{"", 10}, true},
		"CreateConflict":     {q.conflict, []any{"s", "k", "web", "u7", "d7", "message", "product", "p7"}, false},
		"SetRead":            {q.setRead, []any{int64(42), int64(3), int64(0), int64(2), int64(1), "user", int64(100), int64(3), at}, false},
		"AppendMessage":      {q.appendMessage, appendArgs(&post, nil, nil), false},
		"AppendGuarded":      {q.appendMessage, appendArgs(&post, nil, &conversation.Conversation{Status: open, Code: newUUID()}), false},
		"AppendPlain":        plain(nil),
		"AppendPlainGuarded": plain(&conversation.Conversation{Status: open, Code: newUUID()}),
		"ReplayKey":          {q.replayKey, []any{"s", "k"}, false},
		"Sweep":              {q.sweep, []any{int64(100), int64(200)}, false},
		"ReplayConversation": {q.replayConversation, []any{"s", "k"}, false},
		"SetStatus":          {q.setStatus, []any{int64(42), "closed", at, "open", "datasource"}, false},
		"CreateConversation": {q.createConversation, createArgs(&start), false},
	}
	for name, c := range checks {
		t.Run(name, func(t *testing.T) {
			plan := explain(t, e, c.sql, c.args...)
			plan.walk(func(n planNode) {
				if n.NodeType == "Seq Scan" {
					switch n.RelationName {
					case "conversations", "messages", "events", "idempotency", "party_totals":
						t.Errorf("sequential scan of %s", n.RelationName)
					}
				}
				if c.noSort && (n.NodeType == "Sort" || n.NodeType == "Incremental Sort") {
					t.Errorf("%s node: the page is not read in index order", n.NodeType)
				}
			})
			t.Logf("plan: %s", plan)
		})
	}
}
