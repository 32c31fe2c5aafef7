package chatv2_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/chatv2"
	"github.com/parleyhq/parley/store/memory"
)

// A customer asks about a product, the seller answers, and the customer's
// app picks the answer up with get-new-messages.
func Example() {
	st := memory.New()
	defer st.Close()
	opts := parley.DefaultOptions()
	opts.Now = func() time.Time { return time.Date(2024, 1, 18, 7, 52, 37, 0, time.UTC) }
	svc, err := parley.New(st, opts)
	if err != nil {
		panic(err)
	}

	// The program authenticates callers and knows who sells what.
	auth := httpapi.AuthenticatorFunc(func(r *http.Request) (parley.Actor, error) {
		switch r.Header.Get("Authorization") {
		case "Bearer customer-545382":
			return parley.User("1", "545382"), nil
		case "Bearer seller-1":
			return parley.Seller("1", "1"), nil
		}
		return parley.Actor{}, errors.New("unknown token")
	})
	catalog := chatv2.CatalogFunc(func(_ context.Context, _, productID string) (chatv2.Product, error) {
		if productID != "1" {
			return chatv2.Product{}, chatv2.ErrUnknownProduct
		}
		return chatv2.Product{DataSourceID: "1", ShopName: "Test Shop", ShopLogo: "https://shop.example/logo.png"}, nil
	})
	chat, err := chatv2.Dialect(svc, chatv2.Options{Catalog: catalog})
	if err != nil {
		panic(err)
	}
	h, err := httpapi.New(httpapi.Config{Authenticator: auth}, chat)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	call := func(method, path, token, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		fmt.Print(res.StatusCode, " ", string(b))
	}

	call("POST", "/api/v2/chat/create-conversation", "Bearer customer-545382",
		`{"product_id": 1, "title": "Delivery", "message": "Does it ship today?"}`)
	call("POST", "/api/v2/chat/insert-message", "Bearer seller-1",
		`{"conversation_id": 1, "message": "Yes, before 5pm."}`)
	call("GET", "/api/v2/chat/get-new-messages/1/1", "Bearer customer-545382", "")
	call("POST", "/api/v2/chat/insert-message", "Bearer seller-1", `{"conversation_id": 1, "message": ""}`)

	// Output:
	// 200 {"result":true,"message":"Conversation created","conversation_id":1,"shop_name":"Test Shop","shop_logo":"https://shop.example/logo.png","title":"Delivery"}
	// 200 {"data":[{"id":2,"conversation_id":1,"user_id":1,"message":"Yes, before 5pm.","created_at":"2024-01-18T07:52:37.000000Z"}]}
	// 200 {"data":[{"id":2,"conversation_id":1,"user_id":1,"message":"Yes, before 5pm.","created_at":"2024-01-18T07:52:37.000000Z"}]}
	// 422 {"result":false,"message":"The given data was invalid.","errors":{"message":["The message must not be empty."]}}
}
