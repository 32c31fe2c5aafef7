package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/postgres"
)

// readSignal is a store that signals each MessagesAfter it has answered.
type readSignal struct {
	*postgres.Store
	read chan struct{}
}

func (s *readSignal) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	msgs, err := s.Store.MessagesAfter(ctx, q)
	s.read <- struct{}{}
	return msgs, err
}

// openShared opens a store on a new schema, dropped when the test ends,
// with a readSignal around it.
func openShared(t *testing.T) (*readSignal, string) {
	t.Helper()
	dsn := os.Getenv("PARLEY_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PARLEY_POSTGRES_DSN is not set: skipping the PostgreSQL tests " +
			"(set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them)")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "parley_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx := context.Background()
		st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
		if err == nil {
			_, _ = st.Pool().Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
			_ = st.Close()
		}
	})
	return openOn(t, schema), schema
}

// openOn opens another store on schema (another process's, in effect),
// with a readSignal around it.
func openOn(t *testing.T, schema string) *readSignal {
	t.Helper()
	st, err := postgres.Open(context.Background(), os.Getenv("PARLEY_POSTGRES_DSN"), postgres.Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return &readSignal{Store: st, read: make(chan struct{}, 16)}
}

// TestService_ListenAcrossProcesses: two Services on one schema stand for
// two processes. A client waiting on the first gets the message posted
// through the second, woken by the feed (parley.Service.Listen), without
// polling.
func TestService_ListenAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	stA, schema := openShared(t)
	stB := openOn(t, schema)
	a, err := parley.New(stA, parley.DefaultOptions())
	require.NoError(t, err)
	b2, err := parley.New(stB, parley.DefaultOptions())
	require.NoError(t, err)

	lctx, stop := context.WithCancel(ctx)
	listened := make(chan error, 1)
	go func() { listened <- a.Listen(lctx) }()
	t.Cleanup(func() {
		stop()
		assert.ErrorIs(t, <-listened, context.Canceled)
	})

	user, seller := parley.User("1", "545382"), parley.Seller("1", "1")
	res, err := b2.Start(ctx, user, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hello"})
	require.NoError(t, err)
	last := res.Message.ID

	// The feed may take a moment to start listening: post again until
	// the waiter on a, parked before each post, is woken by b's post.
	awaitWoken(t, a, seller, stA, res.Conversation.ID, last, 20, 300*time.Millisecond, func() int64 {
		p, err := b2.Post(ctx, user, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "are you there?"})
		require.NoError(t, err)
		return p.Message.ID
	})
}

// awaitWoken parks a waiter of actor on conversation conv (after message
// last) on svc, whose store is sig, then calls post, which posts from
// elsewhere and returns the new message's id, and checks that the waiter
// is woken with that message within timeout. The feed may take a moment
// to start listening: it tries again, up to attempts times.
func awaitWoken(t *testing.T, svc *parley.Service, actor parley.Actor, sig *readSignal, conv, last int64,
	attempts int, timeout time.Duration, post func() int64) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		require.Less(t, attempt, attempts, "the waiter was never woken by the other process's post")
		got := make(chan int64, 1)
		wctx, cancel := context.WithTimeout(context.Background(), timeout)
		go func() {
			msgs, err := svc.Wait(wctx, actor, conv, last, 0)
			if err == nil && len(msgs) > 0 {
				got <- msgs[len(msgs)-1].ID
			}
			close(got)
		}()
		<-sig.read                        // the waiter has read once and found nothing
		time.Sleep(10 * time.Millisecond) // and waits
		posted := post()
		id, ok := <-got
		cancel()
		if ok {
			assert.Equal(t, posted, id)
			return
		}
		last = posted
	}
}
