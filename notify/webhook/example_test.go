package webhook_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/parleyhq/parley/notify/webhook"
)

// A receiver checks the signature of a request before it trusts the body.
func ExampleVerify() {
	secret := []byte("shared-secret-of-the-program")
	body := []byte(`{"key":"0195e6a1-0000-7000-8000-000000000001"}`)
	sent := time.Unix(1700000000, 0)

	// What the Notifier sends.
	h := http.Header{}
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(sent.Unix(), 10))
	h.Set(webhook.HeaderSignature, webhook.Sign(secret, sent.Unix(), body))

	// What the receiver checks, with its own clock.
	now := sent.Add(20 * time.Second)
	fmt.Println("genuine:", webhook.Verify(secret, h, body, now, webhook.DefaultTolerance))

	tampered := []byte(`{"key":"something else"}`)
	fmt.Println("tampered:", errors.Is(webhook.Verify(secret, h, tampered, now, webhook.DefaultTolerance), webhook.ErrInvalidSignature))

	replayed := sent.Add(time.Hour)
	fmt.Println("replayed later:", errors.Is(webhook.Verify(secret, h, body, replayed, webhook.DefaultTolerance), webhook.ErrTimestampOutOfRange))
	// Output:
	// genuine: <nil>
	// tampered: true
	// replayed later: true
}

// The signature is a plain HMAC-SHA256 that any language can compute; in
// a shell: printf '1700000000.{}' | openssl dgst -sha256 -hmac secret
func ExampleSign() {
	fmt.Println(webhook.Sign([]byte("secret"), 1700000000, []byte(`{}`)))
	// Output:
	// b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163
}
