package parley

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// countingStore counts the reads a waiting client could cost.
type countingStore struct {
	store.Store
	after, get atomic.Int64
}

func (s *countingStore) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	s.after.Add(1)
	return s.Store.MessagesAfter(ctx, q)
}

func (s *countingStore) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	s.get.Add(1)
	return s.Store.GetConversation(ctx, id)
}

func (s *countingStore) reads() int64 { return s.after.Load() + s.get.Load() }

// TestWait_Scale: 1,000 clients wait on 100 conversations (10 each). While
// nothing is posted the store sees no query at all; when a message is
// posted to a conversation, each of its waiters gets it within 100 ms of
// the post returning. Conversations are posted to one at a time, so that
// the figure is the wake-up's and not a queue's on this 2-core machine.
func TestWait_Scale(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 waiters: skipped with -short")
	}
	const (
		conversations = 100
		perConv       = 10
		waiters       = conversations * perConv
		idle          = 200 * time.Millisecond
		maxLatency    = 100 * time.Millisecond
	)
	ctx := context.Background()
	st := &countingStore{Store: memory.New()}
	t.Cleanup(func() { _ = st.Close() })
	opts := DefaultOptions()
	svc, err := New(st, opts)
	require.NoError(t, err)

	seller := Seller("1", "1")
	convs := make([]Result, conversations)
	for i := range convs {
		convs[i], err = svc.Start(ctx, User("1", fmt.Sprintf("u%d", i)), StartRequest{
			Type: conversation.TypeMessage, DataSourceID: "1", Content: "hello",
		})
		require.NoError(t, err)
	}

	// Each waiter reports when it got what.
	type got struct {
		conv int
		at   time.Time
		msgs []message.Message
		err  error
	}
	results := make(chan got, waiters)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for i := range waiters {
		c := convs[i%conversations]
		a := seller
		if i%2 == 0 {
			a = User("1", c.Conversation.UserID) // the user side waits too
		}
		wg.Go(func() {
			msgs, err := svc.Wait(wctx, a, c.Conversation.ID, c.Message.ID, 0)
			results <- got{conv: i % conversations, at: time.Now(), msgs: msgs, err: err}
		})
	}

	parked := func() int {
		n := 0
		for _, c := range convs {
			n += svc.waiters.waiting(c.Conversation.ID)
		}
		return n
	}
	// A waiter subscribes, then reads once (GetConversation before, one
	// MessagesAfter), then waits: it is parked once both are done.
	require.Eventually(t, func() bool { return parked() == waiters && st.after.Load() == waiters }, 20*time.Second, 5*time.Millisecond,
		"all waiters parked")

	before := st.reads()
	time.Sleep(idle)
	idleReads := st.reads() - before
	assert.Zero(t, idleReads, "no store query while %d clients wait and nothing is posted", waiters)
	assert.Equal(t, waiters, parked())

	// Post to each conversation in turn and collect its waiters.
	latencies := make([]time.Duration, 0, waiters) // from Post returning
	fromStart := make([]time.Duration, 0, waiters) // from Post being called
	byConv := make(map[int][]got, conversations)
	for i, c := range convs {
		start := time.Now()
		p, err := svc.Post(ctx, seller, PostRequest{ConversationID: c.Conversation.ID, Content: fmt.Sprintf("answer %d", i)})
		require.NoError(t, err)
		returned := time.Now()
		for len(byConv[i]) < perConv {
			select {
			case g := <-results:
				require.NoError(t, g.err)
				require.Equal(t, i, g.conv, "only the posted conversation's waiters wake")
				require.Len(t, g.msgs, 1)
				require.Equal(t, p.Message.ID, g.msgs[0].ID)
				byConv[i] = append(byConv[i], g)
				latencies = append(latencies, max(g.at.Sub(returned), 0))
				fromStart = append(fromStart, g.at.Sub(start))
			case <-time.After(5 * time.Second):
				t.Fatalf("conversation %d: %d of %d waiters woke", i, len(byConv[i]), perConv)
			}
		}
	}
	wg.Wait()
	require.Len(t, latencies, waiters)

	slices.Sort(latencies)
	slices.Sort(fromStart)
	p50, p99, worst := latencies[waiters/2], latencies[waiters*99/100], latencies[waiters-1]
	t.Logf("%d waiters on %d conversations: store reads while idle %v: %d; latency after Post returned: p50 %v, p99 %v, max %v; after Post was called: p50 %v, max %v",
		waiters, conversations, idle, idleReads, p50, p99, worst, fromStart[waiters/2], fromStart[waiters-1])
	assert.LessOrEqual(t, worst, maxLatency, "every waiter gets its message within %v of the post", maxLatency)
}

// BenchmarkWait_Wake measures a post that wakes the 10 waiters of its
// conversation and their reading of it.
func BenchmarkWait_Wake(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	b.Cleanup(func() { _ = st.Close() })
	svc, err := New(st, DefaultOptions())
	require.NoError(b, err)
	seller := Seller("1", "1")
	c, err := svc.Start(ctx, User("1", "u"), StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "hi"})
	require.NoError(b, err)
	last := c.Message.ID
	const waiters = 10
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for range waiters {
			wg.Go(func() {
				if _, err := svc.Wait(ctx, seller, c.Conversation.ID, last, 0); err != nil {
					b.Error(err)
				}
			})
		}
		for svc.waiters.waiting(c.Conversation.ID) < waiters {
			time.Sleep(10 * time.Microsecond)
		}
		p, err := svc.Post(ctx, seller, PostRequest{ConversationID: c.Conversation.ID, Content: "x"})
		if err != nil {
			b.Fatal(err)
		}
		wg.Wait()
		last = p.Message.ID
	}
}
