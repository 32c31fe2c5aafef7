package postgres

import (
	"context"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// The benchmarks run the five hot operations of the Service (post, start,
// a seller's inbox page, a page of messages, an empty poll) on a store
// seeded with 10k and with 1M messages, and each again as a ...Raw twin:
// the same SQL, sent with pgx by hand, without the store around it. The
// ratio store/raw is the cost of the store's own work (retries, the
// cancellation guard, building results); 1M against 10k is the cost of a
// bigger database.
//
//	PARLEY_POSTGRES_DSN=... go test ./store/postgres -run '^$' -bench . -benchtime=2s
//
// The datasets are seeded once per process, lazily, each in its own
// schema that TestMain drops at the end; 1M only without -short. With
// PARLEY_BENCH_KEEP=1 the schemas are named parley_bench_10k and
// parley_bench_1M, kept at the end and reused by the next process, so
// that store and raw runs can alternate in separate processes without
// seeding each time (drop them by hand afterwards).

// benchKeepEnv names the environment variable that keeps the datasets.
const benchKeepEnv = "PARLEY_BENCH_KEEP"

// Shape of a dataset: every conversation has benchPerConversation
// messages, every seller benchPerSeller conversations.
const (
	benchPerConversation = 100
	benchPerSeller       = 50
	benchChannel         = "web"
)

// dataset is a seeded schema.
type dataset struct {
	name     string
	messages int

	once   sync.Once
	err    error
	st     *Store
	convs  int
	pool   *pgxpool.Pool
	schema string
}

// benchData holds the datasets of this test process, seeded when first
// used and dropped by TestMain.
var benchData = struct {
	mu  sync.Mutex
	all []*dataset
}{all: []*dataset{{name: "10k", messages: 10_000}, {name: "1M", messages: 1_000_000}}}

func TestMain(m *testing.M) {
	code := m.Run()
	dropDatasets()
	flatData.drop()
	os.Exit(code)
}

func dropDatasets() {
	benchData.mu.Lock()
	defer benchData.mu.Unlock()
	keep := os.Getenv(benchKeepEnv) == "1"
	for _, d := range benchData.all {
		if d.st == nil {
			continue
		}
		_ = d.st.Close()
		if keep {
			d.pool.Close()
			continue
		}
		if _, err := d.pool.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{d.schema}.Sanitize()+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "drop benchmark schema %s: %v\n", d.schema, err)
		}
		d.pool.Close()
	}
}

// forDatasets runs fn as a sub-benchmark on each dataset.
func forDatasets(b *testing.B, fn func(b *testing.B, d *dataset)) {
	forDatasetsVacuum(b, false, fn)
}

// forReadDatasets is forDatasets for the read benchmarks: each starts on
// a vacuumed dataset, as autovacuum keeps a live database, and not on the
// dead row versions that the write benchmarks just left in the indexes.
func forReadDatasets(b *testing.B, fn func(b *testing.B, d *dataset)) {
	forDatasetsVacuum(b, true, fn)
}

func forDatasetsVacuum(b *testing.B, vacuum bool, fn func(b *testing.B, d *dataset)) {
	dsn := testDSN(b)
	for _, d := range benchData.all {
		b.Run(d.name, func(b *testing.B) {
			if d.messages > 100_000 && testing.Short() {
				b.Skip("the 1M dataset is seeded only without -short")
			}
			d.once.Do(func() { d.err = d.seed(dsn) })
			if d.err != nil {
				b.Fatalf("seed %s: %v", d.name, d.err)
			}
			if vacuum {
				d.vacuum(b)
			}
			fn(b, d)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// seed opens a store in a new schema and fills it with CopyFrom.
func (d *dataset) seed(dsn string) error {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return err
	}
	d.pool = pool
	d.schema = "parley_bench_" + d.name + "_" + randomSchema()[len("parley_test_"):]
	keep := os.Getenv(benchKeepEnv) == "1"
	if keep {
		d.schema = "parley_bench_" + d.name
	}
	st, err := Open(ctx, dsn, Options{Schema: d.schema})
	if err != nil {
		return err
	}
	benchData.mu.Lock()
	d.st = st
	benchData.mu.Unlock()

	d.convs = d.messages / benchPerConversation
	if keep {
		var seeded bool
		err := pool.QueryRow(ctx, "SELECT EXISTS (SELECT FROM "+pgx.Identifier{d.schema, "messages"}.Sanitize()+
			" WHERE id = $1)", int64(d.messages)).Scan(&seeded)
		if err != nil || seeded {
			return err
		}
	}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	convRows := pgx.CopyFromFunc(func() ([]any, error) {
		if i == d.convs {
			return nil, nil
		}
		i++
		id := int64(i)
		created := base.Add(time.Duration(i) * time.Minute)
		last := created.Add(benchPerConversation * time.Second)
		return []any{id, newUUID(), benchChannel, "message", fmt.Sprint("u", i), sellerOf(i), "product", fmt.Sprint("p", i),
			"subject", "open", "user", "en", "Ada", "L", "B1", "O1",
			created, last, last, id * benchPerConversation, int64(benchPerConversation), int64(benchPerConversation),
			int64(benchPerConversation - 1), int64(1), int64(benchPerConversation), int64(0), false, int64(0)}, nil
	})
	cols := []string{"id"}
	for _, c := range convColumns[1:] {
		cols = append(cols, c.name)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{d.schema, "conversations"}, cols, convRows); err != nil {
		return err
	}
	n := 0
	content := "Hello, is this still available in a size M? I would like to order two of them."
	msgRows := pgx.CopyFromFunc(func() ([]any, error) {
		if n == d.messages {
			return nil, nil
		}
		n++
		conv := (n-1)/benchPerConversation + 1
		seq := (n-1)%benchPerConversation + 1
		kind, user := "user", "registered"
		if seq%2 == 0 {
			kind, user = "datasource", ""
		}
		at := base.Add(time.Duration(conv)*time.Minute + time.Duration(seq)*time.Second)
		return []any{int64(n), newUUID(), int64(conv), int64(seq), kind, "x", user, content, "en", at, false}, nil
	})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{d.schema, "messages"}, list2(messageColumns), msgRows); err != nil {
		return err
	}
	for _, seq := range [][2]string{{"conversation_ids", "conversations"}, {"message_ids", "messages"}} {
		sql := "SELECT setval($1::regclass, (SELECT max(id) FROM " + pgx.Identifier{d.schema, seq[1]}.Sanitize() + "))"
		if _, err := pool.Exec(ctx, sql, pgx.Identifier{d.schema, seq[0]}.Sanitize()); err != nil {
			return err
		}
	}
	_, err = pool.Exec(ctx, "ANALYZE "+pgx.Identifier{d.schema, "conversations"}.Sanitize()+", "+pgx.Identifier{d.schema, "messages"}.Sanitize())
	return err
}

// vacuum vacuums and analyzes the dataset's tables.
func (d *dataset) vacuum(b *testing.B) {
	for _, t := range []string{"conversations", "messages", "events"} {
		if _, err := d.pool.Exec(context.Background(), "VACUUM ANALYZE "+pgx.Identifier{d.schema, t}.Sanitize()); err != nil {
			b.Fatal(err)
		}
	}
}

// list2 returns the names of cols.
func list2(cols []column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.name
	}
	return out
}

// sellerOf returns the data source of conversation i (1-based).
func sellerOf(i int) string { return fmt.Sprint("d", (i-1)/benchPerSeller) }

// benchPost returns the parameters of a post to conversation conv.
func benchPost(conv int64, n int) store.AppendParams {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	c := conversation.Conversation{ID: conv, Channel: benchChannel, Type: conversation.TypeMessage}
	p := postParams(conv, message.DataSource("d0"), "Yes, we have it in M. Shall I reserve two for you?", at)
	evs := []notify.Event{event(notify.KindMessagePosted, c, notify.Party{Kind: message.SenderUser, ID: "u"}, notify.Party{Kind: message.SenderDataSource, ID: "d0"}, at)}
	p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
		if c.Status != conversation.StatusOpen {
			return nil, fmt.Errorf("conversation %d is %s", c.ID, c.Status)
		}
		return evs, nil
	}
	return p
}

// benchConv returns the conversation a benchmark iteration posts to: they
// take turns, so that no conversation grows much.
func (d *dataset) benchConv(i int) int64 { return int64(i%d.convs) + 1 }

func BenchmarkAppendMessage(b *testing.B) {
	forDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			if _, err := d.st.AppendMessage(ctx, benchPost(d.benchConv(i), i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendMessageRaw(b *testing.B) {
	forDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		q := &d.st.q
		i := 0
		for b.Loop() {
			i++
			p := benchPost(d.benchConv(i), i)
			if _, err := rawAppend(ctx, d.st.pool, q, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkAppendMessageLockedRaw is the protocol that AppendMessage with
// a Prepare replaced, by hand: the Service read the conversation, then
// BEGIN and the row lock, the rule in Go on the locked row, then the write
// and COMMIT: three round trips, the row lock held across the client's.
func BenchmarkAppendMessageLockedRaw(b *testing.B) {
	forDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			p := benchPost(d.benchConv(i), i)
			if err := rawAppendLocked(ctx, d.st.pool, &d.st.q, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchWriters is how many goroutines the parallel benchmarks run.
const benchWriters = 16

// parallelAppend runs post in benchWriters goroutines, each posting to
// the conversations in turn.
func parallelAppend(b *testing.B, post func(ctx context.Context, d *dataset, p *store.AppendParams) error) {
	forDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		var n atomic.Int64
		b.SetParallelism(max(1, benchWriters/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := int(n.Add(1))
				p := benchPost(d.benchConv(i), i)
				if err := post(ctx, d, &p); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkAppendMessageParallel is BenchmarkAppendMessage with 16
// goroutines posting at once.
func BenchmarkAppendMessageParallel(b *testing.B) {
	parallelAppend(b, func(ctx context.Context, d *dataset, p *store.AppendParams) error {
		_, err := d.st.AppendMessage(ctx, *p)
		return err
	})
}

// BenchmarkAppendMessageParallelRaw is BenchmarkAppendMessageRaw with 16
// goroutines.
func BenchmarkAppendMessageParallelRaw(b *testing.B) {
	parallelAppend(b, func(ctx context.Context, d *dataset, p *store.AppendParams) error {
		_, err := rawAppend(ctx, d.st.pool, &d.st.q, p)
		return err
	})
}

// BenchmarkAppendMessageParallelLockedRaw is
// BenchmarkAppendMessageLockedRaw with 16 goroutines.
func BenchmarkAppendMessageParallelLockedRaw(b *testing.B) {
	parallelAppend(b, func(ctx context.Context, d *dataset, p *store.AppendParams) error {
		return rawAppendLocked(ctx, d.st.pool, &d.st.q, p)
	})
}

// rawAppendLocked is the locked protocol of
// BenchmarkAppendMessageLockedRaw.
func rawAppendLocked(ctx context.Context, pool *pgxpool.Pool, q *queries, p *store.AppendParams) error {
	var c conversation.Conversation
	if err := pool.QueryRow(ctx, q.getConversation, p.ConversationID).Scan(rawConvDest(&c)...); err != nil {
		return err
	}
	if _, err := p.Prepare(c); err != nil {
		return err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	b := &pgx.Batch{}
	b.Queue("BEGIN ISOLATION LEVEL READ COMMITTED")
	b.Queue(q.lockConversation, p.ConversationID)
	br := conn.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(rawConvDest(&c)...)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	var evs []notify.Event
	if err == nil {
		evs, err = p.Prepare(c)
	}
	if err != nil {
		_, _ = conn.Exec(ctx, "ROLLBACK")
		return err
	}
	b = &pgx.Batch{}
	b.Queue(q.appendMessage, appendArgs(p, evs, nil)...)
	b.Queue("COMMIT")
	br = conn.SendBatch(ctx, b)
	var written, found bool
	var fp string
	var ic, im int64
	dest := append([]any{&written}, rawConvDest(&c)...)
	dest = append(dest, &found, &fp, &ic, &im)
	err = br.QueryRow().Scan(dest...)
	if err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// rawAppend is AppendMessage with a Prepare by hand: read the
// conversation, run Prepare, then the one-statement write guarded by the
// status Prepare saw.
func rawAppend(ctx context.Context, pool *pgxpool.Pool, q *queries, p *store.AppendParams) (message.Message, error) {
	var c conversation.Conversation
	if err := pool.QueryRow(ctx, q.getConversation, p.ConversationID).Scan(rawConvDest(&c)...); err != nil {
		return message.Message{}, err
	}
	evs, err := p.Prepare(c)
	if err != nil {
		return message.Message{}, err
	}
	var written, found bool
	var fp string
	var ic, im int64
	dest := append([]any{&written}, rawConvDest(&c)...)
	dest = append(dest, &found, &fp, &ic, &im)
	err = pool.QueryRow(ctx, q.appendMessage, appendArgs(p, evs, &c)...).Scan(dest...)
	m := p.Message
	m.ID, m.ConversationID, m.Seq = c.LastMessageID, c.ID, c.LastSeq
	return m, err
}

// rawConvDest returns the scan destinations of a conversation row.
func rawConvDest(c *conversation.Conversation) []any {
	return []any{
		&c.ID, &c.Code, &c.Channel, &c.Type, &c.UserID, &c.DataSourceID,
		&c.Item.Kind, &c.Item.ID, &c.Subject, &c.Status, &c.StartedBy, &c.Language,
		&c.Attributes.UserFirstName, &c.Attributes.UserLastName,
		&c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
		&c.CreatedAt, &c.ModifiedAt, &c.LastMessageAt,
		&c.LastMessageID, &c.LastSeq, &c.MessageCount,
		&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread,
		&c.Hidden, &c.HiddenMessages,
	}
}

// rawMessageDest returns the scan destinations of a message row.
func rawMessageDest(m *message.Message) []any {
	return []any{&m.ID, &m.Code, &m.ConversationID, &m.Seq, &m.Sender.Kind, &m.Sender.ID, &m.Sender.UserType,
		&m.Content, &m.Language, &m.CreatedAt, &m.Hidden}
}

// benchStart returns the parameters of a start of a new conversation.
func benchStart(run string, n int) store.CreateParams {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
	// A seller of its own, so that the inboxes the listing benchmarks read
	// keep their size.
	return startParams(benchChannel, fmt.Sprintf("bench-%s-%d", run, n), "d-new", conversation.TypeQuestion, conversation.Product("p1"), at)
}

func BenchmarkCreateConversation(b *testing.B) {
	forDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		run := newUUID().String()
		i := 0
		for b.Loop() {
			i++
			if _, err := d.st.CreateConversation(ctx, benchStart(run, i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreateConversationRaw(b *testing.B) {
	forDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		run := newUUID().String()
		i := 0
		for b.Loop() {
			i++
			p := benchStart(run, i)
			var convID, msgID, ic, im int64
			var found bool
			var fp string
			err := d.st.pool.QueryRow(ctx, d.st.q.createConversation, createArgs(&p)...).Scan(&convID, &msgID, &found, &fp, &ic, &im)
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// inboxQuery is the first page of 20 of a seller's inbox, with the total.
func inboxQuery(seller string) store.ConversationQuery {
	return store.ConversationQuery{Channel: benchChannel, Filter: conversation.Filter{DataSourceID: seller}, Limit: 20, WithTotal: true}
}

func BenchmarkListConversations(b *testing.B) {
	forReadDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		sellers := d.convs / benchPerSeller
		i := 0
		for b.Loop() {
			i++
			page, err := d.st.ListConversations(ctx, inboxQuery(fmt.Sprint("d", i%sellers)))
			if err != nil || len(page.Items) != 20 {
				b.Fatal(len(page.Items), err)
			}
		}
	})
}

func BenchmarkListConversationsRaw(b *testing.B) {
	forReadDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		sellers := d.convs / benchPerSeller
		i := 0
		for b.Loop() {
			i++
			page, args, count, countArgs := d.st.conversationSQL(inboxQuery(fmt.Sprint("d", i%sellers)))
			batch := &pgx.Batch{}
			batch.Queue(page, args...)
			batch.Queue(count, countArgs...)
			br := d.st.pool.SendBatch(ctx, batch)
			rows, err := br.Query()
			if err != nil {
				b.Fatal(err)
			}
			var items []conversation.Conversation
			for rows.Next() {
				var c conversation.Conversation
				if err := rows.Scan(rawConvDest(&c)...); err != nil {
					b.Fatal(err)
				}
				c.CreatedAt, c.ModifiedAt, c.LastMessageAt = c.CreatedAt.UTC(), c.ModifiedAt.UTC(), c.LastMessageAt.UTC()
				items = append(items, c)
			}
			var total int64
			if err := br.QueryRow().Scan(&total); err != nil {
				b.Fatal(err)
			}
			if err := br.Close(); err != nil || len(items) != 21 {
				b.Fatal(len(items), err)
			}
		}
	})
}

func BenchmarkListMessages(b *testing.B) {
	forReadDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			q := store.MessageQuery{ConversationID: d.benchConv(i*7919 + 1), Limit: 50, WithTotal: true}
			page, err := d.st.ListMessages(ctx, q)
			if err != nil || len(page.Items) != 50 {
				b.Fatal(len(page.Items), err)
			}
		}
	})
}

func BenchmarkListMessagesRaw(b *testing.B) {
	forReadDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			i++
			id := d.benchConv(i*7919 + 1)
			batch := &pgx.Batch{}
			batch.Queue(d.st.q.listMessages, id, int64(math.MaxInt64), 51)
			batch.Queue(d.st.q.messageTotal, id)
			br := d.st.pool.SendBatch(ctx, batch)
			rows, err := br.Query()
			if err != nil {
				b.Fatal(err)
			}
			var items []message.Message
			for rows.Next() {
				var m message.Message
				if err := rows.Scan(rawMessageDest(&m)...); err != nil {
					b.Fatal(err)
				}
				m.CreatedAt = m.CreatedAt.UTC()
				items = append(items, m)
			}
			var total int64
			if err := br.QueryRow().Scan(&total); err != nil {
				b.Fatal(err)
			}
			if err := br.Close(); err != nil || len(items) != 51 {
				b.Fatal(len(items), err)
			}
		}
	})
}

// lastMessages returns the id of the newest message of each of the first
// n conversations, for empty polls.
func (d *dataset) lastMessages(b *testing.B, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		c, err := d.st.GetConversation(context.Background(), int64(i+1))
		if err != nil {
			b.Fatal(err)
		}
		out[i] = c.LastMessageID
	}
	return out
}

func BenchmarkMessagesAfter(b *testing.B) {
	forReadDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		last := d.lastMessages(b, 50)
		i := 0
		for b.Loop() {
			i++
			k := i % len(last)
			ms, err := d.st.MessagesAfter(ctx, message.After{ConversationID: int64(k + 1), ID: last[k], Limit: 50})
			if err != nil || len(ms) != 0 {
				b.Fatal(len(ms), err)
			}
		}
	})
}

func BenchmarkMessagesAfterRaw(b *testing.B) {
	forReadDatasets(b, func(b *testing.B, d *dataset) {
		ctx := context.Background()
		last := d.lastMessages(b, 50)
		i := 0
		for b.Loop() {
			i++
			k := i % len(last)
			rows, err := d.st.pool.Query(ctx, d.st.q.messagesAfter, int64(k+1), last[k], int64(0), 50)
			if err != nil {
				b.Fatal(err)
			}
			var items []message.Message
			for rows.Next() {
				var m message.Message
				if err := rows.Scan(rawMessageDest(&m)...); err != nil {
					b.Fatal(err)
				}
				m.CreatedAt = m.CreatedAt.UTC()
				items = append(items, m)
			}
			if err := rows.Err(); err != nil || len(items) != 0 {
				b.Fatal(len(items), err)
			}
		}
	})
}
