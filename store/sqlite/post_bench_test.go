package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/internal/postbench"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
)

// BenchmarkConcurrentPost measures posts made at once by 1, 4, 16 and 64
// goroutines: Service.Post on the store against three hand-written twins
// on the same driver, schema and connection settings (the store's own
// writer DSN: WAL, the same synchronous setting, BEGIN IMMEDIATE), each on
// its own copy of a database of postConvs conversations:
//
//   - tx: one transaction per post, the writer connection shared by the
//     goroutines (what the store did before it committed writes together);
//   - gc: group commit, one committer goroutine that drains a queue of
//     posts into one transaction and acknowledges each after the commit
//     (without the store's savepoints, cancellation and error handling);
//   - batch: the limit, one goroutine writing the posts in transactions of
//     as many posts as there are goroutines, with nobody to wait for.
//
// A post is what the Service's post costs the database: read the
// conversation, insert the message, update the conversation and, with the
// outbox, insert the event. Three settings: Direct (no outbox,
// synchronous NORMAL, the default), Outbox (the event in the post's
// transaction) and DirectFull (synchronous FULL: an fsync per commit).
//
// Every iteration is one round in which each of the four makes the same
// number of posts, in turn (the order rotates between rounds), so that all
// four see the same moments of a shared machine. The benchmark reports for
// each its throughput (name-ops/s), the 99th percentile of the time a post
// waits for its acknowledgement (name-p99-µs; not for batch), the
// allocations and the CPU time per post (the whole process's, committer
// goroutines included), and the posts per commit; and the ratios of the
// Service's throughput to each twin's (post/gc, post/tx, post/batch).
//
//	go test ./store/sqlite -run '^$' -bench ConcurrentPost -benchtime=10x
func BenchmarkConcurrentPost(b *testing.B) {
	for _, v := range []struct {
		name   string
		outbox bool
		sync   Synchronous
	}{
		{"Direct", false, SynchronousNormal},
		{"Outbox", true, SynchronousNormal},
		{"DirectFull", false, SynchronousFull},
	} {
		for _, g := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/G%d", v.name, g), func(b *testing.B) {
				benchConcurrentPost(b, g, postSetup{outbox: v.outbox, opts: Options{Synchronous: v.sync}})
			})
		}
	}
}

const (
	// postConvs is the number of conversations the posts go to, in turn.
	postConvs   = 1024
	postChannel = "bench"
	postSeller  = "ds-1"
	postContent = "A reply from the seller, about one line long."
)

// postsPerRound is how many posts each contender makes in one round.
func postsPerRound(g int) int { return postbench.PostsPerRound(g, testing.Short()) }

// postSetup is what the contenders of a benchmark share: the outbox or
// not, and the connection settings.
type postSetup struct {
	outbox bool
	opts   Options
}

func benchConcurrentPost(b *testing.B, g int, ps postSetup) {
	tmpl, err := postTemplate()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	copyDB := func(name string) string {
		path := filepath.Join(dir, name+".db")
		if err := copyFile(tmpl, path); err != nil {
			b.Fatal(err)
		}
		return path
	}
	post, gc, tx, batch := servicePoster(b, copyDB("post"), ps), openTwin(b, copyDB("gc"), ps),
		openTwin(b, copyDB("tx"), ps), openTwin(b, copyDB("batch"), ps)
	cs := []*postbench.Contender{
		{Name: "post", Run: post.run},
		{Name: "gc", Run: groupCommitTwin(b, gc)},
		{Name: "tx", Run: txPerPostTwin(b, tx)},
		{Name: "batch", Run: batchedTwin(b, batch)},
	}
	commits := []*atomic.Int64{&post.commits, &gc.commits, &tx.commits, &batch.commits}
	n := postsPerRound(g)
	round := 0
	for b.Loop() {
		postbench.Round(cs, round, g, n)
		round++
	}
	byName := map[string]*postbench.Contender{}
	for i, c := range cs {
		byName[c.Name] = c
		c.Report(b)
		b.ReportMetric(float64(c.Posts)/float64(commits[i].Load()), c.Name+"-posts/commit")
	}
	rate := func(name string) float64 { return byName[name].Rate() }
	for _, twin := range []string{"gc", "tx", "batch"} {
		b.ReportMetric(rate("post")/rate(twin), "post/"+twin)
	}
}

// postTemplate is a database of postConvs conversations between users and
// seller postSeller, each with its first message, built once per process
// through the Service; every benchmark works on copies of it.
var postTemplate = sync.OnceValues(func() (string, error) {
	dir, err := benchDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "posts.db")
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		return "", err
	}
	svc, err := benchService(s, false)
	if err != nil {
		s.Close()
		return "", err
	}
	for i := range postConvs {
		if _, err := svc.Start(ctx, parley.User(postChannel, "user-"+strconv.Itoa(i)), parley.StartRequest{
			Type: conversation.TypeMessage, DataSourceID: postSeller, Content: "A first message from a user.",
		}); err != nil {
			s.Close()
			return "", err
		}
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		s.Close()
		return "", err
	}
	return path, s.Close()
})

func benchService(s *Store, outbox bool) (*parley.Service, error) {
	opts := parley.DefaultOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.Outbox = outbox
	return parley.New(s, opts)
}

// copyFile copies the database file src (closed, its WAL checkpointed) to
// dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
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

// poster posts through Service.Post on a Store.
type poster struct {
	run     func(g, n int) []time.Duration
	commits atomic.Int64
}

// servicePoster posts through Service.Post on a Store opened on path.
func servicePoster(b *testing.B, path string, ps postSetup) *poster {
	s, err := Open(context.Background(), path, ps.opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	svc, err := benchService(s, ps.outbox)
	if err != nil {
		b.Fatal(err)
	}
	p := &poster{}
	s.onCommit = func(ran int, err error) { p.commits.Add(1) }
	ctx := context.Background()
	seller := parley.Seller(postChannel, postSeller)
	var next atomic.Int64
	p.run = func(g, n int) []time.Duration {
		return fanOut(b, g, n, &next, func(conv int64) error {
			_, err := svc.Post(ctx, seller, parley.PostRequest{ConversationID: conv, Content: postContent})
			return err
		})
	}
	return p
}

// twin is the hand-written writer of the twins: one connection with the
// store's writer DSN and the statements of a post prepared on it.
type twin struct {
	w                                 *sql.DB
	getConv, insMsg, update, insEvent *sql.Stmt
	outbox                            bool
	next                              atomic.Int64
	commits                           atomic.Int64
}

func openTwin(b *testing.B, path string, ps postSetup) *twin {
	b.Helper()
	cfg := &Store{path: path, opts: ps.opts.withDefaults()}
	w, err := sql.Open(driverName, cfg.dsn(false))
	if err != nil {
		b.Fatal(err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	b.Cleanup(func() { w.Close() })
	tw := &twin{w: w, outbox: ps.outbox}
	r := &raw{w: w}
	tw.getConv = r.prepare(b, w, sqlGetConversation)
	tw.insMsg = r.prepare(b, w, `INSERT INTO messages (conversation_id, seq, code, sender_kind, sender_id, sender_user_type,
	content, language, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	tw.update = r.prepare(b, w, sqlUpdateApplied)
	tw.insEvent = r.prepare(b, w, sqlInsertEvent)
	return tw
}

// twinTx is a transaction of a twin with its statements bound to it.
type twinTx struct {
	tx                                *sql.Tx
	getConv, insMsg, update, insEvent *sql.Stmt
}

func (tw *twin) begin(ctx context.Context) (*twinTx, error) {
	tx, err := tw.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &twinTx{tx: tx, getConv: tx.StmtContext(ctx, tw.getConv), insMsg: tx.StmtContext(ctx, tw.insMsg),
		update: tx.StmtContext(ctx, tw.update)}
	if tw.outbox {
		t.insEvent = tx.StmtContext(ctx, tw.insEvent)
	}
	return t, nil
}

// post writes a seller's reply to conversation conv in t: the same rows
// as the store's AppendMessage for Service.Post.
func (tw *twin) post(ctx context.Context, t *twinTx, conv int64) error {
	code := uuid.Must(uuid.NewV7())
	now := time.Now().UTC().Truncate(time.Microsecond)
	at := micros(now)
	var c conversation.Conversation
	var typ string
	var created, modified, last int64
	if err := t.getConv.QueryRowContext(ctx, conv).Scan(&c.ID, &c.Code, &c.Channel, &typ,
		&c.UserID, &c.DataSourceID, &c.Item.Kind, &c.Item.ID, &c.Subject, &c.Status, &c.StartedBy, &c.Language,
		&c.Attributes.UserFirstName, &c.Attributes.UserLastName, &c.Attributes.ProductBaseCode, &c.Attributes.OrderNumber,
		&created, &modified, &last, &c.LastMessageID, &c.LastSeq, &c.MessageCount,
		&c.UserRead.ReadSeq, &c.UserRead.Unread, &c.SellerRead.ReadSeq, &c.SellerRead.Unread, &c.Hidden, &c.HiddenMessages); err != nil {
		return err
	}
	seq := c.LastSeq + 1
	res, err := t.insMsg.ExecContext(ctx, c.ID, seq, code[:], "datasource", postSeller, "", postContent, "", at)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	if _, err := t.update.ExecContext(ctx, at, at, id, seq, c.MessageCount+1,
		c.UserRead.ReadSeq, c.UserRead.Unread+1, seq, 0, c.ID); err != nil {
		return err
	}
	if !tw.outbox {
		return nil
	}
	to := notify.Party{Kind: message.SenderUser, ID: c.UserID}
	ev := notify.Event{ID: uuid.Must(uuid.NewV7()).String(), Kind: notify.KindMessagePosted, Channel: c.Channel,
		ConversationID: c.ID, MessageID: id, ConversationType: conversation.Type(typ), Recipient: to,
		Sender: notify.Party{Kind: message.SenderDataSource, ID: postSeller}, CreatedAt: now, DueAt: now,
		DigestKey: c.Channel + "|" + string(to.Kind) + "|" + to.ID + "|" + c.Code.String()}
	_, err = t.insEvent.ExecContext(ctx, eventArgs(&ev)...)
	return err
}

// txPerPostTwin commits every post in its own transaction; the goroutines
// take turns on the writer connection.
func txPerPostTwin(b *testing.B, tw *twin) func(g, n int) []time.Duration {
	ctx := context.Background()
	return func(g, n int) []time.Duration {
		return fanOut(b, g, n, &tw.next, func(conv int64) error {
			t, err := tw.begin(ctx)
			if err != nil {
				return err
			}
			defer t.tx.Rollback()
			if err := tw.post(ctx, t, conv); err != nil {
				return err
			}
			tw.commits.Add(1)
			return t.tx.Commit()
		})
	}
}

// groupCommitTwin sends every post to one committer goroutine, which
// drains what is queued into one transaction, commits it, and then
// acknowledges each post.
func groupCommitTwin(b *testing.B, tw *twin) func(g, n int) []time.Duration {
	type req struct {
		conv int64
		done chan error
	}
	queue := make(chan *req, 1024)
	ctx := context.Background()
	go func() {
		var batch []*req
		for r := range queue {
			batch = append(batch[:0], r)
		drain:
			for {
				select {
				case r := <-queue:
					batch = append(batch, r)
				default:
					break drain
				}
			}
			err := func() error {
				t, err := tw.begin(ctx)
				if err != nil {
					return err
				}
				defer t.tx.Rollback()
				for _, r := range batch {
					if err := tw.post(ctx, t, r.conv); err != nil {
						return err
					}
				}
				tw.commits.Add(1)
				return t.tx.Commit()
			}()
			for _, r := range batch {
				r.done <- err
			}
		}
	}()
	b.Cleanup(func() { close(queue) })
	pool := sync.Pool{New: func() any { return &req{done: make(chan error, 1)} }}
	return func(g, n int) []time.Duration {
		return fanOut(b, g, n, &tw.next, func(conv int64) error {
			r := pool.Get().(*req)
			r.conv = conv
			queue <- r
			err := <-r.done
			pool.Put(r)
			return err
		})
	}
}

// batchedTwin is the limit: one goroutine, g posts per transaction.
func batchedTwin(b *testing.B, tw *twin) func(g, n int) []time.Duration {
	ctx := context.Background()
	return func(g, n int) []time.Duration {
		for done := 0; done < n; {
			k := min(g, n-done)
			err := func() error {
				t, err := tw.begin(ctx)
				if err != nil {
					return err
				}
				defer t.tx.Rollback()
				for range k {
					if err := tw.post(ctx, t, tw.next.Add(1)%postConvs+1); err != nil {
						return err
					}
				}
				tw.commits.Add(1)
				return t.tx.Commit()
			}()
			if err != nil {
				b.Fatal(err)
			}
			done += k
		}
		return nil
	}
}
