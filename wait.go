package parley

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
)

// Poll returns up to limit messages of a conversation with an id greater
// than afterMessageID, oldest first (seed 002's get-new-messages). Any id
// works: 0 for the first message, the last id a client has seen, even in
// another conversation, or a number past every message (no messages, no
// error). Ids and order are assigned inside the store's write, so a client
// that polls with the last id it has never misses a message.
func (s *Service) Poll(ctx context.Context, a Actor, conversationID, afterMessageID int64, limit int) ([]message.Message, error) {
	c, n, err := s.pollArgs(ctx, a, conversationID, afterMessageID, limit)
	if err != nil {
		return nil, err
	}
	msgs, err := s.after(ctx, c.ID, afterMessageID, n)
	return s.shown(a, c, msgs), err
}

// pollArgs validates the arguments of Poll and Wait, in this order: the
// actor, afterMessageID (negative is a *ValidationError of FieldMessage),
// the limit, and the conversation, which the actor must be allowed to
// read. It returns the conversation and the page size.
func (s *Service) pollArgs(ctx context.Context, a Actor, conversationID, afterMessageID int64, limit int) (conversation.Conversation, int, error) {
	var none conversation.Conversation
	if err := s.checkActor(a); err != nil {
		return none, 0, err
	}
	if afterMessageID < 0 {
		return none, 0, &ValidationError{Field: FieldMessage, Reason: "must not be negative"}
	}
	n, err := s.limit(PageRequest{Limit: limit})
	if err != nil {
		return none, 0, err
	}
	c, err := s.conversation(ctx, a, conversationID)
	if err != nil {
		return none, 0, err
	}
	return c, n, nil
}

func (s *Service) after(ctx context.Context, id, afterMessageID int64, limit int) ([]message.Message, error) {
	msgs, err := s.store.MessagesAfter(ctx, message.After{ConversationID: id, ID: afterMessageID, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("parley: messages after %d: %w", afterMessageID, err)
	}
	return msgs, nil
}

// Wait is Poll that waits: it returns as soon as the conversation has
// messages after afterMessageID, or when ctx ends, with ctx's error and no
// messages. Waiting costs no store query while nothing is posted: waiters
// are woken by this Service's own posts and, while the program runs
// Listen on a store with a message feed (PostgreSQL, SQLite), by the posts
// of every process sharing the store. Without a feed, a message written by
// another process does not wake a waiter (WaitFor reads once more before
// answering empty).
func (s *Service) Wait(ctx context.Context, a Actor, conversationID, afterMessageID int64, limit int) ([]message.Message, error) {
	c, n, err := s.pollArgs(ctx, a, conversationID, afterMessageID, limit)
	if err != nil {
		return nil, err
	}
	msgs, err := s.wait(ctx, c.ID, afterMessageID, n)
	return s.shown(a, c, msgs), err
}

// wait reads the messages of conversation id after afterMessageID until
// there are some, sleeping between posts.
func (s *Service) wait(ctx context.Context, id, afterMessageID int64, limit int) ([]message.Message, error) {
	for {
		// Subscribe before reading, so that a post between the read and
		// the wait is not lost.
		woken, cancel := s.waiters.subscribe(id)
		msgs, err := s.after(ctx, id, afterMessageID, limit)
		if err != nil || len(msgs) > 0 {
			cancel()
			return msgs, err
		}
		select {
		case <-woken:
			cancel()
		case <-ctx.Done():
			cancel()
			return nil, ctx.Err()
		}
	}
}

// hub wakes the waiters of a conversation when it gets a message.
type hub struct {
	mu    sync.Mutex
	conns map[int64]*waitSet
}

// waitSet is the waiters of one conversation: ch is closed to wake them.
type waitSet struct {
	ch chan struct{}
	n  int
}

func newHub() *hub { return &hub{conns: make(map[int64]*waitSet)} }

// subscribe returns a channel closed at the next publish for id, and a
// function to call when done waiting.
func (h *hub) subscribe(id int64) (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.conns[id]
	if w == nil {
		w = &waitSet{ch: make(chan struct{})}
		h.conns[id] = w
	}
	w.n++
	ch := w.ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			// After a publish, w is no longer in the map; only the current
			// set counts its waiters.
			if cur := h.conns[id]; cur == w {
				if w.n--; w.n == 0 {
					delete(h.conns, id)
				}
			}
		})
	}
}

// publish wakes every waiter of id.
func (h *hub) publish(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.conns[id]; w != nil {
		close(w.ch)
		delete(h.conns, id)
	}
}

// waiting returns how many waiters wait on id (for tests).
func (h *hub) waiting(id int64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if w := h.conns[id]; w != nil {
		return w.n
	}
	return 0
}

// WaitFor is Poll when wait is zero and Wait otherwise, waiting at most
// wait: when it passes with nothing new, WaitFor reads once more, so that
// a message another process wrote without waking this one (a store
// without a message feed, or no Listen) is returned at the end of the
// wait at the latest, and otherwise returns no messages and no error,
// which is what a long-polling HTTP endpoint answers. The caller's own
// cancellation is still returned as an error.
func (s *Service) WaitFor(ctx context.Context, a Actor, conversationID, afterMessageID int64, limit int, wait time.Duration) ([]message.Message, error) {
	if wait <= 0 {
		return s.Poll(ctx, a, conversationID, afterMessageID, limit)
	}
	c, n, err := s.pollArgs(ctx, a, conversationID, afterMessageID, limit)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msgs, err := s.wait(wctx, c.ID, afterMessageID, n)
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return s.shown(a, c, msgs), err
	}
	if msgs, err = s.after(ctx, c.ID, afterMessageID, n); err != nil {
		return nil, err
	}
	if msgs == nil {
		msgs = []message.Message{}
	}
	return s.shown(a, c, msgs), nil
}
