package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/notify/webhook"
)

var (
	testSecret = []byte("0123456789abcdef-test-secret")
	testNow    = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
)

func testNotification() notify.Notification {
	seller := notify.Party{Kind: message.SenderDataSource, ID: "ds1"}
	user := notify.Party{Kind: message.SenderUser, ID: "u1"}
	code := uuid.MustParse("0195e6a1-0000-7000-8000-0000000000aa")
	return notify.Notification{
		Key:       "0195e6a1-0000-7000-8000-000000000001",
		Recipient: seller,
		Events: []notify.Event{{
			ID: "0195e6a1-0000-7000-8000-000000000001", Kind: notify.KindConversationStarted,
			Channel: "shop", ConversationID: 7, MessageID: 70, Recipient: seller, Sender: user, CreatedAt: testNow,
		}},
		Conversation: conversation.Conversation{
			ID: 7, Code: code, Channel: "shop", Type: conversation.TypeQuestion, UserID: "u1", DataSourceID: "ds1",
			Item: conversation.Product("p1"), Subject: "Size?", Status: conversation.StatusOpen,
			StartedBy: conversation.SideUser, CreatedAt: testNow, ModifiedAt: testNow, LastMessageAt: testNow, MessageCount: 1,
		},
		Messages: []message.Message{{
			ID: 70, Code: code, ConversationID: 7, Seq: 1, Sender: message.User("u1", message.UserGuest),
			Content: "Is it <b>XL</b>?", CreatedAt: testNow,
		}},
	}
}

// receiver is an HTTP handler that verifies and records webhook requests.
type receiver struct {
	mu       sync.Mutex
	status   int
	payloads []webhook.Payload
	headers  []http.Header
	errs     []error
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	body, err := io.ReadAll(r.Body)
	if err == nil && r.Method != http.MethodPost {
		err = errors.New("method " + r.Method)
	}
	if err == nil {
		err = webhook.Verify(testSecret, r.Header, body, testNow.Add(30*time.Second), webhook.DefaultTolerance)
	}
	var p webhook.Payload
	if err == nil {
		err = json.Unmarshal(body, &p)
	}
	rc.errs = append(rc.errs, err)
	rc.payloads = append(rc.payloads, p)
	rc.headers = append(rc.headers, r.Header.Clone())
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.status != 0 {
		http.Error(w, "receiver is down", rc.status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func newNotifier(t *testing.T, url string) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(webhook.Config{URL: url, Secret: testSecret, Now: func() time.Time { return testNow }, UserAgent: "parley-test"})
	require.NoError(t, err)
	return n
}

func TestNotifier_Notify(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		rc := &receiver{}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		nt := testNotification()
		require.NoError(t, newNotifier(t, srv.URL).Notify(context.Background(), nt))

		require.Len(t, rc.payloads, 1)
		require.NoError(t, rc.errs[0])
		h := rc.headers[0]
		assert.Equal(t, "application/json", h.Get("Content-Type"))
		assert.Equal(t, "parley-test", h.Get("User-Agent"))
		assert.Equal(t, nt.Key, h.Get(webhook.HeaderIdempotencyKey))
		assert.Equal(t, strconv.FormatInt(testNow.Unix(), 10), h.Get(webhook.HeaderTimestamp))

		p := rc.payloads[0]
		assert.Equal(t, nt.Key, p.Key)
		assert.Equal(t, webhook.Party{Kind: "datasource", ID: "ds1"}, p.Recipient)
		require.Len(t, p.Events, 1)
		assert.Equal(t, "conversation.started", p.Events[0].Kind)
		assert.Equal(t, webhook.Party{Kind: "user", ID: "u1"}, p.Events[0].Sender)
		assert.Equal(t, &webhook.Item{Kind: "product", ID: "p1"}, p.Conversation.Item)
		assert.Equal(t, "question", p.Conversation.Type)
		assert.Equal(t, nt.Conversation.Code, p.Conversation.Code)
		require.Len(t, p.Messages, 1)
		assert.Equal(t, "Is it <b>XL</b>?", p.Messages[0].Content)
		assert.Equal(t, webhook.Sender{Kind: "user", ID: "u1", UserType: "guest"}, p.Messages[0].Sender)
		assert.True(t, p.Messages[0].CreatedAt.Equal(testNow))
	})

	t.Run("Non2xxIsAnError", func(t *testing.T) {
		rc := &receiver{status: http.StatusServiceUnavailable}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		err := newNotifier(t, srv.URL).Notify(context.Background(), testNotification())
		var se *webhook.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusServiceUnavailable, se.StatusCode)
		assert.Contains(t, se.Body, "receiver is down")
		assert.False(t, notify.IsPermanent(err), "the outbox retries")
	})

	t.Run("RedirectIsNotFollowed", func(t *testing.T) {
		rc := &receiver{}
		target := httptest.NewServer(rc)
		defer target.Close()
		srv := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
		defer srv.Close()
		err := newNotifier(t, srv.URL).Notify(context.Background(), testNotification())
		var se *webhook.StatusError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, http.StatusFound, se.StatusCode)
		assert.Empty(t, rc.payloads)
	})

	t.Run("ContextCancelled", func(t *testing.T) {
		srv := httptest.NewServer(&receiver{})
		defer srv.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := newNotifier(t, srv.URL).Notify(ctx, testNotification())
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestVerify(t *testing.T) {
	body := []byte(`{"key":"k"}`)
	ts := testNow.Unix()
	signed := func(ts int64, sig string) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts, 10))
		h.Set(webhook.HeaderSignature, sig)
		return h
	}
	good := signed(ts, webhook.Sign(testSecret, ts, body))

	t.Run("OK", func(t *testing.T) {
		require.NoError(t, webhook.Verify(testSecret, good, body, testNow, time.Minute))
		require.NoError(t, webhook.Verify(testSecret, good, body, testNow.Add(time.Minute), time.Minute), "at the edge of the tolerance")
		require.NoError(t, webhook.Verify(testSecret, good, body, testNow.Add(-time.Minute), time.Minute), "a receiver clock behind")
	})
	t.Run("TamperedBody", func(t *testing.T) {
		err := webhook.Verify(testSecret, good, []byte(`{"key":"K"}`), testNow, time.Minute)
		require.ErrorIs(t, err, webhook.ErrInvalidSignature)
	})
	t.Run("WrongSecret", func(t *testing.T) {
		err := webhook.Verify([]byte("another secret of some length"), good, body, testNow, time.Minute)
		require.ErrorIs(t, err, webhook.ErrInvalidSignature)
	})
	t.Run("TamperedTimestamp", func(t *testing.T) {
		h := signed(ts+60, webhook.Sign(testSecret, ts, body))
		err := webhook.Verify(testSecret, h, body, testNow, 5*time.Minute)
		require.ErrorIs(t, err, webhook.ErrInvalidSignature)
	})
	t.Run("OldTimestamp", func(t *testing.T) {
		err := webhook.Verify(testSecret, good, body, testNow.Add(time.Minute+time.Second), time.Minute)
		require.ErrorIs(t, err, webhook.ErrTimestampOutOfRange)
	})
	t.Run("FutureTimestamp", func(t *testing.T) {
		err := webhook.Verify(testSecret, good, body, testNow.Add(-time.Minute-time.Second), time.Minute)
		require.ErrorIs(t, err, webhook.ErrTimestampOutOfRange)
	})
	t.Run("Missing", func(t *testing.T) {
		for name, h := range map[string]http.Header{
			"NoHeaders":      {},
			"NoSignature":    signed(ts, ""),
			"BadHex":         signed(ts, "zz"),
			"ShortSignature": signed(ts, "abcd"),
			"BadTimestamp":   {webhook.HeaderTimestamp: {"yesterday"}, webhook.HeaderSignature: {webhook.Sign(testSecret, ts, body)}},
		} {
			t.Run(name, func(t *testing.T) {
				require.ErrorIs(t, webhook.Verify(testSecret, h, body, testNow, time.Minute), webhook.ErrMissingSignature)
			})
		}
	})
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]webhook.Config{
		"NoURL":       {Secret: testSecret},
		"NotHTTP":     {URL: "ftp://example.com/hook", Secret: testSecret},
		"NoHost":      {URL: "https:///hook", Secret: testSecret},
		"ShortSecret": {URL: "https://example.com/hook", Secret: []byte("short")},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := webhook.New(cfg)
			require.ErrorIs(t, err, webhook.ErrInvalidConfig)
		})
	}
}
