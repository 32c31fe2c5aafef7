package conversationsv1_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
)

// TestE2E_PageNumbersAtAnyDepth: ?page=N, however deep (past the first
// thousand items too), answers what following next N-1 times from the
// first page gives, with the exact count, a previous link, and one store
// read to find where the page starts; a page past the end is empty.
func TestE2E_PageNumbersAtAnyDepth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 1025 // 103 pages of 10, the last of 5
	var conv int64
	for i := range n {
		res, err := e.svc.Start(ctx, parley.User("1", fmt.Sprint(800000+i)), parley.StartRequest{
			Type: conversation.TypeQuestion, DataSourceID: "1", Content: "q",
		})
		require.NoError(t, err)
		conv = res.Conversation.ID
	}
	for i := range n - 1 {
		_, err := e.svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: conv, Content: fmt.Sprint("answer ", i)})
		require.NoError(t, err)
	}
	for name, base := range map[string]string{
		"Conversations": remoteConvs + "?page_size=10",
		"Public":        "/public-questions/?page_size=10",
		"Messages":      fmt.Sprintf("%s?conversation=%d&page_size=10", remoteMsgs, conv),
	} {
		t.Run(name, func(t *testing.T) {
			var walked [][]int64
			for link := &base; link != nil; {
				p := e.list(*link, tokChannel)
				assert.Equal(t, int64(n), p.Count)
				walked = append(walked, ids(p))
				link = p.Next
			}
			require.Len(t, walked, 103)
			for _, num := range []int{1, 2, 100, 101, 102, 103} {
				reads := func() int64 { return e.Store.List.Load() + e.Store.Messages.Load() + e.Store.Sets.Load() }
				lists, seeks := reads(), e.Store.Seek.Load()
				p := e.list(fmt.Sprintf("%s&page=%d", base, num), tokChannel)
				assert.Equal(t, walked[num-1], ids(p), "page %d", num)
				assert.Equal(t, int64(n), p.Count)
				assert.Equal(t, num < 103, p.Next != nil, "page %d", num)
				assert.Equal(t, num > 1, p.Previous != nil, "page %d", num)
				if num > 1 {
					wantSeeks := int64(1)
					if name == "Messages" {
						wantSeeks = 0 // found by sequence number
					}
					assert.Equal(t, wantSeeks, e.Store.Seek.Load()-seeks, "page %d: seeks", num)
					wantLists := int64(1)
					if name != "Messages" {
						wantLists++ // and one read of the page's message sets
					}
					assert.Equal(t, wantLists, reads()-lists, "page %d: one listing read", num)
					back := e.list(*p.Previous, tokChannel)
					assert.Equal(t, walked[num-2], ids(back), "previous of page %d", num)
				}
			}
			p := e.list(base+"&page=104", tokChannel)
			assert.Empty(t, p.Results, "a page past the end is empty")
			assert.Equal(t, int64(n), p.Count)
			assert.Nil(t, p.Next)
		})
	}
}
