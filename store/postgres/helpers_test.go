package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// dsnEnv names the environment variable with the test server's DSN.
const dsnEnv = "PARLEY_POSTGRES_DSN"

// testDSN returns the test server's DSN, or skips tb when there is none.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip(dsnEnv + " is not set: skipping the PostgreSQL tests " +
			"(set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them)")
	}
	return dsn
}

// withPoolSize returns dsn with pgxpool's pool_max_conns set to n.
func withPoolSize(tb testing.TB, dsn string, n int) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	require.NoError(tb, err, "the pool size can only be set on a URL DSN")
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(n))
	u.RawQuery = q.Encode()
	return u.String()
}

// randomSchema returns a fresh schema name.
func randomSchema() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "parley_test_" + hex.EncodeToString(b)
}

// adminPool returns a pool on the test server for raw SQL, closed when
// the test ends.
func adminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), withPoolSize(tb, testDSN(tb), 8))
	require.NoError(tb, err)
	tb.Cleanup(pool.Close)
	return pool
}

// dropSchemaAtCleanup drops schema when the test ends.
func dropSchemaAtCleanup(tb testing.TB, admin *pgxpool.Pool, schema string) {
	tb.Helper()
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
}

// testEnv is a store in its own schema, with a pool for raw SQL.
type testEnv struct {
	*Store
	admin  *pgxpool.Pool
	schema string
	// table returns the qualified name of a table of the store.
	table func(name string) string
}

// newEnv opens a store in a new schema, with a pool of poolSize
// connections (0: pgxpool's default), and drops the schema when the test
// ends.
func newEnv(tb testing.TB, poolSize int) *testEnv {
	tb.Helper()
	dsn := testDSN(tb)
	if poolSize > 0 {
		dsn = withPoolSize(tb, dsn, poolSize)
	}
	admin := adminPool(tb)
	schema := randomSchema()
	dropSchemaAtCleanup(tb, admin, schema) // runs after Close below
	st, err := Open(context.Background(), dsn, Options{Schema: schema})
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = st.Close() })
	return &testEnv{
		Store:  st,
		admin:  admin,
		schema: schema,
		table:  func(name string) string { return pgx.Identifier{schema, name}.Sanitize() },
	}
}

// count returns the result of a count query on the test's schema.
func (e *testEnv) count(tb testing.TB, sql string, args ...any) int64 {
	tb.Helper()
	var n int64
	require.NoError(tb, e.admin.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// t0 is the fixtures' clock origin.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newUUID returns a UUIDv7.
func newUUID() uuid.UUID { return uuid.Must(uuid.NewV7()) }

// startParams returns what the Service passes to CreateConversation when
// user starts a message conversation with data source ds at time at.
func startParams(channel, user, ds string, typ conversation.Type, item conversation.Item, at time.Time) store.CreateParams {
	c := conversation.Conversation{
		Code: newUUID(), Channel: channel, Type: typ, UserID: user, DataSourceID: ds, Item: item,
		Subject: "about " + item.ID, Status: conversation.StatusOpen, StartedBy: conversation.SideUser,
		Language: "en", CreatedAt: at,
		Attributes: conversation.Attributes{UserFirstName: "Ada", UserLastName: "L", ProductBaseCode: "B-1", OrderNumber: "O-1"},
	}
	m := message.Message{Code: newUUID(), Sender: message.User(user, message.UserRegistered), Content: "hello", Language: "en", CreatedAt: at}
	return store.CreateParams{Conversation: c, Message: m, Events: []notify.Event{
		event(notify.KindConversationStarted, c, notify.Party{Kind: message.SenderDataSource, ID: ds}, notify.Party{Kind: message.SenderUser, ID: user}, at),
	}}
}

// event returns an outbox event for conversation c.
func event(kind notify.Kind, c conversation.Conversation, to, from notify.Party, at time.Time) notify.Event {
	return notify.Event{
		ID: newUUID().String(), Kind: kind, Channel: c.Channel, ConversationType: c.Type,
		Recipient: to, Sender: from, CreatedAt: at, DueAt: at,
		DigestKey: string(to.Kind) + ":" + to.ID + "|" + c.Code.String(),
	}
}

// postParams returns the AppendParams of a message from sender at time at.
func postParams(convID int64, sender message.Sender, content string, at time.Time) store.AppendParams {
	return store.AppendParams{
		ConversationID: convID,
		Message:        message.Message{Code: newUUID(), Sender: sender, Content: content, Language: "en", CreatedAt: at},
	}
}

// pgxIdent returns the quoted, qualified name schema.name.
func pgxIdent(schema, name string) string { return pgx.Identifier{schema, name}.Sanitize() }

// sellerSender is the fixtures' data source as a message sender.
var sellerSender = message.DataSource("d1")
