package parley

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/parleyhq/parley/notify"
)

// Options configure a Service. The zero Options are usable: New fills
// every zero field with its default (see DefaultOptions), as the stores'
// options do. New validates them once.
type Options struct {
	// Now is the clock. Times are truncated to the stores' precision.
	// nil: time.Now.
	Now func() time.Time
	// NewCode returns the UUIDv7 codes of conversations and messages and
	// the ids of notification events. nil: uuid.NewV7.
	NewCode func() (uuid.UUID, error)

	// Notifier, with Outbox false, receives a notification for each
	// change that causes one: the Service calls it after the write
	// commits (best effort: a failure is logged and reported to
	// OnNotifyError, never returned). nil: no notifications.
	//
	// With Outbox true the Service never calls a Notifier (a
	// notify.Worker started by the program delivers the outbox to its
	// own), so setting Notifier or OnNotifyError with Outbox is an error
	// from New rather than a notifier silently never called.
	Notifier notify.Notifier
	// Outbox selects durable delivery: the Service writes events to the
	// store's outbox in the write's transaction and a notify.Worker
	// delivers them.
	Outbox bool
	// DigestWindow, with Outbox, delays each event by this long so that
	// a notify.Worker with the same window gathers the events of one
	// recipient and conversation into one notification. Zero: no delay.
	DigestWindow time.Duration
	// OnNotifyError, if set, is called when a direct notification fails
	// (Outbox false).
	OnNotifyError func(ctx context.Context, n notify.Notification, err error)

	// World is the program's own users, data sources and items. With it,
	// a start naming one it does not know is refused (ErrUnknown) and the
	// attributes of the parties and item are stored with the
	// conversation; the HTTP dialects render their objects from it.
	// nil: every party and item is accepted and no attributes are stored.
	World World

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

	// Limits bound what the Service accepts. Each zero field takes its
	// value from DefaultLimits.
	Limits Limits

	// CursorSecret, if set, keys the checksum of page cursors so that a
	// client cannot forge one. Without it, cursors are still checked
	// against corruption. Services that share a store should share it.
	CursorSecret []byte

	// Logger receives the Service's logs (failed notifications). nil:
	// logs are discarded.
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

// DefaultOptions returns the options that New fills zero fields with:
// the system clock, UUIDv7 codes, no notifier, direct delivery,
// DefaultLimits and a logger that discards. Options{} is the same.
func DefaultOptions() Options {
	return Options{
		Now:     time.Now,
		NewCode: uuid.NewV7,
		Limits:  DefaultLimits(),
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// withDefaults returns o with its zero fields filled from DefaultOptions.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.NewCode == nil {
		o.NewCode = d.NewCode
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	l, dl := &o.Limits, d.Limits
	for _, f := range []struct{ v, d *int }{
		{&l.MaxContentRunes, &dl.MaxContentRunes}, {&l.MaxContentBytes, &dl.MaxContentBytes},
		{&l.MaxSubjectRunes, &dl.MaxSubjectRunes}, {&l.MaxIDBytes, &dl.MaxIDBytes},
		{&l.DefaultPageSize, &dl.DefaultPageSize}, {&l.MaxPageSize, &dl.MaxPageSize},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	return o
}

// Validate reports every problem of o at once, after filling its zero
// fields with their defaults.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if o.DigestWindow < 0 {
		errs = append(errs, errors.New("DigestWindow is negative"))
	}
	if o.DigestWindow > 0 && !o.Outbox {
		errs = append(errs, errors.New("DigestWindow needs Outbox"))
	}
	if o.Outbox && o.Notifier != nil {
		errs = append(errs, errors.New("Notifier is never called with Outbox (give it to the notify.Worker that delivers the outbox)"))
	}
	if o.Outbox && o.OnNotifyError != nil {
		errs = append(errs, errors.New("OnNotifyError is never called with Outbox (the notify.Worker reports failures)"))
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
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("Limits.%s is negative", f.name))
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
