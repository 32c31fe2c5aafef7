package postgres

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// feedRecorder runs WatchMessages and collects what it reports.
type feedRecorder struct {
	ids  chan int64
	done chan error
	stop context.CancelFunc
}

// watch runs the feed with w's timing, or WatchMessages's with w nil.
func watch(t *testing.T, st *Store, w *watcher) *feedRecorder {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &feedRecorder{ids: make(chan int64, 1024), done: make(chan error, 1), stop: cancel}
	report := func(id int64) { r.ids <- id }
	go func() {
		if w == nil {
			r.done <- st.WatchMessages(ctx, report)
		} else {
			r.done <- st.watchMessages(ctx, report, w)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(5 * time.Second):
			t.Error("WatchMessages did not return after its context ended")
		}
	})
	return r
}

// next returns the next reported id, or fails after a few seconds.
func (r *feedRecorder) next(t *testing.T) int64 {
	t.Helper()
	select {
	case id := <-r.ids:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no message reported")
		return 0
	}
}

// await waits until conversation want is reported, or fails after a few
// seconds. Reports of other conversations are skipped: a feed may repeat
// a report (an announcement that lags a sweep, on a loaded machine).
func (r *feedRecorder) await(t *testing.T, want int64) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case id := <-r.ids:
			if id == want {
				return
			}
		case <-timeout:
			t.Fatalf("conversation %d not reported", want)
		}
	}
}

// quiet asserts that none of the given conversations is reported for a
// while (others may be repeated, see await).
func (r *feedRecorder) quiet(t *testing.T, ids ...int64) {
	t.Helper()
	timeout := time.After(300 * time.Millisecond)
	for {
		select {
		case id := <-r.ids:
			for _, x := range ids {
				if id == x {
					t.Fatalf("unexpected report of conversation %d", id)
				}
			}
		case <-timeout:
			return
		}
	}
}

// start creates a conversation of user u.
func start(t *testing.T, st store.Store, u string) conversation.Conversation {
	t.Helper()
	res, err := st.CreateConversation(context.Background(),
		startParams("1", u, "1", conversation.TypeMessage, conversation.Item{}, t0))
	require.NoError(t, err)
	return res.Conversation
}

// post appends a message from the data source to conversation id.
func post(t *testing.T, st store.Store, id int64, at time.Time) {
	t.Helper()
	_, err := st.AppendMessage(context.Background(), postParams(id, message.DataSource("1"), "hi", at))
	require.NoError(t, err)
}

// listening waits until the recorder hears appends: it posts to a warm-up
// conversation until one is reported, then drains what is left.
func listening(t *testing.T, st store.Store, r *feedRecorder) {
	t.Helper()
	warm := start(t, st, "warm-up")
	at := t0
	require.Eventually(t, func() bool {
		at = at.Add(time.Second)
		post(t, st, warm.ID, at)
		select {
		case id := <-r.ids:
			return id == warm.ID
		case <-time.After(20 * time.Millisecond):
			return false
		}
	}, 10*time.Second, time.Millisecond, "the feed never started")
	for {
		select {
		case <-r.ids:
		case <-time.After(100 * time.Millisecond):
			return
		}
	}
}

func TestStore_WatchMessages(t *testing.T) {
	e := newEnv(t, 4)
	// A fast watermark and a slow reconnection, so that the test can post
	// while the feed is down and see what the catch-up reports.
	// The sweeps must lag the announcements: a sweep reports again what
	// is announced later than one period after it was written.
	r := watch(t, e.Store, &watcher{sweep: 400 * time.Millisecond, retryMin: 300 * time.Millisecond, retryMax: time.Second})
	listening(t, e.Store, r)

	t.Run("Append", func(t *testing.T) {
		c := start(t, e.Store, "u1")
		post(t, e.Store, c.ID, t0.Add(time.Minute))
		r.await(t, c.ID)
	})

	t.Run("AnotherProcess", func(t *testing.T) {
		// A second store on the same schema stands for another process.
		other, err := Open(context.Background(), testDSN(t), Options{Schema: e.schema})
		require.NoError(t, err)
		defer other.Close()
		c := start(t, other, "u2")
		post(t, other, c.ID, t0.Add(time.Minute))
		r.await(t, c.ID)
	})

	t.Run("PreparedAppend", func(t *testing.T) {
		c := start(t, e.Store, "u3")
		p := postParams(c.ID, message.DataSource("1"), "checked", t0.Add(time.Minute))
		p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return nil, nil }
		_, err := e.AppendMessage(context.Background(), p)
		require.NoError(t, err)
		r.await(t, c.ID)
	})

	t.Run("NothingWrittenNothingReported", func(t *testing.T) {
		c := start(t, e.Store, "u4")
		r.await(t, c.ID) // a start is a logged change (store.ChangeLog): it is reported
		boom := errors.New("rule says no")
		p := postParams(c.ID, message.DataSource("1"), "refused", t0.Add(time.Minute))
		p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return nil, boom }
		_, err := e.AppendMessage(context.Background(), p)
		require.ErrorIs(t, err, boom)

		keyed := postParams(c.ID, message.DataSource("1"), "once", t0.Add(2*time.Minute))
		keyed.Idempotency = &store.Idempotency{Scope: "s", Key: "k", Fingerprint: "f"}
		_, err = e.AppendMessage(context.Background(), keyed)
		require.NoError(t, err)
		r.await(t, c.ID)
		res, err := e.AppendMessage(context.Background(), keyed)
		require.NoError(t, err)
		require.True(t, res.Replayed)
		r.quiet(t, c.ID)
	})

	t.Run("OtherSchemaNotHeard", func(t *testing.T) {
		other := newEnv(t, 2)
		// An id that no conversation of this test's schema has.
		var c conversation.Conversation
		for i := range 20 {
			c = start(t, other.Store, "u5-"+strconv.Itoa(i))
		}
		post(t, other.Store, c.ID, t0.Add(time.Minute))
		r.quiet(t, c.ID)
	})

	t.Run("Reconnects", func(t *testing.T) {
		c := start(t, e.Store, "u6")
		time.Sleep(900 * time.Millisecond) // the watermark passes the earlier messages
		var killed int64
		// Only this test's feed: its database and the application name
		// of its schema's listener.
		require.NoError(t, e.admin.QueryRow(context.Background(),
			`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`,
			feedListenerName(e.schema)).Scan(&killed))
		require.Equal(t, int64(1), killed, "the feed's connection")
		// Posted while the feed is down (it waits 300 ms to reconnect):
		// reported by the catch-up.
		post(t, e.Store, c.ID, t0.Add(time.Minute))
		r.await(t, c.ID)
		d := start(t, e.Store, "u7")
		post(t, e.Store, d.ID, t0.Add(time.Minute))
		r.await(t, d.ID)
	})

	t.Run("ContextEnds", func(t *testing.T) {
		r.stop()
		select {
		case err := <-r.done:
			assert.ErrorIs(t, err, context.Canceled)
			r.done <- err // for the cleanup
		case <-time.After(5 * time.Second):
			t.Fatal("WatchMessages did not return")
		}
	})
}

func TestStore_WatchMessagesDefaults(t *testing.T) {
	e := newEnv(t, 2)
	r := watch(t, e.Store, nil)
	listening(t, e.Store, r)
	c := start(t, e.Store, "u1")
	post(t, e.Store, c.ID, t0.Add(time.Minute))
	r.await(t, c.ID)
}

func TestStore_WatchMessagesClosed(t *testing.T) {
	e := newEnv(t, 2)
	require.NoError(t, e.Close())
	err := e.WatchMessages(context.Background(), func(int64) {})
	assert.ErrorIs(t, err, store.ErrClosed)
}

func TestFeedChannel(t *testing.T) {
	long := feedChannel(string(make([]byte, 63)))
	assert.LessOrEqual(t, len(long), 63)
	assert.NotEqual(t, feedChannel("a"), feedChannel("b"))
	assert.Equal(t, feedChannel("parley"), feedChannel("parley"))
}

// TestStore_WatchMessagesSweep: an announcement lost with its process (a
// crash between the commit and the announcement; here the writer's
// announcer is stopped) is reported by the listener's sweep of the
// message index, once, and a message that was announced is not reported
// again by the sweep.
func TestStore_WatchMessagesSweep(t *testing.T) {
	e := newEnv(t, 4)
	r := watch(t, e.Store, &watcher{sweep: 300 * time.Millisecond, retryMin: time.Second, retryMax: time.Second})
	listening(t, e.Store, r)

	announced := start(t, e.Store, "u1")
	post(t, e.Store, announced.ID, t0.Add(time.Minute))
	r.await(t, announced.ID)

	crashed, err := Open(context.Background(), testDSN(t), Options{Schema: e.schema})
	require.NoError(t, err)
	defer crashed.Close()
	crashed.ann.close() // its appends commit, and are never announced
	lost := start(t, crashed, "u2")
	post(t, crashed, lost.ID, t0.Add(time.Minute))
	r.await(t, lost.ID) // found by a sweep
	// Three more sweeps: neither conversation is reported again.
	for range 4 {
		r.quiet(t, announced.ID, lost.ID)
	}
}

// TestStore_AnnouncesOnlyToListeners: without a feed listening on the
// schema's channel, appends send no notification (a plain LISTEN on the
// channel, from a connection that is not a feed's, hears nothing); once
// a feed listens, the notifications carry the conversation and message
// ids.
func TestStore_AnnouncesOnlyToListeners(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, 4)
	conn, err := e.admin.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "LISTEN "+feedChannel(e.schema))
	require.NoError(t, err)
	defer func() { _, _ = conn.Exec(ctx, "UNLISTEN *") }()
	heard := func(d time.Duration) (string, bool) {
		wctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		n, err := conn.Conn().WaitForNotification(wctx)
		if err != nil {
			require.ErrorIs(t, err, context.DeadlineExceeded)
			return "", false
		}
		return n.Payload, true
	}

	c := start(t, e.Store, "u1")
	post(t, e.Store, c.ID, t0.Add(time.Minute))
	_, ok := heard(300 * time.Millisecond)
	assert.False(t, ok, "a notification without a feed listening")

	r := watch(t, e.Store, nil)
	listening(t, e.Store, r)
	for {
		if _, ok := heard(100 * time.Millisecond); !ok {
			break // the warm-up's notifications are drained
		}
	}
	res, err := e.AppendMessage(ctx, postParams(c.ID, message.DataSource("1"), "heard", t0.Add(2*time.Minute)))
	require.NoError(t, err)
	payload, ok := heard(5 * time.Second)
	require.True(t, ok, "no notification with a feed listening")
	assert.Equal(t, strconv.FormatInt(c.ID, 10)+":"+strconv.FormatInt(res.Message.ID, 10), payload)
	r.await(t, c.ID)
}

// TestStore_AnnouncementsConcurrent: many appends at once, two per
// conversation, are each reported, at most once per append.
func TestStore_AnnouncementsConcurrent(t *testing.T) {
	e := newEnv(t, 8)
	r := watch(t, e.Store, nil)
	listening(t, e.Store, r)
	const n = 64
	convs := make([]int64, n)
	for i := range convs {
		convs[i] = start(t, e.Store, "u"+strconv.Itoa(i)).ID
	}
	// Starts are announced too (they are in the change log): drain them.
	for more := true; more; {
		select {
		case <-r.ids:
		case <-time.After(300 * time.Millisecond):
			more = false
		}
	}
	var wg sync.WaitGroup
	for _, id := range convs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			post(t, e.Store, id, t0.Add(time.Minute))
			post(t, e.Store, id, t0.Add(2*time.Minute))
		}()
	}
	wg.Wait()
	reported := map[int64]int{}
	for len(reported) < n {
		reported[r.next(t)]++
	}
	for more := true; more; {
		select {
		case id := <-r.ids:
			reported[id]++
		case <-time.After(300 * time.Millisecond):
			more = false
		}
	}
	for _, id := range convs {
		assert.LessOrEqual(t, reported[id], 2, "conversation %d", id)
	}
}

// TestAnnouncer_Coalesces: what is added while the announcer is busy is
// announced together, each conversation once with its latest message.
func TestAnnouncer_Coalesces(t *testing.T) {
	a := newAnnouncer(nil) // its goroutine is not started
	a.add(1, 10)
	a.add(2, 20)
	a.add(1, 12)
	a.add(1, 11) // committed earlier, added later
	assert.Equal(t, map[int64]int64{1: 12, 2: 20}, a.take())
	assert.Empty(t, a.take())
	a.putBack(map[int64]int64{1: 12, 3: 30})
	a.add(1, 13)
	assert.Equal(t, map[int64]int64{1: 13, 3: 30}, a.take())
}

func TestPayloads(t *testing.T) {
	batch := map[int64]int64{}
	for i := int64(1); i <= 1000; i++ {
		batch[i*1_000_000_007] = i * 9_000_000_000_000
	}
	ps := payloads(nil, batch)
	assert.Greater(t, len(ps), 1, "more than one payload's worth")
	got := map[int64]int64{}
	for _, p := range ps {
		assert.LessOrEqual(t, len(p), maxPayload)
		parsePayload(p, func(c, m int64) { got[c] = m })
	}
	assert.Equal(t, batch, got)

	var items [][2]int64
	parsePayload("7,8:9,x,:3,5:y,-1:2,10:11", func(c, m int64) { items = append(items, [2]int64{c, m}) })
	assert.Equal(t, [][2]int64{{7, 0}, {8, 9}, {10, 11}}, items, "bare ids (older versions) and pairs; nothing else")
}
