package parley_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

func TestService_Translate(t *testing.T) {
	upper := parley.TranslatorFunc(func(_ context.Context, text, from, to string) (string, error) {
		if strings.Contains(text, "fail") {
			return "", errors.New("translation service down")
		}
		return "[" + from + ">" + to + "] " + strings.ToUpper(text), nil
	})
	h := newHarness(t, func(o *parley.Options) { o.Translator = upper })
	res, err := h.svc.Start(ctx, guest, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "olá", Language: "pt"})
	require.NoError(t, err)
	assert.Equal(t, "olá", res.Message.Content, "stored as written")
	r2, err := h.svc.Post(ctx, shop1, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "hello", Language: "en"})
	require.NoError(t, err)
	r3, err := h.svc.Post(ctx, guest, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "please fail", Language: "pt"})
	require.NoError(t, err, "a failing translator never blocks a message")

	msgs, err := h.svc.Poll(ctx, shop1, res.Conversation.ID, 0, 0)
	require.NoError(t, err)
	got := h.svc.Translate(ctx, "en", msgs)
	require.Len(t, got, 3)
	assert.Equal(t, "[pt>en] OLÁ", got[0].Content)
	assert.Equal(t, "en", got[0].Language)
	assert.Equal(t, "pt", got[0].TranslatedFrom)
	assert.Equal(t, r2.Message, got[1], "already in the reader's language")
	assert.Equal(t, r3.Message, got[2], "returned as written when the translator fails")
	assert.Equal(t, "olá", msgs[0].Content, "the input is not modified")

	assert.Equal(t, msgs, h.svc.Translate(ctx, "", msgs))
	plain := newHarness(t)
	assert.Equal(t, msgs, plain.svc.Translate(ctx, "en", msgs))
}

// feedStore is a memory store with a message feed fed by the test, as a
// store shared by several processes would be.
type feedStore struct {
	*memory.Store
	mu   sync.Mutex
	subs []func(int64)
	on   chan struct{}
}

func (f *feedStore) WatchMessages(ctx context.Context, fn func(int64)) error {
	f.mu.Lock()
	f.subs = append(f.subs, fn)
	f.mu.Unlock()
	close(f.on)
	<-ctx.Done()
	return ctx.Err()
}

func (f *feedStore) fire(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fn := range f.subs {
		fn(id)
	}
}

var _ store.MessageFeed = (*feedStore)(nil)

func TestService_Listen(t *testing.T) {
	fs := &feedStore{Store: memory.New(), on: make(chan struct{})}
	// Two Services on one store: as two processes sharing a database.
	reader, err := parley.New(fs, parley.DefaultOptions())
	require.NoError(t, err)
	writer, err := parley.New(fs, parley.DefaultOptions())
	require.NoError(t, err)

	lctx, stop := context.WithCancel(ctx)
	listened := make(chan error, 1)
	go func() { listened <- reader.Listen(lctx) }()
	<-fs.on

	res, err := writer.Start(ctx, alice, question("1", conversation.Item{}, "q"))
	require.NoError(t, err)
	got := make(chan []message.Message, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		msgs, err := reader.Wait(wctx, shop1, res.Conversation.ID, res.Message.ID, 0)
		assert.NoError(t, err)
		got <- msgs
	}()
	// The other process posts; its own waiters are woken directly, the
	// reader's through the feed. Fire until the waiter has answered (the
	// waiter may subscribe after the first notification).
	posted, err := writer.Post(ctx, shop1, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "a"})
	require.NoError(t, err)
	var msgs []message.Message
	for msgs == nil {
		fs.fire(res.Conversation.ID)
		select {
		case msgs = <-got:
		case <-time.After(10 * time.Millisecond):
		}
	}
	require.Len(t, msgs, 1)
	assert.Equal(t, posted.Message.ID, msgs[0].ID)

	stop()
	assert.ErrorIs(t, <-listened, context.Canceled)
	assert.ErrorIs(t, newHarness(t).svc.Listen(ctx), parley.ErrNoFeed)
}
