package conversationsv1_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
	"github.com/parleyhq/parley/httpapi/conversationsv1"
	"github.com/parleyhq/parley/store/memory"
)

// Mount the API under /parley in a program's own mux, and start a
// conversation as a user, with seed 000's request.
func Example() {
	svc, err := parley.New(memory.New(), parley.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	conv, err := conversationsv1.Dialect(svc, conversationsv1.Options{})
	if err != nil {
		log.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Config{
		Prefix: "/parley",
		// The program knows its callers; here one token is user 545383 of
		// channel 1.
		Authenticator: httpapi.AuthenticatorFunc(func(r *http.Request) (parley.Actor, error) {
			if r.Header.Get("Authorization") == "Token secret-of-545383" {
				return parley.User("1", "545383"), nil
			}
			return parley.Actor{}, errors.New("unknown token")
		}),
	}, conv)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/parley/", api)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/parley/users/conversations/", strings.NewReader(`{
		"conversation_type": "message",
		"user_type": "registered",
		"message_content": "Hello, this is a message.",
		"datasource": "1",
		"content_type": "user",
		"content_id": "545383",
		"user": "545383"
	}`))
	req.Header.Set("Authorization", "Token secret-of-545383")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status)
	fmt.Print(string(body))
	// Output:
	// 200 OK
	// {"id":1,"datasource":1,"user":545383,"subject":null,"conversation_type":"message","message_content":"Hello, this is a message.","user_type":"registered","content_id":545383,"content_type":"user","message":1}
}
