package sqlite

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// queryPlan returns the lines of SQLite's EXPLAIN QUERY PLAN for query.
func queryPlan(t *testing.T, s *Store, query string, args ...any) []string {
	t.Helper()
	rows, err := s.r.Query("EXPLAIN QUERY PLAN "+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &unused, &detail))
		plan = append(plan, detail)
	}
	require.NoError(t, rows.Err())
	return plan
}

// TestPlan_HotQueries checks that every hot query of the store walks an
// index, in the order it returns rows: no full scan of a table ("SCAN"),
// no sort ("USE TEMP B-TREE"). It reads the SQL the store runs, not copies.
func TestPlan_HotQueries(t *testing.T) {
	s := MustOpen(t, "")
	ctx := context.Background()
	// A little data, so that the plans are those of a used database.
	for i, ds := range []string{"d1", "d1", "d2"} {
		_, err := s.CreateConversation(ctx, newCreate("c1", "u"+string(rune('a'+i)), ds, conversation.TypeQuestion,
			conversation.Product("p1"), t0))
		require.NoError(t, err)
	}
	after := &store.ConversationCursor{LastMessageAt: t0, ID: 3}
	list := func(f conversation.Filter, types []conversation.Type, after *store.ConversationCursor) (string, []any) {
		lq := buildList(store.ConversationQuery{Channel: "c1", Filter: f, Types: types, After: after, Limit: 20, WithTotal: true}, 21)
		return lq.page, lq.pageArgs
	}
	public := []conversation.Type{conversation.TypeReview, conversation.TypeQuestion}
	for _, tc := range []struct {
		name  string
		index string // the index the plan must use
		query string
		args  []any
	}{
		{name: "UserInbox", index: "INDEX conversations_user "},
		{name: "UserInboxNextPage", index: "INDEX conversations_user "},
		{name: "SellerInbox", index: "INDEX conversations_seller "},
		{name: "SellerInboxNextPage", index: "INDEX conversations_seller "},
		{name: "SellerInboxOpen", index: "INDEX conversations_seller "},
		{name: "PublicListing", index: "INDEX conversations_public "},
		{name: "PublicListingNextPage", index: "INDEX conversations_public "},
		{name: "ProductPublicListing", index: "INDEX conversations_item "},
		{name: "ChannelListing", index: "INDEX conversations_channel "},
		// A seek counts off entries of the listing's index, reading no row.
		{name: "SeekChannel", index: "COVERING INDEX conversations_channel "},
		{name: "SeekSeller", index: "COVERING INDEX conversations_seller "},
		// (SQLite does not count a generated column's index as covering.)
		{name: "SeekPublic", index: "INDEX conversations_public "},
		{name: "Messages", index: "INDEX messages_seq ", query: sqlListMessages, args: []any{1, int64(math.MaxInt64), 51}},
		{name: "MessagesNextPage", index: "INDEX messages_seq ", query: sqlListMessages, args: []any{1, 30, 51}},
		{name: "MessagesAfterID", index: "INDEX messages_conversation_id ", query: sqlMessagesAfter, args: []any{1, 1, 0, 100}},
		{name: "MessagesAfterSeq", index: "INDEX messages_conversation_id ", query: sqlMessagesAfter, args: []any{1, 0, 5, 100}},
		{name: "MessagesFromStart", index: "INDEX messages_conversation_id ", query: sqlMessagesAfter, args: []any{1, 0, 0, 100}},
		{name: "ConversationByCode", index: "INDEX conversations_code ", query: sqlConversationByCode, args: []any{make([]byte, 16)}},
		{name: "PartyTotals", index: "USING PRIMARY KEY (channel=? AND side=? AND party_id=?)", query: sqlPartyTotals, args: []any{"c1", "datasource", "d1"}},
		{name: "ClaimDue", index: "INDEX events_due ", query: sqlClaimDue, args: []any{1, 1, 10}},
		{name: "ClaimDigest", index: "INDEX events_digest ", query: sqlClaimDigest, args: []any{"k", 1}},
		{name: "ListDeadEvents", index: "INDEX events_dead ", query: sqlListDeadEvents, args: []any{"", 10}},
		{name: "MarkReadUnread", index: "INDEX messages_seq ", query: sqlCountUnread, args: []any{1, 1, "user"}},
		{name: "CreateNextMessageID", index: "SEARCH messages\n", query: sqlInsertConversation, args: make([]any, 24)},
	} {
		switch tc.name {
		case "UserInbox":
			tc.query, tc.args = list(conversation.Filter{UserID: "ua"}, nil, nil)
		case "UserInboxNextPage":
			tc.query, tc.args = list(conversation.Filter{UserID: "ua"}, nil, after)
		case "SellerInbox":
			tc.query, tc.args = list(conversation.Filter{DataSourceID: "d1"}, nil, nil)
		case "SellerInboxNextPage":
			tc.query, tc.args = list(conversation.Filter{DataSourceID: "d1"}, nil, after)
		case "SellerInboxOpen":
			tc.query, tc.args = list(conversation.Filter{DataSourceID: "d1", Status: conversation.StatusOpen}, nil, after)
		case "PublicListing":
			tc.query, tc.args = list(conversation.Filter{}, public, nil)
		case "PublicListingNextPage":
			tc.query, tc.args = list(conversation.Filter{}, public, after)
		case "ProductPublicListing":
			tc.query, tc.args = list(conversation.Filter{ProductID: "p1"}, public, after)
		case "ChannelListing":
			tc.query, tc.args = list(conversation.Filter{}, nil, after)
		case "SeekChannel":
			tc.query, tc.args = seekQuery(store.ConversationQuery{Channel: "c1"}, 1000)
		case "SeekSeller":
			tc.query, tc.args = seekQuery(store.ConversationQuery{Channel: "c1", Filter: conversation.Filter{DataSourceID: "d1"}, After: after}, 1000)
		case "SeekPublic":
			tc.query, tc.args = seekQuery(store.ConversationQuery{Channel: "c1", Types: public}, 1000)
		}
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, s, tc.query, tc.args...)
			joined := strings.Join(plan, "\n")
			t.Logf("%s\n%s", tc.query, joined)
			for _, line := range plan {
				require.NotRegexp(t, `^SCAN `, line, "full scan")
				require.NotContains(t, line, "TEMP B-TREE", "sort")
			}
			require.Contains(t, joined, tc.index, "index")
		})
	}

	// The message sets of a page: the ids come from a JSON array (a
	// scan of the array, not of a table); each conversation's newest
	// messages are one range of messages_seq, after one seek in it.
	t.Run("MessageSets", func(t *testing.T) {
		plan := strings.Join(queryPlan(t, s, sqlMessageSets, "[1,2,3]", 3, 1), "\n")
		t.Logf("%s\n%s", sqlMessageSets, plan)
		require.NotRegexp(t, `(?m)^SCAN (messages|n)\b`, plan, "full scan")
		require.NotContains(t, plan, "TEMP B-TREE", "sort")
		require.Contains(t, plan, "SEARCH messages USING INDEX messages_seq (conversation_id=? AND seq>?)")
		require.Regexp(t, `SEARCH n USING (COVERING )?INDEX messages_seq \(conversation_id=\?\)`, plan)
	})

	// The checks above can fail: a filter that no index serves scans.
	t.Run("DetectsScan", func(t *testing.T) {
		plan := strings.Join(queryPlan(t, s, "SELECT id FROM conversations WHERE status = ? ORDER BY created_at", "open"), "\n")
		require.Regexp(t, `(?m)^SCAN conversations`, plan)
		require.Contains(t, plan, "USE TEMP B-TREE FOR ORDER BY")
	})
}

// TestSchema_PublicColumn checks that the generated column the public
// listing's index is built on agrees with conversation.Type.Public, and
// that listing by the public types finds exactly those conversations.
func TestSchema_PublicColumn(t *testing.T) {
	s := MustOpen(t, MemoryPath)
	ctx := context.Background()
	want := map[int64]bool{}
	for i, typ := range conversation.Types {
		res, err := s.CreateConversation(ctx, newCreate("c", "u", "d", typ, conversation.Item{}, t0.Add(time.Duration(i)*time.Second)))
		require.NoError(t, err)
		var public bool
		require.NoError(t, s.r.QueryRow("SELECT public FROM conversations WHERE id = ?", res.Conversation.ID).Scan(&public))
		require.Equal(t, typ.Public(), public, "type %s", typ)
		want[res.Conversation.ID] = typ.Public()
	}
	var publicTypes []conversation.Type
	for _, typ := range conversation.Types {
		if typ.Public() {
			publicTypes = append(publicTypes, typ)
		}
	}
	page, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Types: publicTypes, Limit: 10})
	require.NoError(t, err)
	for _, c := range page.Items {
		require.True(t, want[c.ID])
		delete(want, c.ID)
	}
	for id, public := range want {
		require.False(t, public, "public conversation %d not listed", id)
	}
}
