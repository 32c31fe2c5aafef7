package notify_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
	"github.com/parleyhq/parley/store/postgres"
	"github.com/parleyhq/parley/store/sqlite"
)

// rowCounter is the Source a worker reads from: the store, counting every
// message row it returns.
type rowCounter struct {
	notify.Source
	mu   sync.Mutex
	seqs []int64
}

func (r *rowCounter) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	ms, err := r.Source.MessagesAfter(ctx, q)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range ms {
		r.seqs = append(r.seqs, m.Seq)
	}
	return ms, err
}

func (r *rowCounter) read() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.seqs...)
}

// deepStore is a store with a way to add many messages quickly: fill
// appends the user's messages with Seq from..to (no events) to the
// conversation, as AppendMessage would, but in one statement.
type deepStore struct {
	store.Store
	fill func(t *testing.T, c conversation.Conversation, from, to int64)
}

// deepStores returns a fresh store of every backend: memory, a SQLite file
// and, if PARLEY_POSTGRES_DSN is set, PostgreSQL in a schema of its own.
func deepStores(t *testing.T) map[string]func(t *testing.T) deepStore {
	return map[string]func(t *testing.T) deepStore{
		"Memory": func(t *testing.T) deepStore {
			st := memory.New()
			t.Cleanup(func() { _ = st.Close() })
			return deepStore{Store: st, fill: func(t *testing.T, c conversation.Conversation, from, to int64) {
				for seq := from; seq <= to; seq++ {
					_, err := st.AppendMessage(context.Background(), store.AppendParams{ConversationID: c.ID, Message: message.Message{
						Code: newCode(), Sender: message.User(c.UserID, message.UserRegistered), Content: fmt.Sprint("message ", seq), CreatedAt: c.CreatedAt,
					}})
					require.NoError(t, err)
				}
			}}
		},
		"SQLite": func(t *testing.T) deepStore {
			path := filepath.Join(t.TempDir(), "parley.db")
			st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			return deepStore{Store: st, fill: func(t *testing.T, c conversation.Conversation, from, to int64) {
				tx, err := db.Begin()
				require.NoError(t, err)
				defer tx.Rollback()
				_, err = tx.Exec(`WITH RECURSIVE g(n) AS (SELECT ?2 UNION ALL SELECT n + 1 FROM g WHERE n < ?3)
INSERT INTO messages (conversation_id, seq, code, sender_kind, sender_id, sender_user_type, content, language, created_at)
SELECT ?1, n, randomblob(16), 'user', ?4, 'registered', 'message ' || n, '', ?5 FROM g`,
					c.ID, from, to, c.UserID, c.CreatedAt.UnixMicro())
				require.NoError(t, err)
				_, err = tx.Exec(`UPDATE conversations SET last_seq = ?2, message_count = ?2, user_read_seq = ?2,
	last_message_id = (SELECT max(id) FROM messages WHERE conversation_id = ?1),
	seller_unread = seller_unread + ?2 - ?3 + 1 WHERE id = ?1`, c.ID, to, from)
				require.NoError(t, err)
				require.NoError(t, tx.Commit())
			}}
		},
		"PostgreSQL": func(t *testing.T) deepStore {
			dsn := os.Getenv("PARLEY_POSTGRES_DSN")
			if dsn == "" {
				t.Skip("PARLEY_POSTGRES_DSN is not set: skipping PostgreSQL " +
					"(set it to e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run it)")
			}
			b := make([]byte, 6)
			_, _ = rand.Read(b)
			schema := "parley_test_" + hex.EncodeToString(b)
			ctx := context.Background()
			st, err := postgres.Open(ctx, dsn, postgres.Options{Schema: schema})
			require.NoError(t, err)
			t.Cleanup(func() {
				_, err := st.Pool().Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
				assert.NoError(t, err)
				_ = st.Close()
			})
			table := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
			return deepStore{Store: st, fill: func(t *testing.T, c conversation.Conversation, from, to int64) {
				// The identity default draws the ids in the order of
				// the series: they grow with Seq, as the store's own.
				_, err := st.Pool().Exec(ctx, `INSERT INTO `+table("messages")+`
	(code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
SELECT gen_random_uuid(), $1, n, 'user', $2, 'registered', 'message ' || n, '', $3
FROM generate_series($4::bigint, $5::bigint) AS n ORDER BY n`, c.ID, c.UserID, c.CreatedAt, from, to)
				require.NoError(t, err)
				_, err = st.Pool().Exec(ctx, `UPDATE `+table("conversations")+` SET last_seq = $2, message_count = $2,
	user_read_seq = $2, seller_unread = seller_unread + $2 - $3 + 1,
	last_message_id = (SELECT max(id) FROM `+table("messages")+` WHERE conversation_id = $1) WHERE id = $1`, c.ID, to, from)
				require.NoError(t, err)
			}}
		},
	}
}

// TestWorker_DeepConversation: the worker delivers the notifications of
// messages at the end of a 20,000-message conversation on every store,
// reading only messages after the recipient's read position, and no more
// of them than there are events: what it reads does not grow with the
// conversation.
func TestWorker_DeepConversation(t *testing.T) {
	const (
		total    = 20000
		tail     = 20    // the last messages, each with an event for the seller
		readUpTo = 19990 // the seller has read up to here, the middle of the tail
	)
	for name, open := range deepStores(t) {
		for _, window := range []time.Duration{0, time.Minute} {
			t.Run(fmt.Sprintf("%s/DigestWindow=%v", name, window), func(t *testing.T) {
				ctx := context.Background()
				st := open(t)
				at := time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)
				c := conversation.Conversation{
					Code: newCode(), Channel: "shop", Type: conversation.TypeMessage, UserID: "u1", DataSourceID: "ds1",
					Status: conversation.StatusOpen, StartedBy: conversation.SideUser, CreatedAt: at,
				}
				created, err := st.CreateConversation(ctx, store.CreateParams{Conversation: c, Message: message.Message{
					Code: newCode(), Sender: message.User("u1", message.UserRegistered), Content: "message 1", CreatedAt: at,
				}})
				require.NoError(t, err)
				c = created.Conversation
				st.fill(t, c, 2, total-tail)

				var posted []message.Message
				for seq := total - tail + 1; seq <= total; seq++ {
					sender := message.User("u1", message.UserRegistered)
					ev := notify.Event{
						ID: newCode().String(), Kind: notify.KindMessagePosted, Channel: c.Channel, ConversationType: c.Type,
						Recipient: seller(c), Sender: user(c), CreatedAt: at, DueAt: at.Add(window),
						DigestKey: string(seller(c).Kind) + ":" + seller(c).ID + "|" + c.Code.String(),
					}
					res, err := st.AppendMessage(ctx, store.AppendParams{ConversationID: c.ID,
						Prepare: func(conversation.Conversation) ([]notify.Event, error) { return []notify.Event{ev}, nil },
						Message: message.Message{Code: newCode(), Sender: sender, Content: fmt.Sprint("message ", seq), CreatedAt: at}})
					require.NoError(t, err)
					require.EqualValues(t, seq, res.Message.Seq)
					posted = append(posted, res.Message)
				}
				c, err = st.MarkRead(ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideSeller,
					UpToMessageID: posted[readUpTo-(total-tail)-1].ID})
				require.NoError(t, err)
				require.EqualValues(t, readUpTo, c.SellerRead.ReadSeq)
				require.EqualValues(t, total-readUpTo, c.SellerRead.Unread)

				src := &rowCounter{Source: st}
				rec := &notify.Recorder{}
				cfg := notify.DefaultWorkerConfig()
				cfg.DigestWindow = window
				cfg.MaxAttempts = 1 // a failure would be dead at once
				cfg.Now = func() time.Time { return at.Add(time.Hour) }
				w, err := notify.NewWorker(st, src, rec, cfg)
				require.NoError(t, err)
				for {
					n, err := w.RunOnce(ctx)
					require.NoError(t, err)
					if n == 0 {
						break
					}
				}
				dead, err := w.DeadEvents(ctx, "", 100)
				require.NoError(t, err)
				require.Empty(t, dead)

				var got []string
				for _, n := range rec.Notifications() {
					assert.Equal(t, seller(c), n.Recipient)
					got = append(got, contents(n.Messages)...)
				}
				var want []string
				for seq := readUpTo + 1; seq <= total; seq++ {
					want = append(want, fmt.Sprint("message ", seq))
				}
				assert.Equal(t, want, got, "the unread messages of the tail, each notified once")

				seqs := src.read()
				for _, seq := range seqs {
					require.Greater(t, seq, int64(readUpTo), "a message at or before the read position was read")
				}
				assert.LessOrEqual(t, len(seqs), tail, "rows read: %v", seqs)
				t.Logf("%d rows read for %d events", len(seqs), tail)
			})
		}
	}
}
