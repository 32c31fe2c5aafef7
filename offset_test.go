package parley_test

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store"
	"github.com/parleyhq/parley/store/memory"
)

// TestService_PageOffset: a page at Offset (N-1)*Limit equals what
// following Next N-1 times gives, for conversations (with the store's
// Seeker, and walking a store without one) and messages, from the start
// and after a cursor; past the end it is empty, with the total.
func TestService_PageOffset(t *testing.T) {
	for name, st := range map[string]store.Store{"Seeker": memory.New(), "Walk": plainStore{memory.New()}} {
		t.Run(name, func(t *testing.T) {
			defer st.Close()
			opts := parley.DefaultOptions()
			opts.Now = (&clock{}).Now
			opts.Logger = slog.New(slog.DiscardHandler)
			svc, err := parley.New(st, opts)
			require.NoError(t, err)
			const n = 23
			var conv int64
			for i := range n {
				res, err := svc.Start(ctx, parley.User("1", fmt.Sprint(i)), parley.StartRequest{
					Type: conversation.TypeMessage, DataSourceID: "1", Content: "hi",
				})
				require.NoError(t, err)
				conv = res.Conversation.ID
				_, err = svc.Post(ctx, shop1, parley.PostRequest{ConversationID: conv, Content: "reply"})
				require.NoError(t, err)
			}
			for i := range n - 2 {
				_, err := svc.Post(ctx, shop1, parley.PostRequest{ConversationID: conv, Content: fmt.Sprint(i)})
				require.NoError(t, err)
			}
			listConvs := func(p parley.PageRequest) (parley.Page[conversation.Conversation], error) {
				return svc.List(ctx, shop1, conversation.Filter{}, p)
			}
			listMsgs := func(p parley.PageRequest) (parley.Page[message.Message], error) {
				return svc.Messages(ctx, shop1, conv, p)
			}
			t.Run("Conversations", func(t *testing.T) {
				checkOffsets(t, listConvs, func(c conversation.Conversation) int64 { return c.ID })
			})
			t.Run("Messages", func(t *testing.T) { checkOffsets(t, listMsgs, func(m message.Message) int64 { return m.ID }) })

			_, err = svc.List(ctx, shop1, conversation.Filter{}, parley.PageRequest{Offset: -1})
			var ve *parley.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, parley.FieldOffset, ve.Field)
			_, err = svc.Messages(ctx, shop1, conv, parley.PageRequest{Offset: -5})
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, parley.FieldOffset, ve.Field)
		})
	}
}

// checkOffsets pages through a listing of 23 items by Next, 4 at a time,
// and asks for every page, and pages after a cursor, by offset.
func checkOffsets[T any](t *testing.T, list func(parley.PageRequest) (parley.Page[T], error), id func(T) int64) {
	t.Helper()
	const size = 4
	ids := func(p parley.Page[T]) []int64 {
		out := []int64{}
		for _, it := range p.Items {
			out = append(out, id(it))
		}
		return out
	}
	var walked [][]int64
	var cursors []string // the cursor each page starts from
	for cursor := ""; ; {
		p, err := list(parley.PageRequest{Limit: size, Cursor: cursor})
		require.NoError(t, err)
		walked, cursors = append(walked, ids(p)), append(cursors, cursor)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	require.Len(t, walked, 6, "23 items, 4 to a page")
	for num := 1; num <= 8; num++ {
		p, err := list(parley.PageRequest{Limit: size, Offset: int64(num-1) * size, WithTotal: true})
		require.NoError(t, err)
		assert.Equal(t, int64(23), p.Total, "page %d", num)
		if num > len(walked) {
			assert.Empty(t, p.Items, "page %d is past the end", num)
			assert.Empty(t, p.Next)
			continue
		}
		assert.Equal(t, walked[num-1], ids(p), "page %d", num)
		assert.Equal(t, num < len(walked), p.Next != "", "page %d", num)
		// From the second page's cursor, an offset counts on from there.
		p, err = list(parley.PageRequest{Limit: size, Cursor: cursors[1], Offset: int64(num-1) * size})
		require.NoError(t, err)
		if num < len(walked) {
			assert.Equal(t, walked[num], ids(p), "page %d after the first", num)
		} else {
			assert.Empty(t, p.Items)
		}
	}
	// An offset that is not a multiple of the page size.
	p, err := list(parley.PageRequest{Limit: size, Offset: 5})
	require.NoError(t, err)
	assert.Equal(t, append(walked[1][1:], walked[2][0]), ids(p))
}
