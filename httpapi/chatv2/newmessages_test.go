package chatv2_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChat_NewMessagesFromAnyID: get-new-messages answers "the messages of
// this conversation with a greater id" for any last_message_id: 0, an id
// of another conversation (below, between or above this one's), or one
// past every message (200 with an empty list, not 404), with and without
// wait.
func TestChat_NewMessagesFromAnyID(t *testing.T) {
	e := newEnv(t, maxWait(3*time.Second))
	start := func(product string) (int64, int64) {
		r := e.do(http.MethodPost, pCreate, tokUser1, obj{"product_id": product, "message": "hi " + product})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		conv := int64(r.Object(t)["conversation_id"].(float64))
		return conv, ids(data(t, e.do(http.MethodGet, newPath(conv, 0), tokUser1, nil)))[0]
	}
	post := func(conv int64, text string) int64 {
		r := e.do(http.MethodPost, pInsert, tokSeller1, obj{"conversation_id": conv, "message": text})
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		return ids(data(t, r))[0]
	}
	convA, a1 := start("p1")
	convB, b1 := start("p2")
	a2 := post(convA, "a2")
	b2 := post(convB, "b2")
	require.True(t, a1 < b1 && b1 < a2 && a2 < b2, "ids interleave: %d %d %d %d", a1, b1, a2, b2)

	newOf := func(conv int64, last any) []int64 {
		t.Helper()
		r := e.do(http.MethodGet, newPath(conv, last), tokUser1, nil)
		require.Equal(t, http.StatusOK, r.Status, "after %v: %s", last, r.Raw)
		return ids(data(t, r))
	}
	for _, c := range []struct {
		name string
		last any
		want []int64
	}{
		{"Zero", 0, []int64{b2, b1}},
		{"AnotherConversationsIDBelowEveryMessage", a1, []int64{b2, b1}},
		{"AnotherConversationsIDBetweenMessages", a2, []int64{b2}},
		{"TheNewestID", b2, []int64{}},
		{"PastTheEnd", b2 + 1000, []int64{}},
		{"LargestID", int64(1<<63 - 1), []int64{}},
		{"BeyondInt64", "99999999999999999999999", []int64{}},
		{"JustBeyondInt64", "9223372036854775808", []int64{}},
	} {
		t.Run(c.name, func(t *testing.T) { assert.Equal(t, c.want, newOf(convB, c.last)) })
	}

	t.Run("WaitFromAnotherConversationsID", func(t *testing.T) {
		a3 := post(convA, "a3") // above every message of B
		got := make(chan response, 1)
		go func() { got <- e.DoURL(http.MethodGet, e.url+newPath(convB, a3)+"?wait=3", tokUser1, nil, nil) }()
		time.Sleep(100 * time.Millisecond) // let the poll park; the test holds either way
		b3 := post(convB, "b3")
		r := <-got
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, []int64{b3}, ids(data(t, r)))
	})

	t.Run("WaitPastTheEndRunsOutEmpty", func(t *testing.T) {
		begin := time.Now()
		r := e.do(http.MethodGet, newPath(convB, fmt.Sprint(1<<40))+"?wait=1", tokUser1, nil)
		require.Equal(t, http.StatusOK, r.Status, r.Raw)
		assert.Equal(t, `{"data":[]}`+"\n", r.Raw)
		assert.GreaterOrEqual(t, time.Since(begin), time.Second, "it waited")
	})

	t.Run("WaitFromZeroAnswersAtOnce", func(t *testing.T) {
		begin := time.Now()
		assert.Len(t, ids(data(t, e.do(http.MethodGet, newPath(convB, 0)+"?wait=3", tokUser1, nil))), 3)
		assert.Less(t, time.Since(begin), 2*time.Second)
	})

	t.Run("UnknownConversationIsStill404", func(t *testing.T) {
		assert.Equal(t, http.StatusNotFound, e.do(http.MethodGet, newPath(convB+1000, 0), tokUser1, nil).Status)
	})
}
