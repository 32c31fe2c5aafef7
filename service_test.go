package parley_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/google/uuid"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// clock is a deterministic clock: each call advances it by a millisecond.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Millisecond)
	return c.now
}

// harness is a Service on a memory store with a recording notifier.
type harness struct {
	svc      *parley.Service
	store    store.Store
	notes    *notify.Recorder
	notifyEr []error
}

func newHarness(t *testing.T, edit ...func(*parley.Options)) *harness {
	t.Helper()
	h := &harness{store: memory.New(), notes: &notify.Recorder{}}
	t.Cleanup(func() { h.store.Close() })
	opts := parley.DefaultOptions()
	opts.Now = (&clock{now: time.Date(2026, 11, 21, 9, 0, 0, 123456789, time.UTC)}).Now
	opts.Notifier = h.notes
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.OnNotifyError = func(_ context.Context, _ notify.Notification, err error) { h.notifyEr = append(h.notifyEr, err) }
	for _, e := range edit {
		e(&opts)
	}
	svc, err := parley.New(h.store, opts)
	require.NoError(t, err)
	h.svc = svc
	return h
}

var (
	ctx     = context.Background()
	alice   = parley.User("1", "545382")
	bob     = parley.User("1", "545383")
	guest   = parley.Guest("1", "1001")
	shop1   = parley.Seller("1", "1")
	shop2   = parley.Seller("1", "2")
	channel = parley.Integration("1")
)

// outbox selects durable delivery; the Service then has no notifier.
func outbox(o *parley.Options) { o.Outbox, o.Notifier, o.OnNotifyError = true, nil, nil }

// testWorld is a world with the harness's parties: users alice (Ada
// Lovelace), bob and the guest, data sources 1 and 2, products 1 and 7
// and order items 1 and 7.
func testWorld() *parley.StaticWorld {
	return &parley.StaticWorld{
		UserMap: map[string]parley.UserInfo{
			"545382": {ID: "545382", FirstName: "Ada", LastName: "Lovelace"},
			"545383": {ID: "545383", FirstName: "Bob"},
			"1001":   {ID: "1001", FirstName: "Guest", Guest: true},
		},
		DataSourceMap: map[string]parley.DataSourceInfo{"1": {ID: "1"}, "2": {ID: "2"}},
		ItemMap: map[conversation.Item]parley.ItemInfo{
			conversation.Product("1"):   {Item: conversation.Product("1"), BaseCode: "B-1"},
			conversation.Product("7"):   {Item: conversation.Product("7"), BaseCode: "B-7"},
			conversation.OrderItem("1"): {Item: conversation.OrderItem("1"), BaseCode: "B-1", OrderNumber: "O-1"},
			conversation.OrderItem("7"): {Item: conversation.OrderItem("7"), BaseCode: "B-7", OrderNumber: "O-7"},
		},
	}
}

func question(ds string, item conversation.Item, text string) parley.StartRequest {
	return parley.StartRequest{Type: conversation.TypeQuestion, DataSourceID: ds, Item: item, Content: text}
}

// mustStart starts a conversation and fails the test on error.
func (h *harness) mustStart(t *testing.T, a parley.Actor, r parley.StartRequest) parley.Result {
	t.Helper()
	res, err := h.svc.Start(ctx, a, r)
	require.NoError(t, err)
	return res
}

func (h *harness) mustPost(t *testing.T, a parley.Actor, id int64, text string) parley.Result {
	t.Helper()
	res, err := h.svc.Post(ctx, a, parley.PostRequest{ConversationID: id, Content: text})
	require.NoError(t, err)
	return res
}

// count returns how many conversations the channel integration sees.
func (h *harness) count(t *testing.T) int64 {
	t.Helper()
	p, err := h.svc.List(ctx, channel, conversation.Filter{}, parley.PageRequest{WithTotal: true})
	require.NoError(t, err)
	return p.Total
}

func TestService_Start(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		h := newHarness(t)
		for _, typ := range conversation.Types {
			for _, item := range []conversation.Item{{}, conversation.Product("1"), conversation.OrderItem("1")} {
				res := h.mustStart(t, alice, parley.StartRequest{Type: typ, DataSourceID: "1", Item: item, Subject: "Hi", Content: "Hello, this is the first message."})
				c, m := res.Conversation, res.Message
				assert.Positive(t, c.ID)
				assert.Equal(t, typ, c.Type)
				assert.Equal(t, item, c.Item)
				assert.Equal(t, "545382", c.UserID)
				assert.Equal(t, "1", c.DataSourceID)
				assert.Equal(t, "1", c.Channel)
				assert.Equal(t, conversation.StatusOpen, c.Status)
				assert.Equal(t, conversation.SideUser, c.StartedBy)
				assert.Equal(t, message.User("545382", message.UserRegistered), m.Sender)
				assert.Equal(t, int64(1), m.Seq)
				assert.Equal(t, c.ID, m.ConversationID)
				assert.Equal(t, m.ID, c.LastMessageID)
				assert.EqualValues(t, 7, c.Code.Version())
				assert.EqualValues(t, 7, m.Code.Version())
				assert.Equal(t, int64(1), c.SellerRead.Unread)
				assert.Equal(t, int64(0), c.UserRead.Unread)
				assert.Equal(t, time.Duration(0), time.Duration(c.CreatedAt.Nanosecond()%1000), "times at microsecond precision")
			}
		}
		assert.EqualValues(t, 9, h.count(t))
	})
	t.Run("Guest", func(t *testing.T) {
		h := newHarness(t)
		res := h.mustStart(t, guest, question("1", conversation.Item{}, "where is my order?"))
		assert.Equal(t, message.UserGuest, res.Message.Sender.UserType)
	})
	t.Run("SellerStartsMessage", func(t *testing.T) {
		h := newHarness(t)
		res := h.mustStart(t, shop1, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545382", Item: conversation.OrderItem("1"), Content: "Your item is out of stock."})
		assert.Equal(t, conversation.SideSeller, res.Conversation.StartedBy)
		assert.Equal(t, "1", res.Conversation.DataSourceID)
		assert.Equal(t, int64(1), res.Conversation.UserRead.Unread)
		assert.Equal(t, message.DataSource("1"), res.Message.Sender)
	})
	t.Run("ErrSellerStart", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.svc.Start(ctx, shop1, parley.StartRequest{Type: conversation.TypeQuestion, UserID: "545382", Content: "hi"})
		assert.ErrorIs(t, err, parley.ErrSellerStart)
		_, err = h.svc.Start(ctx, shop1, parley.StartRequest{Type: conversation.TypeReview, UserID: "545382", Content: "hi"})
		assert.ErrorIs(t, err, parley.ErrReviewReply)
		assert.EqualValues(t, 0, h.count(t))
	})
	t.Run("ErrPermission", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.svc.Start(ctx, alice, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545383", DataSourceID: "1", Content: "hi"})
		assert.ErrorIs(t, err, parley.ErrPermission, "a user cannot start for another user")
		_, err = h.svc.Start(ctx, shop1, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545382", DataSourceID: "2", Content: "hi"})
		assert.ErrorIs(t, err, parley.ErrPermission, "a seller cannot start for another data source")
		_, err = h.svc.Start(ctx, channel, question("1", conversation.Item{}, "hi"))
		assert.ErrorIs(t, err, parley.ErrPermission, "an integration must name whom it acts for")
		_, err = h.svc.Start(ctx, parley.Actor{}, question("1", conversation.Item{}, "hi"))
		assert.ErrorIs(t, err, parley.ErrPermission, "the zero actor")
		assert.EqualValues(t, 0, h.count(t))
	})
	t.Run("Integration", func(t *testing.T) {
		h := newHarness(t)
		asUser, err := channel.OnBehalfOf(message.User("545382", message.UserGuest))
		require.NoError(t, err)
		res := h.mustStart(t, asUser, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Item: conversation.Product("1"), Content: "Hello"})
		assert.Equal(t, message.User("545382", message.UserGuest), res.Message.Sender)
		asShop, err := channel.OnBehalfOf(message.DataSource("1"))
		require.NoError(t, err)
		res = h.mustStart(t, asShop, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545383", Content: "Out of stock"})
		assert.Equal(t, message.DataSource("1"), res.Message.Sender)
	})
	t.Run("ErrConversationExists", func(t *testing.T) {
		h := newHarness(t)
		first := h.mustStart(t, alice, question("1", conversation.Product("1"), "first"))
		_, err := h.svc.Start(ctx, alice, question("1", conversation.Product("1"), "again"))
		var exists *parley.ConversationExistsError
		require.ErrorAs(t, err, &exists)
		assert.Equal(t, first.Conversation.ID, exists.ID)
		assert.ErrorIs(t, err, parley.ErrConversationExists)
		// Another item, another type, no item, another user, another
		// channel: each its own conversation.
		h.mustStart(t, alice, question("1", conversation.Product("2"), "x"))
		h.mustStart(t, alice, question("1", conversation.OrderItem("1"), "x"))
		h.mustStart(t, alice, question("1", conversation.Item{}, "x"))
		h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "x"})
		h.mustStart(t, bob, question("1", conversation.Product("1"), "x"))
		h.mustStart(t, parley.User("2", "545382"), question("1", conversation.Product("1"), "x"))
		assert.EqualValues(t, 6, h.count(t))
	})
	t.Run("ConcurrentStartsOfOneKey", func(t *testing.T) {
		h := newHarness(t)
		var wg sync.WaitGroup
		var ok atomic.Int32
		ids := make(chan int64, 50)
		for range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := h.svc.Start(ctx, alice, question("1", conversation.Product("1"), "same"))
				var exists *parley.ConversationExistsError
				switch {
				case err == nil:
					ok.Add(1)
					ids <- res.Conversation.ID
				case errors.As(err, &exists):
					ids <- exists.ID
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		close(ids)
		assert.EqualValues(t, 1, ok.Load())
		var first int64
		for id := range ids {
			if first == 0 {
				first = id
			}
			assert.Equal(t, first, id)
		}
		assert.EqualValues(t, 1, h.count(t))
	})
	t.Run("DataSourceRequired", func(t *testing.T) {
		// A user names the data source; picking a default one is the
		// program's (or its dialect's) business.
		h := newHarness(t)
		_, err := h.svc.Start(ctx, alice, parley.StartRequest{Type: conversation.TypeMessage, Content: "hi"})
		var ve *parley.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, parley.FieldDataSource, ve.Field)
		assert.EqualValues(t, 0, h.count(t))
	})
	t.Run("World", func(t *testing.T) {
		h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
		res := h.mustStart(t, alice, question("1", conversation.Product("1"), "hi"))
		assert.Equal(t, conversation.Attributes{UserFirstName: "Ada", UserLastName: "Lovelace", ProductBaseCode: "B-1"}, res.Conversation.Attributes)
		res = h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.OrderItem("1"), Content: "r"})
		assert.Equal(t, conversation.Attributes{UserFirstName: "Ada", UserLastName: "Lovelace", ProductBaseCode: "B-1", OrderNumber: "O-1"}, res.Conversation.Attributes)
		assert.Len(t, h.notes.Notifications(), 2)
	})
	t.Run("ErrUnknown", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			actor  parley.Actor
			req    parley.StartRequest
			field  string
			entity parley.Entity
			id     string
		}{
			{"DataSource", alice, question("999", conversation.Item{}, "hi"), parley.FieldDataSource, parley.EntityDataSource, "999"},
			{"Product", alice, question("1", conversation.Product("999"), "hi"), parley.FieldItemID, parley.EntityProduct, "999"},
			{"OrderItem", alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.OrderItem("999"), Content: "r"}, parley.FieldItemID, parley.EntityOrderItem, "999"},
			{"User", parley.User("1", "999"), question("1", conversation.Item{}, "hi"), parley.FieldUser, parley.EntityUser, "999"},
			{"UserOfSeller", shop1, parley.StartRequest{Type: conversation.TypeMessage, UserID: "999", Content: "hi"}, parley.FieldUser, parley.EntityUser, "999"},
			{"SellerOfIntegration", mustBehalf(t, channel, message.DataSource("999")), parley.StartRequest{Type: conversation.TypeMessage, UserID: "545382", Content: "hi"}, parley.FieldDataSource, parley.EntityDataSource, "999"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
				_, err := h.svc.Start(ctx, tc.actor, tc.req)
				require.ErrorIs(t, err, parley.ErrUnknown)
				require.ErrorIs(t, err, parley.ErrInvalid)
				var ue *parley.UnknownError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, parley.UnknownError{Entity: tc.entity, ID: tc.id}, *ue)
				var ve *parley.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.Equal(t, tc.field, ve.Field)
				assert.Len(t, parley.ValidationErrors(err), 1)
				assert.EqualValues(t, 0, h.count(t), "nothing written")
				assert.Empty(t, h.notes.Notifications(), "nobody notified")
			})
		}
		t.Run("EveryField", func(t *testing.T) {
			h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
			_, err := h.svc.Start(ctx, parley.User("1", "998"), question("999", conversation.Product("997"), "hi"))
			var fields []string
			for _, ve := range parley.ValidationErrors(err) {
				fields = append(fields, ve.Field)
			}
			assert.Equal(t, []string{parley.FieldUser, parley.FieldDataSource, parley.FieldItemID}, fields)
		})
		t.Run("WithoutWorld", func(t *testing.T) {
			h := newHarness(t)
			res := h.mustStart(t, alice, question("999", conversation.Product("999"), "hi"))
			assert.Zero(t, res.Conversation.Attributes, "everything accepted, nothing looked up")
		})
	})
	t.Run("WorldConcurrent", func(t *testing.T) {
		// Many starts at once, half naming a product the World does not
		// know: exactly the known ones are written.
		h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
		const n = 64
		var wg sync.WaitGroup
		var refused atomic.Int64
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				item := conversation.Product("1")
				if i%2 == 1 {
					item = conversation.Product(fmt.Sprint(1000 + i))
				}
				u := parley.User("1", []string{"545382", "545383", "1001"}[i%3])
				_, err := h.svc.Start(ctx, u, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Item: item,
					Content: "hi", IdempotencyKey: fmt.Sprint("k", i)})
				switch {
				case errors.Is(err, parley.ErrUnknown):
					refused.Add(1)
				case err != nil && !errors.Is(err, parley.ErrConversationExists):
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		assert.EqualValues(t, n/2, refused.Load())
		assert.EqualValues(t, 3, h.count(t), "one conversation per user about product 1")
	})
	t.Run("WorldFails", func(t *testing.T) {
		h := newHarness(t, func(o *parley.Options) { o.World = failingWorld{} })
		_, err := h.svc.Start(ctx, alice, question("1", conversation.Product("1"), "hi"))
		assert.ErrorContains(t, err, "database down")
		assert.NotErrorIs(t, err, parley.ErrUnknown)
		assert.EqualValues(t, 0, h.count(t))
	})
}

func mustBehalf(t *testing.T, a parley.Actor, s message.Sender) parley.Actor {
	t.Helper()
	b, err := a.OnBehalfOf(s)
	require.NoError(t, err)
	return b
}

// failingWorld is a World whose tables cannot be read.
type failingWorld struct{}

func (failingWorld) Users(context.Context, string, []string) (map[string]parley.UserInfo, error) {
	return nil, errors.New("database down")
}

func (failingWorld) DataSources(context.Context, string, []string) (map[string]parley.DataSourceInfo, error) {
	return nil, errors.New("database down")
}

func (failingWorld) Items(context.Context, string, []conversation.Item) (map[conversation.Item]parley.ItemInfo, error) {
	return nil, errors.New("database down")
}

func TestService_Validation(t *testing.T) {
	long := strings.Repeat("a", 4001)
	cases := []struct {
		name  string
		req   parley.StartRequest
		field string
	}{
		{"EmptyContent", parley.StartRequest{Content: ""}, parley.FieldMessageContent},
		{"BlankContent", parley.StartRequest{Content: " \n\t "}, parley.FieldMessageContent},
		{"LongContentRunes", parley.StartRequest{Content: long}, parley.FieldMessageContent},
		{"LongContentBytes", parley.StartRequest{Content: strings.Repeat("é", 3000) + strings.Repeat("€", 2000)}, parley.FieldMessageContent},
		{"InvalidUTF8", parley.StartRequest{Content: "a\xffb"}, parley.FieldMessageContent},
		{"NUL", parley.StartRequest{Content: "a\x00b"}, parley.FieldMessageContent},
		{"ControlChar", parley.StartRequest{Content: "a\x1bb"}, parley.FieldMessageContent},
		{"C1Control", parley.StartRequest{Content: "a\u0085b"}, parley.FieldMessageContent},
		{"BidiOverride", parley.StartRequest{Content: "abc\u202Etxt.exe"}, parley.FieldMessageContent},
		{"BidiIsolate", parley.StartRequest{Content: "abc\u2067x"}, parley.FieldMessageContent},
		{"UnknownType", parley.StartRequest{Type: "complaint"}, parley.FieldConversationType},
		{"UnknownItemKind", parley.StartRequest{Item: conversation.Item{Kind: "basket", ID: "1"}}, parley.FieldItemContent},
		{"ItemKindWithoutID", parley.StartRequest{Item: conversation.Item{Kind: conversation.ItemProduct}}, parley.FieldItemID},
		{"ItemIDWithoutKind", parley.StartRequest{Item: conversation.Item{ID: "1"}}, parley.FieldItemContent},
		{"LongItemID", parley.StartRequest{Item: conversation.Product(strings.Repeat("9", 65))}, parley.FieldItemID},
		{"LongDataSource", parley.StartRequest{DataSourceID: strings.Repeat("9", 65)}, parley.FieldDataSource},
		{"DataSourceWithSpace", parley.StartRequest{DataSourceID: "1 OR 1=1"}, parley.FieldDataSource},
		{"LongSubject", parley.StartRequest{Subject: strings.Repeat("s", 256)}, parley.FieldSubject},
		{"MultilineSubject", parley.StartRequest{Subject: "a\nBcc: x@example.com"}, parley.FieldSubject},
		{"BadLanguage", parley.StartRequest{Language: "english!"}, parley.FieldLanguage},
		{"BadIdempotencyKey", parley.StartRequest{IdempotencyKey: "has space"}, parley.FieldIdempotencyKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			r := tc.req
			if r.Type == "" {
				r.Type = conversation.TypeMessage
			}
			if r.DataSourceID == "" {
				r.DataSourceID = "1"
			}
			if r.Content == "" && tc.name != "EmptyContent" {
				r.Content = "hello"
			}
			_, err := h.svc.Start(ctx, alice, r)
			require.ErrorIs(t, err, parley.ErrInvalid)
			var ve *parley.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.field, ve.Field, ve.Error())
			assert.EqualValues(t, 0, h.count(t), "a rejected call writes nothing")
			assert.Empty(t, h.notes.Notifications())
		})
	}
	t.Run("AllFieldsReported", func(t *testing.T) {
		h := newHarness(t)
		_, err := h.svc.Start(ctx, alice, parley.StartRequest{Type: "x", Item: conversation.Item{Kind: "y"}})
		var fields []string
		for _, ve := range parley.ValidationErrors(err) {
			fields = append(fields, ve.Field)
		}
		assert.Equal(t, []string{parley.FieldConversationType, parley.FieldDataSource, parley.FieldItemContent, parley.FieldMessageContent}, fields)
	})
	t.Run("ConfigurableLimit", func(t *testing.T) {
		h := newHarness(t, func(o *parley.Options) { o.Limits.MaxContentRunes = 5 })
		_, err := h.svc.Start(ctx, alice, question("1", conversation.Item{}, "123456"))
		assert.ErrorIs(t, err, parley.ErrInvalid)
		h.mustStart(t, alice, question("1", conversation.Item{}, "12345"))
	})
	t.Run("Post", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		for _, text := range []string{"", "   ", "a\x00", strings.Repeat("x", 4001)} {
			_, err := h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: c.ID, Content: text})
			assert.ErrorIs(t, err, parley.ErrInvalid)
		}
		_, err := h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: 0, Content: "x"})
		assert.ErrorIs(t, err, parley.ErrInvalid)
		got, err := h.svc.Get(ctx, alice, c.ID)
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.MessageCount)
	})
}

func TestService_Post(t *testing.T) {
	t.Run("Conversation", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Product("1"), "Does it ship today?")).Conversation
		reply := h.mustPost(t, shop1, c.ID, "Yes, before 5pm.")
		assert.Equal(t, int64(2), reply.Message.Seq)
		assert.Equal(t, message.DataSource("1"), reply.Message.Sender)
		again := h.mustPost(t, alice, c.ID, "Thanks!")
		assert.Equal(t, int64(3), again.Message.Seq)
		assert.EqualValues(t, 3, again.Conversation.MessageCount)
		assert.Equal(t, again.Message.ID, again.Conversation.LastMessageID)
	})
	t.Run("ErrReviewReply", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "Great shop"}).Conversation
		_, err := h.svc.Post(ctx, shop1, parley.PostRequest{ConversationID: c.ID, Content: "Thank you"})
		assert.ErrorIs(t, err, parley.ErrReviewReply)
		assert.Equal(t, "parley: a data source can't reply to a review", parley.ErrReviewReply.Error())
		asShop, _ := channel.OnBehalfOf(message.DataSource("1"))
		_, err = h.svc.Post(ctx, asShop, parley.PostRequest{ConversationID: c.ID, Content: "Thank you"})
		assert.ErrorIs(t, err, parley.ErrReviewReply)
		h.mustPost(t, alice, c.ID, "Second review message")
	})
	t.Run("ErrPermission", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		for _, a := range []parley.Actor{bob, shop2, guest} {
			_, err := h.svc.Post(ctx, a, parley.PostRequest{ConversationID: c.ID, Content: "x"})
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.Get(ctx, a, c.ID)
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.Messages(ctx, a, c.ID, parley.PageRequest{})
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.Poll(ctx, a, c.ID, 0, 0)
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			_, err = h.svc.MarkRead(ctx, a, c.ID, c.LastMessageID)
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
		}
		_, err := h.svc.Post(ctx, channel, parley.PostRequest{ConversationID: c.ID, Content: "x"})
		assert.ErrorIs(t, err, parley.ErrPermission, "an integration must name the sender")
		got, _ := h.svc.Get(ctx, alice, c.ID)
		assert.EqualValues(t, 1, got.MessageCount)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		_, err := h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: c.ID + 100, Content: "x"})
		assert.ErrorIs(t, err, parley.ErrNotFound)
		// The same user in another channel does not see it.
		_, err = h.svc.Post(ctx, parley.User("2", "545382"), parley.PostRequest{ConversationID: c.ID, Content: "x"})
		assert.ErrorIs(t, err, parley.ErrNotFound)
		_, err = h.svc.Get(ctx, parley.Integration("2"), c.ID)
		assert.ErrorIs(t, err, parley.ErrNotFound)
	})
	t.Run("ErrConversationClosed", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		closed, err := h.svc.SetStatus(ctx, shop1, c.ID, conversation.StatusClosed)
		require.NoError(t, err)
		assert.Equal(t, conversation.StatusClosed, closed.Status)
		_, err = h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: c.ID, Content: "hello?"})
		assert.ErrorIs(t, err, parley.ErrConversationClosed)
		_, err = h.svc.SetStatus(ctx, alice, c.ID, "archived")
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.SetStatus(ctx, bob, c.ID, conversation.StatusOpen)
		assert.ErrorIs(t, err, parley.ErrPermission)
		_, err = h.svc.SetStatus(ctx, alice, c.ID, conversation.StatusOpen)
		require.NoError(t, err)
		h.mustPost(t, alice, c.ID, "hello?")
	})
	t.Run("Language", func(t *testing.T) {
		h := newHarness(t)
		res, err := h.svc.Start(ctx, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "Olá", Language: "pt-BR"})
		require.NoError(t, err)
		assert.Equal(t, "pt-BR", res.Message.Language)
		assert.Equal(t, "pt-BR", res.Conversation.Language)
		r2, err := h.svc.Post(ctx, shop1, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "Hello", Language: "en"})
		require.NoError(t, err)
		msgs, err := h.svc.Poll(ctx, alice, res.Conversation.ID, res.Message.ID, 0)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		assert.Equal(t, r2.Message, msgs[0])
	})
}

func TestService_Idempotency(t *testing.T) {
	h := newHarness(t)
	r := question("1", conversation.Product("1"), "Is it in stock?")
	r.IdempotencyKey = "req-1"
	first := h.mustStart(t, alice, r)
	again := h.mustStart(t, alice, r)
	assert.True(t, again.Replayed)
	assert.Equal(t, first.Conversation.ID, again.Conversation.ID)
	assert.Equal(t, first.Message, again.Message)
	assert.Len(t, h.notes.Notifications(), 1, "a replay notifies nobody")

	r.Content = "something else"
	_, err := h.svc.Start(ctx, alice, r)
	assert.ErrorIs(t, err, parley.ErrIdempotencyMismatch)

	p := parley.PostRequest{ConversationID: first.Conversation.ID, Content: "more", IdempotencyKey: "req-2"}
	m1, err := h.svc.Post(ctx, alice, p)
	require.NoError(t, err)
	m2, err := h.svc.Post(ctx, alice, p)
	require.NoError(t, err)
	assert.True(t, m2.Replayed)
	assert.Equal(t, m1.Message, m2.Message)
	// Another actor's key space is its own.
	m3, err := h.svc.Post(ctx, shop1, parley.PostRequest{ConversationID: first.Conversation.ID, Content: "more", IdempotencyKey: "req-2"})
	require.NoError(t, err)
	assert.False(t, m3.Replayed)
	got, _ := h.svc.Get(ctx, alice, first.Conversation.ID)
	assert.EqualValues(t, 3, got.MessageCount)
}

func TestService_List(t *testing.T) {
	h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
	a1 := h.mustStart(t, alice, question("1", conversation.Product("1"), "q1")).Conversation
	a2 := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "2", Item: conversation.OrderItem("7"), Content: "r"}).Conversation
	b1 := h.mustStart(t, bob, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "m"}).Conversation
	h.mustPost(t, shop1, a1.ID, "answer") // a1 becomes the newest activity
	h.mustStart(t, parley.User("2", "545382"), question("1", conversation.Product("1"), "other channel"))

	ids := func(a parley.Actor, f conversation.Filter) []int64 {
		t.Helper()
		p, err := h.svc.List(ctx, a, f, parley.PageRequest{WithTotal: true})
		require.NoError(t, err)
		var out []int64
		for _, c := range p.Items {
			out = append(out, c.ID)
		}
		assert.EqualValues(t, len(out), p.Total)
		return out
	}
	assert.Equal(t, []int64{a1.ID, a2.ID}, ids(alice, conversation.Filter{}), "a user sees their own, newest activity first")
	assert.Equal(t, []int64{a1.ID, b1.ID}, ids(shop1, conversation.Filter{}), "a seller sees their data source's")
	assert.Equal(t, []int64{a1.ID, b1.ID, a2.ID}, ids(channel, conversation.Filter{}), "the integration sees its channel")
	assert.Empty(t, ids(alice, conversation.Filter{UserID: "545383"}), "a filter on another party matches nothing")
	assert.Empty(t, ids(shop1, conversation.Filter{DataSourceID: "2"}))
	assert.Equal(t, []int64{a1.ID}, ids(alice, conversation.Filter{DataSourceID: "1"}))
	assert.Equal(t, []int64{a1.ID}, ids(channel, conversation.Filter{Type: conversation.TypeQuestion}))
	assert.Equal(t, []int64{a1.ID}, ids(channel, conversation.Filter{ProductID: "1"}))
	assert.Equal(t, []int64{a2.ID}, ids(channel, conversation.Filter{OrderItemID: "7"}))
	assert.Equal(t, []int64{a2.ID}, ids(channel, conversation.Filter{ItemKind: conversation.ItemOrderItem}))
	assert.Equal(t, []int64{a2.ID}, ids(channel, conversation.Filter{OrderNumber: "O-7"}))
	assert.Equal(t, []int64{a1.ID}, ids(channel, conversation.Filter{ProductBaseCode: "B-1"}))
	assert.Equal(t, []int64{b1.ID}, ids(channel, conversation.Filter{UserFirstName: "Bob"}))
	assert.Equal(t, []int64{b1.ID}, ids(channel, conversation.Filter{UserID: "545383"}))
	assert.Equal(t, []int64{a1.ID}, ids(channel, conversation.Filter{ModifiedFrom: a1.CreatedAt.Add(3 * time.Millisecond)}))
	assert.Equal(t, []int64{a1.ID, a2.ID}, ids(channel, conversation.Filter{CreatedTo: a2.CreatedAt}))

	t.Run("BadFilter", func(t *testing.T) {
		for _, f := range []conversation.Filter{{Type: "x"}, {ItemKind: "x"}, {Status: "x"}, {UserID: "a\x00"}, {OrderNumber: strings.Repeat("x", 300)}} {
			_, err := h.svc.List(ctx, channel, f, parley.PageRequest{})
			assert.ErrorIs(t, err, parley.ErrInvalid, "%+v", f)
		}
		_, err := h.svc.List(ctx, channel, conversation.Filter{}, parley.PageRequest{Limit: -1})
		assert.ErrorIs(t, err, parley.ErrInvalid)
	})
}

func TestService_ListPaging(t *testing.T) {
	h := newHarness(t)
	want := map[int64]bool{}
	for i := range 45 {
		c := h.mustStart(t, parley.User("1", fmt.Sprint(1000+i)), question("1", conversation.Item{}, "q")).Conversation
		want[c.ID] = true
	}
	for _, size := range []int{1, 7, 20, 100} {
		seen := map[int64]bool{}
		cursor := ""
		pages := 0
		var last time.Time
		for {
			p, err := h.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Limit: size, Cursor: cursor})
			require.NoError(t, err)
			pages++
			for _, c := range p.Items {
				assert.False(t, seen[c.ID], "no repetition")
				seen[c.ID] = true
				if !last.IsZero() {
					assert.False(t, c.LastMessageAt.After(last), "newest first")
				}
				last = c.LastMessageAt
			}
			if p.Next == "" {
				break
			}
			cursor = p.Next
		}
		assert.Equal(t, want, seen, "page size %d", size)
		assert.Equal(t, (45+size-1)/size, pages)
		last = time.Time{}
	}
	t.Run("Cap", func(t *testing.T) {
		p, err := h.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Limit: 1000})
		require.NoError(t, err)
		assert.Len(t, p.Items, 45)
		h2 := newHarness(t, func(o *parley.Options) { o.Limits.MaxPageSize = 10; o.Limits.DefaultPageSize = 5 })
		for i := range 12 {
			h2.mustStart(t, parley.User("1", fmt.Sprint(i)), question("1", conversation.Item{}, "q"))
		}
		p, err = h2.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Limit: 1000})
		require.NoError(t, err)
		assert.Len(t, p.Items, 10)
		p, err = h2.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{})
		require.NoError(t, err)
		assert.Len(t, p.Items, 5)
		assert.EqualValues(t, -1, p.Total, "no count unless asked")
	})
	t.Run("ErrInvalidCursor", func(t *testing.T) {
		p, err := h.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Limit: 2})
		require.NoError(t, err)
		require.NotEmpty(t, p.Next)
		tampered := []byte(p.Next)
		tampered[2] ^= 1
		for _, c := range []string{string(tampered), "garbage", "!!!", p.Next[:len(p.Next)-1]} {
			_, err := h.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Cursor: c})
			assert.ErrorIs(t, err, parley.ErrInvalidCursor, c)
		}
		// A message cursor is not a conversation cursor.
		c := h.mustStart(t, alice, question("2", conversation.Item{}, "q")).Conversation
		for range 3 {
			h.mustPost(t, alice, c.ID, "m")
		}
		mp, err := h.svc.Messages(ctx, alice, c.ID, parley.PageRequest{Limit: 1})
		require.NoError(t, err)
		_, err = h.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Cursor: mp.Next})
		assert.ErrorIs(t, err, parley.ErrInvalidCursor)
	})
}

func TestService_Messages(t *testing.T) {
	h := newHarness(t)
	c := h.mustStart(t, alice, question("1", conversation.Item{}, "m1")).Conversation
	var all []message.Message
	for i := 2; i <= 25; i++ {
		a := alice
		if i%2 == 0 {
			a = shop1
		}
		all = append(all, h.mustPost(t, a, c.ID, fmt.Sprint("m", i)).Message)
	}
	var got []int64
	cursor := ""
	for {
		p, err := h.svc.Messages(ctx, alice, c.ID, parley.PageRequest{Limit: 10, Cursor: cursor, WithTotal: true})
		require.NoError(t, err)
		assert.EqualValues(t, 25, p.Total)
		for _, m := range p.Items {
			got = append(got, m.Seq)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	require.Len(t, got, 25)
	for i, seq := range got {
		assert.EqualValues(t, 25-i, seq, "newest first")
	}

	t.Run("Poll", func(t *testing.T) {
		msgs, err := h.svc.Poll(ctx, alice, c.ID, all[20].ID, 0)
		require.NoError(t, err)
		assert.Equal(t, all[21:], msgs, "oldest first, after the given id")
		msgs, err = h.svc.Poll(ctx, shop1, c.ID, all[len(all)-1].ID, 0)
		require.NoError(t, err)
		assert.Empty(t, msgs)
		msgs, err = h.svc.Poll(ctx, alice, c.ID, 0, 5)
		require.NoError(t, err)
		assert.Len(t, msgs, 5)
		assert.EqualValues(t, 1, msgs[0].Seq)
		_, err = h.svc.Poll(ctx, alice, c.ID, -1, 0)
		assert.ErrorIs(t, err, parley.ErrInvalid)
	})

	// Any id is a position: another conversation's, or past every
	// message.
	t.Run("PollFromAnyID", func(t *testing.T) {
		other := h.mustStart(t, bob, question("1", conversation.Item{}, "x"))
		more := h.mustPost(t, shop1, c.ID, "after the other conversation's start").Message
		msgs, err := h.svc.Poll(ctx, alice, c.ID, other.Message.ID, 0)
		require.NoError(t, err)
		assert.Equal(t, []message.Message{more}, msgs, "an id of another conversation")
		msgs, err = h.svc.Poll(ctx, alice, c.ID, more.ID+1000, 0)
		require.NoError(t, err)
		assert.Empty(t, msgs, "past every message: nothing, no error")
	})
}

func TestService_ReadState(t *testing.T) {
	h := newHarness(t)
	c1 := h.mustStart(t, alice, question("1", conversation.Item{}, "q1")).Conversation
	c2 := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "m"}).Conversation
	h.mustStart(t, bob, question("1", conversation.Item{}, "bob"))

	u, err := h.svc.Unread(ctx, shop1)
	require.NoError(t, err)
	assert.Equal(t, parley.UnreadSummary{Messages: 3, Conversations: 3}, u)

	r1 := h.mustPost(t, shop1, c1.ID, "a1")
	assert.EqualValues(t, 0, r1.Conversation.SellerRead.Unread, "replying reads")
	assert.Equal(t, r1.Message.Seq, r1.Conversation.SellerRead.ReadSeq)
	r2 := h.mustPost(t, shop1, c1.ID, "a2")
	assert.EqualValues(t, 2, r2.Conversation.UserRead.Unread)
	assert.False(t, r2.Conversation.IsReadBy(conversation.SideUser, r2.Message.Seq))

	u, err = h.svc.Unread(ctx, alice)
	require.NoError(t, err)
	assert.Equal(t, parley.UnreadSummary{Messages: 2, Conversations: 1}, u)

	c, err := h.svc.MarkRead(ctx, alice, c1.ID, r1.Message.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 1, c.UserRead.Unread)
	assert.True(t, c.IsReadBy(conversation.SideUser, r1.Message.Seq))
	c, err = h.svc.MarkRead(ctx, alice, c1.ID, r2.Message.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 0, c.UserRead.Unread)
	c, err = h.svc.MarkRead(ctx, alice, c1.ID, r1.Message.ID)
	require.NoError(t, err)
	assert.Equal(t, r2.Message.Seq, c.UserRead.ReadSeq, "read positions only move forward")

	_, err = h.svc.MarkRead(ctx, alice, c1.ID, c2.LastMessageID)
	assert.ErrorIs(t, err, parley.ErrNotFound, "a message of another conversation")
	_, err = h.svc.MarkRead(ctx, alice, c1.ID, 0)
	assert.ErrorIs(t, err, parley.ErrInvalid)
	_, err = h.svc.Unread(ctx, channel)
	assert.ErrorIs(t, err, parley.ErrPermission)

	asShop, _ := channel.OnBehalfOf(message.DataSource("1"))
	_, err = h.svc.MarkRead(ctx, asShop, c2.ID, c2.LastMessageID)
	require.NoError(t, err)
	u, err = h.svc.Unread(ctx, asShop)
	require.NoError(t, err)
	assert.Equal(t, parley.UnreadSummary{Messages: 1, Conversations: 1}, u, "bob's question is left")

	t.Run("MarkAllRead", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		h.mustPost(t, shop1, c.ID, "a1")
		last := h.mustPost(t, shop1, c.ID, "a2")
		got, err := h.svc.MarkAllRead(ctx, alice, c.ID)
		require.NoError(t, err)
		assert.EqualValues(t, 0, got.UserRead.Unread)
		assert.Equal(t, last.Message.Seq, got.UserRead.ReadSeq, "read up to the newest message")
		later := h.mustPost(t, shop1, c.ID, "a3")
		assert.EqualValues(t, 1, later.Conversation.UserRead.Unread, "a later message is unread")
		u, err := h.svc.Unread(ctx, alice)
		require.NoError(t, err)
		assert.Equal(t, parley.UnreadSummary{Messages: 1, Conversations: 1}, u)

		_, err = h.svc.MarkAllRead(ctx, bob, c.ID)
		assert.ErrorIs(t, err, parley.ErrPermission)
		_, err = h.svc.MarkAllRead(ctx, alice, 0)
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.MarkAllRead(ctx, channel, c.ID)
		assert.ErrorIs(t, err, parley.ErrPermission, "an integration names its party")
		_, err = h.svc.MarkAllRead(ctx, parley.User("2", "545382"), c.ID)
		assert.ErrorIs(t, err, parley.ErrNotFound)
	})
}

// TestErrors_GoNames: the Service's errors start with "parley: " and name
// Go fields, never the wire names of a dialect.
func TestErrors_GoNames(t *testing.T) {
	h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
	for name, err := range map[string]error{
		"EmptyUser": func() error {
			_, err := h.svc.Start(ctx, parley.User("", ""), question("1", conversation.Item{}, "q"))
			return err
		}(),
		"BadStart": func() error {
			_, err := h.svc.Start(ctx, alice, parley.StartRequest{Type: "x", Item: conversation.Item{Kind: "x"}})
			return err
		}(),
		"Unknown": func() error {
			_, err := h.svc.Start(ctx, alice, question("999", conversation.Item{}, "q"))
			return err
		}(),
		"Sender": func() error {
			_, err := channel.OnBehalfOf(message.Sender{})
			return err
		}(),
		"Permission": func() error {
			_, err := h.svc.Unread(ctx, channel)
			return err
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			require.Error(t, err)
			for _, line := range strings.Split(err.Error(), "\n") {
				assert.True(t, strings.HasPrefix(line, "parley: "), "%q", line)
			}
			for _, wire := range []string{"content_type", "content_id", "datasource", "item_content_type", "item_object_id", "conversation_type", "outletCode", "product_id"} {
				assert.NotContains(t, err.Error(), wire)
			}
		})
	}
	_, err := h.svc.Start(ctx, parley.User("", ""), question("1", conversation.Item{}, "q"))
	assert.Equal(t, "parley: Channel: is required\nparley: Sender: is required", err.Error())
	for _, e := range []error{parley.ErrInvalid, parley.ErrPermission, parley.ErrReviewReply, parley.ErrSellerStart,
		parley.ErrConversationClosed, parley.ErrReviewStatus, parley.ErrInvalidCursor, parley.ErrUnknown,
		&parley.ConversationExistsError{ID: 1}, &parley.UnknownError{Entity: parley.EntityUser, ID: "1"}} {
		assert.True(t, strings.HasPrefix(e.Error(), "parley: "), e.Error())
	}
	// The store's sentinels, which the Service returns wrapped ("parley:
	// conversation 5: store: not found"), speak for package store.
	for _, e := range []error{parley.ErrNotFound, parley.ErrConversationExists, parley.ErrIdempotencyMismatch, store.ErrClosed, store.ErrDuplicateCode} {
		assert.True(t, strings.HasPrefix(e.Error(), "store: "), e.Error())
	}
	_, err = h.svc.Get(ctx, alice, 12345)
	assert.True(t, strings.HasPrefix(err.Error(), "parley: conversation 12345: "), err.Error())
	assert.True(t, strings.HasSuffix(err.Error(), ": store: not found"), err.Error())
}

func TestService_PublicList(t *testing.T) {
	h := newHarness(t, func(o *parley.Options) { o.World = testWorld() })
	q := h.mustStart(t, alice, question("1", conversation.Product("1"), "q")).Conversation
	r := h.mustStart(t, bob, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "r"}).Conversation
	m := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeMessage, DataSourceID: "1", Content: "private"}).Conversation

	p, err := h.svc.PublicList(ctx, "1", "", conversation.Filter{}, parley.PageRequest{WithTotal: true})
	require.NoError(t, err)
	require.EqualValues(t, 2, p.Total)
	for _, c := range p.Items {
		assert.True(t, c.Type.Public())
		want := conversation.Attributes{}
		if c.ID == q.ID {
			want.ProductBaseCode = "B-1"
		}
		assert.Equal(t, want, c.Attributes, "no private data")
		assert.Zero(t, c.UserRead)
	}
	p, err = h.svc.PublicList(ctx, "1", conversation.TypeReview, conversation.Filter{Type: conversation.TypeQuestion, OrderNumber: "nope"}, parley.PageRequest{})
	require.NoError(t, err)
	require.Len(t, p.Items, 1, "private filters are ignored")
	assert.Equal(t, r.ID, p.Items[0].ID)
	p, err = h.svc.PublicList(ctx, "1", conversation.TypeQuestion, conversation.Filter{ProductID: "1"}, parley.PageRequest{})
	require.NoError(t, err)
	require.Len(t, p.Items, 1)
	assert.Equal(t, q.ID, p.Items[0].ID)
	p, err = h.svc.PublicList(ctx, "2", "", conversation.Filter{}, parley.PageRequest{})
	require.NoError(t, err)
	assert.Empty(t, p.Items, "channels are separate")
	_, err = h.svc.PublicList(ctx, "1", conversation.TypeMessage, conversation.Filter{}, parley.PageRequest{})
	assert.ErrorIs(t, err, parley.ErrInvalid)

	msgs, err := h.svc.PublicMessages(ctx, "1", q.ID, parley.PageRequest{})
	require.NoError(t, err)
	assert.Len(t, msgs.Items, 1)
	_, err = h.svc.PublicMessages(ctx, "1", m.ID, parley.PageRequest{})
	assert.ErrorIs(t, err, parley.ErrNotFound, "private messages are not public")
}

func TestService_Notifications(t *testing.T) {
	t.Run("Direct", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		h.mustPost(t, shop1, c.ID, "a")
		h.mustPost(t, alice, c.ID, "thanks")
		h.mustStart(t, shop1, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545383", Content: "out of stock"})
		ns := h.notes.Notifications()
		require.Len(t, ns, 4)
		want := []struct {
			kind notify.Kind
			to   notify.Party
		}{
			{notify.KindConversationStarted, notify.Party{Kind: message.SenderDataSource, ID: "1"}},
			{notify.KindMessagePosted, notify.Party{Kind: message.SenderUser, ID: "545382"}},
			{notify.KindMessagePosted, notify.Party{Kind: message.SenderDataSource, ID: "1"}},
			{notify.KindConversationStarted, notify.Party{Kind: message.SenderUser, ID: "545383"}},
		}
		for i, n := range ns {
			assert.Equal(t, want[i].kind, n.Events[0].Kind)
			assert.Equal(t, want[i].to, n.Recipient)
			assert.Equal(t, n.Events[0].ID, n.Key)
			assert.Equal(t, n.Conversation.ID, n.Events[0].ConversationID)
			assert.Equal(t, n.Messages[0].ID, n.Events[0].MessageID)
		}
	})
	t.Run("FailingNotifier", func(t *testing.T) {
		h := newHarness(t)
		h.notes.Err = errors.New("smtp down")
		res, err := h.svc.Start(ctx, alice, question("1", conversation.Item{}, "q"))
		require.NoError(t, err, "a failing notifier never fails the write")
		require.Len(t, h.notifyEr, 1)
		assert.ErrorContains(t, h.notifyEr[0], "smtp down")
		_, err = h.svc.Get(ctx, alice, res.Conversation.ID)
		assert.NoError(t, err, "the write stands")
	})
	t.Run("Outbox", func(t *testing.T) {
		h := newHarness(t, outbox, func(o *parley.Options) { o.DigestWindow = time.Minute })
		res := h.mustStart(t, alice, question("1", conversation.Item{}, "q"))
		h.mustPost(t, shop1, res.Conversation.ID, "a")
		assert.Empty(t, h.notes.Notifications(), "the worker delivers, not the Service")
		evs, err := h.store.ClaimEvents(ctx, notify.ClaimParams{Worker: "w", Now: time.Now().Add(24 * time.Hour), Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, res.Conversation.ID, evs[0].ConversationID)
		assert.Equal(t, res.Message.ID, evs[0].MessageID)
		assert.Equal(t, evs[0].CreatedAt.Add(time.Minute), evs[0].DueAt, "digest window delays delivery")
		assert.NotEqual(t, evs[0].DigestKey, evs[1].DigestKey, "different recipients")
	})
	t.Run("OutboxNothingOnError", func(t *testing.T) {
		h := newHarness(t, outbox)
		res := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "r"})
		_, err := h.svc.Post(ctx, shop1, parley.PostRequest{ConversationID: res.Conversation.ID, Content: "no"})
		require.ErrorIs(t, err, parley.ErrReviewReply)
		_, err = h.svc.Start(ctx, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Content: "r"})
		require.ErrorIs(t, err, parley.ErrConversationExists)
		evs, err := h.store.ClaimEvents(ctx, notify.ClaimParams{Worker: "w", Now: time.Now().Add(time.Hour), Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		assert.Len(t, evs, 1, "only the committed start has an event")
	})
}

func TestService_Wait(t *testing.T) {
	h := newHarness(t)
	c := h.mustStart(t, alice, question("1", conversation.Item{}, "q"))
	t.Run("Immediate", func(t *testing.T) {
		msgs, err := h.svc.Wait(ctx, shop1, c.Conversation.ID, 0, 0)
		require.NoError(t, err)
		assert.Len(t, msgs, 1)
	})
	t.Run("WakesOnPost", func(t *testing.T) {
		const waiters = 20
		var wg sync.WaitGroup
		got := make(chan []message.Message, waiters)
		for range waiters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				defer cancel()
				msgs, err := h.svc.Wait(wctx, alice, c.Conversation.ID, c.Message.ID, 0)
				assert.NoError(t, err)
				got <- msgs
			}()
		}
		posted := h.mustPost(t, shop1, c.Conversation.ID, "answer")
		wg.Wait()
		close(got)
		for msgs := range got {
			require.Len(t, msgs, 1)
			assert.Equal(t, posted.Message.ID, msgs[0].ID)
		}
	})
	t.Run("ContextEnds", func(t *testing.T) {
		msgs, err := h.svc.Poll(ctx, alice, c.Conversation.ID, 0, 0)
		require.NoError(t, err)
		last := msgs[len(msgs)-1].ID
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		msgs, err = h.svc.Wait(wctx, alice, c.Conversation.ID, last, 0)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Empty(t, msgs)
	})
	t.Run("ErrPermission", func(t *testing.T) {
		_, err := h.svc.Wait(ctx, bob, c.Conversation.ID, 0, 0)
		assert.ErrorIs(t, err, parley.ErrPermission)
	})
	t.Run("NegativeAfter", func(t *testing.T) {
		// Poll, Wait and WaitFor share one validation: a negative id is
		// a validation error of the message field, never a lookup.
		calls := map[string]func() error{
			"Poll": func() error { _, err := h.svc.Poll(ctx, alice, c.Conversation.ID, -1, 0); return err },
			"Wait": func() error { _, err := h.svc.Wait(ctx, alice, c.Conversation.ID, -1, 0); return err },
			"WaitFor": func() error {
				_, err := h.svc.WaitFor(ctx, alice, c.Conversation.ID, -1, 0, time.Second)
				return err
			},
			"WaitFor no wait": func() error { _, err := h.svc.WaitFor(ctx, alice, c.Conversation.ID, -1, 0, 0); return err },
		}
		for name, call := range calls {
			err := call()
			var ve *parley.ValidationError
			require.ErrorAs(t, err, &ve, name)
			assert.Equal(t, parley.FieldMessage, ve.Field, name)
			assert.NotErrorIs(t, err, parley.ErrNotFound, name)
		}
	})
	// Waiting works from any id: one of another conversation answers at
	// once with what follows it, one past every message waits for the
	// next message.
	t.Run("FromAnyID", func(t *testing.T) {
		other := h.mustStart(t, bob, question("1", conversation.Item{}, "other"))
		posted := h.mustPost(t, shop1, c.Conversation.ID, "after the other start")
		msgs, err := h.svc.WaitFor(ctx, alice, c.Conversation.ID, other.Message.ID, 0, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, []message.Message{posted.Message}, msgs)

		past := posted.Message.ID + 20
		got := make(chan []message.Message, 1)
		go func() {
			msgs, err := h.svc.Wait(ctx, alice, c.Conversation.ID, past, 0)
			assert.NoError(t, err)
			got <- msgs
		}()
		// Whether the waiter reads before or after these posts, its
		// answer is the first message with an id above past.
		h.mustPost(t, shop1, c.Conversation.ID, "not yet") // its id is below past
		var next parley.Result
		for i := 0; ; i++ {
			if next = h.mustPost(t, shop1, c.Conversation.ID, fmt.Sprint("reply ", i)); next.Message.ID > past {
				break
			}
		}
		assert.Equal(t, []message.Message{next.Message}, <-got, "the first message with a greater id")

		msgs, err = h.svc.WaitFor(ctx, alice, c.Conversation.ID, next.Message.ID+1000, 0, time.Millisecond)
		require.NoError(t, err)
		assert.NotNil(t, msgs)
		assert.Empty(t, msgs, "past every message, at the end of the wait: an empty list, no error")
	})
}

// TestService_GetByCode: a conversation is found by its code with the
// rules of Get, however old it is and however many conversations the
// caller has.
func TestService_GetByCode(t *testing.T) {
	h := newHarness(t)
	c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
	for i := range 30 { // newer conversations of the same user and seller
		h.mustStart(t, alice, question("1", conversation.Product(fmt.Sprint(i)), "more"))
	}
	h.mustPost(t, shop1, c.ID, "answer")
	want, err := h.svc.Get(ctx, alice, c.ID)
	require.NoError(t, err)
	for _, a := range []parley.Actor{alice, shop1, channel} {
		got, err := h.svc.GetByCode(ctx, a, c.Code)
		require.NoError(t, err, a.String())
		assert.Equal(t, want, got, a.String())
	}
	t.Run("ErrPermission", func(t *testing.T) {
		for _, a := range []parley.Actor{bob, shop2, guest} {
			got, err := h.svc.GetByCode(ctx, a, c.Code)
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
			assert.Zero(t, got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := h.svc.GetByCode(ctx, parley.User("2", "545382"), c.Code)
		assert.ErrorIs(t, err, parley.ErrNotFound, "another channel")
		_, err = h.svc.GetByCode(ctx, parley.Integration("2"), c.Code)
		assert.ErrorIs(t, err, parley.ErrNotFound, "another channel's integration")
		_, err = h.svc.GetByCode(ctx, alice, uuid.Must(uuid.NewV7()))
		assert.ErrorIs(t, err, parley.ErrNotFound, "no such code")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := h.svc.GetByCode(ctx, alice, uuid.Nil)
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.GetByCode(ctx, parley.Actor{}, c.Code)
		assert.ErrorIs(t, err, parley.ErrPermission, "an invalid actor")
	})
}

func TestService_ConcurrentPosts(t *testing.T) {
	h := newHarness(t)
	c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := alice
			if w%2 == 1 {
				a = shop1
			}
			for i := range each {
				_, err := h.svc.Post(ctx, a, parley.PostRequest{ConversationID: c.ID, Content: fmt.Sprint(w, "-", i)})
				assert.NoError(t, err)
			}
		}()
	}
	// A poller that follows along must see every message once, in order.
	seen := []int64{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var after int64
		for len(seen) < writers*each+1 {
			msgs, err := h.svc.Poll(ctx, shop1, c.ID, after, 100)
			if !assert.NoError(t, err) {
				return
			}
			for _, m := range msgs {
				seen = append(seen, m.Seq)
				after = m.ID
			}
		}
	}()
	wg.Wait()
	<-done
	for i, seq := range seen {
		assert.EqualValues(t, i+1, seq)
	}
	got, err := h.svc.Get(ctx, alice, c.ID)
	require.NoError(t, err)
	assert.EqualValues(t, writers*each+1, got.MessageCount)
	// Each side's unread count is the other side's messages after its read
	// position, however the writers interleaved.
	all, err := h.svc.Poll(ctx, alice, c.ID, 0, 100)
	require.NoError(t, err)
	for len(all) < writers*each+1 {
		more, err := h.svc.Poll(ctx, alice, c.ID, all[len(all)-1].ID, 100)
		require.NoError(t, err)
		all = append(all, more...)
	}
	for _, side := range []conversation.Side{conversation.SideUser, conversation.SideSeller} {
		var want int64
		for _, m := range all {
			if conversation.Side(m.Sender.Kind) != side && m.Seq > got.Read(side).ReadSeq {
				want++
			}
		}
		assert.Equal(t, want, got.Read(side).Unread, side)
	}
}

func TestService_ActorLimits(t *testing.T) {
	t.Run("Larger", func(t *testing.T) {
		// Actor ids are checked against the Service's limits: a user id
		// the Service accepts in a start is one that user can act with.
		h := newHarness(t, func(o *parley.Options) { o.Limits.MaxIDBytes = 128 })
		long := strings.Repeat("u", 100)
		res, err := h.svc.Start(ctx, shop1, parley.StartRequest{Type: conversation.TypeMessage, UserID: long, Content: "Your order shipped."})
		require.NoError(t, err)
		user := parley.User("1", long)
		_, err = h.svc.Get(ctx, user, res.Conversation.ID)
		require.NoError(t, err)
		page, err := h.svc.List(ctx, user, conversation.Filter{}, parley.PageRequest{})
		require.NoError(t, err)
		assert.Len(t, page.Items, 1)
		h.mustPost(t, user, res.Conversation.ID, "Thanks!")
		_, err = h.svc.MarkRead(ctx, user, res.Conversation.ID, res.Message.ID)
		require.NoError(t, err)
		_, err = h.svc.Unread(ctx, user)
		require.NoError(t, err)
	})
	t.Run("Smaller", func(t *testing.T) {
		h := newHarness(t, func(o *parley.Options) { o.Limits.MaxIDBytes = 8 })
		_, err := h.svc.Start(ctx, parley.User("1", "123456789"), question("1", conversation.Item{}, "q"))
		var ve *parley.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, parley.FieldSender, ve.Field)
		_, err = h.svc.List(ctx, parley.User("1", "123456789"), conversation.Filter{}, parley.PageRequest{})
		assert.ErrorIs(t, err, parley.ErrInvalid)
		_, err = h.svc.List(ctx, parley.User("1", "12345678"), conversation.Filter{}, parley.PageRequest{})
		assert.NoError(t, err)
	})
}

func TestService_DataSourceSender(t *testing.T) {
	// An integration acting for a data source may pass a user type; the
	// message of a data source never carries one.
	h := newHarness(t)
	c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
	asShop, err := channel.OnBehalfOf(message.Sender{Kind: message.SenderDataSource, ID: "1", UserType: message.UserGuest})
	require.NoError(t, err)
	s, _ := asShop.Sender()
	assert.Equal(t, message.DataSource("1"), s)
	res, err := h.svc.Post(ctx, asShop, parley.PostRequest{ConversationID: c.ID, Content: "In stock."})
	require.NoError(t, err)
	assert.Equal(t, message.DataSource("1"), res.Message.Sender)
	msgs, err := h.svc.Poll(ctx, alice, c.ID, c.LastMessageID, 0)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, message.DataSource("1"), msgs[0].Sender)
	res, err = h.svc.Start(ctx, asShop, parley.StartRequest{Type: conversation.TypeMessage, UserID: "545383", Content: "Hello"})
	require.NoError(t, err)
	assert.Equal(t, message.DataSource("1"), res.Message.Sender)
}

func TestActor_OnBehalfOf(t *testing.T) {
	_, err := alice.OnBehalfOf(message.User("545382", message.UserRegistered))
	assert.NoError(t, err, "a user may name themselves")
	_, err = alice.OnBehalfOf(message.User("545383", message.UserRegistered))
	assert.ErrorIs(t, err, parley.ErrPermission)
	_, err = alice.OnBehalfOf(message.DataSource("1"))
	assert.ErrorIs(t, err, parley.ErrPermission)
	_, err = shop1.OnBehalfOf(message.DataSource("2"))
	assert.ErrorIs(t, err, parley.ErrPermission)
	_, err = shop1.OnBehalfOf(message.User("545382", message.UserRegistered))
	assert.ErrorIs(t, err, parley.ErrPermission)
	_, err = channel.OnBehalfOf(message.Sender{Kind: "robot", ID: "1"})
	assert.ErrorIs(t, err, parley.ErrInvalid)
	a, err := channel.OnBehalfOf(message.User("9", ""))
	require.NoError(t, err)
	s, ok := a.Sender()
	assert.True(t, ok)
	assert.Equal(t, message.User("9", message.UserRegistered), s)
	assert.Equal(t, parley.ActorIntegration, a.Kind())
	assert.Equal(t, "1", a.Channel())
	_, ok = channel.Sender()
	assert.False(t, ok)
	assert.Equal(t, "integration of channel 1", channel.String())
	assert.Equal(t, "seller datasource:1 in channel 1", shop1.String())
}

func TestOptions_Validate(t *testing.T) {
	assert.NoError(t, parley.DefaultOptions().Validate())
	t.Run("Invalid", func(t *testing.T) {
		for name, tc := range map[string]struct {
			edit func(*parley.Options)
			says string
		}{
			"DigestNoOutbox":     {func(o *parley.Options) { o.DigestWindow = time.Second }, "DigestWindow needs Outbox"},
			"NegativeDigest":     {func(o *parley.Options) { o.DigestWindow = -1; o.Outbox = true }, "DigestWindow is negative"},
			"NegativeLimit":      {func(o *parley.Options) { o.Limits.MaxContentRunes = -1 }, "Limits.MaxContentRunes is negative"},
			"DefaultOverMax":     {func(o *parley.Options) { o.Limits.DefaultPageSize = 500 }, "Limits.DefaultPageSize exceeds MaxPageSize"},
			"OutboxWithNotifier": {func(o *parley.Options) { o.Outbox, o.Notifier = true, &notify.Recorder{} }, "Notifier is never called with Outbox"},
			"OutboxWithNotifyError": {func(o *parley.Options) {
				o.Outbox, o.OnNotifyError = true, func(context.Context, notify.Notification, error) {}
			}, "OnNotifyError is never called with Outbox"},
		} {
			t.Run(name, func(t *testing.T) {
				o := parley.DefaultOptions()
				tc.edit(&o)
				err := o.Validate()
				assert.ErrorContains(t, err, "parley: invalid options: ")
				assert.ErrorContains(t, err, tc.says)
				_, err = parley.New(memory.New(), o)
				assert.ErrorContains(t, err, tc.says)
			})
		}
	})
	t.Run("ZeroFilled", func(t *testing.T) {
		// The zero Options, and options whose fields are partly zero,
		// take the defaults, as the stores' options do.
		for name, o := range map[string]parley.Options{
			"Zero":        {},
			"NilNow":      {Now: nil, Limits: parley.Limits{MaxContentRunes: 5}},
			"OnlyOutbox":  {Outbox: true},
			"PartLimits":  {Limits: parley.Limits{MaxPageSize: 30}},
			"NilNotifier": {Notifier: nil, Logger: nil},
		} {
			t.Run(name, func(t *testing.T) {
				st := memory.New()
				defer st.Close()
				svc, err := parley.New(st, o)
				require.NoError(t, err)
				res, err := svc.Start(ctx, alice, question("1", conversation.Item{}, "hello"))
				require.NoError(t, err)
				assert.False(t, res.Conversation.CreatedAt.IsZero(), "a clock")
				assert.NotZero(t, res.Conversation.Code, "a code source")
				p, err := svc.List(ctx, alice, conversation.Filter{}, parley.PageRequest{Limit: 1000})
				require.NoError(t, err)
				assert.Len(t, p.Items, 1, "a page size cap")
			})
		}
		st := memory.New()
		defer st.Close()
		svc, err := parley.New(st, parley.Options{Limits: parley.Limits{MaxContentRunes: 5}})
		require.NoError(t, err)
		_, err = svc.Start(ctx, alice, question("1", conversation.Item{}, "too long"))
		assert.ErrorIs(t, err, parley.ErrInvalid, "a limit that is set is kept")
	})
	_, err := parley.New(nil, parley.DefaultOptions())
	assert.Error(t, err)
}

func TestService_CodeSourceFails(t *testing.T) {
	h := newHarness(t, func(o *parley.Options) {
		o.NewCode = func() (uuidT, error) { return uuidT{}, errors.New("entropy exhausted") }
	})
	_, err := h.svc.Start(ctx, alice, question("1", conversation.Item{}, "q"))
	assert.ErrorContains(t, err, "entropy exhausted")
	assert.EqualValues(t, 0, h.count(t))
}

type uuidT = uuid.UUID

func TestService_ActivityOrder(t *testing.T) {
	// A poster reads the clock and is paused before its write; meanwhile
	// another poster writes into the same conversation with a later time,
	// and a third into another conversation. The paused message, written
	// last, must not be dated before the messages written before it, and
	// its conversation must lead the inbox.
	clk := &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}
	var pauseNext atomic.Bool
	paused, resume := make(chan struct{}), make(chan struct{})
	h := newHarness(t, func(o *parley.Options) {
		o.Now = func() time.Time {
			now := clk.Now()
			if pauseNext.CompareAndSwap(true, false) {
				close(paused)
				<-resume
			}
			return now
		}
	})
	c1 := h.mustStart(t, alice, question("1", conversation.Item{}, "q1")).Conversation
	c2 := h.mustStart(t, bob, question("1", conversation.Item{}, "q2")).Conversation

	pauseNext.Store(true)
	done := make(chan parley.Result)
	go func() {
		res, err := h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: c1.ID, Content: "read the clock first, written last"})
		assert.NoError(t, err)
		done <- res
	}()
	<-paused
	other := h.mustPost(t, shop1, c2.ID, "written second")
	same := h.mustPost(t, shop1, c1.ID, "written third")
	close(resume)
	last := <-done

	assert.Equal(t, same.Message.Seq+1, last.Message.Seq)
	assert.False(t, last.Message.CreatedAt.Before(same.Message.CreatedAt),
		"the last message is dated %v, before the message before it (%v)", last.Message.CreatedAt, same.Message.CreatedAt)
	msgs, err := h.svc.Poll(ctx, alice, c1.ID, 0, 0)
	require.NoError(t, err)
	for i := 1; i < len(msgs); i++ {
		assert.False(t, msgs[i].CreatedAt.Before(msgs[i-1].CreatedAt), "message %d dated before message %d", msgs[i].Seq, msgs[i-1].Seq)
	}
	got, err := h.svc.Get(ctx, alice, c1.ID)
	require.NoError(t, err)
	assert.Equal(t, msgs[len(msgs)-1].CreatedAt, got.LastMessageAt)
	assert.False(t, got.ModifiedAt.Before(same.Conversation.ModifiedAt), "ModifiedAt moved backwards")

	inbox, err := h.svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{})
	require.NoError(t, err)
	require.Len(t, inbox.Items, 2)
	assert.Equal(t, []int64{c1.ID, c2.ID}, []int64{inbox.Items[0].ID, inbox.Items[1].ID},
		"the conversation that received the last message leads the inbox (%v, after %v)", last.Message.CreatedAt, other.Message.CreatedAt)
}

func TestService_RetryAfterRuleChanged(t *testing.T) {
	// A keyed retry returns the first result, whatever rule changed since
	// the first attempt was written.
	t.Run("PostAfterClose", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		p := parley.PostRequest{ConversationID: c.ID, Content: "x", IdempotencyKey: "k"}
		first, err := h.svc.Post(ctx, alice, p)
		require.NoError(t, err)
		_, err = h.svc.SetStatus(ctx, shop1, c.ID, conversation.StatusClosed)
		require.NoError(t, err)
		again, err := h.svc.Post(ctx, alice, p)
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, first.Message, again.Message)
		assert.Equal(t, conversation.StatusClosed, again.Conversation.Status, "the conversation as it is now")
		_, err = h.svc.Post(ctx, alice, parley.PostRequest{ConversationID: c.ID, Content: "x", IdempotencyKey: "k2"})
		assert.ErrorIs(t, err, parley.ErrConversationClosed, "a new key meets the rule")
		p.Content = "y"
		_, err = h.svc.Post(ctx, alice, p)
		assert.ErrorIs(t, err, parley.ErrIdempotencyMismatch, "another request with the key")
	})
	t.Run("StartAfterWorldChanged", func(t *testing.T) {
		w := testWorld()
		h := newHarness(t, func(o *parley.Options) { o.World = w })
		r := question("1", conversation.Product("1"), "Is it in stock?")
		r.IdempotencyKey = "k"
		first := h.mustStart(t, alice, r)
		w.ItemMap = nil // the product is withdrawn (only safe here: no request runs)
		again, err := h.svc.Start(ctx, alice, r)
		require.NoError(t, err)
		assert.True(t, again.Replayed)
		assert.Equal(t, first.Message, again.Message)
		assert.Equal(t, first.Conversation.ID, again.Conversation.ID)
		r.IdempotencyKey = "k2"
		_, err = h.svc.Start(ctx, alice, r)
		assert.ErrorIs(t, err, parley.ErrUnknown, "a new key meets the rule")
		assert.Len(t, h.notes.Notifications(), 1)
	})
}

func TestService_SetStatus(t *testing.T) {
	t.Run("ErrReviewStatus", func(t *testing.T) {
		// Only the reviewer closes or reopens a review.
		h := newHarness(t)
		c := h.mustStart(t, alice, parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1", Item: conversation.Product("1"), Content: "Broke after a week."}).Conversation
		asShop, err := channel.OnBehalfOf(message.DataSource("1"))
		require.NoError(t, err)
		for _, a := range []parley.Actor{shop1, asShop} {
			_, err := h.svc.SetStatus(ctx, a, c.ID, conversation.StatusClosed)
			assert.ErrorIs(t, err, parley.ErrReviewStatus, a.String())
			assert.ErrorIs(t, err, parley.ErrPermission, a.String())
		}
		got, err := h.svc.Get(ctx, alice, c.ID)
		require.NoError(t, err)
		assert.Equal(t, c, got, "nothing changed")

		closed, err := h.svc.SetStatus(ctx, alice, c.ID, conversation.StatusClosed)
		require.NoError(t, err)
		assert.Equal(t, conversation.StatusClosed, closed.Status)
		_, err = h.svc.SetStatus(ctx, shop1, c.ID, conversation.StatusOpen)
		assert.ErrorIs(t, err, parley.ErrReviewStatus, "nor reopen it")
		reopened, err := h.svc.SetStatus(ctx, alice, c.ID, conversation.StatusOpen)
		require.NoError(t, err)
		assert.Equal(t, conversation.StatusOpen, reopened.Status)

		// Other types: either side.
		q := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		_, err = h.svc.SetStatus(ctx, shop1, q.ID, conversation.StatusClosed)
		require.NoError(t, err)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		h := newHarness(t)
		c := h.mustStart(t, alice, question("1", conversation.Item{}, "q")).Conversation
		_, err := h.svc.SetStatus(ctx, alice, c.ID+100, conversation.StatusClosed)
		assert.ErrorIs(t, err, parley.ErrNotFound)
		_, err = h.svc.SetStatus(ctx, parley.User("2", "545382"), c.ID, conversation.StatusClosed)
		assert.ErrorIs(t, err, parley.ErrNotFound, "another channel's conversation")
		_, err = h.svc.SetStatus(ctx, alice, 0, conversation.StatusClosed)
		assert.ErrorIs(t, err, parley.ErrInvalid)
	})
}

// readCounter is a store that counts its conversation reads.
type readCounter struct {
	store.Store
	gets atomic.Int64
}

func (r *readCounter) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	r.gets.Add(1)
	return r.Store.GetConversation(ctx, id)
}

func TestService_WritesReadNothingFirst(t *testing.T) {
	// Post, SetStatus and MarkRead decide their rules inside the store's
	// write: none reads the conversation before it.
	st := &readCounter{Store: memory.New()}
	defer st.Close()
	opts := parley.DefaultOptions()
	opts.Logger = slog.New(slog.DiscardHandler)
	svc, err := parley.New(st, opts)
	require.NoError(t, err)
	res, err := svc.Start(ctx, alice, question("1", conversation.Item{}, "q"))
	require.NoError(t, err)
	id := res.Conversation.ID
	_, err = svc.Post(ctx, shop1, parley.PostRequest{ConversationID: id, Content: "a"})
	require.NoError(t, err)
	_, err = svc.MarkRead(ctx, alice, id, res.Message.ID)
	require.NoError(t, err)
	_, err = svc.SetStatus(ctx, alice, id, conversation.StatusClosed)
	require.NoError(t, err)
	_, err = svc.Post(ctx, shop1, parley.PostRequest{ConversationID: id, Content: "b"})
	require.ErrorIs(t, err, parley.ErrConversationClosed)
	_, err = svc.Post(ctx, bob, parley.PostRequest{ConversationID: id, Content: "c"})
	require.ErrorIs(t, err, parley.ErrPermission)
	assert.Zero(t, st.gets.Load(), "conversation reads before writes")
}
