package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/internal/postbench"
	"github.com/parleyhq/parley/message"
)

// BenchmarkConcurrentPost measures posts made at once by 1, 4, 16 and 64
// goroutines into postConvs conversations: Service.Post on the Store
// against two hand-written twins, on the same pgx pool (postPoolSize
// connections) and schema:
//
//   - raw: the one-round-trip insert, one statement (a CTE that updates
//     the conversation as AppendMessage does, drawing the message id under
//     its row lock, and inserts the message), without pg_notify;
//   - notify: the same statement with pg_notify of the conversation id in
//     it, in the write's transaction, as appends notified before the
//     announcer.
//
// Service.Post does what the Service does for a seller's reply without
// the outbox: Prepare (the rules) on the conversation, the guarded
// one-statement write with its idempotency lookup, and, after the commit,
// the announcer. Two settings: Quiet (no feed listens: the announcer sends
// nothing) and Listening (a feed of this process listens on the schema's
// channel during the whole benchmark: the announcer notifies).
//
// Every iteration is one round in which each contender makes the same
// number of posts, in turn (the order rotates between rounds), so that all
// see the same moments of a shared machine. The benchmark reports for
// each its throughput (name-ops/s), the 99th percentile of the time a post
// waits (name-p99-µs) and the allocations per post (the whole process's,
// the announcer's included), and the ratios of the Service's throughput
// to each twin's (post/raw, post/notify).
//
//	PARLEY_POSTGRES_DSN=... go test ./store/postgres -run '^$' -bench ConcurrentPost -benchtime=5x -count=3
func BenchmarkConcurrentPost(b *testing.B) {
	for _, listening := range []bool{false, true} {
		name := "Quiet"
		if listening {
			name = "Listening"
		}
		for _, g := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/G%d", name, g), func(b *testing.B) {
				benchConcurrentPost(b, g, listening)
			})
		}
	}
}

const (
	// postConvs is the number of conversations the posts go to, in turn.
	postConvs    = 1024
	postPoolSize = 16
	postChannel  = "bench"
	postSeller   = "ds-1"
	postContent  = "A reply from the seller, about one line long."
)

// postsPerRound is how many posts each contender makes in one round.
func postsPerRound(g int) int { return postbench.PostsPerRound(g, testing.Short()) }

func benchConcurrentPost(b *testing.B, g int, listening bool) {
	ctx := context.Background()
	st, pool := postSchema(b)
	if listening {
		wctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- st.WatchMessages(wctx, func(int64) {}) }()
		b.Cleanup(func() { cancel(); <-done })
		time.Sleep(100 * time.Millisecond) // listening before the first post
	}
	opts := parley.DefaultOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	svc, err := parley.New(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	seller := parley.Seller(postChannel, postSeller)
	var next atomic.Int64
	raw := postCTE(st.q.schema, "")
	notify := postCTE(st.q.schema, literal(feedChannel(st.opts.Schema)))
	codes := make([]uuid.UUID, postConvs)
	for i := range codes {
		c, err := st.GetConversation(ctx, int64(i+1))
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = c.Code
	}
	rawPost := func(sql string) func(g, n int) []time.Duration {
		return func(g, n int) []time.Duration {
			return fanOut(b, g, n, &next, func(conv int64) error {
				var id int64
				return pool.QueryRow(ctx, sql, conv, time.Now().UTC().Truncate(time.Microsecond),
					uuid.Must(uuid.NewV7()), postSeller, postContent).Scan(&id)
			})
		}
	}
	cs := []*postbench.Contender{
		{Name: "post", Run: func(g, n int) []time.Duration {
			return fanOut(b, g, n, &next, func(conv int64) error {
				_, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: conv, Content: postContent})
				return err
			})
		}},
		{Name: "stmt", Run: func(g, n int) []time.Duration {
			return fanOut(b, g, n, &next, func(conv int64) error {
				p := postParams(conv, message.DataSource(postSeller), postContent, time.Now().UTC().Truncate(time.Microsecond))
				guard := conversation.Conversation{Status: conversation.StatusOpen, Code: codes[conv-1]}
				var written, found bool
				var fp string
				var ic, im int64
				var c conversation.Conversation
				dest := append([]any{&written}, rawConvDest(&c)...)
				dest = append(dest, &found, &fp, &ic, &im)
				sql, args := st.appendStatement(&p, nil, &guard)
				return pool.QueryRow(ctx, sql, args...).Scan(dest...)
			})
		}},
		{Name: "raw", Run: rawPost(raw)},
		{Name: "notify", Run: rawPost(notify)},
	}
	n := postsPerRound(g)
	round := 0
	for b.Loop() {
		postbench.Round(cs, round, g, n)
		round++
	}
	rate := map[string]float64{}
	for _, c := range cs {
		rate[c.Name] = c.Rate()
		c.Report(b)
	}
	b.ReportMetric(rate["post"]/rate["raw"], "post/raw")
	b.ReportMetric(rate["post"]/rate["notify"], "post/notify")
	b.ReportMetric(rate["post"]/rate["stmt"], "post/stmt")
	b.ReportMetric(rate["stmt"]/rate["raw"], "stmt/raw")
}

// postCTE is the hand-written one-statement post of the twins, into
// schema s (quoted): the conversation's row as AppendMessage updates it
// for a seller's reply, the message id drawn under its row lock, and the
// message. With channel (an SQL literal) not empty, it also notifies the
// channel with the conversation id, in its transaction.
func postCTE(s, channel string) string {
	seq := literal(s + ".message_ids")
	sql := `WITH conv AS (
	UPDATE ` + s + `.conversations AS c SET
		last_seq = c.last_seq + 1,
		message_count = c.message_count + 1,
		last_message_id = nextval(` + seq + `),
		last_message_at = GREATEST($2::timestamptz, c.last_message_at, c.modified_at),
		modified_at = GREATEST($2::timestamptz, c.last_message_at, c.modified_at),
		seller_read_seq = c.last_seq + 1,
		seller_unread = 0,
		user_unread = c.user_unread + 1
	WHERE c.id = $1::bigint
	RETURNING c.id, c.last_message_id, c.last_seq, c.last_message_at
), msg AS (
	INSERT INTO ` + s + `.messages (id, code, conversation_id, seq, sender_kind, sender_id, sender_user_type, content, language, created_at)
	SELECT conv.last_message_id, $3::uuid, conv.id, conv.last_seq, 'datasource', $4::text, '', $5::text, '', conv.last_message_at
	FROM conv
)
SELECT conv.last_message_id FROM conv`
	if channel != "" {
		sql += ` CROSS JOIN (SELECT count(pg_notify(` + channel + `, conv.id::text)) FROM conv) AS feed`
	}
	return sql
}

// postSchema opens a Store, on a pool of postPoolSize connections, in a
// new schema of postConvs conversations between users and seller
// postSeller, each with its first message; both are closed and the
// schema dropped when b ends.
func postSchema(b *testing.B) (*Store, *pgxpool.Pool) {
	b.Helper()
	ctx := context.Background()
	admin := adminPool(b)
	schema := randomSchema()
	dropSchemaAtCleanup(b, admin, schema)
	pool, err := pgxpool.New(ctx, withPoolSize(b, testDSN(b), postPoolSize))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	st, err := New(ctx, pool, Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	opts := parley.DefaultOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	svc, err := parley.New(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < postConvs; i += 8 {
				if _, err := svc.Start(ctx, parley.User(postChannel, "user-"+strconv.Itoa(i)), parley.StartRequest{
					Type: conversation.TypeMessage, DataSourceID: postSeller, Content: "A first message from a user.",
				}); err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "VACUUM ANALYZE "+st.q.schema+".conversations, "+st.q.schema+".messages"); err != nil {
		b.Fatal(err)
	}
	return st, pool
}

// fanOut runs n calls of post with g goroutines, each taking the next
// conversation in turn, and returns the time each call took.
func fanOut(b *testing.B, g, n int, next *atomic.Int64, post func(conv int64) error) []time.Duration {
	lat, err := postbench.FanOut(g, n, next, postConvs, post)
	if err != nil {
		b.Fatal(err)
	}
	return lat
}
