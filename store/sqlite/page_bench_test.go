package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// BenchmarkPageByNumber reads page 1, 100 and 10,000 (10 items a page) of
// two 100k-item listings: the conversations of a channel, and the
// messages of one conversation. "parley" is what parley.Service does for
// a page number (PageRequest.Offset): for conversations, SeekConversations
// to the page's start and ListConversations after it; for messages, one
// ListMessages from the Seq that the offset gives. "offset" is the
// hand-written twin on the same driver and settings: the listing's query
// with LIMIT 11 OFFSET (N-1)*10. The contenders alternate page by page.
//
//	go test ./store/sqlite -run '^$' -bench PageByNumber -count 5
func BenchmarkPageByNumber(b *testing.B) {
	if testing.Short() {
		b.Skip("the 100k-item listings are built only without -short")
	}
	path := pageDataset(b)
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	r := openRaw(b, &dataset{path: path})
	convTwin := r.prepare(b, r.r, `SELECT `+conversationColumns+` FROM conversations
WHERE channel = ? ORDER BY last_message_at DESC, id DESC LIMIT ? OFFSET ?`)
	msgTwin := r.prepare(b, r.r, `SELECT `+messageColumns+` FROM messages
WHERE conversation_id = ? ORDER BY seq DESC LIMIT ? OFFSET ?`)
	ctx := context.Background()
	const size = 10
	check := func(b *testing.B, n int, err error) {
		if err != nil || n != size {
			b.Fatal(err, n)
		}
	}
	for _, page := range []int{1, 100, 10_000} {
		offset := int64(page-1) * size
		b.Run(fmt.Sprintf("Conversations/page=%d/parley", page), func(b *testing.B) {
			q := store.ConversationQuery{Channel: pageChannel, Limit: size}
			for b.Loop() {
				q.After = nil
				if offset > 0 {
					pos, ok, err := s.SeekConversations(ctx, q, offset)
					if err != nil || !ok {
						b.Fatal(err, ok)
					}
					q.After = &pos
				}
				p, err := s.ListConversations(ctx, q)
				check(b, len(p.Items), err)
			}
		})
		b.Run(fmt.Sprintf("Conversations/page=%d/offset", page), func(b *testing.B) {
			for b.Loop() {
				n, err := scanAll(convTwin.QueryContext(ctx, pageChannel, size+1, offset))(func(rows *sql.Rows) error {
					_, err := newConvRow().scan(rows)
					return err
				})
				check(b, min(n, size), err)
			}
		})
		b.Run(fmt.Sprintf("Messages/page=%d/parley", page), func(b *testing.B) {
			for b.Loop() {
				p, err := s.ListMessages(ctx, store.MessageQuery{ConversationID: 1, BeforeSeq: pageItems + 1 - offset, Limit: size})
				check(b, len(p.Items), err)
			}
		})
		b.Run(fmt.Sprintf("Messages/page=%d/offset", page), func(b *testing.B) {
			for b.Loop() {
				n, err := scanAll(msgTwin.QueryContext(ctx, 1, size+1, offset))(func(rows *sql.Rows) error {
					rawScanMessage(rows)
					return nil
				})
				check(b, min(n, size), err)
			}
		})
	}
}

// scanAll scans every row of a query with scan and counts them.
func scanAll(rows *sql.Rows, err error) func(scan func(*sql.Rows) error) (int, error) {
	return func(scan func(*sql.Rows) error) (int, error) {
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			if err := scan(rows); err != nil {
				return n, err
			}
			n++
		}
		return n, rows.Err()
	}
}

// The page data set: pageItems conversations in channel pageChannel, the
// first of which has pageItems messages (the others none: a conversation
// listing reads no message).
const (
	pageChannel = "pages"
	pageItems   = 100_000
)

var pageData struct {
	once sync.Once
	path string
	err  error
}

// pageDataset builds the page data set once per process.
func pageDataset(b *testing.B) string {
	b.Helper()
	pageData.once.Do(func() {
		dir, err := benchDir()
		if err != nil {
			pageData.err = err
			return
		}
		pageData.path = filepath.Join(dir, "pages.db")
		start := time.Now()
		pageData.err = buildPages(pageData.path)
		b.Logf("page data set: %d conversations, %d messages in one, built in %v", pageItems, pageItems, time.Since(start).Round(time.Millisecond))
	})
	if pageData.err != nil {
		b.Fatal(pageData.err)
	}
	return pageData.path
}

func buildPages(path string) error {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return err
	}
	if err := s.Close(); err != nil {
		return err
	}
	db, err := sql.Open(driverName, (&Store{path: path, opts: Options{}.withDefaults()}).dsn(false))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insConv, err := tx.Prepare(`INSERT INTO conversations (id, code, channel, type, user_id, datasource_id, item_kind, item_id,
	subject, status, started_by, language, user_first_name, user_last_name, product_base_code, order_number,
	created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
	user_read_seq, user_unread, seller_read_seq, seller_unread)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	insMsg, err := tx.Prepare(sqlInsertMessage)
	if err != nil {
		return err
	}
	for i := 1; i <= pageItems; i++ {
		created := t0.Add(time.Duration(i) * time.Second)
		n := 1
		if i == 1 {
			n = pageItems
		}
		// Every third conversation shares its time with the one before:
		// ties are broken by id.
		last := t0.Add(time.Duration(i-i%3) * time.Second)
		code := uuid.Must(uuid.NewV7())
		if _, err := insConv.Exec(i, code[:], pageChannel, "message", "user-"+strconv.Itoa(i), "ds-"+strconv.Itoa(i%10), "", "",
			"", "open", "user", "en", "", "", "", "", micros(created), micros(last), micros(last), int64(i), n, n, n, 0, 0, n); err != nil {
			return err
		}
	}
	code := uuid.Must(uuid.NewV7())
	for j := 1; j <= pageItems; j++ {
		m := message.Message{ConversationID: 1, Seq: int64(j), Code: code, Sender: message.User("user-1", message.UserRegistered),
			Content: "A message of a realistic length, about one line of text in an inbox " + strconv.Itoa(j), Language: "en",
			CreatedAt: t0.Add(time.Duration(j) * time.Millisecond)}
		if _, err := insMsg.Exec(messageArgs(int64(j), &m)...); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE")
	return err
}
