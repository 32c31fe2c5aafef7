package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/notify"
	"github.com/parleyhq/parley/store"
)

// The channels the tests write to.
const (
	chMain  = "shop-main"
	chOther = "shop-other"
)

// baseTime is where every harness clock starts: UTC with non-zero
// microseconds, so that a store that drops them is caught.
var baseTime = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// peekStart is far after any time the tests use: peekEvents claims there
// so that it never disturbs the outbox tests' own claims.
var peekStart = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

// harness is one subtest's store with a clock and helpers that build
// values the way the parley Service does. Its methods are safe for
// concurrent use, but those that fail the test (the ones that call
// require) must run on the test's goroutine.
type harness struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
	*clock
}

// clock is the state a harness shares with its sub harnesses.
type clock struct {
	mu     sync.Mutex
	now    time.Time
	n      int
	peekAt time.Time
}

func (f factory) new(t *testing.T) *harness {
	t.Helper()
	s := f(t)
	require.NotNil(t, s, "newStore returned nil")
	return &harness{t: t, s: s, ctx: t.Context(), clock: &clock{now: baseTime, peekAt: peekStart}}
}

// sub returns a harness on the same store and clock for the subtest t.
func (h *harness) sub(t *testing.T) *harness {
	return &harness{t: t, s: h.s, ctx: t.Context(), clock: h.clock}
}

// tick advances the clock by a little more than a second and returns the
// new time (UTC, microsecond precision, microseconds never zero).
func (c *clock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second + 1013*time.Microsecond).Truncate(store.TimePrecision)
	return c.now
}

// unique returns a fresh name with the given prefix.
func (c *clock) unique(prefix string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return fmt.Sprintf("%s-%d", prefix, c.n)
}

func newCode() uuid.UUID { return uuid.Must(uuid.NewV7()) }

func newEventID() string { return uuid.Must(uuid.NewV7()).String() }

// party returns side s of conversation c as a notification party.
func party(c conversation.Conversation, s conversation.Side) notify.Party {
	if s == conversation.SideSeller {
		return notify.Party{Kind: message.SenderDataSource, ID: c.DataSourceID}
	}
	return notify.Party{Kind: message.SenderUser, ID: c.UserID}
}

// sender returns the sender of a message written by side s of c.
func sender(c conversation.Conversation, s conversation.Side) message.Sender {
	if s == conversation.SideSeller {
		return message.DataSource(c.DataSourceID)
	}
	return message.User(c.UserID, message.UserRegistered)
}

// draft returns the conversation the tests start from: a private message
// thread in chMain between a fresh user and "ds-1", about nothing, started
// now by the user. mods change it before the first message is applied.
func (h *harness) draft(mods ...func(*conversation.Conversation)) conversation.Conversation {
	at := h.tick()
	c := conversation.Conversation{
		Code:         newCode(),
		Channel:      chMain,
		Type:         conversation.TypeMessage,
		UserID:       h.unique("user"),
		DataSourceID: "ds-1",
		Subject:      "Is it still available?",
		Status:       conversation.StatusOpen,
		StartedBy:    conversation.SideUser,
		Language:     "en",
		Attributes: conversation.Attributes{
			UserFirstName: "Ada", UserLastName: "Lovelace",
			ProductBaseCode: "BASE-1", OrderNumber: "ORD-1",
		},
		CreatedAt: at,
	}
	for _, m := range mods {
		m(&c)
	}
	return c
}

// event returns the event the Service writes when side from of c posts at
// time at: kind "conversation.started" for the first message, else
// "message.posted", for the other side, due at once.
func (h *harness) event(c conversation.Conversation, from conversation.Side, at time.Time) notify.Event {
	return eventOf(newEventID(), c, from, at)
}

// eventOf is event with the given event id.
func eventOf(id string, c conversation.Conversation, from conversation.Side, at time.Time) notify.Event {
	kind := notify.KindMessagePosted
	if c.ID == 0 {
		kind = notify.KindConversationStarted
	}
	to := from.Other()
	return notify.Event{
		ID:               id,
		Kind:             kind,
		Channel:          c.Channel,
		ConversationType: c.Type,
		Recipient:        party(c, to),
		Sender:           party(c, from),
		CreatedAt:        at,
		DueAt:            at,
		DigestKey:        c.Channel + "|" + string(to) + "|" + c.Code.String(),
	}
}

// createParams returns what the Service passes to CreateConversation for
// the draft c: the first message, from c.StartedBy at c.CreatedAt, and one
// event for the other side. The store applies the message to c
// (store.ApplyFirst); the returned p.Conversation has it applied already,
// so that it is what the store must keep, but for the ids it assigns.
func (h *harness) createParams(c conversation.Conversation) store.CreateParams {
	m := message.Message{
		Code:      newCode(),
		Sender:    sender(c, c.StartedBy),
		Content:   "Hello from " + string(c.StartedBy),
		Language:  c.Language,
		CreatedAt: c.CreatedAt,
	}
	store.ApplyFirst(&c, &m)
	m.Seq, m.ConversationID = 0, 0 // the store assigns them
	return store.CreateParams{
		Conversation: c,
		Message:      m,
		Events:       []notify.Event{h.event(c, c.StartedBy, m.CreatedAt)},
	}
}

// create stores a conversation built from draft(mods...) and returns the
// result. It fails the test on error.
func (h *harness) create(mods ...func(*conversation.Conversation)) store.CreateResult {
	h.t.Helper()
	_, res := h.createP(mods...)
	return res
}

// createP is create that also returns the parameters it passed.
func (h *harness) createP(mods ...func(*conversation.Conversation)) (store.CreateParams, store.CreateResult) {
	h.t.Helper()
	p := h.createParams(h.draft(mods...))
	res, err := h.s.CreateConversation(h.ctx, p)
	require.NoError(h.t, err)
	return p, res
}

// appendParams returns what the Service passes to AppendMessage for a
// message from side s of c, written now: a Prepare that accepts any
// conversation and returns one event for the other side, built from the
// conversation it is given (with the same event id at every call, as a
// callback that may run more than once must).
func (h *harness) appendParams(c conversation.Conversation, s conversation.Side) store.AppendParams {
	at := h.tick()
	id := newEventID()
	return store.AppendParams{
		ConversationID: c.ID,
		Message: message.Message{
			Code:      newCode(),
			Sender:    sender(c, s),
			Content:   "A message from " + string(s),
			Language:  "en",
			CreatedAt: at,
		},
		Prepare: func(cur conversation.Conversation) ([]notify.Event, error) {
			return []notify.Event{eventOf(id, cur, s, at)}, nil
		},
	}
}

// prepared returns the events that p's Prepare returns for c (or none if
// it has no Prepare), failing the test if it refuses.
func (h *harness) prepared(p store.AppendParams, c conversation.Conversation) []notify.Event {
	h.t.Helper()
	if p.Prepare == nil {
		return nil
	}
	evs, err := p.Prepare(c)
	require.NoError(h.t, err)
	return evs
}

// withEvents returns p whose Prepare returns evs whatever the conversation.
func withEvents(p store.AppendParams, evs ...notify.Event) store.AppendParams {
	p.Prepare = func(conversation.Conversation) ([]notify.Event, error) { return evs, nil }
	return p
}

// guarded returns p whose Prepare first runs check on the conversation it
// is given: refusing, it returns check's error; else what p's Prepare
// returns.
func guarded(p store.AppendParams, check func(conversation.Conversation) error) store.AppendParams {
	prepare := p.Prepare
	p.Prepare = func(c conversation.Conversation) ([]notify.Event, error) {
		if err := check(c); err != nil {
			return nil, err
		}
		if prepare == nil {
			return nil, nil
		}
		return prepare(c)
	}
	return p
}

// append stores a message from side s in c and returns the result. It
// fails the test on error.
func (h *harness) append(c conversation.Conversation, s conversation.Side) store.AppendResult {
	h.t.Helper()
	_, res := h.appendP(c, s)
	return res
}

// appendP is append that also returns the parameters it passed.
func (h *harness) appendP(c conversation.Conversation, s conversation.Side) (store.AppendParams, store.AppendResult) {
	h.t.Helper()
	p := h.appendParams(c, s)
	res, err := h.s.AppendMessage(h.ctx, p)
	require.NoError(h.t, err)
	return p, res
}

// get returns the stored conversation id, failing the test on error.
func (h *harness) get(id int64) conversation.Conversation {
	h.t.Helper()
	c, err := h.s.GetConversation(h.ctx, id)
	require.NoError(h.t, err)
	return c
}

// messages returns every message of a conversation, oldest first.
func (h *harness) messages(convID int64) []message.Message {
	h.t.Helper()
	ms, err := h.s.MessagesAfter(h.ctx, message.After{ConversationID: convID, Limit: 100000})
	require.NoError(h.t, err)
	return ms
}

// listAll returns every conversation of channel ch.
func (h *harness) listAll(ch string) []conversation.Conversation {
	h.t.Helper()
	p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: ch, Limit: 100000})
	require.NoError(h.t, err)
	require.False(h.t, p.More)
	return p.Items
}

// peekEvents returns the pending events of the outbox (as ClaimEvents
// returns them, so with Attempts counted once more), sorted by ID. It claims
// them far in the future, after any time the outbox tests use, so the
// tests' own claims are not disturbed; call it at most once per event,
// normally at the end of a test.
func (h *harness) peekEvents() []notify.Event {
	h.t.Helper()
	h.mu.Lock()
	h.peekAt = h.peekAt.Add(time.Hour)
	at := h.peekAt
	h.mu.Unlock()
	evs, err := h.s.ClaimEvents(h.ctx, notify.ClaimParams{
		Worker: "storetest-peek", Now: at, Lease: time.Minute, Limit: 100000,
	})
	require.NoError(h.t, err)
	slices.SortFunc(evs, func(a, b notify.Event) int { return compareStrings(a.ID, b.ID) })
	return evs
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// idem returns an idempotency key.
func idem(scope, key, fingerprint string) *store.Idempotency {
	return &store.Idempotency{Scope: scope, Key: key, Fingerprint: fingerprint}
}

// requireUTC checks that every time is in UTC.
func requireUTC(t *testing.T, what string, times ...time.Time) {
	t.Helper()
	for i, tm := range times {
		require.Same(t, time.UTC, tm.Location(), "%s: time %d (%v) is not in UTC", what, i, tm)
	}
}

// requireConv checks that got equals want, field by field, with times in
// UTC.
func requireConv(t *testing.T, want, got conversation.Conversation, msgAndArgs ...any) {
	t.Helper()
	requireUTC(t, "conversation", got.CreatedAt, got.ModifiedAt, got.LastMessageAt)
	require.Equal(t, want, got, msgAndArgs...)
}

// requireMsg checks that got equals want, with times in UTC.
func requireMsg(t *testing.T, want, got message.Message, msgAndArgs ...any) {
	t.Helper()
	requireUTC(t, "message", got.CreatedAt)
	require.Equal(t, want, got, msgAndArgs...)
}

// requireMsgs checks that got equals want, with times in UTC.
func requireMsgs(t *testing.T, want, got []message.Message, msgAndArgs ...any) {
	t.Helper()
	for _, m := range got {
		requireUTC(t, "message", m.CreatedAt)
	}
	if len(want) == 0 && len(got) == 0 {
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// requireEvents checks that got equals want, with times in UTC.
func requireEvents(t *testing.T, want, got []notify.Event, msgAndArgs ...any) {
	t.Helper()
	for _, e := range got {
		requireUTC(t, "event "+e.ID, e.CreatedAt, e.DueAt)
	}
	if len(want) == 0 && len(got) == 0 {
		return
	}
	require.Equal(t, want, got, msgAndArgs...)
}

// ids returns the IDs of conversations.
func convIDs(cs []conversation.Conversation) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

// eventIDs returns the IDs of events.
func eventIDs(evs []notify.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

// msgIDs returns the IDs of messages.
func msgIDs(ms []message.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

// stored returns the events as a store keeps them after a write: with the
// conversation and message ids set, pending, not yet attempted, without a
// last error. claims is how many times they have been claimed since.
func stored(evs []notify.Event, convID, msgID int64, claims int) []notify.Event {
	out := make([]notify.Event, len(evs))
	for i, e := range evs {
		e.ConversationID, e.MessageID = convID, msgID
		e.State, e.Attempts, e.LastError = notify.StatePending, claims, ""
		out[i] = e
	}
	return out
}

// sortedByID returns a copy of evs sorted by ID.
func sortedByID(evs []notify.Event) []notify.Event {
	out := slices.Clone(evs)
	slices.SortFunc(out, func(a, b notify.Event) int { return compareStrings(a.ID, b.ID) })
	return out
}

// errCheck is the error the tests' Check callbacks return: a distinct
// type, so that a store that wraps or replaces it is caught.
type errCheck struct{ reason string }

func (e *errCheck) Error() string { return "check refused: " + e.reason }

// requireCheckErr checks that err is exactly want, unchanged.
func requireCheckErr(t *testing.T, want *errCheck, err error) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, want)
	require.True(t, err == error(want), "Check's error must be returned unchanged, got %T %v", err, err)
}

// snapshot is everything a test can read back of the conversations of
// both channels: used to check that a failed write wrote nothing. (The
// outbox is checked separately, with peekEvents.)
type snapshot struct {
	convs []conversation.Conversation
	msgs  map[int64][]message.Message
}

func (h *harness) snapshot() snapshot {
	h.t.Helper()
	s := snapshot{msgs: make(map[int64][]message.Message)}
	s.convs = append(h.listAll(chMain), h.listAll(chOther)...)
	if len(s.convs) == 0 {
		s.convs = nil
	}
	for _, c := range s.convs {
		s.msgs[c.ID] = h.messages(c.ID)
	}
	return s
}

// requireUnchanged checks that the conversations and messages are as in
// before.
func (h *harness) requireUnchanged(before snapshot, msgAndArgs ...any) {
	h.t.Helper()
	after := h.snapshot()
	require.Equal(h.t, before.convs, after.convs, msgAndArgs...)
	require.Equal(h.t, before.msgs, after.msgs, msgAndArgs...)
}
