package sqlite

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// The benchmarks run every store operation on a data set of 10k messages
// and one of 1M (not with -short), each next to a twin ("...Raw") that
// runs the same SQL by hand with prepared statements on the same driver
// and connection settings: the store's overhead is the ratio of the two.
//
//	go test ./store/sqlite -run '^$' -bench . -benchtime=2s
//
// The data sets are built once per process, in a temporary directory,
// when a benchmark first needs them.

// benchDir holds the data sets of this process; TestMain removes it.
var benchDir = sync.OnceValues(func() (string, error) { return os.MkdirTemp("", "parley-sqlite-bench-") })

func TestMain(m *testing.M) {
	code := m.Run()
	if dir, err := benchDir(); err == nil && dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// dataset is a database file of messages in conversations of channel
// "bench": conversation 1 is long (1% of the messages), the others have
// about ten each; ten sellers share the conversations, each user has two.
type dataset struct {
	name     string
	path     string
	messages int
	convs    int
	// big is the long conversation and lastOfBig the id of its newest
	// message; mid is a conversation in the middle of the inbox order.
	big, lastOfBig, mid int64
	err                 error
}

const (
	benchChannel = "bench"
	benchSeller  = "ds-3"
)

var datasets = map[string]*dataset{
	"10k": {name: "10k", messages: 10_000},
	"1M":  {name: "1M", messages: 1_000_000},
}

var datasetOnce = map[string]*sync.Once{"10k": new(sync.Once), "1M": new(sync.Once)}

// getDataset returns the data set, building it on first use.
func getDataset(b *testing.B, name string) *dataset {
	b.Helper()
	d := datasets[name]
	datasetOnce[name].Do(func() {
		start := time.Now()
		if d.err = d.build(); d.err == nil {
			b.Logf("data set %s: %d messages in %d conversations, built in %v", name, d.messages, d.convs, time.Since(start).Round(time.Millisecond))
		}
	})
	if d.err != nil {
		b.Fatalf("data set %s: %v", name, d.err)
	}
	return d
}

// benchInsertConversation stores a conversation with all its columns,
// for the data sets.
const benchInsertConversation = `INSERT INTO conversations (id, code, channel, type, user_id, datasource_id, item_kind, item_id,
	subject, status, started_by, language, user_first_name, user_last_name, product_base_code, order_number,
	created_at, modified_at, last_message_at, last_message_id, last_seq, message_count,
	user_read_seq, user_unread, seller_read_seq, seller_unread)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// build writes the data set with prepared inserts in one transaction.
func (d *dataset) build() error {
	dir, err := benchDir()
	if err != nil {
		return err
	}
	d.path = filepath.Join(dir, d.name+".db")
	return fillBench(d.path, func(insConv, insMsg *sql.Stmt) error {
		return d.fill(insConv, insMsg)
	})
}

// fill writes the data set's rows with the inserts of fillBench.
func (d *dataset) fill(insConv, insMsg *sql.Stmt) error {
	bigCount := d.messages / 100
	d.convs = 1 + (d.messages-bigCount)/10
	perConv := func(i int) int {
		if i == 1 {
			return bigCount
		}
		n := (d.messages - bigCount) / (d.convs - 1)
		if i <= (d.messages-bigCount)%(d.convs-1)+1 {
			n++
		}
		return n
	}
	code := uuid.Must(uuid.NewV7())
	var msgID int64
	for i := 1; i <= d.convs; i++ {
		n := perConv(i)
		typ, item := conversation.TypeMessage, conversation.Item{}
		switch i % 4 {
		case 0:
			typ, item = conversation.TypeQuestion, conversation.Product("p-"+strconv.Itoa(i%1000))
		case 1:
			typ, item = conversation.TypeReview, conversation.Product("p-"+strconv.Itoa(i%1000))
		case 2:
			item = conversation.OrderItem("oi-" + strconv.Itoa(i))
		}
		user, ds := "user-"+strconv.Itoa(i/2), "ds-"+strconv.Itoa(i%10)
		created := t0.Add(time.Duration(i) * time.Second)
		last := created.Add(time.Duration(n-1) * time.Millisecond)
		firstID := msgID + 1
		convCode := uuid.Must(uuid.NewV7()) // codes are unique
		if _, err := insConv.Exec(i, convCode[:], benchChannel, string(typ), user, ds, string(item.Kind), item.ID,
			"Subject "+strconv.Itoa(i), "open", "user", "en", "Ada", "Lovelace", "BASE-1", "ORD-"+strconv.Itoa(i),
			micros(created), micros(last), micros(last), firstID+int64(n)-1, n, n,
			n, 0, n-1, 1); err != nil {
			return err
		}
		for j := 0; j < n; j++ {
			msgID++
			m := message.Message{ConversationID: int64(i), Seq: int64(j + 1), Code: code,
				Content: "A message of a realistic length, about one line of text in an inbox " + strconv.Itoa(j), Language: "en",
				CreatedAt: created.Add(time.Duration(j) * time.Millisecond)}
			if j%2 == 0 {
				m.Sender = message.User(user, message.UserRegistered)
			} else {
				m.Sender = message.DataSource(ds)
			}
			if _, err := insMsg.Exec(messageArgs(msgID, &m)...); err != nil {
				return err
			}
		}
		if i == 1 {
			d.big, d.lastOfBig = 1, msgID
		}
	}
	d.mid = int64(d.convs / 2)
	return nil
}

// fillBench creates a store's schema in a new database file at path and
// calls fill with prepared inserts of conversations and messages, in one
// transaction, then checkpoints the file.
func fillBench(path string, fill func(insConv, insMsg *sql.Stmt) error) error {
	s, err := Open(context.Background(), path, Options{})
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
	insConv, err := tx.Prepare(benchInsertConversation)
	if err != nil {
		return err
	}
	insMsg, err := tx.Prepare(sqlInsertMessage)
	if err != nil {
		return err
	}
	if err := fill(insConv, insMsg); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// benchSizes runs bench for each data set: 10k always, 1M unless -short.
func benchSizes(b *testing.B, bench func(b *testing.B, d *dataset)) {
	for _, name := range []string{"10k", "1M"} {
		b.Run(name, func(b *testing.B) {
			if name == "1M" && testing.Short() {
				b.Skip("the 1M data set is skipped with -short")
			}
			d := getDataset(b, name)
			bench(b, d)
		})
	}
}

// openBench opens the store on the data set.
func openBench(b *testing.B, d *dataset) *Store {
	b.Helper()
	s, err := Open(context.Background(), d.path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// raw is the hand-written twin of the store: a writer and a reader pool
// with the store's DSNs, and statements prepared on them.
type raw struct {
	w, r *sql.DB
}

func openRaw(b *testing.B, d *dataset) *raw {
	b.Helper()
	cfg := &Store{path: d.path, opts: Options{}.withDefaults()}
	w, err := sql.Open(driverName, cfg.dsn(false))
	if err != nil {
		b.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open(driverName, cfg.dsn(true))
	if err != nil {
		b.Fatal(err)
	}
	r.SetMaxOpenConns(cfg.opts.MaxReaders)
	r.SetMaxIdleConns(cfg.opts.MaxReaders)
	b.Cleanup(func() { r.Close(); w.Close() })
	return &raw{w: w, r: r}
}

func (r *raw) prepare(b *testing.B, db *sql.DB, query string) *sql.Stmt {
	b.Helper()
	st, err := db.Prepare(query)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// cpuTime returns the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds the throughput to the benchmark's results, and the CPU time
// per operation since cpu0 (taken just before the loop): on a machine
// shared with other work, wall time per operation varies with their load,
// CPU time much less.
func report(b *testing.B, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// benchUser numbers the users of created conversations, unique in the
// process.
var benchUser atomic.Int64

func benchEvent(kind notify.Kind, at time.Time) notify.Event {
	to := notify.Party{Kind: message.SenderDataSource, ID: benchSeller}
	return notify.Event{ID: uuid.Must(uuid.NewV7()).String(), Kind: kind, Channel: benchChannel,
		ConversationType: conversation.TypeMessage, Recipient: to,
		Sender: notify.Party{Kind: message.SenderUser, ID: "u"}, CreatedAt: at, DueAt: at,
		DigestKey: "bench"}
}

// An op returns one operation of a benchmark, ready to run: the store's or
// its raw twin's, on a data set.
type (
	storeOp func(b *testing.B, s *Store, d *dataset) func()
	rawOp   func(b *testing.B, r *raw, d *dataset) func()
)

// benchStore runs a store operation on each data set.
func benchStore(b *testing.B, op storeOp) {
	benchSizes(b, func(b *testing.B, d *dataset) {
		run := op(b, openBench(b, d), d)
		cpu0 := cpuTime()
		for b.Loop() {
			run()
		}
		report(b, cpu0)
	})
}

// benchRaw runs a raw twin on each data set.
func benchRaw(b *testing.B, op rawOp) {
	benchSizes(b, func(b *testing.B, d *dataset) {
		run := op(b, openRaw(b, d), d)
		cpu0 := cpuTime()
		for b.Loop() {
			run()
		}
		report(b, cpu0)
	})
}

func BenchmarkAppendMessage(b *testing.B)         { benchStore(b, storeAppendMessage) }
func BenchmarkAppendMessageRaw(b *testing.B)      { benchRaw(b, rawAppendMessage) }
func BenchmarkCreateConversation(b *testing.B)    { benchStore(b, storeCreateConversation) }
func BenchmarkCreateConversationRaw(b *testing.B) { benchRaw(b, rawCreateConversation) }
func BenchmarkListConversations(b *testing.B)     { benchStore(b, storeListConversations) }
func BenchmarkListConversationsRaw(b *testing.B)  { benchRaw(b, rawListConversations) }
func BenchmarkListMessages(b *testing.B)          { benchStore(b, storeListMessages) }
func BenchmarkListMessagesRaw(b *testing.B)       { benchRaw(b, rawListMessages) }
func BenchmarkMessagesAfter(b *testing.B)         { benchStore(b, storeMessagesAfter) }
func BenchmarkMessagesAfterRaw(b *testing.B)      { benchRaw(b, rawMessagesAfter) }

// BenchmarkStoreVsRaw runs each operation and its raw twin alternately,
// one after the other in every iteration, and reports their times and
// ratio. Other work on the machine slows both alike, so the ratio holds
// still where the separate benchmarks' figures wander.
func BenchmarkStoreVsRaw(b *testing.B) {
	for _, op := range []struct {
		name  string
		store storeOp
		raw   rawOp
	}{
		{"AppendMessage", storeAppendMessage, rawAppendMessage},
		{"CreateConversation", storeCreateConversation, rawCreateConversation},
		{"ListConversations", storeListConversations, rawListConversations},
		{"ListMessages", storeListMessages, rawListMessages},
		{"MessagesAfter", storeMessagesAfter, rawMessagesAfter},
	} {
		b.Run(op.name, func(b *testing.B) {
			benchSizes(b, func(b *testing.B, d *dataset) {
				runStore, runRaw := op.store(b, openBench(b, d), d), op.raw(b, openRaw(b, d), d)
				var inStore, inRaw time.Duration
				for b.Loop() {
					t0 := time.Now()
					runStore()
					t1 := time.Now()
					runRaw()
					inStore, inRaw = inStore+t1.Sub(t0), inRaw+time.Since(t1)
				}
				b.ReportMetric(float64(inStore.Nanoseconds())/float64(b.N), "store-ns/op")
				b.ReportMetric(float64(inRaw.Nanoseconds())/float64(b.N), "raw-ns/op")
				b.ReportMetric(float64(inStore)/float64(inRaw), "store/raw")
			})
		})
	}
}

// Post a message to an existing conversation: a seller's reply, with its
// event.

func storeAppendMessage(b *testing.B, s *Store, d *dataset) func() {
	ctx := context.Background()
	at := t0.Add(1000 * time.Hour)
	return func() {
		p := newAppend(d.mid, message.DataSource(benchSeller), "A reply from the seller, about one line long.", at)
		evs := []notify.Event{benchEvent(notify.KindMessagePosted, at)}
		p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return evs, nil }
		if _, err := s.AppendMessage(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

func rawAppendMessage(b *testing.B, r *raw, d *dataset) func() {
	getConv := r.prepare(b, r.w, sqlGetConversation)
	insMsg := r.prepare(b, r.w, `INSERT INTO messages (conversation_id, seq, code, sender_kind, sender_id, sender_user_type,
	content, language, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	update := r.prepare(b, r.w, sqlUpdateApplied)
	insEvent := r.prepare(b, r.w, sqlInsertEvent)
	ctx := context.Background()
	at := micros(t0.Add(1000 * time.Hour))
	return func() {
		code := uuid.Must(uuid.NewV7())
		ev := benchEvent(notify.KindMessagePosted, fromMicros(at))
		err := func() error {
			tx, err := r.w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var c conversation.Conversation
			var created, modified, last int64
			if err := tx.StmtContext(ctx, getConv).QueryRowContext(ctx, d.mid).Scan(&c.ID, &c.Code, &c.Channel, &c.Type,
				&c.UserID, &c.DataSourceID, &c.Item.Kind, &c.Item.ID, &c.Subject, &c.Status, &c.StartedBy, &c.Language,
				&c.Attributes.UserFirstName, &c.Attributes.UserLastName, &c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
				&created, &modified, &last, &c.LastMessageID, &c.LastSeq, &c.MessageCount,
				&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread, &c.Hidden, &c.HiddenMessages); err != nil {
				return err
			}
			seq := c.LastSeq + 1
			res, err := tx.StmtContext(ctx, insMsg).ExecContext(ctx, c.ID, seq, code[:], "datasource", benchSeller, "",
				"A reply from the seller, about one line long.", "en", at)
			if err != nil {
				return err
			}
			id, err := res.LastInsertId()
			if err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, update).ExecContext(ctx, at, at, id, seq, c.MessageCount+1,
				c.UserRead.ReadSeq, c.UserRead.Unread+1, seq, 0, c.ID); err != nil {
				return err
			}
			ev.ConversationID, ev.MessageID = c.ID, id
			if _, err := tx.StmtContext(ctx, insEvent).ExecContext(ctx, eventArgs(&ev)...); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// Start a conversation: a new user's first message to a seller, with its
// event.

func storeCreateConversation(b *testing.B, s *Store, d *dataset) func() {
	ctx := context.Background()
	at := t0.Add(1000 * time.Hour)
	return func() {
		p := newCreate(benchChannel, "new-user-"+strconv.FormatInt(benchUser.Add(1), 10), "ds-new",
			conversation.TypeMessage, conversation.Item{}, at)
		p.Events[0] = benchEvent(notify.KindConversationStarted, at)
		if _, err := s.CreateConversation(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

func rawCreateConversation(b *testing.B, r *raw, d *dataset) func() {
	insConv := r.prepare(b, r.w, sqlInsertConversation)
	insMsg := r.prepare(b, r.w, sqlInsertMessage)
	insEvent := r.prepare(b, r.w, sqlInsertEvent)
	ctx := context.Background()
	at := micros(t0.Add(1000 * time.Hour))
	return func() {
		convCode, msgCode := uuid.Must(uuid.NewV7()), uuid.Must(uuid.NewV7())
		user := "new-user-" + strconv.FormatInt(benchUser.Add(1), 10)
		ev := benchEvent(notify.KindConversationStarted, fromMicros(at))
		err := func() error {
			tx, err := r.w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			var id, msgID int64
			if err := tx.StmtContext(ctx, insConv).QueryRowContext(ctx, convCode[:], benchChannel, "message", user, "ds-new",
				"", "", "subject of "+user, "open", "user", "en", "Ada", "Lovelace", "PB-1", "O-1",
				at, at, at, 1, 1, 1, 0, 0, 1).Scan(&id, &msgID); err != nil {
				return err
			}
			if _, err := tx.StmtContext(ctx, insMsg).ExecContext(ctx, msgID, id, 1, msgCode[:], "user", user, "registered",
				"hello from "+user, "en", at); err != nil {
				return err
			}
			ev.ConversationID, ev.MessageID = id, msgID
			if _, err := tx.StmtContext(ctx, insEvent).ExecContext(ctx, eventArgs(&ev)...); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// One page (20) of a seller's inbox, newest activity first.

func storeListConversations(b *testing.B, s *Store, d *dataset) func() {
	ctx := context.Background()
	q := store.ConversationQuery{Channel: benchChannel, Filter: conversation.Filter{DataSourceID: benchSeller}, Limit: 20}
	return func() {
		p, err := s.ListConversations(ctx, q)
		if err != nil || len(p.Items) != 20 {
			b.Fatal(err, len(p.Items))
		}
	}
}

func rawListConversations(b *testing.B, r *raw, d *dataset) func() {
	list := r.prepare(b, r.r, `SELECT `+conversationColumns+` FROM conversations
WHERE channel = ? AND datasource_id = ? ORDER BY last_message_at DESC, id DESC LIMIT ?`)
	ctx := context.Background()
	return func() {
		items, err := func() ([]conversation.Conversation, error) {
			rows, err := list.QueryContext(ctx, benchChannel, benchSeller, 21)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			items := make([]conversation.Conversation, 0, 21)
			for rows.Next() {
				var c conversation.Conversation
				var typ, itemKind, status, startedBy string
				var created, modified, last int64
				if err := rows.Scan(&c.ID, &c.Code, &c.Channel, &typ, &c.UserID, &c.DataSourceID, &itemKind, &c.Item.ID,
					&c.Subject, &status, &startedBy, &c.Language,
					&c.Attributes.UserFirstName, &c.Attributes.UserLastName, &c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
					&created, &modified, &last, &c.LastMessageID, &c.LastSeq, &c.MessageCount,
					&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread, &c.Hidden, &c.HiddenMessages); err != nil {
					return nil, err
				}
				c.Type, c.Item.Kind, c.Status, c.StartedBy = conversation.Type(typ), conversation.ItemKind(itemKind),
					conversation.Status(status), conversation.Side(startedBy)
				c.CreatedAt, c.ModifiedAt, c.LastMessageAt = time.UnixMicro(created).UTC(), time.UnixMicro(modified).UTC(), time.UnixMicro(last).UTC()
				items = append(items, c)
			}
			return items[:min(len(items), 20)], rows.Err()
		}()
		if err != nil || len(items) != 20 {
			b.Fatal(err, len(items))
		}
	}
}

// One page (50) of a conversation's messages, newest first.

func storeListMessages(b *testing.B, s *Store, d *dataset) func() {
	ctx := context.Background()
	q := store.MessageQuery{ConversationID: d.big, Limit: 50}
	return func() {
		p, err := s.ListMessages(ctx, q)
		if err != nil || len(p.Items) != 50 {
			b.Fatal(err, len(p.Items))
		}
	}
}

func rawListMessages(b *testing.B, r *raw, d *dataset) func() {
	list := r.prepare(b, r.r, `SELECT `+messageColumns+` FROM messages WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?`)
	ctx := context.Background()
	return func() {
		items, err := func() ([]message.Message, error) {
			rows, err := list.QueryContext(ctx, d.big, 51)
			if err != nil {
				return nil, err
			}
			defer rows.Close()
			items := make([]message.Message, 0, 51)
			for rows.Next() {
				items = append(items, rawScanMessage(rows))
			}
			return items[:min(len(items), 50)], rows.Err()
		}()
		if err != nil || len(items) != 50 {
			b.Fatal(err, len(items))
		}
	}
}

// rawScanMessage scans a message by hand, for the raw twins.
func rawScanMessage(rows *sql.Rows) message.Message {
	var m message.Message
	var kind, userType string
	var created int64
	if err := rows.Scan(&m.ID, &m.ConversationID, &m.Seq, &m.Code, &kind, &m.Sender.ID, &userType,
		&m.Content, &m.Language, &created, &m.Hidden); err != nil {
		panic(err)
	}
	m.Sender.Kind, m.Sender.UserType = message.SenderKind(kind), message.UserType(userType)
	m.CreatedAt = time.UnixMicro(created).UTC()
	return m
}

// Poll a conversation with nothing new: the messages after its newest.

func storeMessagesAfter(b *testing.B, s *Store, d *dataset) func() {
	ctx := context.Background()
	return func() {
		ms, err := s.MessagesAfter(ctx, message.After{ConversationID: d.big, ID: d.lastOfBig, Limit: 100})
		if err != nil || len(ms) != 0 {
			b.Fatal(err, len(ms))
		}
	}
}

func rawMessagesAfter(b *testing.B, r *raw, d *dataset) func() {
	poll := r.prepare(b, r.r, sqlMessagesAfter)
	ctx := context.Background()
	return func() {
		n, err := func() (n int, err error) {
			rows, err := poll.QueryContext(ctx, d.big, d.lastOfBig, 0, 100)
			if err != nil {
				return 0, err
			}
			defer rows.Close()
			for rows.Next() {
				rawScanMessage(rows)
				n++
			}
			return n, rows.Err()
		}()
		if err != nil || n != 0 {
			b.Fatal(err, n)
		}
	}
}
