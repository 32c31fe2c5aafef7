package conversationsv1_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/message"
	"github.com/parleyhq/parley/store/memory"
)

// BenchmarkHandler_ListConversations lists pages of 20 conversations with
// their message sets (3 messages each) out of 1,000, through the handler
// (no network), over the memory store.
func BenchmarkHandler_ListConversations(b *testing.B) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	// The users are not in the test world: they are written without one,
	// and rendered with it (their objects then carry only their ids).
	svc, err := parley.New(st, parley.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		uid := fmt.Sprint(900000 + i)
		a, _ := parley.Integration("1").OnBehalfOf(message.User(uid, message.UserRegistered))
		res, err := svc.Start(ctx, a, parley.StartRequest{Type: conversation.TypeQuestion, UserID: uid, DataSourceID: "1", Content: "Q"})
		if err != nil {
			b.Fatal(err)
		}
		for _, text := range []string{"A", "Thanks"} {
			if _, err := svc.Post(ctx, a, parley.PostRequest{ConversationID: res.Conversation.ID, Content: text}); err != nil {
				b.Fatal(err)
			}
		}
	}
	svc, err = parley.New(st, parley.Options{World: testWorld()})
	if err != nil {
		b.Fatal(err)
	}
	d, err := conversationsv1.Dialect(svc, conversationsv1.Options{})
	if err != nil {
		b.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Config{Authenticator: httpapi.AuthenticatorFunc(testAuth)}, d)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/remote/1/conversations/?page_size=20&data_source_id=1", nil)
		req.Header.Set("Authorization", tokChannel)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code, rec.Body.String())
		}
	}
}
