package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/internal/interleave"
	"github.com/parleyhq/parley/store"
)

// The flat-read benchmarks measure how Unread and a seller's inbox page
// with its total grow with the seller: one schema holds a seller of 100
// conversations and one of 100,000 (and one of 1,000,000 without -short),
// every conversation with unread messages for the seller. Each iteration
// runs every contender on every seller, interleaved, next to twins that
// send the SQL by hand with pgx on the same pool: "raw" sums the same
// party_totals parts, "recount" sums the conversations as the store did
// before schema version 3 (with that version's partial index), and
// "count" counts the inbox instead of reading its total.
//
//	PARLEY_POSTGRES_DSN=... go test ./store/postgres -run '^$' -bench FlatReads -benchtime=2000x -count 5
//
// The schema is seeded once per process and dropped by TestMain.

func flatSeller(n int) string { return fmt.Sprint("seller-", n) }

// flatData is the seeded schema of the flat-read benchmarks.
type flatDataset struct {
	once   sync.Once
	err    error
	st     *Store
	pool   *pgxpool.Pool
	schema string
}

var flatData flatDataset

func (d *flatDataset) get(b *testing.B) *flatDataset {
	dsn := testDSN(b)
	d.once.Do(func() {
		start := time.Now()
		d.err = d.seed(dsn)
		b.Logf("flat data set seeded in %v", time.Since(start).Round(time.Millisecond))
	})
	if d.err != nil {
		b.Fatal(d.err)
	}
	return d
}

func (d *flatDataset) seed(dsn string) error {
	ctx := context.Background()
	var err error
	if d.pool, err = pgxpool.New(ctx, dsn); err != nil {
		return err
	}
	d.schema = "parley_bench_flat_" + randomSchema()[len("parley_test_"):]
	if d.st, err = Open(ctx, dsn, Options{Schema: d.schema}); err != nil {
		return err
	}
	table := func(name string) string { return pgx.Identifier{d.schema, name}.Sanitize() }
	// The index that Unread read before version 3, for the recount twin.
	stmts := []string{`CREATE INDEX conversations_datasource_unread ON ` + table("conversations") +
		` (channel, datasource_id, seller_unread) WHERE seller_unread > 0`}
	for _, n := range interleave.PartySizes() {
		// The trigger keeps party_totals as the rows go in. Each
		// statement is its own transaction: in one, the 32 rows of a
		// party would pile up row versions that no one may prune yet.
		for from := 1; from <= n; from += 1000 {
			stmts = append(stmts, fmt.Sprintf(`INSERT INTO %s (code, channel, type, user_id, datasource_id, item_kind, item_id,
	subject, status, started_by, language, user_first_name, user_last_name, product_base_code, order_number,
	created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
	user_read_seq, user_unread, seller_read_seq, seller_unread)
SELECT gen_random_uuid(), '%s', 'message', 'user-' || i, '%s', '', '', 'subject', 'open', 'user', 'en', '', '', '', '',
	'2024-01-01'::timestamptz + i * interval '1 second', '2024-01-01'::timestamptz + i * interval '1 second',
	'2024-01-01'::timestamptz + i * interval '1 second', 0, 3, 3, 3, 0, 0, 1 + i %% 3
FROM generate_series(%d, %d) AS i`, table("conversations"), benchChannel, flatSeller(n), from, min(from+999, n)))
		}
	}
	stmts = append(stmts, "VACUUM ANALYZE "+table("conversations")+", "+table("party_totals"))
	for _, q := range stmts {
		if _, err := d.pool.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// drop drops the schema, if it was seeded.
func (d *flatDataset) drop() {
	if d.st == nil {
		return
	}
	_ = d.st.Close()
	if _, err := d.pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{d.schema}.Sanitize()+" CASCADE"); err != nil {
		fmt.Printf("drop benchmark schema %s: %v\n", d.schema, err)
	}
	d.pool.Close()
}

func BenchmarkFlatReads(b *testing.B) {
	d := flatData.get(b)
	ctx := context.Background()
	s, pool := d.st, d.pool
	sellerOf := func(i int) string { return flatSeller(interleave.PartySizes()[i]) }
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}

	b.Run("Unread", func(b *testing.B) {
		recount := `SELECT coalesce(sum(seller_unread), 0)::bigint, count(*)
FROM ` + pgx.Identifier{d.schema, "conversations"}.Sanitize() + ` WHERE channel = $1 AND datasource_id = $2 AND seller_unread > 0`
		interleave.Run(b, interleave.Names(interleave.PartySizes()), []interleave.Contender{
			interleave.Unread(s, benchChannel, sellerOf),
			{Name: "raw", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				_, err := scanTotals(pool.QueryRow(ctx, s.q.partyTotals, benchChannel, string(conversation.SideSeller), seller))
				check(err)
			}},
			{Name: "recount", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				var u store.UnreadSummary
				check(pool.QueryRow(ctx, recount, benchChannel, seller).Scan(&u.Messages, &u.Conversations))
			}},
		})
	})

	b.Run("InboxWithTotal", func(b *testing.B) {
		q := func(seller string) store.ConversationQuery { return interleave.InboxQuery(benchChannel, seller) }
		// A page and a total in one batch (one round trip), as the
		// store sends them.
		rawPage := func(b *testing.B, seller string, total string, args ...any) {
			page, pageArgs, _, _ := s.conversationSQL(q(seller))
			batch := &pgx.Batch{}
			batch.Queue(page, pageArgs...)
			batch.Queue(total, args...)
			br := pool.SendBatch(ctx, batch)
			defer br.Close()
			items, err := scanConversations(br, 21)
			check(err)
			if len(items) != 21 {
				b.Fatalf("page of %d", len(items))
			}
			var n int64
			check(br.QueryRow().Scan(&n))
			check(br.Close())
		}
		interleave.Run(b, interleave.Names(interleave.PartySizes()), []interleave.Contender{
			interleave.Inbox(s, benchChannel, sellerOf),
			{Name: "raw", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				rawPage(b, seller, `SELECT coalesce(sum(conversations), 0)::bigint FROM `+pgx.Identifier{d.schema, "party_totals"}.Sanitize()+
					` WHERE channel = $1 AND side = $2 AND party_id = $3`, benchChannel, string(conversation.SideSeller), seller)
			}},
			{Name: "count", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				_, _, count, countArgs := s.conversationSQL(q(seller))
				rawPage(b, seller, count, countArgs...)
			}},
		})
	})
}
