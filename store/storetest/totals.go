package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
)

// The parties of the totals tests: few enough that every party has many
// conversations, in both channels.
var (
	totalsUsers    = []string{"tu0", "tu1", "tu2", "tu3"}
	totalsSellers  = []string{"td0", "td1", "td2"}
	totalsChannels = []string{chMain, chOther}
)

// totalsKey names one party's totals.
type totalsKey struct {
	channel string
	side    conversation.Side
	id      string
}

func (k totalsKey) String() string { return fmt.Sprintf("%s/%s/%s", k.channel, k.side, k.id) }

// totalsParties returns every party of the totals tests.
func totalsParties() []totalsKey {
	var ks []totalsKey
	for _, ch := range totalsChannels {
		for _, u := range totalsUsers {
			ks = append(ks, totalsKey{ch, conversation.SideUser, u})
		}
		for _, d := range totalsSellers {
			ks = append(ks, totalsKey{ch, conversation.SideSeller, d})
		}
	}
	return ks
}

// recount sums store.Contribution over every stored conversation: what
// the totals must be.
func (h *harness) recount() map[totalsKey]store.PartyTotals {
	h.t.Helper()
	want := make(map[totalsKey]store.PartyTotals)
	for _, ch := range totalsChannels {
		for _, c := range h.listAll(ch) {
			for _, s := range []conversation.Side{conversation.SideUser, conversation.SideSeller} {
				k := totalsKey{ch, s, store.PartyOf(c, s)}
				want[k] = want[k].Add(store.Contribution(c, s))
			}
		}
	}
	return want
}

// requireTotals checks that every party's Unread and inbox total equal a
// recount from the conversations.
func (h *harness) requireTotals(msgAndArgs ...any) {
	h.t.Helper()
	want := h.recount()
	for _, k := range totalsParties() {
		u, err := h.s.Unread(h.ctx, store.UnreadQuery{Channel: k.channel, Side: k.side, PartyID: k.id})
		require.NoError(h.t, err)
		require.Equal(h.t, want[k].Unread(), u, append([]any{"Unread of %s after: %v", k}, msgAndArgs...)...)

		f := conversation.Filter{UserID: k.id}
		if k.side == conversation.SideSeller {
			f = conversation.Filter{DataSourceID: k.id}
		}
		p, err := h.s.ListConversations(h.ctx, store.ConversationQuery{Channel: k.channel, Filter: f, Limit: 1, WithTotal: true})
		require.NoError(h.t, err)
		require.Equal(h.t, want[k].Conversations, p.Total, append([]any{"inbox total of %s after: %v", k}, msgAndArgs...)...)
	}
}

// totalsOps are random writes on the conversations of the totals tests.
// Its methods return errors instead of failing the test, so that many
// goroutines can run them.
type totalsOps struct {
	h *harness

	mu    sync.Mutex
	convs []conversation.Conversation // as created: the fields that never change
}

// add remembers a created conversation.
func (o *totalsOps) add(c conversation.Conversation) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.convs = append(o.convs, c)
}

// pick returns a random created conversation.
func (o *totalsOps) pick(r *rand.Rand) conversation.Conversation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.convs[r.IntN(len(o.convs))]
}

func randomSide(r *rand.Rand) conversation.Side {
	if r.IntN(2) == 0 {
		return conversation.SideUser
	}
	return conversation.SideSeller
}

// create starts a conversation between random parties, about a product of
// its own (so that its key is new), started by a random side.
func (o *totalsOps) create(r *rand.Rand) (string, error) {
	h := o.h
	c := h.draft(func(c *conversation.Conversation) {
		c.Channel = totalsChannels[r.IntN(len(totalsChannels))]
		c.UserID = totalsUsers[r.IntN(len(totalsUsers))]
		c.DataSourceID = totalsSellers[r.IntN(len(totalsSellers))]
		c.Item = conversation.Product(h.unique("product"))
		c.StartedBy = randomSide(r)
	})
	res, err := h.s.CreateConversation(h.ctx, h.createParams(c))
	if err != nil {
		return "create", err
	}
	o.add(res.Conversation)
	return fmt.Sprintf("create %d by %s", res.Conversation.ID, c.StartedBy), nil
}

// step runs one random write: a new conversation, a message from a random
// side, a side reading up to a random message, or a status change.
func (o *totalsOps) step(r *rand.Rand) (string, error) {
	h := o.h
	n := r.IntN(10)
	if n == 0 {
		return o.create(r)
	}
	c, side := o.pick(r), randomSide(r)
	switch {
	case n < 5:
		_, err := h.s.AppendMessage(h.ctx, h.appendParams(c, side))
		return fmt.Sprintf("append to %d by %s", c.ID, side), err
	case n < 9:
		msgs, err := h.s.MessagesAfter(h.ctx, message.After{ConversationID: c.ID, Limit: 1000})
		if err != nil {
			return "messages after", err
		}
		if len(msgs) == 0 {
			return "", fmt.Errorf("conversation %d has no messages", c.ID)
		}
		m := msgs[r.IntN(len(msgs))]
		_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: side, UpToMessageID: m.ID})
		return fmt.Sprintf("%s reads %d up to seq %d", side, c.ID, m.Seq), err
	default:
		status := conversation.StatusOpen
		if r.IntN(2) == 0 {
			status = conversation.StatusClosed
		}
		_, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: status, At: h.tick()})
		return fmt.Sprintf("status of %d to %s", c.ID, status), err
	}
}

func (f factory) testPartyTotals(t *testing.T) {
	t.Run("EachWrite", func(t *testing.T) {
		h := f.new(t)
		unread := func(s conversation.Side, id string) store.UnreadSummary {
			t.Helper()
			u, err := h.s.Unread(h.ctx, store.UnreadQuery{Channel: chMain, Side: s, PartyID: id})
			require.NoError(t, err)
			return u
		}
		seller := func() store.UnreadSummary { return unread(conversation.SideSeller, "ds-1") }
		c := h.create().Conversation
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, seller(), "created by the user")
		c = h.append(c, conversation.SideUser).Conversation
		require.Equal(t, store.UnreadSummary{Messages: 2, Conversations: 1}, seller(), "the user writes again")
		c2 := h.create().Conversation
		require.Equal(t, store.UnreadSummary{Messages: 3, Conversations: 2}, seller(), "another user starts")
		_, err := h.s.SetStatus(h.ctx, store.StatusParams{ConversationID: c.ID, Status: conversation.StatusClosed, At: h.tick()})
		require.NoError(t, err)
		require.Equal(t, store.UnreadSummary{Messages: 3, Conversations: 2}, seller(), "a status change leaves the totals")
		c = h.append(c, conversation.SideSeller).Conversation
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, seller(), "the seller answers: it has read c")
		require.Equal(t, store.UnreadSummary{Messages: 1, Conversations: 1}, unread(conversation.SideUser, c.UserID))
		_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c2.ID, Side: conversation.SideSeller, UpToMessageID: c2.LastMessageID})
		require.NoError(t, err)
		require.Equal(t, store.UnreadSummary{}, seller(), "the seller reads c2")
		_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideUser, UpToMessageID: c.LastMessageID})
		require.NoError(t, err)
		require.Equal(t, store.UnreadSummary{}, unread(conversation.SideUser, c.UserID), "the user reads c")
		_, err = h.s.MarkRead(h.ctx, store.ReadParams{ConversationID: c.ID, Side: conversation.SideUser, UpToMessageID: c.LastMessageID})
		require.NoError(t, err)
		require.Equal(t, store.UnreadSummary{}, unread(conversation.SideUser, c.UserID), "reading again changes nothing")
	})

	t.Run("RandomWrites", func(t *testing.T) {
		h := f.new(t)
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		r := rand.New(rand.NewPCG(seed, 13))
		o := &totalsOps{h: h}
		for range 6 {
			_, err := o.create(r)
			require.NoError(t, err)
		}
		h.requireTotals("the first conversations")
		for i := range 120 {
			what, err := o.step(r)
			require.NoError(t, err, what)
			if i%4 == 3 {
				h.requireTotals(what)
			}
		}
		h.requireTotals("the last write")
	})

	t.Run("ConcurrentWrites", func(t *testing.T) {
		h := f.new(t)
		seed := rand.Uint64()
		t.Logf("seed %d", seed)
		o := &totalsOps{h: h}
		r := rand.New(rand.NewPCG(seed, 0))
		for range 12 {
			_, err := o.create(r)
			require.NoError(t, err)
		}
		const writers, each, readers = 16, 25, 4
		errs := make([]error, writers+readers)
		race(writers+readers, func(g int) {
			r := rand.New(rand.NewPCG(seed, uint64(g)+1))
			if g >= writers {
				// Readers see committed states: totals that hold
				// together, whatever the writes in flight.
				for range each {
					k := totalsParties()[r.IntN(len(totalsParties()))]
					u, err := h.s.Unread(h.ctx, store.UnreadQuery{Channel: k.channel, Side: k.side, PartyID: k.id})
					if err != nil {
						errs[g] = err
						return
					}
					if u.Conversations < 0 || u.Messages < u.Conversations {
						errs[g] = fmt.Errorf("unread of %s: %+v cannot be", k, u)
						return
					}
				}
				return
			}
			for range each {
				if what, err := o.step(r); err != nil {
					errs[g] = fmt.Errorf("%s: %w", what, err)
					return
				}
			}
		})
		require.NoError(t, errors.Join(errs...))
		h.requireTotals("concurrent writes")
		assert.Greater(t, len(o.convs), 12, "the writers created conversations")
	})
}
