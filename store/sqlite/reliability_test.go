package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// ack is a write the store acknowledged: message id in conversation conv
// at position seq.
type ack struct{ conv, id, seq int64 }

// allMessages returns every message of a conversation by id.
func allMessages(t *testing.T, s *Store, conv int64) map[int64]message.Message {
	t.Helper()
	ms, err := s.MessagesAfter(context.Background(), message.After{ConversationID: conv, Limit: 1 << 20})
	require.NoError(t, err)
	byID := make(map[int64]message.Message, len(ms))
	for i, m := range ms {
		require.Equal(t, int64(i+1), m.Seq, "conversation %d: seq is dense", conv)
		byID[m.ID] = m
	}
	return byID
}

// checkAcks verifies that every acknowledged message is stored at its
// position and that each conversation's sequence is dense.
func checkAcks(t *testing.T, s *Store, acks []ack) {
	t.Helper()
	byConv := map[int64][]ack{}
	for _, a := range acks {
		byConv[a.conv] = append(byConv[a.conv], a)
	}
	for conv, as := range byConv {
		ms := allMessages(t, s, conv)
		c, err := s.GetConversation(context.Background(), conv)
		require.NoError(t, err)
		require.Equal(t, int64(len(ms)), c.MessageCount)
		require.Equal(t, int64(len(ms)), c.LastSeq)
		for _, a := range as {
			m, ok := ms[a.id]
			if assert.True(t, ok, "acknowledged message %d of conversation %d missing", a.id, conv) {
				assert.Equal(t, a.seq, m.Seq, "message %d", a.id)
			}
		}
	}
}

// TestConcurrency_Writers runs 8 goroutines that start conversations and
// post messages, to their own conversations and to shared ones, while
// others read: no error at all (no busy, no locked), every acknowledged
// message present, each conversation's order dense and in the order of
// acknowledgement.
func TestConcurrency_Writers(t *testing.T) {
	for _, stores := range []int{1, 2} {
		t.Run(fmt.Sprintf("Stores%d", stores), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "parley.db")
			var ss []*Store
			for range stores { // two Stores on one file: two writers, as two processes would be
				ss = append(ss, MustOpen(t, path))
			}
			ctx := context.Background()
			const workers, ops = 8, 40
			var shared []int64
			for i := range 3 {
				res, err := ss[0].CreateConversation(ctx, newCreate("c", fmt.Sprintf("shared%d", i), "d", conversation.TypeMessage, conversation.Item{}, t0))
				require.NoError(t, err)
				shared = append(shared, res.Conversation.ID)
			}
			var (
				mu   sync.Mutex
				acks []ack
				wg   sync.WaitGroup
				stop = make(chan struct{})
			)
			record := func(a ack) {
				mu.Lock()
				acks = append(acks, a)
				mu.Unlock()
			}
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s := ss[w%len(ss)]
					rng := rand.New(rand.NewPCG(uint64(w), 1))
					lastSeq := map[int64]int64{}
					own := []int64{}
					for i := range ops {
						at := t0.Add(time.Duration(i) * time.Second)
						if i%5 == 0 {
							res, err := s.CreateConversation(ctx, newCreate("c", fmt.Sprintf("u%d-%d", w, i), "d", conversation.TypeMessage, conversation.Item{}, at))
							if !assert.NoError(t, err) {
								return
							}
							own = append(own, res.Conversation.ID)
							record(ack{res.Conversation.ID, res.Message.ID, res.Message.Seq})
							continue
						}
						conv := shared[rng.IntN(len(shared))]
						if rng.IntN(2) == 0 {
							conv = own[rng.IntN(len(own))]
						}
						res, err := s.AppendMessage(ctx, newAppend(conv, message.DataSource("d"), "m", at))
						if !assert.NoError(t, err) {
							return
						}
						assert.Greater(t, res.Message.Seq, lastSeq[conv], "order of acknowledgement")
						lastSeq[conv] = res.Message.Seq
						record(ack{conv, res.Message.ID, res.Message.Seq})
					}
				}()
			}
			var readers sync.WaitGroup
			for r := range 2 {
				readers.Add(1)
				go func() {
					defer readers.Done()
					s := ss[r%len(ss)]
					for {
						select {
						case <-stop:
							return
						default:
						}
						_, err := s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Filter: conversation.Filter{DataSourceID: "d"}, Limit: 20, WithTotal: true})
						assert.NoError(t, err)
						_, err = s.ListMessages(ctx, store.MessageQuery{ConversationID: shared[0], Limit: 50})
						assert.NoError(t, err)
					}
				}()
			}
			wg.Wait()
			close(stop)
			readers.Wait()
			require.Len(t, acks, workers*ops)
			checkAcks(t, ss[0], acks)
		})
	}
}

// crashChildEnv switches the test binary into the writer child of
// TestCrash_KillDuringWrites; its value is the database path.
const crashChildEnv = "PARLEY_SQLITE_CRASH_CHILD"

// TestCrashChild is not a test: it is the child process of
// TestCrash_KillDuringWrites, which writes until it is killed and prints
// every acknowledged message as "ack conv id seq".
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashChildEnv)
	if path == "" {
		t.Skip("runs only as the child process of TestCrash_KillDuringWrites")
	}
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	var conv int64
	for i := 0; ; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		var a ack
		if i%10 == 0 {
			res, err := s.CreateConversation(ctx, newCreate("c", "u"+strconv.Itoa(i), "d", conversation.TypeMessage, conversation.Item{}, at))
			if err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			conv = res.Conversation.ID
			a = ack{conv, res.Message.ID, res.Message.Seq}
		} else {
			res, err := s.AppendMessage(ctx, newAppend(conv, message.DataSource("d"), strings.Repeat("x", 200), at))
			if err != nil {
				fmt.Println("error", err)
				os.Exit(2)
			}
			a = ack{conv, res.Message.ID, res.Message.Seq}
		}
		// Acknowledged: the write committed before this line is printed.
		fmt.Fprintf(out, "ack %d %d %d\n", a.conv, a.id, a.seq)
		out.Flush()
	}
}

// TestCrash_KillDuringWrites kills a writing process with SIGKILL and
// checks that the database it leaves is intact and holds every message
// the process had acknowledged.
func TestCrash_KillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process; skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "parley.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var acks []ack
	lines := bufio.NewScanner(stdout)
	for len(acks) < 500 && lines.Scan() {
		var a ack
		if _, err := fmt.Sscanf(lines.Text(), "ack %d %d %d", &a.conv, &a.id, &a.seq); err != nil {
			cmd.Process.Kill()
			t.Fatalf("child: %s", lines.Text())
		}
		acks = append(acks, a)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	// Writes acknowledged after the 500th line are read too: the child
	// may have committed more before the signal landed.
	for lines.Scan() {
		var a ack
		if _, err := fmt.Sscanf(lines.Text(), "ack %d %d %d", &a.conv, &a.id, &a.seq); err == nil {
			acks = append(acks, a)
		}
	}
	err = cmd.Wait()
	require.Error(t, err, "the child was killed")
	require.GreaterOrEqual(t, len(acks), 500)

	s := MustOpen(t, path)
	var integrity string
	require.NoError(t, s.r.QueryRow("PRAGMA integrity_check").Scan(&integrity))
	require.Equal(t, "ok", integrity)
	checkAcks(t, s, acks)
}

// TestReopen_ReadsBackEqual writes every kind of value, closes the store,
// opens the file again and reads everything back equal, times included.
func TestReopen_ReadsBackEqual(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "parley.db")
	s, err := Open(ctx, path, Options{})
	require.NoError(t, err)

	// Times with microseconds, in a zone other than UTC: read back in UTC.
	zone := time.FixedZone("X", 3*3600)
	at := time.Date(2025, 6, 7, 8, 9, 10, 123456000, zone)
	p := newCreate("ch", "u1", "d1", conversation.TypeQuestion, conversation.OrderItem("oi-9"), at)
	p.Conversation.Subject = "Ünïcode subject ✓"
	p.Conversation.StartedBy = conversation.SideSeller
	p.Message.Sender = message.User("u1", message.UserGuest)
	p.Idempotency = &store.Idempotency{Scope: "user:u1", Key: "k1", Fingerprint: "f1"}
	created, err := s.CreateConversation(ctx, p)
	require.NoError(t, err)
	require.Equal(t, time.UTC, created.Conversation.CreatedAt.Location())
	app, err := s.AppendMessage(ctx, newAppend(created.Conversation.ID, message.DataSource("d1"), "answer", at.Add(time.Microsecond)))
	require.NoError(t, err)
	_, err = s.SetStatus(ctx, store.StatusParams{ConversationID: created.Conversation.ID, Status: conversation.StatusClosed, At: at.Add(time.Hour)})
	require.NoError(t, err)
	_, err = s.MarkRead(ctx, store.ReadParams{ConversationID: created.Conversation.ID, Side: conversation.SideUser, UpToMessageID: app.Message.ID})
	require.NoError(t, err)

	read := func(s *Store) (conversation.Conversation, []message.Message, store.CreateResult) {
		c, err := s.GetConversation(ctx, created.Conversation.ID)
		require.NoError(t, err)
		ms, err := s.MessagesAfter(ctx, message.After{ConversationID: c.ID, Limit: 10})
		require.NoError(t, err)
		replay, err := s.CreateConversation(ctx, p)
		require.NoError(t, err)
		require.True(t, replay.Replayed)
		return c, ms, replay
	}
	c1, ms1, r1 := read(s)
	require.NoError(t, s.Close())

	s = MustOpen(t, path)
	c2, ms2, r2 := read(s)
	require.Equal(t, c1, c2)
	require.Equal(t, ms1, ms2)
	require.Equal(t, r1, r2)

	// And what was read equals what was written.
	require.True(t, c2.CreatedAt.Equal(at))
	require.Equal(t, time.UTC, c2.CreatedAt.Location())
	require.Equal(t, p.Conversation.Code, c2.Code)
	require.Equal(t, p.Conversation.Subject, c2.Subject)
	require.Equal(t, conversation.OrderItem("oi-9"), c2.Item)
	require.Equal(t, conversation.StatusClosed, c2.Status)
	require.True(t, c2.ModifiedAt.Equal(at.Add(time.Hour)))
	require.True(t, c2.LastMessageAt.Equal(at.Add(time.Microsecond)))
	require.Equal(t, conversation.ReadState{ReadSeq: 2, Unread: 0}, c2.UserRead)
	require.Equal(t, conversation.ReadState{ReadSeq: 2, Unread: 0}, c2.SellerRead)
	want := p.Message
	want.ID, want.ConversationID, want.Seq, want.CreatedAt = created.Message.ID, c2.ID, 1, at.UTC()
	require.Equal(t, want, ms2[0])
	require.Equal(t, want, r2.Message)
}

// TestCancel_WritesNothing cancels the context of writes while they run:
// between the statements of the transaction, and while waiting for the
// writer. Nothing of the cancelled write is stored.
func TestCancel_WritesNothing(t *testing.T) {
	for _, path := range []string{"", MemoryPath} {
		t.Run("DB"+path, func(t *testing.T) {
			s := MustOpen(t, path)
			bg := context.Background()

			t.Run("CreateBetweenStatements", func(t *testing.T) {
				ctx, cancel := context.WithCancel(bg)
				defer cancel()
				s.hook = func(_ context.Context, point string) {
					if point == "create:conversation" {
						cancel()
					}
				}
				defer func() { s.hook = nil }()
				_, err := s.CreateConversation(ctx, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
				require.ErrorIs(t, err, context.Canceled)
				page, err := s.ListConversations(bg, store.ConversationQuery{Channel: "c", Limit: 10, WithTotal: true})
				require.NoError(t, err)
				require.Empty(t, page.Items, "no partial conversation")
				require.Zero(t, page.Total)
				n, err := s.ClaimEvents(bg, claimAll(t0.Add(time.Hour)))
				require.NoError(t, err)
				require.Empty(t, n, "no event")
			})

			res, err := s.CreateConversation(bg, newCreate("c", "u", "d", conversation.TypeMessage, conversation.Item{}, t0))
			require.NoError(t, err)
			conv := res.Conversation

			t.Run("AppendBetweenStatements", func(t *testing.T) {
				ctx, cancel := context.WithCancel(bg)
				defer cancel()
				s.hook = func(_ context.Context, point string) {
					if point == "append:message" {
						cancel()
					}
				}
				defer func() { s.hook = nil }()
				_, err := s.AppendMessage(ctx, newAppend(conv.ID, message.DataSource("d"), "x", t0.Add(time.Second)))
				require.ErrorIs(t, err, context.Canceled)
				got, err := s.GetConversation(bg, conv.ID)
				require.NoError(t, err)
				require.Equal(t, conv, got)
				ms, err := s.MessagesAfter(bg, message.After{ConversationID: conv.ID, Limit: 10})
				require.NoError(t, err)
				require.Len(t, ms, 1)
			})

			t.Run("WaitingForTheWriter", func(t *testing.T) {
				// One write holds the writer inside its Check; a second,
				// queued behind it, is cancelled while it waits.
				holding, release := make(chan struct{}), make(chan struct{})
				done := make(chan error)
				go func() {
					p := newAppend(conv.ID, message.DataSource("d"), "first", t0.Add(time.Second))
					p.Prepare = func(conversation.Conversation) ([]notify.Event, error) {
						close(holding)
						<-release
						return nil, nil
					}
					_, err := s.AppendMessage(bg, p)
					done <- err
				}()
				<-holding
				ctx, cancel := context.WithCancel(bg)
				waiting := make(chan error)
				go func() {
					_, err := s.CreateConversation(ctx, newCreate("c", "u2", "d", conversation.TypeMessage, conversation.Item{}, t0))
					waiting <- err
				}()
				time.Sleep(20 * time.Millisecond) // let it queue; the outcome does not depend on it
				cancel()
				require.ErrorIs(t, <-waiting, context.Canceled)
				close(release)
				require.NoError(t, <-done)
				page, err := s.ListConversations(bg, store.ConversationQuery{Channel: "c", Filter: conversation.Filter{UserID: "u2"}, Limit: 10})
				require.NoError(t, err)
				require.Empty(t, page.Items)
			})

			t.Run("AlreadyCancelled", func(t *testing.T) {
				ctx, cancel := context.WithCancel(bg)
				cancel()
				_, err := s.CreateConversation(ctx, newCreate("c", "u3", "d", conversation.TypeMessage, conversation.Item{}, t0))
				require.ErrorIs(t, err, context.Canceled)
				_, err = s.AppendMessage(ctx, newAppend(conv.ID, message.DataSource("d"), "x", t0))
				require.ErrorIs(t, err, context.Canceled)
				_, err = s.GetConversation(ctx, conv.ID)
				require.ErrorIs(t, err, context.Canceled)
				_, err = s.ListConversations(ctx, store.ConversationQuery{Channel: "c", Limit: 1})
				require.ErrorIs(t, err, context.Canceled)
				_, err = s.ClaimEvents(ctx, claimAll(t0))
				require.ErrorIs(t, err, context.Canceled)
			})
		})
	}
}
