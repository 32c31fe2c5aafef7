package operatorv1_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/operatorv1"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/store/memory"
)

// Serve the operators' API, and hide a reported review with a reason.
func Example() {
	ctx := context.Background()
	opts := parley.DefaultOptions()
	opts.Now = func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	svc, err := parley.New(memory.New(), opts)
	if err != nil {
		log.Fatal(err)
	}
	// A user writes a review, and another reports it.
	s, err := svc.Start(ctx, parley.User("1", "545382"), parley.StartRequest{Type: conversation.TypeReview, DataSourceID: "1",
		Item: conversation.Product("1"), Content: "The seller is an idiot."})
	if err != nil {
		log.Fatal(err)
	}
	if _, _, err := svc.Report(ctx, parley.User("1", "545383"), parley.ReportRequest{ConversationID: s.Conversation.ID,
		MessageID: s.Message.ID, Reason: moderation.ReasonAbuse}); err != nil {
		log.Fatal(err)
	}

	ops, err := operatorv1.Dialect(svc, operatorv1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{
		// The program knows its staff; here one token is staff member
		// "mod-7" of channel 1.
		Authenticator: httpapi.AuthenticatorFunc(func(r *http.Request) (parley.Actor, error) {
			if r.Header.Get("Authorization") == "Token secret-of-mod-7" {
				return parley.Operator("1", "mod-7"), nil
			}
			return parley.Actor{}, errors.New("unknown token")
		}),
	}, ops)
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	do := func(method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Token secret-of-mod-7")
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Print(res.StatusCode, " ", string(b))
	}
	do(http.MethodGet, "/operator/v1/reports/?state=open", "")
	do(http.MethodPost, fmt.Sprintf("/operator/v1/conversations/%d/hide/", s.Conversation.ID), `{"reason": "insults"}`)
	// Output:
	// 200 {"next":null,"results":[{"id":1,"conversation":1,"message":1,"reporter":{"type":"user","id":"545383"},"reason":"abuse","note":"","state":"open","created_at":"2024-05-01T12:00:00Z","resolved_at":null,"resolved_by":null,"outcome":null,"resolution_note":null}]}
	// 200 {"id":1,"conversation_type":"review","hidden":true,"hidden_messages":0,"message_count":1}
}
