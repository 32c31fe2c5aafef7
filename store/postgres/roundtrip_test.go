package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// roundTrips counts what a pool sends to the server: each query (Query,
// QueryRow, Exec) and each batch is one round trip. The announcer's
// connection, which has the pool's settings and so its tracer, sends its
// notifications later, on its own: it is not counted.
type roundTrips struct{ n atomic.Int64 }

func (r *roundTrips) TraceQueryStart(ctx context.Context, c *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if c.Config().RuntimeParams["application_name"] != announcerApplicationName {
		r.n.Add(1)
	}
	return ctx
}

func (r *roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (r *roundTrips) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	r.n.Add(1)
	return ctx
}

func (r *roundTrips) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}

func (r *roundTrips) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData) {}

// count returns how many round trips fn made.
func (r *roundTrips) count(fn func()) int64 {
	before := r.n.Load()
	fn()
	return r.n.Load() - before
}

// TestStore_RoundTrips counts the round trips of the Service's writes: an
// append with a Prepare reads the key and the conversation in one and
// writes in another, or, without a key, writes at once on a conversation
// the Store remembers; nothing else is sent.
func TestStore_RoundTrips(t *testing.T) {
	ctx := context.Background()
	admin := adminPool(t)
	schema := randomSchema()
	dropSchemaAtCleanup(t, admin, schema)
	cfg, err := pgxpool.ParseConfig(withPoolSize(t, testDSN(t), 4))
	require.NoError(t, err)
	trips := &roundTrips{}
	cfg.ConnConfig.Tracer = trips
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	st, err := New(ctx, pool, Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })

	start, err := st.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	prepared := func(key string) store.AppendParams {
		p := postParams(id, message.DataSource("d1"), "x", t0)
		p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
			return []notify.Event{event(notify.KindMessagePosted, c, notify.Party{Kind: message.SenderUser, ID: "u1"},
				notify.Party{Kind: message.SenderDataSource, ID: "d1"}, t0)}, nil
		}
		if key != "" {
			p.Idempotency = &store.Idempotency{Scope: "d1", Key: key, Fingerprint: "f"}
		}
		return p
	}
	var res store.AppendResult
	for _, tc := range []struct {
		name string
		want int64
		op   func() error
	}{
		{"AppendMessage", 1, func() error {
			_, err := st.AppendMessage(ctx, postParams(id, message.DataSource("d1"), "x", t0))
			return err
		}},
		{"AppendMessage with Prepare", 2, func() error { _, err := st.AppendMessage(ctx, prepared("")); return err }},
		{"AppendMessage with Prepare, remembered", 1, func() error { _, err := st.AppendMessage(ctx, prepared("")); return err }},
		{"AppendMessage with Prepare and a key", 2, func() error {
			var err error
			res, err = st.AppendMessage(ctx, prepared("k"))
			return err
		}},
		{"SetStatus with Check", 2, func() error {
			_, err := st.SetStatus(ctx, store.StatusParams{ConversationID: id, Status: conversation.StatusOpen, At: t0,
				Check: func(conversation.Conversation) error { return nil }})
			return err
		}},
		{"Replay", 1, func() error {
			_, _, err := st.Replay(ctx, store.Idempotency{Scope: "d1", Key: "none", Fingerprint: "f"})
			return err
		}},
	} {
		var err error
		got := trips.count(func() { err = tc.op() })
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, "%s: round trips", tc.name)
	}
	// A replayed append answers from its first round trip.
	got := trips.count(func() {
		again, err := st.AppendMessage(ctx, prepared("k"))
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, res.Message, again.Message)
	})
	assert.Equal(t, int64(1), got, "a replay: round trips")
}

// TestAppendMessage_RememberedStatusChanged: another process closes a
// conversation that this Store remembers open. An append whose Prepare
// refuses closed conversations runs Prepare on the remembered one (open),
// writes nothing (the guard sees the change), reads the conversation
// again and is refused; once remembered closed, the refusal is decided on
// a fresh read too. Nothing is written.
func TestAppendMessage_RememberedStatusChanged(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 4)
	other, err := Open(ctx, testDSN(t), Options{Schema: e.schema})
	require.NoError(t, err)
	defer other.Close()
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	errClosed := errors.New("closed")
	var seen []conversation.Status
	post := func() error {
		p := postParams(id, message.DataSource("d1"), "x", t0.Add(time.Second))
		p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
			seen = append(seen, c.Status)
			if c.Status != conversation.StatusOpen {
				return nil, errClosed
			}
			return nil, nil
		}
		_, err := e.AppendMessage(ctx, p)
		return err
	}
	require.NoError(t, post())
	require.NoError(t, post())
	assert.Equal(t, []conversation.Status{"open", "open"}, seen, "read once, then remembered")

	_, err = other.SetStatus(ctx, store.StatusParams{ConversationID: id, Status: conversation.StatusClosed, At: t0.Add(time.Minute)})
	require.NoError(t, err)
	before := e.snapshot(t)
	seen = nil
	require.True(t, post() == errClosed)
	assert.Equal(t, []conversation.Status{"open", "closed"}, seen, "remembered open, then read closed")
	seen = nil
	require.True(t, post() == errClosed)
	assert.Equal(t, []conversation.Status{"closed", "closed"}, seen, "a refusal is decided on a fresh read")
	assert.Equal(t, before, e.snapshot(t), "nothing written")
}
