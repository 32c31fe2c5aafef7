package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

func TestOptions_Validate(t *testing.T) {
	t.Run("ZeroIsDefaults", func(t *testing.T) {
		require.NoError(t, Options{}.Validate())
		require.NoError(t, DefaultOptions().Validate())
		d := Options{}.withDefaults()
		require.Equal(t, SynchronousNormal, d.Synchronous)
		require.Equal(t, 5*time.Second, d.BusyTimeout)
		require.Equal(t, 4, d.MaxReaders)
		require.Equal(t, 100*time.Millisecond, d.FeedInterval)
	})
	t.Run("Full", func(t *testing.T) {
		require.NoError(t, Options{Synchronous: SynchronousFull}.Validate())
	})
	for name, o := range map[string]Options{
		"ErrSynchronous": {Synchronous: "OFF"},
		"ErrBusyTimeout": {BusyTimeout: -time.Second},
		"ErrMaxReaders":  {MaxReaders: -1},
		"ErrMaxReaders2": {MaxReaders: 1000},
		"ErrCacheSize":   {CacheSizeKiB: 1},
		"ErrFeed":        {FeedInterval: time.Microsecond},
	} {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, o.Validate(), ErrInvalidOptions)
			_, err := Open(context.Background(), filepath.Join(t.TempDir(), "x.db"), o)
			require.ErrorIs(t, err, ErrInvalidOptions)
		})
	}
}

// fileHash returns the SHA-256 of the file at path.
func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return sha256.Sum256(b)
}

// rawExec runs statements on the file at path with a plain connection.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open(driverName, path)
	require.NoError(t, err)
	defer db.Close()
	for _, s := range stmts {
		_, err := db.Exec(s)
		require.NoError(t, err, s)
	}
}

// backToVersion1 turns the database at path into one written by version
// 1 of the schema: what every later migration added is gone.
func backToVersion1(t *testing.T, path string) {
	t.Helper()
	rawExec(t, path,
		"DROP INDEX messages_conversation_id", "DROP INDEX conversations_code", // 0002
		"DROP TRIGGER party_totals_insert", "DROP TRIGGER party_totals_user_unread", "DROP TRIGGER party_totals_seller_unread", // 0003
		"DROP TABLE party_totals",
		"CREATE INDEX conversations_user_unread ON conversations (channel, user_id, user_unread) WHERE user_unread > 0",
		"CREATE INDEX conversations_seller_unread ON conversations (channel, datasource_id, seller_unread) WHERE seller_unread > 0",
		"DROP TABLE reports", "DROP TABLE audit", "ALTER TABLE conversations DROP COLUMN hidden", // 0004
		"ALTER TABLE conversations DROP COLUMN hidden_messages", "ALTER TABLE messages DROP COLUMN hidden",
		"DELETE FROM parley_migrations WHERE version > 1")
}

func TestOpen_Refuses(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrNotParley/OtherTables", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "other.db")
		rawExec(t, path, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)", "INSERT INTO invoices VALUES (1, 100)")
		before := fileHash(t, path)
		_, err := Open(ctx, path, Options{})
		require.ErrorIs(t, err, ErrNotParley)
		require.Equal(t, before, fileHash(t, path), "file modified")
		require.NoFileExists(t, path+"-wal")
	})
	t.Run("ErrNotParley/NotSQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "notes.txt")
		require.NoError(t, os.WriteFile(path, []byte("these are my notes, not a database, and they are long enough to hold a header.\n"), 0o600))
		before := fileHash(t, path)
		_, err := Open(ctx, path, Options{})
		require.ErrorIs(t, err, ErrNotParley)
		require.Equal(t, before, fileHash(t, path), "file modified")
	})
	t.Run("ErrSchemaTooNew", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "parley.db")
		s, err := Open(ctx, path, Options{})
		require.NoError(t, err)
		require.NoError(t, s.Close())
		rawExec(t, path, "INSERT INTO parley_migrations (version, name, applied_at) VALUES (99, '0099_future.sql', 0)")
		before := fileHash(t, path)
		_, err = Open(ctx, path, Options{})
		require.ErrorIs(t, err, ErrSchemaTooNew)
		var ve *SchemaVersionError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, 99, ve.Found)
		require.Equal(t, latestVersion(), ve.Known)
		require.Equal(t, before, fileHash(t, path), "file modified")
	})
}

func TestOpen_Creates(t *testing.T) {
	ctx := context.Background()
	t.Run("EmptyFile", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.db")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		s, err := Open(ctx, path, Options{})
		require.NoError(t, err)
		defer s.Close()
		v, err := s.SchemaVersion(ctx)
		require.NoError(t, err)
		require.Equal(t, latestVersion(), v)
	})
	t.Run("Settings", func(t *testing.T) {
		s, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"), Options{Synchronous: SynchronousFull, BusyTimeout: 1234 * time.Millisecond})
		require.NoError(t, err)
		defer s.Close()
		// Every reader connection has the settings, not only the first:
		// hold several at once.
		var conns []*sql.Conn
		for range 3 {
			c, err := s.r.Conn(ctx)
			require.NoError(t, err)
			conns = append(conns, c)
		}
		w, err := s.w.Conn(ctx)
		require.NoError(t, err)
		for i, c := range append(conns, w) {
			var mode string
			var fk, busy, sync, queryOnly int
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
			require.NoError(t, c.QueryRowContext(ctx, "PRAGMA query_only").Scan(&queryOnly))
			require.Equal(t, "wal", mode)
			require.Equal(t, 1, fk)
			require.Equal(t, 1234, busy)
			require.Equal(t, 2, sync) // FULL
			require.Equal(t, i < len(conns), queryOnly == 1, "readers are query_only, the writer is not")
		}
		for _, c := range append(conns, w) {
			require.NoError(t, c.Close())
		}
	})
	t.Run("MemoryIsPrivate", func(t *testing.T) {
		a, b := MustOpen(t, MemoryPath), MustOpen(t, MemoryPath)
		_, err := a.CreateConversation(ctx, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		_, err = b.GetConversation(ctx, 1)
		require.ErrorIs(t, err, store.ErrNotFound)
		_, err = a.GetConversation(ctx, 1)
		require.NoError(t, err)
	})
}

func TestOpen_PathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars&=")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	path := filepath.Join(dir, "parley?.db")
	s := MustOpen(t, path)
	_, err := s.CreateConversation(context.Background(), newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	require.FileExists(t, path)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		require.Contains(t, e.Name(), "parley?.db", "no stray file")
	}
}

// TestOpen_MigratesVersion1: a database written by version 1 of the
// schema, with conversations and messages, gets the indexes of version 2
// and the tables of the later versions when it is opened, and the lookups
// that use them work on its data.
func TestOpen_MigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)
	res, err := s.CreateConversation(ctx, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	for i := range 3 {
		_, err := s.AppendMessage(ctx, newAppend(res.Conversation.ID, message.DataSource("d"), "m", t0.Add(time.Duration(i+1)*time.Second)))
		require.NoError(t, err)
	}
	// A second conversation of the same seller, read by it.
	res2, err := s.CreateConversation(ctx, newCreate("c", "u2", "d", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	_, err = s.MarkRead(ctx, store.ReadParams{ConversationID: res2.Conversation.ID, Side: conversation.SideSeller, UpToMessageID: res2.Message.ID})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	backToVersion1(t, path)

	s = MustOpen(t, path)
	v, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, latestVersion(), v)
	// The totals of version 3 count what version 1 stored.
	for _, tc := range []struct {
		q    store.UnreadQuery
		want store.UnreadSummary
	}{
		{store.UnreadQuery{Channel: "c", Side: conversation.SideUser, PartyID: "u"}, store.UnreadSummary{Messages: 3, Conversations: 1}},
		{store.UnreadQuery{Channel: "c", Side: conversation.SideUser, PartyID: "u2"}, store.UnreadSummary{}},
		{store.UnreadQuery{Channel: "c", Side: conversation.SideSeller, PartyID: "d"}, store.UnreadSummary{}},
	} {
		u, err := s.Unread(ctx, tc.q)
		require.NoError(t, err)
		require.Equal(t, tc.want, u, "%+v", tc.q)
	}
	inbox, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Filter: conversation.Filter{DataSourceID: "d"}, Limit: 1, WithTotal: true})
	require.NoError(t, err)
	require.Equal(t, int64(2), inbox.Total)
	names, err := schemaObjects(ctx, s.r)
	require.NoError(t, err)
	require.True(t, names["messages_conversation_id"])
	require.True(t, names["conversations_code"])
	got, err := s.GetConversationByCode(ctx, res.Conversation.Code)
	require.NoError(t, err)
	require.Equal(t, res.Conversation.ID, got.ID)
	ms, err := s.MessagesAfter(ctx, message.After{ConversationID: got.ID, Seq: 2, Limit: 10})
	require.NoError(t, err)
	require.Equal(t, []int64{3, 4}, []int64{ms[0].Seq, ms[1].Seq})
}
