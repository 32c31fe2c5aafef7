package chatv2_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
)

// TestChat_PageNumbersAtAnyDepth: ?page=N, however deep (past the first
// thousand items too), answers what following next_page_url N-1 times
// from the first page gives, with one store read to find where the page
// starts; a page past the end is empty.
func TestChat_PageNumbersAtAnyDepth(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const n = 1025 // 103 pages of 10, the last of 5
	customer := parley.User("1", "545382")
	var conv int64
	for i := range n {
		res, err := e.svc.Start(ctx, customer, parley.StartRequest{
			Type: conversation.TypeMessage, DataSourceID: "1", Item: conversation.Product(fmt.Sprintf("p%d", i)), Content: "m",
		})
		require.NoError(t, err)
		conv = res.Conversation.ID
	}
	for i := range n - 1 {
		_, err := e.svc.Post(ctx, parley.Seller("1", "1"), parley.PostRequest{ConversationID: conv, Content: fmt.Sprint("answer ", i)})
		require.NoError(t, err)
	}
	for name, base := range map[string]string{
		"Conversations": pConvs + "?per_page=10",
		"Messages":      pMessages + strconv.FormatInt(conv, 10) + "?per_page=10",
	} {
		t.Run(name, func(t *testing.T) {
			// Every page, by following next_page_url.
			var walked [][]int64
			for link := &base; link != nil; {
				p := e.list(*link, tokUser1)
				walked = append(walked, ids(p.Data))
				link = p.NextPageURL
			}
			require.Len(t, walked, 103)
			for _, num := range []int{1, 2, 99, 100, 101, 102, 103} {
				reads := func() int64 { return e.st.List.Load() + e.st.Messages.Load() }
				lists, seeks := reads(), e.st.Seek.Load()
				p := e.list(fmt.Sprintf("%s&page=%d", base, num), tokUser1)
				assert.Equal(t, walked[num-1], ids(p.Data), "page %d", num)
				require.NotNil(t, p.CurrentPage)
				assert.Equal(t, num, *p.CurrentPage)
				assert.Equal(t, num < 103, p.NextPageURL != nil, "page %d", num)
				if num > 1 {
					wantSeeks := int64(1)
					if name == "Messages" {
						wantSeeks = 0 // found by sequence number
					}
					assert.Equal(t, wantSeeks, e.st.Seek.Load()-seeks, "page %d: seeks", num)
					assert.Equal(t, int64(1), reads()-lists, "page %d: one listing read", num)
				}
			}
			for _, num := range []int{104, 1 << 30} {
				p := e.list(fmt.Sprintf("%s&page=%d", base, num), tokUser1)
				assert.Empty(t, p.Data, "page %d is past the end", num)
				assert.Nil(t, p.NextPageURL)
			}
			r := e.do(http.MethodGet, base+"&page=0", tokUser1, nil)
			assert.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Raw)
		})
	}
}
