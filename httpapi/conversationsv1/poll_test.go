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
