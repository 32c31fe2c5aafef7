package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/storetest"
)

// BenchmarkPageByNumber reads page 1, 100 and 10,000 (10 items a page) of
// two 100k-item listings: the conversations of a channel, and the
// messages of one conversation (storetest.PageByNumber: "parley" is what
// parley.Service does for a page number). "offset" is the hand-written
// twin with pgx on the same pool: the listing's query with LIMIT 11
// OFFSET (N-1)*10. The contenders alternate page by page, on a
// vacuumed schema of their own, dropped at the end.
//
//	PARLEY_POSTGRES_DSN=... go test ./store/postgres -run '^$' -bench PageByNumber -count 5
func BenchmarkPageByNumber(b *testing.B) {
	if testing.Short() {
		b.Skip("the 100k-item listings are seeded only without -short")
	}
	dsn := testDSN(b)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	schema := "parley_bench_pages_" + randomSchema()[len("parley_test_"):]
	s, err := Open(ctx, dsn, Options{Schema: schema})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.Close()
		_, _ = pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	start := time.Now()
	if err := seedPages(ctx, pool, schema); err != nil {
		b.Fatal(err)
	}
	b.Logf("page data set: %d conversations, %d messages in one, seeded in %v", pageItems, pageItems, time.Since(start).Round(time.Millisecond))

	convTwin := "SELECT " + list(convColumns, "") + " FROM " + s.q.conversationsTable +
		" WHERE channel = $1 ORDER BY last_message_at DESC, id DESC LIMIT $2 OFFSET $3"
	msgTwin := "SELECT " + list(messageColumns, "") + " FROM " + pgx.Identifier{schema, "messages"}.Sanitize() +
		" WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"
	const size = 10
	for _, page := range []int{1, 100, 10_000} {
		storetest.PageByNumber(b, s, pageChannel, 1, pageItems, page, size,
			func(offset int64) (int, error) {
				rows, _ := pool.Query(ctx, convTwin, pageChannel, size+1, offset)
				var items []conversation.Conversation
				var c conversation.Conversation
				_, err := pgx.ForEachRow(rows, rawConvDest(&c), func() error {
					c.CreatedAt, c.ModifiedAt, c.LastMessageAt = c.CreatedAt.UTC(), c.ModifiedAt.UTC(), c.LastMessageAt.UTC()
					items = append(items, c)
					return nil
				})
				return len(items), err
			},
			func(offset int64) (int, error) {
				rows, _ := pool.Query(ctx, msgTwin, int64(1), size+1, offset)
				var items []message.Message
				var m message.Message
				_, err := pgx.ForEachRow(rows, rawMessageDest(&m), func() error {
					m.CreatedAt = m.CreatedAt.UTC()
					items = append(items, m)
					return nil
				})
				return len(items), err
			})
	}
}

// The page data set: pageItems conversations in channel pageChannel, the
// first of which has pageItems messages (the others none: a conversation
// listing reads no message). Every third conversation shares its time
// with the one before, so that ties are broken by id.
const (
	pageChannel = "pages"
	pageItems   = 100_000
)

func seedPages(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	i := 0
	convRows := pgx.CopyFromFunc(func() ([]any, error) {
		if i == pageItems {
			return nil, nil
		}
		i++
		n := int64(1)
		if i == 1 {
			n = pageItems
		}
		created := t0.Add(time.Duration(i) * time.Second)
		last := t0.Add(time.Duration(i-i%3) * time.Second)
		return []any{int64(i), newUUID(), pageChannel, "message", fmt.Sprint("u", i), fmt.Sprint("d", i%10), "", "",
			"", "open", "user", "en", "", "", "", "",
			created, last, last, int64(i), n, n, n, int64(0), int64(0), n}, nil
	})
	cols := []string{"id"}
	for _, c := range convColumns[1:] {
		cols = append(cols, c.name)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, "conversations"}, cols, convRows); err != nil {
		return err
	}
	j := 0
	msgRows := pgx.CopyFromFunc(func() ([]any, error) {
		if j == pageItems {
			return nil, nil
		}
		j++
		return []any{int64(j), newUUID(), int64(1), int64(j), "user", "u1", "registered",
			"A message of a realistic length, about one line of text in an inbox", "en", t0.Add(time.Duration(j) * time.Millisecond)}, nil
	})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{schema, "messages"}, list2(messageColumns), msgRows); err != nil {
		return err
	}
	for _, t := range []string{"conversations", "messages"} {
		if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{schema, t}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}
