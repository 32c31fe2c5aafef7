// Package memory is an in-memory parley store, for tests, examples and
// programs that do not need their conversations to outlive the process.
//
// # What it promises
//
//   - No durability: everything is lost when the process exits. Close
//     drops the data.
//   - Process-local: two Stores never share data, so the outbox serves the
//     delivery workers of one process only.
//   - Safe for concurrent use: one mutex serialises every method, so each
//     method is atomic and its callback (Prepare, Check) runs on the
//     current conversation while no other write can interleave. A callback
//     must not call the Store (it would deadlock).
//   - Values are copied in and out: a caller cannot change stored state by
//     mutating what it passed or what it got back.
//   - It implements every rule of store.Store and passes the conformance
//     suite store/storetest; its results are deterministic, which makes it
//     the backend of the package examples.
//
// Listings read ordered indexes (a channel's, each party's inbox, each
// item's, the public listing), like the SQL stores, so that a page costs
// what it passes over, not the store's size; Unread and a party's inbox
// total read the party's totals. The outbox keeps its pending events in
// heaps ordered by due time and by lease, so that a claim does not sort
// them.
package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

var (
	_ store.Store     = (*Store)(nil)
	_ store.ChangeLog = (*Store)(nil)
	_ store.Seeker    = (*Store)(nil)
)

// Store is an in-memory store.Store. Create it with New.
type Store struct {
	mu     sync.Mutex
	closed bool

	lastMsgID int64

	convs    []convRecord // convs[i].conv.ID == i+1: ids are dense
	keys     map[convKey]int64
	codes    map[uuid.UUID]int64
	messages map[int64]msgRef // message id -> its place
	idem     map[idemKey]idemRecord
	events   map[string]*eventRecord
	pending  pendingEvents // the pending subset of events
	totals   map[partyKey]store.PartyTotals
	lists    map[indexKey]*ordered // the listing indexes (see indexFor)

	mod moderationState

	changes    []store.ChangeEntry // by Position
	lastChange int64
	horizon    int64
}

// partyKey names one party's totals.
type partyKey struct {
	channel string
	side    conversation.Side
	id      string
}

// account adds the change from before to after (before nil: a new
// conversation) to the totals of both parties of after.
func (s *Store) account(before *conversation.Conversation, after conversation.Conversation) {
	for _, side := range []conversation.Side{conversation.SideUser, conversation.SideSeller} {
		d := store.Change(before, after, side)
		if d.IsZero() {
			continue
		}
		k := partyKey{after.Channel, side, store.PartyOf(after, side)}
		s.totals[k] = s.totals[k].Add(d)
	}
}

type convRecord struct {
	conv conversation.Conversation
	msgs []message.Message // msgs[i].Seq == i+1
}

type convKey struct {
	channel, userID, dataSourceID string
	typ                           conversation.Type
	item                          conversation.Item
}

func keyOf(c conversation.Conversation) convKey {
	return convKey{c.Channel, c.UserID, c.DataSourceID, c.Type, c.Item}
}

type msgRef struct {
	convID int64
	seq    int64
}

type idemKey struct{ scope, key string }

type idemRecord struct {
	fingerprint string
	convID      int64
	msgID       int64
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		keys:     make(map[convKey]int64),
		codes:    make(map[uuid.UUID]int64),
		messages: make(map[int64]msgRef),
		idem:     make(map[idemKey]idemRecord),
		events:   make(map[string]*eventRecord),
		pending:  newPendingEvents(),
		totals:   make(map[partyKey]store.PartyTotals),
		lists:    make(map[indexKey]*ordered),
	}
}

// conv returns the record of conversation id, or nil. The pointer is valid
// until the next CreateConversation.
func (s *Store) conv(id int64) *convRecord {
	if id < 1 || id > int64(len(s.convs)) {
		return nil
	}
	return &s.convs[id-1]
}

// lock checks ctx, takes the mutex and checks that the store is open. On
// success the caller must call s.mu.Unlock.
func (s *Store) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("memory: %w", store.ErrClosed)
	}
	return nil
}

// Close drops the data; methods called afterwards return store.ErrClosed.
// Closing twice is fine.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.convs, s.keys, s.codes, s.messages, s.idem, s.events = nil, nil, nil, nil, nil, nil
	s.pending = pendingEvents{}
	s.totals, s.lists = nil, nil
	s.mod = moderationState{}
	s.changes = nil
	return nil
}

func errConvNotFound(id int64) error {
	return fmt.Errorf("memory: conversation %d: %w", id, store.ErrNotFound)
}

func errMsgNotFound(convID, msgID int64) error {
	return fmt.Errorf("memory: message %d in conversation %d: %w", msgID, convID, store.ErrNotFound)
}

// replay looks up an idempotency record. It returns ok=false when the key
// is new, and otherwise the current conversation and original message of
// the first request, or store.ErrIdempotencyMismatch.
func (s *Store) replay(p *store.Idempotency) (c conversation.Conversation, m message.Message, ok bool, err error) {
	if p == nil {
		return c, m, false, nil
	}
	rec, found := s.idem[idemKey{p.Scope, p.Key}]
	if !found {
		return c, m, false, nil
	}
	if rec.fingerprint != p.Fingerprint {
		return c, m, false, fmt.Errorf("memory: key %q: %w", p.Key, store.ErrIdempotencyMismatch)
	}
	cr := s.conv(rec.convID)
	ref := s.messages[rec.msgID]
	return cr.conv, cr.msgs[ref.seq-1], true, nil
}

func (s *Store) remember(p *store.Idempotency, convID, msgID int64) {
	if p != nil {
		s.idem[idemKey{p.Scope, p.Key}] = idemRecord{fingerprint: p.Fingerprint, convID: convID, msgID: msgID}
	}
}

func (s *Store) addEvents(evs []notify.Event, convID, msgID int64) {
	for _, e := range evs {
		e.ConversationID = convID
		e.MessageID = msgID
		e.State, e.Attempts, e.LastError = notify.StatePending, 0, ""
		r := &eventRecord{ev: e}
		s.events[e.ID] = r
		s.pending.add(r)
	}
}

// CreateConversation implements store.Store.
func (s *Store) CreateConversation(ctx context.Context, p store.CreateParams) (store.CreateResult, error) {
	if err := s.lock(ctx); err != nil {
		return store.CreateResult{}, err
	}
	defer s.mu.Unlock()

	if c, m, ok, err := s.replay(p.Idempotency); err != nil {
		return store.CreateResult{}, err
	} else if ok {
		return store.CreateResult{Conversation: c, Message: m, Replayed: true}, nil
	}
	c, m := p.Conversation, p.Message
	key := keyOf(c)
	if id, taken := s.keys[key]; taken {
		return store.CreateResult{}, &store.ConversationExistsError{ID: id}
	}
	if _, taken := s.codes[c.Code]; taken {
		return store.CreateResult{}, fmt.Errorf("memory: code %s: %w", c.Code, store.ErrDuplicateCode)
	}

	s.lastMsgID++
	c.ID, m.ID = int64(len(s.convs))+1, s.lastMsgID
	store.ApplyFirst(&c, &m)

	s.convs = append(s.convs, convRecord{conv: c, msgs: []message.Message{m}})
	s.keys[key] = c.ID
	s.codes[c.Code] = c.ID
	s.account(nil, c)
	s.indexConv(&c)
	s.messages[m.ID] = msgRef{convID: c.ID, seq: 1}
	s.addEvents(p.Events, c.ID, m.ID)
	s.remember(p.Idempotency, c.ID, m.ID)
	s.logChange(store.ChangeOf(store.ChangeStarted, c, c.StartedBy, m.ID, m.Seq, m.CreatedAt))
	return store.CreateResult{Conversation: c, Message: m}, nil
}

// AppendMessage implements store.Store.
func (s *Store) AppendMessage(ctx context.Context, p store.AppendParams) (store.AppendResult, error) {
	if err := s.lock(ctx); err != nil {
		return store.AppendResult{}, err
	}
	defer s.mu.Unlock()

	if c, m, ok, err := s.replay(p.Idempotency); err != nil {
		return store.AppendResult{}, err
	} else if ok {
		return store.AppendResult{Conversation: c, Message: m, Replayed: true}, nil
	}
	cr := s.conv(p.ConversationID)
	if cr == nil {
		return store.AppendResult{}, errConvNotFound(p.ConversationID)
	}
	var events []notify.Event
	if p.Prepare != nil {
		var err error
		if events, err = p.Prepare(cr.conv); err != nil {
			return store.AppendResult{}, err
		}
	}

	c, m := cr.conv, p.Message
	s.lastMsgID++
	m.ID = s.lastMsgID
	store.ApplyMessage(&c, &m)

	s.account(&cr.conv, c)
	s.moveConv(keyOfConv(&cr.conv), &c)
	cr.conv = c
	cr.msgs = append(cr.msgs, m)
	s.messages[m.ID] = msgRef{convID: c.ID, seq: m.Seq}
	s.addEvents(events, c.ID, m.ID)
	s.remember(p.Idempotency, c.ID, m.ID)
	s.logChange(store.ChangeOf(store.ChangeMessage, c, conversation.Side(m.Sender.Kind), m.ID, m.Seq, m.CreatedAt))
	return store.AppendResult{Conversation: c, Message: m}, nil
}

// Replay implements store.Store.
func (s *Store) Replay(ctx context.Context, k store.Idempotency) (store.CreateResult, bool, error) {
	if err := s.lock(ctx); err != nil {
		return store.CreateResult{}, false, err
	}
	defer s.mu.Unlock()

	c, m, ok, err := s.replay(&k)
	if err != nil || !ok {
		return store.CreateResult{}, false, err
	}
	return store.CreateResult{Conversation: c, Message: m, Replayed: true}, true, nil
}

// SetStatus implements store.Store.
func (s *Store) SetStatus(ctx context.Context, p store.StatusParams) (conversation.Conversation, error) {
	if err := s.lock(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	defer s.mu.Unlock()

	cr := s.conv(p.ConversationID)
	if cr == nil {
		return conversation.Conversation{}, errConvNotFound(p.ConversationID)
	}
	if p.Check != nil {
		if err := p.Check(cr.conv); err != nil {
			return conversation.Conversation{}, err
		}
	}
	was := cr.conv.Status
	store.ApplyStatus(&cr.conv, p.Status, p.At)
	if cr.conv.Status != was {
		s.logChange(store.ChangeOf(store.ChangeStatus, cr.conv, p.Side, 0, 0, p.At))
	}
	return cr.conv, nil
}

// MarkRead implements store.Store.
func (s *Store) MarkRead(ctx context.Context, p store.ReadParams) (conversation.Conversation, error) {
	if err := s.lock(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	defer s.mu.Unlock()

	cr := s.conv(p.ConversationID)
	if cr == nil {
		return conversation.Conversation{}, errConvNotFound(p.ConversationID)
	}
	if p.Check != nil {
		if err := p.Check(cr.conv); err != nil {
			return conversation.Conversation{}, err
		}
	}
	ref, ok := s.messages[p.UpToMessageID]
	if !ok || ref.convID != p.ConversationID {
		return conversation.Conversation{}, errMsgNotFound(p.ConversationID, p.UpToMessageID)
	}
	if ref.seq > cr.conv.Read(p.Side).ReadSeq {
		other := message.SenderKind(p.Side.Other())
		var after int64
		for _, m := range cr.msgs[ref.seq:] {
			if m.Sender.Kind == other {
				after++
			}
		}
		before := cr.conv
		store.ApplyRead(&cr.conv, p.Side, ref.seq, after)
		s.account(&before, cr.conv)
		s.logChange(store.ChangeOf(store.ChangeRead, cr.conv, p.Side, p.UpToMessageID, ref.seq, p.At))
	}
	return cr.conv, nil
}

// GetConversation implements store.Store.
func (s *Store) GetConversation(ctx context.Context, id int64) (conversation.Conversation, error) {
	if err := s.lock(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	defer s.mu.Unlock()

	cr := s.conv(id)
	if cr == nil {
		return conversation.Conversation{}, errConvNotFound(id)
	}
	return cr.conv, nil
}

// GetConversationByCode implements store.Store.
func (s *Store) GetConversationByCode(ctx context.Context, code uuid.UUID) (conversation.Conversation, error) {
	if err := s.lock(ctx); err != nil {
		return conversation.Conversation{}, err
	}
	defer s.mu.Unlock()

	id, ok := s.codes[code]
	if !ok {
		return conversation.Conversation{}, fmt.Errorf("memory: conversation code %s: %w", code, store.ErrNotFound)
	}
	return s.conv(id).conv, nil
}

// ListConversations implements store.Store. It walks the ordered index
// that q allows (a party's inbox, an item's conversations, the public
// listing or the channel's), from the cursor on, and keeps the first
// Limit+1 conversations that q.Matches: a page costs the entries it
// passes over, not the size of the store. The total of a party's inbox
// is its totals; any other total walks the whole index.
func (s *Store) ListConversations(ctx context.Context, q store.ConversationQuery) (store.Page[conversation.Conversation], error) {
	if err := s.lock(ctx); err != nil {
		return store.Page[conversation.Conversation]{}, err
	}
	defer s.mu.Unlock()

	limit := max(q.Limit, 1)
	var after *listKey
	if q.After != nil {
		after = &listKey{q.After.LastMessageAt, q.After.ID}
	}
	q.Filter = store.NormalizeFilter(q.Filter)
	index := s.lists[indexFor(q)]
	page := store.Page[conversation.Conversation]{Total: -1, Items: make([]conversation.Conversation, 0, min(limit+1, index.len()))}
	index.each(after, func(k listKey) bool {
		if c := &s.conv(k.id).conv; q.Matches(*c) {
			page.Items = append(page.Items, *c)
		}
		return len(page.Items) <= limit
	})
	if len(page.Items) > limit {
		page.Items, page.More = page.Items[:limit], true
	}
	if !q.WithTotal {
		return page, nil
	}
	if side, id, ok := q.InboxParty(); ok {
		page.Total = s.totals[partyKey{q.Channel, side, id}].Conversations
		return page, nil
	}
	page.Total = 0
	index.each(nil, func(k listKey) bool {
		if q.Matches(s.conv(k.id).conv) {
			page.Total++
		}
		return true
	})
	return page, nil
}

// SeekConversations implements store.Seeker: it walks the listing's
// index from q.After and stops at the n-th match.
func (s *Store) SeekConversations(ctx context.Context, q store.ConversationQuery, n int64) (store.ConversationCursor, bool, error) {
	if n < 1 {
		return store.ConversationCursor{}, false, fmt.Errorf("memory: seek %d: want at least 1", n)
	}
	if err := s.lock(ctx); err != nil {
		return store.ConversationCursor{}, false, err
	}
	defer s.mu.Unlock()
	var after *listKey
	if q.After != nil {
		after = &listKey{q.After.LastMessageAt, q.After.ID}
	}
	q.Filter = store.NormalizeFilter(q.Filter)
	var pos store.ConversationCursor
	found := false
	s.lists[indexFor(q)].each(after, func(k listKey) bool {
		if c := &s.conv(k.id).conv; q.Matches(*c) {
			if n--; n == 0 {
				pos, found = store.ConversationCursor{LastMessageAt: c.LastMessageAt, ID: c.ID}, true
			}
		}
		return n > 0
	})
	return pos, found, nil
}

// ListMessages implements store.Store.
func (s *Store) ListMessages(ctx context.Context, q store.MessageQuery) (store.Page[message.Message], error) {
	if err := s.lock(ctx); err != nil {
		return store.Page[message.Message]{}, err
	}
	defer s.mu.Unlock()

	page := store.Page[message.Message]{Total: -1}
	var msgs []message.Message
	if cr := s.conv(q.ConversationID); cr != nil {
		msgs = cr.msgs
	}
	if q.Visible {
		return visibleMessages(msgs, q), nil
	}
	if q.WithTotal {
		page.Total = int64(len(msgs))
	}
	end := int64(len(msgs)) // messages with Seq <= end, i.e. msgs[:end]
	if q.BeforeSeq != 0 {
		end = min(end, max(q.BeforeSeq-1, 0))
	}
	limit := int64(max(q.Limit, 1))
	start := max(end-limit, 0)
	page.More = start > 0
	page.Items = make([]message.Message, 0, end-start)
	for i := end - 1; i >= start; i-- {
		page.Items = append(page.Items, msgs[i])
	}
	return page, nil
}

// MessageSets implements store.Store: a conversation's newest messages
// are the tail of its Seq-ordered slice.
func (s *Store) MessageSets(ctx context.Context, q store.MessageSetQuery) ([][]message.Message, error) {
	if q.Limit < 1 {
		return nil, fmt.Errorf("memory: message sets: limit %d: want at least 1", q.Limit)
	}
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	out := make([][]message.Message, len(q.ConversationIDs))
	for i, id := range q.ConversationIDs {
		cr := s.conv(id)
		if cr == nil {
			continue
		}
		set := make([]message.Message, 0, min(q.Limit, len(cr.msgs)))
		for _, m := range slices.Backward(cr.msgs) {
			if len(set) == q.Limit {
				break
			}
			if !q.Visible || !m.Hidden {
				set = append(set, m)
			}
		}
		out[i] = set
	}
	return out, nil
}

// MessagesAfter implements store.Store. A conversation's messages are
// kept in Seq order, which is also their id order: both bounds are binary
// searches.
func (s *Store) MessagesAfter(ctx context.Context, q message.After) ([]message.Message, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()

	var msgs []message.Message
	if cr := s.conv(q.ConversationID); cr != nil {
		msgs = cr.msgs
	}
	n := int64(len(msgs))
	from := min(max(q.Seq, 0), n) // msgs[i].Seq == i+1
	byID, _ := slices.BinarySearchFunc(msgs, q.ID, func(m message.Message, id int64) int {
		if m.ID <= id {
			return -1
		}
		return 1
	})
	from = max(from, int64(byID))
	to := min(from+int64(max(q.Limit, 1)), n)
	return slices.Clone(msgs[from:to]), nil
}

// Unread implements store.Store: one lookup of the party's totals.
func (s *Store) Unread(ctx context.Context, q store.UnreadQuery) (store.UnreadSummary, error) {
	if err := s.lock(ctx); err != nil {
		return store.UnreadSummary{}, err
	}
	defer s.mu.Unlock()
	return s.totals[partyKey{q.Channel, q.Side, q.PartyID}].Unread(), nil
}

// logChange appends ch to the change log at the next position.
func (s *Store) logChange(ch store.ChangeEntry) {
	s.lastChange++
	ch.Position = s.lastChange
	s.changes = append(s.changes, ch)
}

// Changes implements store.ChangeLog.
func (s *Store) Changes(ctx context.Context, q store.ChangeQuery) (store.ChangePage, error) {
	if err := store.CheckChangeQuery(q); err != nil {
		return store.ChangePage{}, fmt.Errorf("memory: %w", err)
	}
	if err := s.lock(ctx); err != nil {
		return store.ChangePage{}, err
	}
	defer s.mu.Unlock()
	page := store.ChangePage{Head: s.lastChange, Horizon: s.horizon}
	i, _ := slices.BinarySearchFunc(s.changes, q.After+1, func(c store.ChangeEntry, pos int64) int { return cmp.Compare(c.Position, pos) })
	for _, c := range s.changes[i:] {
		if len(page.Changes) >= q.Limit {
			break
		}
		if q.Selects(c) {
			page.Changes = append(page.Changes, c)
		}
	}
	return page, nil
}

// TrimChanges implements store.ChangeLog.
func (s *Store) TrimChanges(ctx context.Context, before time.Time) (int64, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	kept := s.changes[:0]
	var n int64
	for _, c := range s.changes {
		if c.At.Before(before) {
			n++
			s.horizon = max(s.horizon, c.Position)
			continue
		}
		kept = append(kept, c)
	}
	clear(s.changes[len(kept):])
	s.changes = kept
	return n, nil
}
