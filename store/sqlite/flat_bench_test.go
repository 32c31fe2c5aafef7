package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/internal/interleave"
	"github.com/parleyhq/parley/store"
)

// The flat-read benchmarks measure how Unread and a seller's inbox page
// with its total grow with the seller: one database holds a seller of 100
// conversations and one of 100,000 (and one of 1,000,000 without -short),
// every conversation with unread messages for the seller. Each iteration
// runs every contender on every seller, interleaved, next to twins that
// run the SQL by hand on the same driver and settings: "raw" reads the
// same party_totals row, "recount" sums the conversations as the store
// did before schema version 3 (with that version's partial index), and
// "count" counts the inbox instead of reading its total.
//
//	go test ./store/sqlite -run '^$' -bench FlatReads -benchtime=2000x -count 5

func flatSeller(n int) string { return fmt.Sprint("seller-", n) }

var flatData = sync.OnceValues(func() (string, error) {
	dir, err := benchDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "flat.db")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}
	db, err := sql.Open(driverName, (&Store{path: path, opts: Options{}.withDefaults()}).dsn(false))
	if err != nil {
		return "", err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The index that Unread read before version 3, for the recount twin.
	stmts := []string{`CREATE INDEX conversations_seller_unread
	ON conversations (channel, datasource_id, seller_unread) WHERE seller_unread > 0`}
	for _, n := range interleave.PartySizes() {
		// The triggers keep party_totals as the rows go in.
		stmts = append(stmts, fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
INSERT INTO conversations (code, channel, type, user_id, datasource_id, item_kind, item_id,
	subject, status, started_by, language, user_first_name, user_last_name, product_base_code, order_number,
	created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
	user_read_seq, user_unread, seller_read_seq, seller_unread)
SELECT randomblob(16), '%s', 'message', 'user-' || i, '%s', '', '', 'subject', 'open', 'user', 'en', '', '', '', '',
	i * 1000000, i * 1000000, i * 1000000, 0, 3, 3, 3, 0, 0, 1 + i %% 3
FROM n`, n, benchChannel, flatSeller(n)))
	}
	stmts = append(stmts, "ANALYZE")
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			return "", err
		}
	}
	return path, nil
})

func BenchmarkFlatReads(b *testing.B) {
	path, err := flatData()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	s := openBench(b, &dataset{path: path})
	r := openRaw(b, &dataset{path: path})
	sellerOf := func(i int) string { return flatSeller(interleave.PartySizes()[i]) }
	check := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}

	b.Run("Unread", func(b *testing.B) {
		totals := r.prepare(b, r.r, sqlPartyTotals)
		recount := r.prepare(b, r.r, `SELECT coalesce(sum(seller_unread), 0), count(*) FROM conversations
WHERE channel = ? AND datasource_id = ? AND seller_unread > 0`)
		interleave.Run(b, interleave.Names(interleave.PartySizes()), []interleave.Contender{
			interleave.Unread(s, benchChannel, sellerOf),
			{Name: "raw", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				var t store.PartyTotals
				check(totals.QueryRowContext(ctx, benchChannel, string(conversation.SideSeller), seller).Scan(
					&t.Conversations, &t.UnreadMessages, &t.UnreadConversations))
			}},
			{Name: "recount", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				var u store.UnreadSummary
				check(recount.QueryRowContext(ctx, benchChannel, seller).Scan(&u.Messages, &u.Conversations))
			}},
		})
	})

	b.Run("InboxWithTotal", func(b *testing.B) {
		q := func(seller string) store.ConversationQuery { return interleave.InboxQuery(benchChannel, seller) }
		lq := buildList(q("x"), 21)
		page := r.prepare(b, r.r, lq.page)
		count := r.prepare(b, r.r, lq.count)
		totals := r.prepare(b, r.r, sqlPartyTotals)
		// A page and a total read in one read transaction, as the store
		// reads them.
		rawPage := func(b *testing.B, seller string, total func(tx *sql.Tx) error) {
			tx, err := r.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			check(err)
			defer tx.Rollback()
			rows, err := tx.StmtContext(ctx, page).QueryContext(ctx, benchChannel, seller, 21)
			check(err)
			row, n := newConvRow(), 0
			for rows.Next() {
				_, err := row.scan(rows)
				check(err)
				n++
			}
			check(rows.Err())
			if n != 21 {
				b.Fatalf("page of %d", n)
			}
			check(total(tx))
			check(tx.Commit())
		}
		interleave.Run(b, interleave.Names(interleave.PartySizes()), []interleave.Contender{
			interleave.Inbox(s, benchChannel, sellerOf),
			{Name: "raw", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				rawPage(b, seller, func(tx *sql.Tx) error {
					var t store.PartyTotals
					return tx.StmtContext(ctx, totals).QueryRowContext(ctx, benchChannel, string(conversation.SideSeller), seller).Scan(
						&t.Conversations, &t.UnreadMessages, &t.UnreadConversations)
				})
			}},
			{Name: "count", Run: func(b *testing.B, i int) {
				seller := sellerOf(i)
				rawPage(b, seller, func(tx *sql.Tx) error {
					var n int64
					return tx.StmtContext(ctx, count).QueryRowContext(ctx, benchChannel, seller).Scan(&n)
				})
			}},
		})
	})
}
