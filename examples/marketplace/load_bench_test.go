package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/sqlite"
)

// The load benchmark's world: seller 1 reads its inbox of inboxConvs
// conversations (3 messages each), seller 2 posts into postConvs
// conversations of its own, so that the posts do not change the inbox.
const (
	loadInboxSeller = "1"
	loadPostSeller  = "2"
	loadPageSize    = 20
	loadSetSize     = 10 // conversationsv1.DefaultMessageSetSize
)

// loadEnv is the example's kit handler and a hand-written twin, each on
// its own loopback server, over one SQLite store and Service.
type loadEnv struct {
	kit, twin *httptest.Server
	postIDs   []int64
	next      atomic.Int64 // the next post's conversation, round robin
	client    *http.Client
}

func newLoadEnv(b *testing.B) *loadEnv {
	b.Helper()
	ctx := context.Background()
	inboxConvs, postConvs := 2000, 1024
	if testing.Short() {
		inboxConvs, postConvs = 100, 64
	}
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "load.db"), sqlite.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	logger := slog.New(slog.DiscardHandler)
	// The demo world (shops 1 and 2, product 1) and the benchmark's users.
	wd := world()
	for i := range inboxConvs + postConvs {
		id := strconv.Itoa(100000 + i)
		wd.UserMap[id] = parley.UserInfo{ID: id}
	}
	opts := parley.DefaultOptions()
	opts.Logger = logger
	opts.World = wd
	svc, err := parley.New(st, opts)
	if err != nil {
		b.Fatal(err)
	}
	e := &loadEnv{postIDs: make([]int64, postConvs)}
	// Seed from 16 goroutines: the store commits their writes together.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < inboxConvs+postConvs; i += 16 {
				ds, replies := loadInboxSeller, []string{"Yes, it ships today.", "Thanks!"}
				if i >= inboxConvs {
					ds, replies = loadPostSeller, nil
				}
				user := parley.User(channel, strconv.Itoa(100000+i))
				res, err := svc.Start(ctx, user, parley.StartRequest{
					Type: conversation.TypeQuestion, DataSourceID: ds, Item: conversation.Product("1"),
					Content: "Does the Q800T ship today?",
				})
				if err != nil {
					errs <- err
					return
				}
				for j, text := range replies {
					a := parley.Seller(channel, ds)
					if j%2 == 1 {
						a = user
					}
					if _, err := svc.Post(ctx, a, parley.PostRequest{ConversationID: res.Conversation.ID, Content: text}); err != nil {
						errs <- err
						return
					}
				}
				if i >= inboxConvs {
					e.postIDs[i-inboxConvs] = res.Conversation.ID
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	kit, err := api(svc, logger)
	if err != nil {
		b.Fatal(err)
	}
	e.kit = httptest.NewServer(kit)
	e.twin = httptest.NewServer(&twinHandler{st: st, now: opts.Now})
	b.Cleanup(e.kit.Close)
	b.Cleanup(e.twin.Close)
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(e.client.CloseIdleConnections)
	return e
}

// request returns a request of op to the kit (kit true) or to the twin:
// the same page, or a post into the next conversation.
func (e *loadEnv) request(op string, kit bool) (*http.Request, error) {
	method, url, seller := http.MethodGet, e.twin.URL+fmt.Sprintf("/inbox?limit=%d", loadPageSize), loadInboxSeller
	if kit {
		url = e.kit.URL + fmt.Sprintf("/api/v1/remote/%s/conversations/?page_size=%d", channel, loadPageSize)
	}
	var body io.Reader
	if op == "post" {
		id := e.postIDs[e.next.Add(1)%int64(len(e.postIDs))]
		body = strings.NewReader(fmt.Sprintf(`{"conversation": %d, "message_content": "It ships before 5pm."}`, id))
		method, url, seller = http.MethodPost, e.twin.URL+"/messages", loadPostSeller
		if kit {
			url = e.kit.URL + fmt.Sprintf("/api/v1/remote/%s/messages/", channel)
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Token demo-seller-"+seller)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// run sends n requests of op from clients goroutines and returns the
// elapsed time and each request's latency.
func (e *loadEnv) run(b *testing.B, op string, kit bool, clients, n int) (time.Duration, []time.Duration) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				req, err := e.request(op, kit)
				if err != nil {
					failed.Store(err)
					return
				}
				t0 := time.Now()
				res, err := e.client.Do(req)
				if err != nil {
					failed.Store(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				_ = res.Body.Close()
				lat[i] = time.Since(t0)
				if res.StatusCode != http.StatusOK {
					failed.Store(fmt.Errorf("%s (kit %v): status %d", op, kit, res.StatusCode))
					return
				}
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	return time.Since(start), lat
}

// BenchmarkHTTPLoad serves an inbox page of 20 conversations (with their
// message sets) and a seller's post through the example's kit handler
// (seed 000's dialect, beside the others) and through a minimal
// hand-written net/http handler, on the same SQLite store and data, over
// loopback HTTP with keep-alive, from 1 and 16 concurrent clients. Each
// iteration is a round in which both serve the same number of requests,
// one after the other, the order alternating between rounds; the
// benchmark reports each one's requests per second, their 99th
// percentile latency and the ratio kit/twin of the throughputs.
func BenchmarkHTTPLoad(b *testing.B) {
	e := newLoadEnv(b)
	for _, op := range []string{"inbox", "post"} {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("op=%s/clients=%d", op, clients), func(b *testing.B) {
				n := 10 * clients
				if clients == 1 {
					n = 40
				}
				// Warm both: connections, prepared statements, caches.
				e.run(b, op, true, clients, clients)
				e.run(b, op, false, clients, clients)
				var elapsed [2]time.Duration
				var lats [2][]time.Duration
				round := 0
				for b.Loop() {
					for k := range 2 {
						kit := (k+round)%2 == 0
						d, lat := e.run(b, op, kit, clients, n)
						side := 1
						if kit {
							side = 0
						}
						elapsed[side] += d
						lats[side] = append(lats[side], lat...)
					}
					round++
				}
				rate := func(side int) float64 { return float64(len(lats[side])) / elapsed[side].Seconds() }
				p99 := func(side int) float64 {
					l := slices.Clone(lats[side])
					slices.Sort(l)
					return float64(l[len(l)*99/100].Microseconds())
				}
				b.ReportMetric(rate(0), "kit-req/s")
				b.ReportMetric(rate(1), "twin-req/s")
				b.ReportMetric(rate(0)/rate(1), "kit/twin")
				b.ReportMetric(p99(0), "kit-p99-µs")
				b.ReportMetric(p99(1), "twin-p99-µs")
			})
		}
	}
}

// twinHandler is the hand-written twin: what a program would write
// without the kit, on the same store. Its inbox is one listing with its
// total and one read of the page's message sets; its post is one
// AppendMessage whose Prepare checks the seller's access and the status.
// It authenticates the same tokens, checks its input and answers JSON,
// with none of the kit's seed formats, directory objects or problem
// documents.
type twinHandler struct {
	st  store.Store
	now func() time.Time
}

var (
	errTwinForbidden = errors.New("not the seller's conversation")
	errTwinClosed    = errors.New("conversation closed")
)

type twinMessage struct {
	ID        int64     `json:"id"`
	Sender    string    `json:"sender"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"created_at"`
}

type twinConversation struct {
	ID            int64         `json:"id"`
	User          string        `json:"user"`
	DataSource    string        `json:"datasource"`
	Type          string        `json:"type"`
	Status        string        `json:"status"`
	Item          string        `json:"item"`
	LastMessageAt time.Time     `json:"last_message_at"`
	Unread        int64         `json:"unread"`
	Messages      []twinMessage `json:"messages"`
}

func (h *twinHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ds, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Token demo-seller-")
	if !ok || (ds != loadInboxSeller && ds != loadPostSeller) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/inbox":
		h.inbox(w, r, ds)
	case r.Method == http.MethodPost && r.URL.Path == "/messages":
		h.post(w, r, ds)
	default:
		http.NotFound(w, r)
	}
}

func (h *twinHandler) inbox(w http.ResponseWriter, r *http.Request, ds string) {
	limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || limit < 1 || limit > 100 {
		http.Error(w, "bad limit", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	page, err := h.st.ListConversations(ctx, store.ConversationQuery{
		Channel: channel, Filter: conversation.Filter{DataSourceID: ds}, Limit: limit, WithTotal: true,
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ids := make([]int64, len(page.Items))
	for i, c := range page.Items {
		ids[i] = c.ID
	}
	sets, err := h.st.MessageSets(ctx, store.MessageSetQuery{ConversationIDs: ids, Limit: loadSetSize})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out := struct {
		Count   int64              `json:"count"`
		Results []twinConversation `json:"results"`
	}{Count: page.Total, Results: make([]twinConversation, len(page.Items))}
	for i, c := range page.Items {
		tc := twinConversation{
			ID: c.ID, User: c.UserID, DataSource: c.DataSourceID, Type: string(c.Type), Status: string(c.Status),
			Item: c.Item.ID, LastMessageAt: c.LastMessageAt, Unread: c.SellerRead.Unread,
			Messages: make([]twinMessage, len(sets[i])),
		}
		for j, m := range sets[i] {
			tc.Messages[len(sets[i])-1-j] = twinMessage{ID: m.ID, Sender: m.Sender.ID, Content: m.Content, CreatedAt: m.CreatedAt}
		}
		out.Results[i] = tc
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (h *twinHandler) post(w http.ResponseWriter, r *http.Request, ds string) {
	var req struct {
		Conversation int64  `json:"conversation"`
		Content      string `json:"message_content"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Conversation < 1 || req.Content == "" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	code, err := uuid.NewV7()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	res, err := h.st.AppendMessage(r.Context(), store.AppendParams{
		ConversationID: req.Conversation,
		Message: message.Message{Code: code, Sender: message.DataSource(ds), Content: req.Content,
			CreatedAt: h.now().UTC().Truncate(store.TimePrecision)},
		Prepare: func(c conversation.Conversation) ([]notify.Event, error) {
			if c.Channel != channel || c.DataSourceID != ds {
				return nil, errTwinForbidden
			}
			if c.Status != conversation.StatusOpen {
				return nil, errTwinClosed
			}
			return nil, nil
		},
	})
	switch {
	case errors.Is(err, errTwinForbidden):
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	case errors.Is(err, errTwinClosed):
		http.Error(w, "closed", http.StatusConflict)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	m := res.Message
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(twinMessage{ID: m.ID, Sender: m.Sender.ID, Content: m.Content, CreatedAt: m.CreatedAt})
}
