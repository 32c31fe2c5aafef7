package sqlite

import (
	"errors"
	"fmt"
	"time"
)

// Synchronous is SQLite's synchronous setting: how often SQLite waits for
// the disk to confirm a write. See the package documentation for what each
// value promises on power loss.
type Synchronous string

// The synchronous settings a Store accepts.
const (
	// SynchronousNormal syncs the write-ahead log at checkpoints only: a
	// commit is durable against a crash of the process, but the last
	// commits before a power loss or an operating system crash may be
	// lost (the database stays consistent). The default.
	SynchronousNormal Synchronous = "NORMAL"
	// SynchronousFull syncs the write-ahead log at every commit: a commit
	// that returned survives a power loss too, at the cost of one fsync
	// per write.
	SynchronousFull Synchronous = "FULL"
)

// Options configure a Store. The zero value of a field means its default
// (see DefaultOptions), so Options{} is valid.
type Options struct {
	// Synchronous is the durability of a commit: SynchronousNormal
	// (default) or SynchronousFull.
	Synchronous Synchronous
	// BusyTimeout is how long a connection waits for a lock held by
	// another process before it fails with SQLITE_BUSY. Within one
	// process writes queue for the single writer connection and never see
	// a busy error. Default 5s.
	BusyTimeout time.Duration
	// MaxReaders is the size of the pool of read-only connections that
	// serve reads concurrently with the writer. Default 4. In-memory
	// databases have no reader pool (see Open).
	MaxReaders int
	// CacheSizeKiB is SQLite's page cache per connection, in KiB.
	// Default 16384 (16 MiB).
	CacheSizeKiB int
	// FeedInterval is how often WatchMessages (the message feed behind
	// parley.Service.Listen) looks for messages committed by other
	// processes: the longest a waiter of this process waits for another
	// process's message, besides one read. Default 100ms.
	FeedInterval time.Duration
	// Now returns the current time; it stamps applied migrations.
	// Default time.Now.
	Now func() time.Time
}

// DefaultOptions returns the options Open uses for the fields left zero.
func DefaultOptions() Options {
	return Options{
		Synchronous:  SynchronousNormal,
		BusyTimeout:  5 * time.Second,
		MaxReaders:   4,
		CacheSizeKiB: 16 << 10,
		FeedInterval: 100 * time.Millisecond,
		Now:          time.Now,
	}
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Synchronous == "" {
		o.Synchronous = d.Synchronous
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = d.BusyTimeout
	}
	if o.MaxReaders == 0 {
		o.MaxReaders = d.MaxReaders
	}
	if o.CacheSizeKiB == 0 {
		o.CacheSizeKiB = d.CacheSizeKiB
	}
	if o.FeedInterval == 0 {
		o.FeedInterval = d.FeedInterval
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	return o
}

// ErrInvalidOptions is returned (wrapped) by Options.Validate and Open for
// options out of range. Check it with errors.Is.
var ErrInvalidOptions = errors.New("sqlite: invalid options")

// Validate reports the first field of o that is out of range, after zero
// fields take their defaults. The error wraps ErrInvalidOptions.
func (o Options) Validate() error {
	o = o.withDefaults()
	switch {
	case o.Synchronous != SynchronousNormal && o.Synchronous != SynchronousFull:
		return fmt.Errorf("%w: Synchronous %q: want %q or %q", ErrInvalidOptions, o.Synchronous, SynchronousNormal, SynchronousFull)
	case o.BusyTimeout < time.Millisecond:
		return fmt.Errorf("%w: BusyTimeout %v: want at least 1ms", ErrInvalidOptions, o.BusyTimeout)
	case o.MaxReaders < 1 || o.MaxReaders > 64:
		return fmt.Errorf("%w: MaxReaders %d: want 1..64", ErrInvalidOptions, o.MaxReaders)
	case o.CacheSizeKiB < 64:
		return fmt.Errorf("%w: CacheSizeKiB %d: want at least 64", ErrInvalidOptions, o.CacheSizeKiB)
	case o.FeedInterval < time.Millisecond:
		return fmt.Errorf("%w: FeedInterval %v: want at least 1ms", ErrInvalidOptions, o.FeedInterval)
	}
	return nil
}
