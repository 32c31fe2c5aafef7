package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

func TestOptions_Validate(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		require.NoError(t, Options{}.Validate())
		assert.Equal(t, DefaultOptions(), Options{}.withDefaults())
	})
	t.Run("ErrLongSchema", func(t *testing.T) {
		err := Options{Schema: string(make([]byte, 64))}.Validate()
		require.Error(t, err)
	})
	t.Run("ErrNegativeRetries", func(t *testing.T) {
		require.Error(t, Options{MaxRetries: -1}.Validate())
	})
	t.Run("OddSchemaNameIsQuoted", func(t *testing.T) {
		e := newEnvSchema(t, `Parley "odd"; name`)
		_, err := e.CreateConversation(context.Background(), startParams("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
		require.NoError(t, err)
	})
}

// newEnvSchema is newEnv with a given schema name.
func newEnvSchema(t *testing.T, schema string) *Store {
	admin := adminPool(t)
	dropSchemaAtCleanup(t, admin, schema)
	st, err := Open(context.Background(), testDSN(t), Options{Schema: schema})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func TestStore_CreateConversation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)

	t.Run("OK", func(t *testing.T) {
		p := startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Product("p1"), t0.Add(123456789))
		res, err := e.CreateConversation(ctx, p)
		require.NoError(t, err)
		c, m := res.Conversation, res.Message
		assert.NotZero(t, c.ID)
		assert.NotZero(t, m.ID)
		assert.Equal(t, c.ID, m.ConversationID)
		assert.Equal(t, int64(1), m.Seq)
		assert.Equal(t, m.ID, c.LastMessageID)
		assert.False(t, res.Replayed)

		got, err := e.GetConversation(ctx, c.ID)
		require.NoError(t, err)
		assert.Equal(t, time.UTC, got.CreatedAt.Location())
		assert.True(t, got.CreatedAt.Equal(t0.Add(123456000)), "microsecond precision: %v", got.CreatedAt)
		assert.Equal(t, c, got, "the returned conversation is what was stored")

		page, err := e.ListMessages(ctx, store.MessageQuery{ConversationID: c.ID, Limit: 10, WithTotal: true})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		assert.Equal(t, m, page.Items[0])
		assert.Equal(t, int64(1), page.Total)

		var evConv, evMsg int64
		var state string
		require.NoError(t, e.admin.QueryRow(ctx, "SELECT conversation_id, message_id, state FROM "+e.table("events")+" WHERE id = $1",
			p.Events[0].ID).Scan(&evConv, &evMsg, &state))
		assert.Equal(t, []any{c.ID, m.ID, "pending"}, []any{evConv, evMsg, state})
	})

	t.Run("ErrConversationExists", func(t *testing.T) {
		p := startParams("web", "u2", "d1", conversation.TypeQuestion, conversation.Item{}, t0)
		first, err := e.CreateConversation(ctx, p)
		require.NoError(t, err)
		_, err = e.CreateConversation(ctx, startParams("web", "u2", "d1", conversation.TypeQuestion, conversation.Item{}, t0))
		var ce *store.ConversationExistsError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, first.Conversation.ID, ce.ID)
		assert.ErrorIs(t, err, store.ErrConversationExists)
		// Another item, type or channel is another key.
		for _, p := range []store.CreateParams{
			startParams("web", "u2", "d1", conversation.TypeQuestion, conversation.Product("x"), t0),
			startParams("web", "u2", "d1", conversation.TypeReview, conversation.Item{}, t0),
			startParams("app", "u2", "d1", conversation.TypeQuestion, conversation.Item{}, t0),
		} {
			_, err := e.CreateConversation(ctx, p)
			require.NoError(t, err)
		}
	})

	t.Run("Idempotency", func(t *testing.T) {
		p := startParams("web", "u3", "d1", conversation.TypeMessage, conversation.Item{}, t0)
		p.Idempotency = &store.Idempotency{Scope: "user:u3", Key: "k1", Fingerprint: "f1"}
		first, err := e.CreateConversation(ctx, p)
		require.NoError(t, err)
		post := postParams(first.Conversation.ID, message.DataSource("d1"), "reply", t0.Add(time.Minute))
		_, err = e.AppendMessage(ctx, post)
		require.NoError(t, err)

		again, err := e.CreateConversation(ctx, p)
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, first.Message, again.Message)
		assert.Equal(t, int64(2), again.Conversation.LastSeq, "the current conversation")

		p.Idempotency.Fingerprint = "other"
		_, err = e.CreateConversation(ctx, p)
		assert.ErrorIs(t, err, store.ErrIdempotencyMismatch)
	})
}

func TestStore_AppendMessage(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID

	for _, withPrepare := range []bool{false, true} {
		name := "NoPrepare"
		if withPrepare {
			name = "Prepare"
		}
		t.Run(name, func(t *testing.T) {
			before, err := e.GetConversation(ctx, id)
			require.NoError(t, err)
			at := before.LastMessageAt.Add(time.Second)
			p := postParams(id, message.DataSource("d1"), "seller says", at)
			var seen *conversation.Conversation
			if withPrepare {
				p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
					seen = &c
					return []notify.Event{event(notify.KindMessagePosted, c, notify.Party{Kind: message.SenderUser, ID: "u1"}, notify.Party{Kind: message.SenderDataSource, ID: "d1"}, at)}, nil
				}
			}
			res, err := e.AppendMessage(ctx, p)
			require.NoError(t, err)
			if withPrepare {
				require.NotNil(t, seen)
				assert.Equal(t, before, *seen)
			}
			want, m := before, p.Message
			m.ID = res.Message.ID
			store.ApplyMessage(&want, &m)
			assert.Equal(t, want, res.Conversation)
			assert.Equal(t, m.Seq, res.Message.Seq)
			assert.Greater(t, res.Message.ID, before.LastMessageID)
			got, err := e.GetConversation(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		})
	}

	t.Run("PrepareErrorUnchanged", func(t *testing.T) {
		errClosed := errors.New("conversation closed")
		before, err := e.GetConversation(ctx, id)
		require.NoError(t, err)
		p := postParams(id, message.User("u1", message.UserGuest), "x", t0.Add(time.Hour))
		p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return nil, errClosed }
		_, err = e.AppendMessage(ctx, p)
		assert.True(t, err == errClosed, "got %v", err)
		after, err := e.GetConversation(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, before, after)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, prepare := range []func(conversation.Conversation) ([]notify.Event, error){nil, func(conversation.Conversation) ([]notify.Event, error) { return nil, nil }} {
			p := postParams(id+1000, message.User("u1", message.UserGuest), "x", t0)
			p.Prepare = prepare
			_, err := e.AppendMessage(ctx, p)
			assert.ErrorIs(t, err, store.ErrNotFound)
		}
	})

	t.Run("Idempotency", func(t *testing.T) {
		for _, prepare := range []func(conversation.Conversation) ([]notify.Event, error){nil, func(conversation.Conversation) ([]notify.Event, error) { return nil, nil }} {
			p := postParams(id, message.User("u1", message.UserGuest), "idem", t0.Add(2*time.Hour))
			p.Prepare = prepare
			p.Idempotency = &store.Idempotency{Scope: "user:u1", Key: newUUID().String(), Fingerprint: "f"}
			first, err := e.AppendMessage(ctx, p)
			require.NoError(t, err)
			again, err := e.AppendMessage(ctx, p)
			require.NoError(t, err)
			assert.True(t, again.Replayed)
			assert.Equal(t, first.Message, again.Message)
			assert.Equal(t, first.Conversation, again.Conversation)
			p.Idempotency.Fingerprint = "g"
			_, err = e.AppendMessage(ctx, p)
			assert.ErrorIs(t, err, store.ErrIdempotencyMismatch)
			// Checked first, before the conversation is looked up.
			p.Idempotency.Fingerprint = "f"
			p.ConversationID = id + 1000
			again, err = e.AppendMessage(ctx, p)
			require.NoError(t, err)
			assert.True(t, again.Replayed)
			assert.Equal(t, first.Message, again.Message)
		}
	})
}

func TestStore_MessagesAfter(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	ids := []int64{start.Message.ID}
	for i := range 4 {
		res, err := e.AppendMessage(ctx, postParams(id, message.DataSource("d1"), "m", t0.Add(time.Duration(i+1)*time.Second)))
		require.NoError(t, err)
		ids = append(ids, res.Message.ID)
	}
	msgIDs := func(ms []message.Message) (out []int64) {
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	all, err := e.MessagesAfter(ctx, message.After{ConversationID: id, Limit: 10})
	require.NoError(t, err)
	assert.Equal(t, ids, msgIDs(all))
	assert.Equal(t, "m", all[1].Content)
	some, err := e.MessagesAfter(ctx, message.After{ConversationID: id, ID: ids[1], Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, ids[2:4], msgIDs(some))
	none, err := e.MessagesAfter(ctx, message.After{ConversationID: id, ID: ids[4], Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, none)
	none, err = e.MessagesAfter(ctx, message.After{ConversationID: id + 1, ID: ids[1], Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, none, "no such conversation")

	page, err := e.ListMessages(ctx, store.MessageQuery{ConversationID: id, Limit: 2, WithTotal: true})
	require.NoError(t, err)
	assert.Equal(t, []int64{ids[4], ids[3]}, msgIDs(page.Items))
	assert.True(t, page.More)
	assert.Equal(t, int64(5), page.Total)
	page, err = e.ListMessages(ctx, store.MessageQuery{ConversationID: id, BeforeSeq: 2, Limit: 2})
	require.NoError(t, err)
	assert.Equal(t, []int64{ids[0]}, msgIDs(page.Items))
	assert.False(t, page.More)
	assert.Equal(t, int64(-1), page.Total)
}

func TestStore_ListConversations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	var all []conversation.Conversation
	for i := range 7 {
		typ := []conversation.Type{conversation.TypeMessage, conversation.TypeQuestion, conversation.TypeReview}[i%3]
		// Two conversations share each time, so the id breaks the tie.
		res, err := e.CreateConversation(ctx, startParams("web", "u", "d", typ, conversation.Product(string(rune('a'+i))), t0.Add(time.Duration(i/2)*time.Second)))
		require.NoError(t, err)
		all = append(all, res.Conversation)
	}
	_, err := e.CreateConversation(ctx, startParams("elsewhere", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)

	var got []int64
	q := store.ConversationQuery{Channel: "web", Limit: 3, WithTotal: true}
	for {
		page, err := e.ListConversations(ctx, q)
		require.NoError(t, err)
		assert.Equal(t, int64(7), page.Total)
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if !page.More {
			break
		}
		last := page.Items[len(page.Items)-1]
		q.After = &store.ConversationCursor{LastMessageAt: last.LastMessageAt, ID: last.ID}
	}
	var want []int64
	for i := len(all) - 1; i >= 0; i-- {
		want = append(want, all[i].ID)
	}
	assert.Equal(t, want, got)

	page, err := e.ListConversations(ctx, store.ConversationQuery{Channel: "web", Limit: 10,
		Types: []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}})
	require.NoError(t, err)
	assert.Len(t, page.Items, 4)
	for _, c := range page.Items {
		assert.True(t, c.Type.Public())
	}
	page, err = e.ListConversations(ctx, store.ConversationQuery{Channel: "web", Limit: 10,
		Filter: conversation.Filter{ProductID: "c", CreatedFrom: t0.Add(time.Second - 1), CreatedTo: t0.Add(time.Second)}})
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.Equal(t, all[2].ID, page.Items[0].ID)
	page, err = e.ListConversations(ctx, store.ConversationQuery{Channel: "web", Limit: 10,
		Filter: conversation.Filter{CreatedFrom: t0.Add(time.Second + 1)}})
	require.NoError(t, err)
	assert.Len(t, page.Items, 3, "a bound between microseconds keeps the rows ConversationQuery.Matches keeps")
}

func TestStore_MarkReadAndStatus(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	start, err := e.CreateConversation(ctx, startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	id := start.Conversation.ID
	var last store.AppendResult
	for i := range 3 {
		last, err = e.AppendMessage(ctx, postParams(id, message.DataSource("d1"), "m", t0.Add(time.Duration(i+1)*time.Second)))
		require.NoError(t, err)
	}
	assert.Equal(t, int64(3), last.Conversation.UserRead.Unread)
	u, err := e.Unread(ctx, store.UnreadQuery{Channel: "web", Side: conversation.SideUser, PartyID: "u1"})
	require.NoError(t, err)
	assert.Equal(t, store.UnreadSummary{Messages: 3, Conversations: 1}, u)

	c, err := e.MarkRead(ctx, store.ReadParams{ConversationID: id, Side: conversation.SideUser, UpToMessageID: last.Message.ID - 1})
	require.NoError(t, err)
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 1}, c.UserRead)
	assert.Equal(t, last.Conversation.ModifiedAt, c.ModifiedAt)
	c, err = e.MarkRead(ctx, store.ReadParams{ConversationID: id, Side: conversation.SideUser, UpToMessageID: start.Message.ID})
	require.NoError(t, err)
	assert.Equal(t, conversation.ReadState{ReadSeq: 3, Unread: 1}, c.UserRead, "a position behind is kept")
	_, err = e.MarkRead(ctx, store.ReadParams{ConversationID: id, Side: conversation.SideUser, UpToMessageID: last.Message.ID + 1000})
	assert.ErrorIs(t, err, store.ErrNotFound)
	_, err = e.MarkRead(ctx, store.ReadParams{ConversationID: id + 1000, Side: conversation.SideUser, UpToMessageID: last.Message.ID})
	assert.ErrorIs(t, err, store.ErrNotFound)

	at := t0.Add(time.Hour)
	c, err = e.SetStatus(ctx, store.StatusParams{ConversationID: id, Status: conversation.StatusClosed, At: at})
	require.NoError(t, err)
	assert.Equal(t, conversation.StatusClosed, c.Status)
	assert.True(t, c.ModifiedAt.Equal(at))
	assert.Equal(t, last.Conversation.LastMessageAt, c.LastMessageAt)
	_, err = e.SetStatus(ctx, store.StatusParams{ConversationID: id + 1000, Status: conversation.StatusClosed, At: at})
	assert.ErrorIs(t, err, store.ErrNotFound)
}

func TestStore_Outbox(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 0)
	p := startParams("web", "u1", "d1", conversation.TypeMessage, conversation.Item{}, t0)
	to := notify.Party{Kind: message.SenderDataSource, ID: "d1"}
	from := notify.Party{Kind: message.SenderUser, ID: "u1"}
	later := event(notify.KindMessagePosted, p.Conversation, to, from, t0)
	later.DueAt = t0.Add(time.Hour)
	later.DigestKey = p.Events[0].DigestKey
	p.Events = append(p.Events, later)
	_, err := e.CreateConversation(ctx, p)
	require.NoError(t, err)

	claimed, err := e.ClaimEvents(ctx, notify.ClaimParams{Worker: "w1", Now: t0, Lease: time.Minute, Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.Equal(t, 1, claimed[0].Attempts)
	again, err := e.ClaimEvents(ctx, notify.ClaimParams{Worker: "w2", Now: t0, Lease: time.Minute, Limit: 10, Digest: true})
	require.NoError(t, err)
	assert.Empty(t, again, "held by w1's lease")

	require.NoError(t, e.FailEvent(ctx, "w1", claimed[0].ID, "boom", t0.Add(time.Second), false))
	digest, err := e.ClaimEvents(ctx, notify.ClaimParams{Worker: "w2", Now: t0.Add(time.Second), Lease: time.Minute, Limit: 1, Digest: true})
	require.NoError(t, err)
	require.Len(t, digest, 2, "the digest takes the event that is not due yet")
	assert.Equal(t, []string{p.Events[0].ID, later.ID}, []string{digest[0].ID, digest[1].ID})
	assert.Equal(t, "boom", digest[0].LastError)

	require.NoError(t, e.CompleteEvents(ctx, "w1", []string{later.ID}, t0), "not w1's: left alone")
	require.NoError(t, e.CompleteEvents(ctx, "w2", []string{later.ID}, t0))
	require.NoError(t, e.FailEvent(ctx, "w2", p.Events[0].ID, "gone", t0, true))
	dead, err := e.ListDeadEvents(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Equal(t, notify.StateDead, dead[0].State)
	assert.Equal(t, "gone", dead[0].LastError)

	require.NoError(t, e.RetryDeadEvent(ctx, dead[0].ID, t0.Add(time.Hour)))
	assert.ErrorIs(t, e.RetryDeadEvent(ctx, dead[0].ID, t0), store.ErrNotFound)
	claimed, err = e.ClaimEvents(ctx, notify.ClaimParams{Worker: "w3", Now: t0.Add(time.Hour), Lease: time.Minute, Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	assert.Equal(t, 1, claimed[0].Attempts)
	assert.Equal(t, "gone", claimed[0].LastError)
}

func TestStore_Close(t *testing.T) {
	e := newEnv(t, 0)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close())
	_, err := e.GetConversation(context.Background(), 1)
	assert.ErrorIs(t, err, store.ErrClosed)
	_, err = e.ClaimEvents(context.Background(), notify.ClaimParams{Worker: "w", Now: t0, Limit: 1})
	assert.ErrorIs(t, err, store.ErrClosed)
}

func TestStore_Retry(t *testing.T) {
	// The retry loop alone, on errors as pgx reports them: no server.
	s := &Store{opts: Options{MaxRetries: 3}.withDefaults()}
	ctx := context.Background()
	failing := func(codes ...string) (func(context.Context) error, *int) {
		calls := 0
		return func(context.Context) error {
			calls++
			if calls <= len(codes) {
				return fmt.Errorf("exec: %w", &pgconn.PgError{Code: codes[calls-1]})
			}
			return nil
		}, &calls
	}
	t.Run("SerializationFailureAndDeadlock", func(t *testing.T) {
		fn, calls := failing(codeSerializationFailure, codeDeadlockDetected, codeSerializationFailure)
		require.NoError(t, s.do(ctx, "op", fn))
		assert.Equal(t, 4, *calls)
	})
	t.Run("Bounded", func(t *testing.T) {
		fn, calls := failing(codeDeadlockDetected, codeDeadlockDetected, codeDeadlockDetected, codeDeadlockDetected)
		err := s.do(ctx, "op", fn)
		var pe *pgconn.PgError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, codeDeadlockDetected, pe.Code)
		assert.Equal(t, 4, *calls, "one try and MaxRetries retries")
	})
	t.Run("OtherErrorsNotRetried", func(t *testing.T) {
		fn, calls := failing(codeUniqueViolation)
		require.Error(t, s.do(ctx, "op", fn))
		assert.Equal(t, 1, *calls)
	})
	t.Run("PrepareErrorUnchanged", func(t *testing.T) {
		errRule := errors.New("rule")
		err := s.do(ctx, "op", func(context.Context) error { return checkError{errRule} })
		assert.True(t, err == errRule)
	})
}
