// Package webhook is a notify.Notifier that POSTs each notification as JSON
// to a URL, signed so that the receiver can check it came from the
// program.
//
// # The request
//
// The body is a Payload in JSON. The request carries:
//
//	Content-Type: application/json
//	X-Parley-Timestamp: <unix seconds when it was signed>
//	X-Parley-Signature: <hex HMAC-SHA256 of timestamp + "." + body, keyed with the secret>
//	X-Parley-Idempotency-Key: <Notification.Key>
//
// Any 2xx status is a delivery; anything else, a redirect included, is an
// error (a *StatusError), and the outbox retries. Delivery is at least once:
// a receiver drops a request whose idempotency key it has already
// processed.
//
// # Receiving
//
// A receiver reads the body, calls Verify with the request's headers, the
// secret and its clock, and only then decodes the Payload. Verify rejects
// a timestamp more than the tolerance away from the receiver's clock, so a
// captured request cannot be replayed later.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/parleyhq/parley/notify"
)

// The headers of a webhook request.
const (
	HeaderTimestamp      = "X-Parley-Timestamp"
	HeaderSignature      = "X-Parley-Signature"
	HeaderIdempotencyKey = "X-Parley-Idempotency-Key"
)

// DefaultTolerance is a sensible tolerance for Verify: five minutes of
// clock skew and delivery delay.
const DefaultTolerance = 5 * time.Minute

// Config configures a Notifier.
type Config struct {
	// URL receives the POST requests (http or https). Required.
	URL string
	// Secret keys the signatures; share it with the receiver. Required,
	// at least 16 bytes.
	Secret []byte
	// Client sends the requests. nil: a client with a 30 second timeout
	// that does not follow redirects.
	Client *http.Client
	// Now is the clock of the timestamps. nil: time.Now.
	Now func() time.Time
	// UserAgent, if set, is sent as the User-Agent header.
	UserAgent string
}

// Notifier posts notifications to a URL. It is safe for concurrent use.
type Notifier struct {
	cfg Config
}

var _ notify.Notifier = (*Notifier)(nil)

// ErrInvalidConfig is returned (wrapped) by New. Check it with errors.Is.
var ErrInvalidConfig = errors.New("webhook: invalid config")

// New returns a Notifier for cfg.
func New(cfg Config) (*Notifier, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%w: URL %q is not an http(s) URL", ErrInvalidConfig, cfg.URL)
	}
	if len(cfg.Secret) < 16 {
		return nil, fmt.Errorf("%w: Secret must be at least 16 bytes", ErrInvalidConfig)
	}
	cfg.Secret = bytes.Clone(cfg.Secret)
	if cfg.Client == nil {
		cfg.Client = &http.Client{
			Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Notifier{cfg: cfg}, nil
}

// StatusError is returned by Notify when the receiver answers with a
// status other than 2xx.
type StatusError struct {
	StatusCode int
	// Body is the start of the response body.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("webhook: receiver answered %d %s: %q", e.StatusCode, http.StatusText(e.StatusCode), e.Body)
}

// maxErrorBody is how much of an error response is kept in a StatusError.
const maxErrorBody = 512

// Notify posts n and returns nil if the receiver answered 2xx.
func (w *Notifier) Notify(ctx context.Context, n notify.Notification) error {
	body, err := json.Marshal(NewPayload(n))
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: encode notification %s: %w", n.Key, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	ts := w.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.cfg.Secret, ts, body))
	req.Header.Set(HeaderIdempotencyKey, n.Key)
	if w.cfg.UserAgent != "" {
		req.Header.Set("User-Agent", w.cfg.UserAgent)
	}
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post notification %s: %w", n.Key, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		return nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return &StatusError{StatusCode: resp.StatusCode, Body: string(snippet)}
}

// Sign returns the signature of body sent at timestamp (unix seconds): the
// hex HMAC-SHA256, keyed with secret, of the decimal timestamp, ".", and
// body.
func Sign(secret []byte, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Errors returned by Verify. Check them with errors.Is.
var (
	// ErrMissingSignature: the timestamp or signature header is absent or
	// malformed.
	ErrMissingSignature = errors.New("webhook: missing or malformed signature headers")
	// ErrInvalidSignature: the signature does not match the body.
	ErrInvalidSignature = errors.New("webhook: invalid signature")
	// ErrTimestampOutOfRange: the request was signed too long before (or
	// after) now.
	ErrTimestampOutOfRange = errors.New("webhook: timestamp outside the tolerance")
)

// Verify checks the signature headers of a webhook request against its
// body, with the shared secret: it returns nil if the signature is right
// and the timestamp is within tolerance of now (either way, for clock
// skew). Call it on the raw body, before decoding it.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	tsText, sigText := h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrMissingSignature
	}
	sig, err := hex.DecodeString(sigText)
	if err != nil || len(sig) != sha256.Size {
		return ErrMissingSignature
	}
	want, _ := hex.DecodeString(Sign(secret, ts, body))
	if !hmac.Equal(sig, want) {
		return ErrInvalidSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed at %d, %v from now", ErrTimestampOutOfRange, ts, d)
	}
	return nil
}
