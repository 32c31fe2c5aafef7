package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/storetest"
)

// BenchmarkPageByNumber reads page 1, 100 and 10,000 (10 items a page) of
// two 100k-item listings: the conversations of a channel, and the
// messages of one conversation (storetest.PageByNumber: "parley" is what
// parley.Service does for a page number). "offset" is the hand-written
// twin on the same driver and settings: the listing's query with LIMIT 11
// OFFSET (N-1)*10. The contenders alternate page by page.
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
	for _, page := range []int{1, 100, 10_000} {
		storetest.PageByNumber(b, s, pageChannel, 1, pageItems, page, size,
			func(offset int64) (int, error) {
				return scanAll(convTwin.QueryContext(ctx, pageChannel, size+1, offset))(func(rows *sql.Rows) error {
					_, err := newConvRow().scan(rows)
					return err
				})
			},
			func(offset int64) (int, error) {
				return scanAll(msgTwin.QueryContext(ctx, 1, size+1, offset))(func(rows *sql.Rows) error {
					rawScanMessage(rows)
					return nil
				})
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
	return fillBench(path, fillPages)
}

// fillPages writes the page data set's rows.
func fillPages(insConv, insMsg *sql.Stmt) error {
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
	return nil
}
