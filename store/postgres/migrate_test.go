package postgres

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

func TestOpen_ConcurrentMigrations(t *testing.T) {
	dsn := testDSN(t)
	admin := adminPool(t)
	schema := randomSchema()
	dropSchemaAtCleanup(t, admin, schema)
	ms, err := loadMigrations()
	require.NoError(t, err)

	// Eight processes start at once on a database without the schema.
	const n = 8
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = Open(context.Background(), dsn, Options{Schema: schema})
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i], "open %d", i)
		t.Cleanup(func() { _ = stores[i].Close() })
	}

	rows, err := admin.Query(context.Background(), "SELECT version, count(*) FROM "+
		pgxIdent(schema, "schema_migrations")+" GROUP BY version ORDER BY version")
	require.NoError(t, err)
	var versions []int
	for rows.Next() {
		var v, c int
		require.NoError(t, rows.Scan(&v, &c))
		assert.Equal(t, 1, c, "version %d recorded once", v)
		versions = append(versions, v)
	}
	require.NoError(t, rows.Err())
	require.Len(t, versions, len(ms))
	for i, m := range ms {
		assert.Equal(t, m.version, versions[i])
	}
	// Every store works on the one schema.
	for _, st := range stores {
		_, err := st.GetConversation(context.Background(), 1)
		assert.ErrorIs(t, err, store.ErrNotFound)
	}
}

func TestOpen_ErrSchemaTooNew(t *testing.T) {
	e := newEnv(t, 0)
	_, err := e.admin.Exec(context.Background(), "INSERT INTO "+e.table("schema_migrations")+" (version, name) VALUES (9999, 'from the future')")
	require.NoError(t, err)
	_, err = Open(context.Background(), testDSN(t), Options{Schema: e.schema})
	require.ErrorIs(t, err, ErrSchemaTooNew)
	assert.Contains(t, err.Error(), "9999")
}

func TestOpen_InvalidOptions(t *testing.T) {
	// Options are validated before anything connects.
	_, err := Open(context.Background(), "postgres://nowhere.invalid/db", Options{MaxRetries: -1})
	require.Error(t, err)
	_, err = New(context.Background(), nil, Options{})
	require.Error(t, err)
}

func TestNew_ExistingPool(t *testing.T) {
	ctx := context.Background()
	admin := adminPool(t)
	schema := randomSchema()
	dropSchemaAtCleanup(t, admin, schema)
	pool, err := pgxpool.New(ctx, testDSN(t))
	require.NoError(t, err)
	defer pool.Close()

	st, err := New(ctx, pool, Options{Schema: schema})
	require.NoError(t, err)
	assert.Same(t, pool, st.Pool())
	assert.Equal(t, schema, st.Schema())
	require.NoError(t, st.Close())
	_, err = st.GetConversation(ctx, 1)
	assert.ErrorIs(t, err, store.ErrClosed)
	require.NoError(t, pool.Ping(ctx), "Close leaves the caller's pool open")

	// A second store on the same pool and schema finds it migrated.
	st2, err := New(ctx, pool, Options{Schema: schema})
	require.NoError(t, err)
	defer st2.Close()
	_, err = st2.GetConversation(ctx, 1)
	assert.ErrorIs(t, err, store.ErrNotFound)
}

// TestOpen_MigratesVersion1: a schema written by version 1, with
// conversations and messages, gets the indexes of version 2 when a store
// opens it, and the lookups that use them work on its data.
func TestOpen_MigratesVersion1(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	res, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	for i := range 3 {
		_, err := e.AppendMessage(ctx, postParams(res.Conversation.ID, sellerSender, "m", t0.Add(time.Duration(i+1)*time.Second)))
		require.NoError(t, err)
	}
	// A second conversation of the same seller, read by it.
	res2, err := e.CreateConversation(ctx, startParams("web", "u2", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	_, err = e.MarkRead(ctx, store.ReadParams{ConversationID: res2.Conversation.ID, Side: conversation.SideSeller, UpToMessageID: res2.Message.ID})
	require.NoError(t, err)
	// Back to version 1 as far as versions 2 and 3 go: what they added is
	// gone, what 3 dropped is back; later versions stay recorded, so the
	// two are applied after newer ones, as a migration that lands late is.
	for _, sql := range []string{
		"DROP INDEX " + e.table("messages_conversation_id"),
		"DROP INDEX " + e.table("conversations_code"),
		"DROP TABLE " + e.table("party_totals"),
		"DROP TRIGGER party_totals_insert ON " + e.table("conversations"),
		"DROP TRIGGER party_totals_unread ON " + e.table("conversations"),
		"DROP FUNCTION " + e.table("party_totals_apply"),
		"CREATE INDEX conversations_user_unread ON " + e.table("conversations") + " (channel, user_id, user_unread) WHERE user_unread > 0",
		"CREATE INDEX conversations_datasource_unread ON " + e.table("conversations") + " (channel, datasource_id, seller_unread) WHERE seller_unread > 0",
		"DELETE FROM " + e.table("schema_migrations") + " WHERE version IN (2, 3)",
	} {
		_, err := e.admin.Exec(ctx, sql)
		require.NoError(t, err, sql)
	}

	st, err := Open(ctx, testDSN(t), Options{Schema: e.schema})
	require.NoError(t, err)
	defer st.Close()
	// Versions 2 and 3 are applied although newer ones are recorded.
	migs, err := loadMigrations()
	require.NoError(t, err)
	assert.Equal(t, int64(migs[len(migs)-1].version), e.count(t, "SELECT max(version) FROM "+e.table("schema_migrations")))
	assert.Equal(t, int64(len(migs)), e.count(t, "SELECT count(*) FROM "+e.table("schema_migrations")))
	assert.Equal(t, int64(2), e.count(t, "SELECT count(*) FROM pg_indexes WHERE schemaname = $1 AND indexname IN ('messages_conversation_id', 'conversations_code')", e.schema))
	got, err := st.GetConversationByCode(ctx, res.Conversation.Code)
	require.NoError(t, err)
	assert.Equal(t, res.Conversation.ID, got.ID)
	after, err := st.MessagesAfter(ctx, message.After{ConversationID: got.ID, Seq: 2, Limit: 10})
	require.NoError(t, err)
	require.Len(t, after, 2)
	assert.Equal(t, []int64{3, 4}, []int64{after[0].Seq, after[1].Seq})
	// The totals of version 3 count what version 1 stored.
	for _, tc := range []struct {
		q    store.UnreadQuery
		want store.UnreadSummary
	}{
		{store.UnreadQuery{Channel: "web", Side: conversation.SideUser, PartyID: "u1"}, store.UnreadSummary{Messages: 3, Conversations: 1}},
		{store.UnreadQuery{Channel: "web", Side: conversation.SideUser, PartyID: "u2"}, store.UnreadSummary{}},
		{store.UnreadQuery{Channel: "web", Side: conversation.SideSeller, PartyID: "d1"}, store.UnreadSummary{}},
	} {
		u, err := st.Unread(ctx, tc.q)
		require.NoError(t, err)
		assert.Equal(t, tc.want, u, "%+v", tc.q)
	}
	inbox, err := st.ListConversations(ctx, store.ConversationQuery{Channel: "web", Filter: conversation.Filter{DataSourceID: "d1"}, Limit: 1, WithTotal: true})
	require.NoError(t, err)
	assert.Equal(t, int64(2), inbox.Total)
}
