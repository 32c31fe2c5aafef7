package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/store"
)

// testSeekConversations checks the optional store.Seeker: the n-th
// position of a listing, after any cursor and under any filter, is the
// last item of the page of n that ListConversations returns; past the end
// there is none; n below 1 is an error.
func (f factory) testSeekConversations(t *testing.T) {
	if _, ok := f.new(t).s.(store.Seeker); !ok {
		t.Skip("the store does not implement the optional store.Seeker")
	}
	h := f.new(t)
	sk := h.s.(store.Seeker)
	cs := pagingFixture(h, 40)
	pos := func(c conversation.Conversation) store.ConversationCursor {
		return store.ConversationCursor{LastMessageAt: c.LastMessageAt, ID: c.ID}
	}

	queries := map[string]store.ConversationQuery{
		"All":       {Channel: chMain},
		"Filtered":  {Channel: chMain, Filter: conversation.Filter{Type: conversation.TypeQuestion}},
		"Types":     {Channel: chMain, Types: []conversation.Type{conversation.TypeQuestion, conversation.TypeReview}},
		"Nothing":   {Channel: chMain, Filter: conversation.Filter{UserID: "nobody"}},
		"OtherChan": {Channel: chOther},
	}
	for name, q := range queries {
		t.Run(name, func(t *testing.T) {
			h := h.sub(t)
			want := matching(cs, q)
			if name == "OtherChan" {
				want = h.listAll(chOther)
			}
			// From the start and from a cursor in the middle (within a tie).
			starts := []*store.ConversationCursor{nil}
			if len(want) > 5 {
				c := pos(want[4])
				starts = append(starts, &c)
			}
			for _, after := range starts {
				rest := want
				if after != nil {
					rest = want[5:]
				}
				for n := 1; n <= len(rest)+2; n++ {
					q := q
					q.After, q.Limit, q.WithTotal = after, 3, true // Limit and WithTotal are ignored
					got, ok, err := sk.SeekConversations(h.ctx, q, int64(n))
					require.NoError(t, err)
					if n > len(rest) {
						require.False(t, ok, "position %d of %d", n, len(rest))
						continue
					}
					require.True(t, ok, "position %d of %d", n, len(rest))
					require.Equal(t, pos(rest[n-1]), got, "position %d after %v", n, after)
					requireUTC(t, "position", got.LastMessageAt)

					// Listing after the position continues where a page of
					// n would have ended.
					q.After, q.Limit, q.WithTotal = &got, 100, false
					p, err := h.s.ListConversations(h.ctx, q)
					require.NoError(t, err)
					require.Equal(t, convIDs(rest[n:]), convIDs(p.Items))
				}
			}
		})
	}

	t.Run("AgreesWithListing", func(t *testing.T) {
		h := h.sub(t)
		q := store.ConversationQuery{Channel: chMain, Limit: 7}
		for page := 1; ; page++ {
			p, err := h.s.ListConversations(h.ctx, q)
			require.NoError(t, err)
			if len(p.Items) == 0 {
				break
			}
			got, ok, err := sk.SeekConversations(h.ctx, store.ConversationQuery{Channel: chMain}, int64((page-1)*7+len(p.Items)))
			require.NoError(t, err)
			require.True(t, ok)
			last := pos(p.Items[len(p.Items)-1])
			require.Equal(t, last, got, "page %d", page)
			q.After = &last
		}
	})

	t.Run("BelowOne", func(t *testing.T) {
		h := h.sub(t)
		for _, n := range []int64{0, -1} {
			_, ok, err := sk.SeekConversations(h.ctx, store.ConversationQuery{Channel: chMain}, n)
			require.Error(t, err, fmt.Sprint(n))
			require.False(t, ok)
		}
	})

	t.Run("CancelledContext", func(t *testing.T) {
		h := h.sub(t)
		ctx, cancel := context.WithCancel(h.ctx)
		cancel()
		_, _, err := sk.SeekConversations(ctx, store.ConversationQuery{Channel: chMain}, 3)
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
	})
}
