package httpapi

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Defaults applied by New to the zero fields of a Config.
const (
	// DefaultMaxBodyBytes bounds request bodies when neither the Config
	// nor the dialect names a limit (64 KiB).
	DefaultMaxBodyBytes = 64 << 10
	// DefaultBodyTimeout is how long a request body may take to arrive
	// once the handler starts reading it; a slower one is answered 408.
	DefaultBodyTimeout = 10 * time.Second
)

// Config is what every dialect served by a Handler shares: who is
// calling, where the handler is mounted, how links start, how large and
// how slow a request may be, how long polls are bounded, and where logs
// go. Only Authenticator is required.
type Config struct {
	// Authenticator tells who is calling. Required. Public routes do not
	// call it.
	Authenticator Authenticator

	// Prefix is the path under which the handler is mounted, such as
	// "/parley" (no trailing slash); routes are matched below it. Leave it
	// empty when mounting at the root or with http.StripPrefix: links are
	// built from the path the client asked for, so they are right either
	// way.
	Prefix string

	// BaseURL, if set, is the scheme and host (and any path a reverse
	// proxy strips) that links in responses start with, such as
	// "https://api.example.com". Empty: links are relative ("/users/...
	// ?page=2"). Links never follow the request's Host header, which the
	// client chooses.
	BaseURL string

	// MaxBodyBytes bounds request bodies; a larger one is 413. 0 means
	// the dialect's default (DefaultMaxBodyBytes if it has none).
	MaxBodyBytes int64

	// BodyTimeout is how long a request body may take to arrive once the
	// handler reads it; a slower body is 408. 0 means DefaultBodyTimeout.
	// (A server's ReadTimeout, when shorter, ends it first, also as 408.)
	BodyTimeout time.Duration

	// Waits bounds and coalesces long polls. nil: the Handler makes its
	// own with DefaultWaitLimits. Share one *Waits between Handlers to
	// bound the waits of a whole process.
	Waits *Waits

	// Middleware wraps every request after the request id is set and
	// panics are recovered, before routing, the first element outermost.
	// The ResponseWriter a middleware sees lets it add headers after the
	// route has run but before they are sent (see BeforeWriteHeader), and
	// reaches the connection through http.ResponseController (flushes,
	// deadlines).
	Middleware []func(http.Handler) http.Handler

	// Logger receives server errors (with their request id), refusals
	// (403, with the Service's reason, at info level) and, at debug
	// level, other rejected requests. Message content is never logged.
	// nil means slog.Default().
	Logger *slog.Logger

	// NewRequestID returns the id of a request that arrives without a
	// usable X-Request-Id header. nil: 16 random hex digits.
	NewRequestID func() string
}

// Authenticator tells who is calling: it returns the acting party of an
// authenticated request, and an error (any error) for a request without
// valid credentials, which is answered 401 in the dialect's words. The
// error text is logged at debug level and never sent to the client.
type Authenticator interface {
	Authenticate(r *http.Request) (parley.Actor, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(r *http.Request) (parley.Actor, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (parley.Actor, error) { return f(r) }

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if c.Authenticator == nil {
		errs = append(errs, errors.New("Authenticator is nil"))
	}
	if c.Prefix != "" && (!strings.HasPrefix(c.Prefix, "/") || strings.HasSuffix(c.Prefix, "/") ||
		strings.ContainsAny(c.Prefix, "{}?#% \t\r\n")) {
		errs = append(errs, fmt.Errorf("Prefix %q must start with / and not end with /, without {}?#%% or spaces", c.Prefix))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("BaseURL %q must be an http or https URL without query", c.BaseURL))
		}
		c.BaseURL = strings.TrimSuffix(c.BaseURL, "/")
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, errors.New("MaxBodyBytes is negative"))
	}
	if c.BodyTimeout < 0 {
		errs = append(errs, errors.New("BodyTimeout is negative"))
	}
	if c.BodyTimeout == 0 {
		c.BodyTimeout = DefaultBodyTimeout
	}
	for i, m := range c.Middleware {
		if m == nil {
			errs = append(errs, fmt.Errorf("Middleware[%d] is nil", i))
		}
	}
	if c.Waits == nil {
		c.Waits = NewWaits(DefaultWaitLimits())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.NewRequestID == nil {
		c.NewRequestID = randomRequestID
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("httpapi: invalid config: %w", err)
	}
	return c, nil
}

// CheckOptions is how a dialect validates its options: problems (nil
// entries are none) are joined in one error prefixed with the dialect's
// name, and a nil Service is one of them.
func CheckOptions(dialect string, svc *parley.Service, problems ...error) error {
	if svc == nil {
		problems = append(problems, errors.New("Service is nil"))
	}
	if err := errors.Join(problems...); err != nil {
		return fmt.Errorf("%s: invalid options: %w", dialect, err)
	}
	return nil
}
