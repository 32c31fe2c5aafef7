package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// replayedLSN returns what a pool's server has replayed (a replica) or
// written (a primary), as a Position.
func replayedLSN(t testing.TB, p *pgxpool.Pool) store.Position {
	t.Helper()
	var lsn int64
	require.NoError(t, p.QueryRow(context.Background(), replaySQL).Scan(&lsn, new(float64)))
	return store.Position(lsn)
}

// waitReplayed waits until the replica has replayed everything the
// primary wrote so far.
func waitReplayed(t testing.TB, primary, replica *pgxpool.Pool) {
	t.Helper()
	want := replayedLSN(t, primary)
	require.Eventually(t, func() bool { return replayedLSN(t, replica) >= want }, 30*time.Second, 10*time.Millisecond,
		"the replica replays what the primary wrote")
}

// channelIDs lists the ids of a channel's conversations through st.
func channelIDs(ctx context.Context, t testing.TB, st *Store, channel string) []int64 {
	t.Helper()
	p, err := st.ListConversations(ctx, store.ConversationQuery{Channel: channel, Limit: 100})
	require.NoError(t, err)
	var ids []int64
	for _, c := range p.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestReplica runs the routed reads against a real streaming replica: a
// primary and a standby made for the test with initdb and pg_basebackup.
func TestReplica(t *testing.T) {
	primary, standby := newStandbyPair(t, false)
	rpool := standby.pool()

	ctx := context.Background()
	const wait = 300 * time.Millisecond
	st, err := Open(ctx, primary.dsn(), Options{
		Schema:       "parley_replica",
		Replicas:     []*pgxpool.Pool{rpool},
		ReplicaWait:  wait,
		ReplicaCheck: 100 * time.Millisecond,
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	waitReplayed(t, st.Pool(), rpool) // the schema

	t.Run("WriteThenReadWithItsToken", func(t *testing.T) {
		sess := store.NewSession(0)
		sctx := store.WithSession(ctx, sess)
		res, err := st.CreateConversation(sctx, startParams("ryw", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		require.NotZero(t, sess.Position(), "the write advanced the session")
		first := sess.Position()
		_, err = st.AppendMessage(sctx, postParams(res.Conversation.ID, sellerSender, "hi", t0.Add(time.Second)))
		require.NoError(t, err)
		require.Greater(t, sess.Position(), first, "each write moves the session on")

		assert.Equal(t, []int64{res.Conversation.ID}, channelIDs(sctx, t, st, "ryw"))
		page, err := st.ListMessages(sctx, store.MessageQuery{ConversationID: res.Conversation.ID, Limit: 10, WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 2, page.Total)
		sum, err := st.Unread(sctx, store.UnreadQuery{Channel: "ryw", Side: conversation.SideUser, PartyID: "u1"})
		require.NoError(t, err)
		assert.EqualValues(t, 1, sum.Messages)
		assert.GreaterOrEqual(t, replayedLSN(t, rpool), sess.Position(), "the replica has the write")

		// A retried write answered by a replay gives its new caller a
		// position at or after the first commit.
		p := postParams(res.Conversation.ID, sellerSender, "once", t0.Add(2*time.Second))
		p.Idempotency = &store.Idempotency{Scope: "datasource:d1", Key: "k1", Fingerprint: "f"}
		// With a Prepare, as the Service posts: a replay is answered by
		// the first round trip, a read.
		p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return nil, nil }
		once, err := st.AppendMessage(sctx, p)
		require.NoError(t, err)
		retry := store.NewSession(0)
		again, err := st.AppendMessage(store.WithSession(ctx, retry), p)
		require.NoError(t, err)
		require.True(t, again.Replayed)
		assert.Equal(t, once.Message.ID, again.Message.ID)
		assert.GreaterOrEqual(t, retry.Position(), sess.Position(), "the replay's session covers the first write")
	})

	t.Run("PausedReplay", func(t *testing.T) {
		before, err := st.CreateConversation(ctx, startParams("paused", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		waitReplayed(t, st.Pool(), rpool)
		standby.exec("SELECT pg_wal_replay_pause()")
		t.Cleanup(func() { standby.exec("SELECT pg_wal_replay_resume()") })
		require.Eventually(t, func() bool {
			var state string
			require.NoError(t, rpool.QueryRow(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&state))
			return state == "paused"
		}, 10*time.Second, 5*time.Millisecond)

		sess := store.NewSession(0)
		sctx := store.WithSession(ctx, sess)
		after, err := st.CreateConversation(sctx, startParams("paused", "u2", "d1", conversation.TypeMessage, conversation.Item{}, t0.Add(time.Second)))
		require.NoError(t, err)

		start := time.Now()
		assert.Equal(t, []int64{after.Conversation.ID, before.Conversation.ID}, channelIDs(sctx, t, st, "paused"),
			"with its token, the read sees the write: from the primary")
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, wait, "it waited for the replica first")
		assert.Less(t, took, wait+5*time.Second, "then read the primary, within the bound")

		assert.Equal(t, []int64{before.Conversation.ID}, channelIDs(ctx, t, st, "paused"),
			"without a token, the read takes the replica as it is")
		assert.Equal(t, []int64{before.Conversation.ID}, channelIDs(store.WithSession(ctx, store.NewSession(0)), t, st, "paused"),
			"so does a session that wrote nothing")
		older := store.NewSession(replayedLSN(t, rpool))
		start = time.Now()
		assert.Equal(t, []int64{before.Conversation.ID}, channelIDs(store.WithSession(ctx, older), t, st, "paused"),
			"a token the replica has replayed is served by the replica")
		assert.Less(t, time.Since(start), wait, "without waiting")

		// A store whose lag bound the paused replica has passed skips it.
		strict, err := Open(ctx, primary.dsn(), Options{
			Schema: "parley_replica", Replicas: []*pgxpool.Pool{rpool},
			ReplicaMaxLag: 100 * time.Millisecond, ReplicaCheck: 50 * time.Millisecond,
		})
		require.NoError(t, err)
		defer strict.Close()
		time.Sleep(300 * time.Millisecond)
		assert.Equal(t, []int64{after.Conversation.ID, before.Conversation.ID}, channelIDs(ctx, t, strict, "paused"),
			"a replica lagging past the bound is skipped: the read without a token goes to the primary")

		standby.exec("SELECT pg_wal_replay_resume()")
		assert.Eventually(t, func() bool { return len(channelIDs(ctx, t, st, "paused")) == 2 }, 30*time.Second, 10*time.Millisecond,
			"once replay resumes, the replica has the write")
	})

	t.Run("StoppedReplica", func(t *testing.T) {
		sess := store.NewSession(0)
		sctx := store.WithSession(ctx, sess)
		res, err := st.CreateConversation(sctx, startParams("stopped", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
		standby.stop()
		for range 3 {
			start := time.Now()
			assert.Equal(t, []int64{res.Conversation.ID}, channelIDs(sctx, t, st, "stopped"), "with a token")
			assert.Equal(t, []int64{res.Conversation.ID}, channelIDs(ctx, t, st, "stopped"), "without")
			page, err := st.ListMessages(ctx, store.MessageQuery{ConversationID: res.Conversation.ID, Limit: 10})
			require.NoError(t, err)
			assert.Len(t, page.Items, 1)
			_, err = st.Unread(ctx, store.UnreadQuery{Channel: "stopped", Side: conversation.SideSeller, PartyID: "d1"})
			require.NoError(t, err)
			assert.Less(t, time.Since(start), 5*time.Second, "a stopped replica costs no long wait")
		}
		_, err = st.AppendMessage(sctx, postParams(res.Conversation.ID, message.User("u1", message.UserRegistered), "still", t0.Add(time.Second)))
		require.NoError(t, err, "writes never needed the replica")
	})
}

func TestOptions_Replicas(t *testing.T) {
	for name, o := range map[string]Options{
		"nil replica":           {Replicas: []*pgxpool.Pool{nil}},
		"negative wait":         {ReplicaWait: -time.Millisecond},
		"negative lag":          {ReplicaMaxLag: -time.Second},
		"negative check period": {ReplicaCheck: -time.Second},
	} {
		err := o.Validate()
		require.Error(t, err, name)
		_, err = Open(context.Background(), "postgres://nowhere.invalid/db", o)
		require.Error(t, err, name)
	}
	d := DefaultOptions()
	assert.Equal(t, DefaultReplicaWait, d.ReplicaWait)
	assert.NoError(t, Options{ReplicaWait: time.Second, ReplicaMaxLag: time.Minute, ReplicaCheck: time.Second}.Validate())
}

// TestSession_NoReplicas: a store without replicas leaves Sessions alone
// (it reads its latest state anyway) and costs its writes nothing more.
func TestSession_NoReplicas(t *testing.T) {
	e := newEnv(t, 0)
	sess := store.NewSession(0)
	_, err := e.CreateConversation(store.WithSession(context.Background(), sess),
		startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	assert.Zero(t, sess.Position())
}
