package parley

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/conversation"
	"github.com/parleyhq/parley/notify"
)

// Options configure a Service. Start from DefaultOptions and change what
// you need; New validates them once.
type Options struct {
	// Now is the clock. Times are truncated to the stores' precision.
	Now func() time.Time
	// NewCode returns the UUIDv7 codes of conversations and messages and
	// the ids of notification events.
	NewCode func() (uuid.UUID, error)

	// Notifier receives a notification for each change that causes one.
	// With Outbox false, the Service calls it after the write commits
	// (best effort: a failure is logged and reported to OnNotifyError,
	// never returned). With Outbox true, the Service writes events to the
	// store's outbox in the write's transaction and a notify.Worker
	// started by the program delivers them; the Service then never calls
	// Notifier itself.
	Notifier notify.Notifier
	// Outbox selects durable delivery through the store's outbox.
	Outbox bool
	// DigestWindow, with Outbox, delays each event by this long so that
	// a notify.Worker with the same window gathers the events of one
	// recipient and conversation into one notification. Zero: no delay.
	DigestWindow time.Duration
	// OnNotifyError, if set, is called when a direct notification fails.
	OnNotifyError func(ctx context.Context, n notify.Notification, err error)

	// Lookup supplies the attributes stored with a conversation when it
	// starts (user names, product base code, order number). Optional.
	Lookup Lookup

	// Translator, if set, lets readers ask for messages in their own
	// language (Service.Translate). Optional.
	Translator Translator

	// Screener, if set, checks every message before it is written: it
	// may accept, mask, reject or flag it. Optional.
	Screener Screener

	// ShowHiddenToParties lets the parties of a conversation (and an
	// integration reading for them) read the content of what an operator
	// has hidden, marked Hidden. By default they see a hidden message
	// without its content. Operators always see everything; the public
	// listings never show hidden content.
	ShowHiddenToParties bool

	// Limits bound what the Service accepts.
	Limits Limits

	// CursorSecret, if set, keys the checksum of page cursors so that a
	// client cannot forge one. Without it, cursors are still checked
	// against corruption. Services that share a store should share it.
	CursorSecret []byte

	// Logger receives the Service's logs (failed notifications).
	Logger *slog.Logger
}

// Limits bound the size of what the Service accepts.
type Limits struct {
	MaxContentRunes int // message content, in characters
	MaxContentBytes int // message content, in UTF-8 bytes
	MaxSubjectRunes int
	MaxIDBytes      int // user, data source, item and channel ids
	DefaultPageSize int // the page size when a request names none
	MaxPageSize     int // larger page sizes are capped to this
}

// DefaultLimits returns the limits that DefaultOptions uses.
func DefaultLimits() Limits {
	return Limits{
		MaxContentRunes: 4000,
		MaxContentBytes: 16 << 10,
		MaxSubjectRunes: 255,
		MaxIDBytes:      64,
		DefaultPageSize: 20,
		MaxPageSize:     100,
	}
}

// DefaultOptions returns options with the system clock, UUIDv7 codes, no
// notifier, direct delivery and DefaultLimits.
func DefaultOptions() Options {
	return Options{
		Now:      time.Now,
		NewCode:  uuid.NewV7,
		Notifier: notify.Nop{},
		Limits:   DefaultLimits(),
		Logger:   slog.Default(),
	}
}

// Validate reports what is wrong with o, if anything.
func (o Options) Validate() error {
	var errs []error
	if o.Now == nil {
		errs = append(errs, errors.New("Now is nil"))
	}
	if o.NewCode == nil {
		errs = append(errs, errors.New("NewCode is nil"))
	}
	if o.Notifier == nil {
		errs = append(errs, errors.New("Notifier is nil (use notify.Nop{})"))
	}
	if o.Logger == nil {
		errs = append(errs, errors.New("Logger is nil"))
	}
	if o.DigestWindow < 0 {
		errs = append(errs, errors.New("DigestWindow is negative"))
	}
	if o.DigestWindow > 0 && !o.Outbox {
		errs = append(errs, errors.New("DigestWindow needs Outbox"))
	}
	l := o.Limits
	for _, f := range []struct {
		name string
		v    int
	}{
		{"MaxContentRunes", l.MaxContentRunes}, {"MaxContentBytes", l.MaxContentBytes},
		{"MaxSubjectRunes", l.MaxSubjectRunes}, {"MaxIDBytes", l.MaxIDBytes},
		{"DefaultPageSize", l.DefaultPageSize}, {"MaxPageSize", l.MaxPageSize},
	} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("Limits.%s must be positive", f.name))
		}
	}
	if l.DefaultPageSize > l.MaxPageSize {
		errs = append(errs, errors.New("Limits.DefaultPageSize exceeds MaxPageSize"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("parley: invalid options: %w", err)
	}
	return nil
}

// Lookup supplies, from the embedding program's own tables, the attributes
// stored with a conversation when it starts. An error fails the start.
type Lookup interface {
	ConversationAttributes(ctx context.Context, q LookupQuery) (conversation.Attributes, error)
}

// LookupQuery names the parties and item of a conversation being started.
type LookupQuery struct {
	Channel      string
	UserID       string
	DataSourceID string
	Item         conversation.Item
}

// LookupFunc adapts a function to the Lookup interface.
type LookupFunc func(ctx context.Context, q LookupQuery) (conversation.Attributes, error)

// ConversationAttributes calls f(ctx, q).
func (f LookupFunc) ConversationAttributes(ctx context.Context, q LookupQuery) (conversation.Attributes, error) {
	return f(ctx, q)
}
