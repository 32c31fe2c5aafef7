package conversationsv1_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestE2E_PollAndWait: the messages listing with after (polling, oldest
// first) and wait (a long poll answered as soon as a message arrives).
func TestE2E_PollAndWait(t *testing.T) {
	e := newEnv(t)
	r := e.do(http.MethodPost, "/users/conversations/", tokUser2, obj{
		"conversation_type": "question", "message_content": "first", "datasource": "1",
	})
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	conv := int64(r.Object(t)["id"].(float64))
	first := int64(r.Object(t)["message"].(float64))
	path := func(q string) string { return fmt.Sprintf("/users/messages/?conversation=%d&%s", conv, q) }

	var p listPage
	r = e.do(http.MethodGet, path("after=0"), tokUser2, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r.JSON(t, &p)
	assert.Equal(t, []int64{first}, ids(p))
	r = e.do(http.MethodGet, path(fmt.Sprintf("after=%d", first)), tokUser2, nil)
	r.JSON(t, &p)
	assert.Empty(t, p.Results, "nothing new")

	// A long poll is answered by the seller's reply.
	got := make(chan response, 1)
	go func() { got <- e.do(http.MethodGet, path(fmt.Sprintf("after=%d&wait=20", first)), tokUser2, nil) }()
	time.Sleep(50 * time.Millisecond) // let the poll park; the test holds either way
	posted := e.do(http.MethodPost, "/api/v1/remote/1/messages/", tokSeller1, obj{"conversation": conv, "message_content": "answer"})
	require.Equal(t, http.StatusOK, posted.Status, posted.Raw)
	select {
	case r = <-got:
	case <-time.After(15 * time.Second):
		t.Fatal("the long poll was not answered")
	}
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r.JSON(t, &p)
	require.Len(t, p.Results, 1)
	assert.Equal(t, "answer", p.Results[0]["message_content"])

	// A wait that runs out answers an empty list.
	start := time.Now()
	r = e.do(http.MethodGet, path(fmt.Sprintf("after=%d&wait=1", ids(p)[0])), tokUser2, nil)
	require.Equal(t, http.StatusOK, r.Status, r.Raw)
	r.JSON(t, &p)
	assert.Empty(t, p.Results)
	assert.GreaterOrEqual(t, time.Since(start), time.Second)

	for _, q := range []string{"wait=5", "after=x", "after=-1", "after=1&wait=soon", "after=0&cursor=abc"} {
		r = e.do(http.MethodGet, path(q), tokUser2, nil)
		assert.Equal(t, http.StatusBadRequest, r.Status, q+": "+r.Raw)
	}
	r = e.do(http.MethodGet, path("after=0&wait=1"), tokUser1, nil)
	assert.Equal(t, http.StatusForbidden, r.Status, "not the user's conversation")
}

// TestE2E_PollFromAnyID: after= answers "the messages of this conversation
// with a greater id" for any id: 0, an id of another conversation (below
// or between this one's), or one past every message (200, empty), on
// every store; wait keeps working from any of them.
func TestE2E_PollFromAnyID(t *testing.T) {
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			e := newEnvOn(t, open(t))
			start := func(typ string) (int64, int64) {
				r := e.do(http.MethodPost, "/users/conversations/", tokUser2, obj{
					"conversation_type": typ, "message_content": "first " + typ, "datasource": "1",
				})
				require.Equal(t, http.StatusOK, r.Status, r.Raw)
				return int64(r.Object(t)["id"].(float64)), int64(r.Object(t)["message"].(float64))
			}
			post := func(conv int64, text string) int64 {
				r := e.do(http.MethodPost, "/api/v1/remote/1/messages/", tokSeller1, obj{"conversation": conv, "message_content": text})
				require.Equal(t, http.StatusOK, r.Status, r.Raw)
				return int64(r.Object(t)["id"].(float64))
			}
			convA, a1 := start("message")
			convB, b1 := start("question")
			a2 := post(convA, "a2")
			b2 := post(convB, "b2")
			require.True(t, a1 < b1 && b1 < a2 && a2 < b2, "ids interleave: %d %d %d %d", a1, b1, a2, b2)
			poll := func(q string) []int64 {
				t.Helper()
				r := e.do(http.MethodGet, fmt.Sprintf("/users/messages/?conversation=%d&%s", convB, q), tokUser2, nil)
				require.Equal(t, http.StatusOK, r.Status, "%s: %s", q, r.Raw)
				var p listPage
				r.JSON(t, &p)
				return ids(p)
			}
			assert.Equal(t, []int64{b1, b2}, poll("after=0"))
			assert.Equal(t, []int64{b1, b2}, poll(fmt.Sprintf("after=%d", a1)), "another conversation's id below every message")
			assert.Equal(t, []int64{b2}, poll(fmt.Sprintf("after=%d", a2)), "another conversation's id between")
			assert.Equal(t, []int64{}, poll(fmt.Sprintf("after=%d", b2+1000)), "past the end")
			assert.Equal(t, []int64{}, poll("after=9223372036854775807"), "the largest id")
			assert.Equal(t, []int64{}, poll("after=99999999999999999999999"), "beyond the largest id")

			// A wait from another conversation's id above every message of
			// this one is answered by this one's next message.
			a3 := post(convA, "a3")
			got := make(chan response, 1)
			go func() {
				got <- e.do(http.MethodGet, fmt.Sprintf("/users/messages/?conversation=%d&after=%d&wait=10", convB, a3), tokUser2, nil)
			}()
			time.Sleep(100 * time.Millisecond) // let the poll park; the test holds either way
			b3 := post(convB, "b3")
			var r response
			select {
			case r = <-got:
			case <-time.After(15 * time.Second):
				t.Fatal("the long poll was not answered")
			}
			require.Equal(t, http.StatusOK, r.Status, r.Raw)
			var p listPage
			r.JSON(t, &p)
			assert.Equal(t, []int64{b3}, ids(p))

			begin := time.Now()
			assert.Equal(t, []int64{}, poll(fmt.Sprintf("after=%d&wait=1", b3+1000)), "a wait past the end runs out empty")
			assert.GreaterOrEqual(t, time.Since(begin), time.Second)
		})
	}
}
