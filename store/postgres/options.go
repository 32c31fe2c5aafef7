package postgres

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure a Store. The zero value of each field means its
// default (see DefaultOptions); Open and New fill the defaults in and call
// Validate.
type Options struct {
	// Schema is the PostgreSQL schema that holds Parley's tables. It is
	// created if missing and quoted as an identifier, so any name up to 63
	// bytes works. Default "parley".
	Schema string

	// MaxRetries is how many times a write is retried after a
	// serialization failure (SQLSTATE 40001) or a deadlock (40P01), after
	// losing a race for an idempotency key, and when a conversation's
	// status changed between the read that a Prepare or Check callback
	// decided on and the write. Default 8; negative is invalid.
	MaxRetries int

	// RetryBackoff is the longest pause before a retry; each pause is a
	// random duration up to RetryBackoff times the attempt number.
	// Default 5ms.
	RetryBackoff time.Duration

	// Replicas are pools on streaming replicas of the database (hot
	// standbys). Listings, message pages and unread totals are read from
	// them, in turn, with read-your-writes for callers that carry a
	// store.Session (see the package doc). The program owns the pools:
	// Close leaves them open. Give them a connect_timeout, so that a
	// replica that cannot be reached is skipped quickly. None: every read
	// goes to the primary, and Sessions are left alone.
	Replicas []*pgxpool.Pool

	// ReplicaWait is how long a read with a Session waits for a replica
	// to replay up to the Session's position before it reads the primary.
	// Default 50ms.
	ReplicaWait time.Duration

	// ReplicaMaxLag is the lag past which a replica is skipped: the time
	// since its last replayed transaction, while WAL it received waits to
	// be replayed. Default 30s.
	ReplicaMaxLag time.Duration

	// ReplicaCheck is how often a replica's lag and health are checked
	// (when reads use it), and how long a check may take. A replica that
	// failed a read is skipped until its next check. Default 1s.
	ReplicaCheck time.Duration
}

// Defaults of Options.
const (
	DefaultSchema        = "parley"
	DefaultMaxRetries    = 8
	DefaultRetryBackoff  = 5 * time.Millisecond
	DefaultReplicaWait   = 50 * time.Millisecond
	DefaultReplicaMaxLag = 30 * time.Second
	DefaultReplicaCheck  = time.Second
)

// maxIdentifierLen is PostgreSQL's NAMEDATALEN-1: longer names are
// silently truncated by the server, so they are refused here.
const maxIdentifierLen = 63

// DefaultOptions returns the Options with every default filled in.
func DefaultOptions() Options {
	return Options{
		Schema:        DefaultSchema,
		MaxRetries:    DefaultMaxRetries,
		RetryBackoff:  DefaultRetryBackoff,
		ReplicaWait:   DefaultReplicaWait,
		ReplicaMaxLag: DefaultReplicaMaxLag,
		ReplicaCheck:  DefaultReplicaCheck,
	}
}

// withDefaults returns o with its zero fields set to their defaults.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Schema == "" {
		o.Schema = d.Schema
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = d.MaxRetries
	}
	if o.RetryBackoff == 0 {
		o.RetryBackoff = d.RetryBackoff
	}
	if o.ReplicaWait == 0 {
		o.ReplicaWait = d.ReplicaWait
	}
	if o.ReplicaMaxLag == 0 {
		o.ReplicaMaxLag = d.ReplicaMaxLag
	}
	if o.ReplicaCheck == 0 {
		o.ReplicaCheck = d.ReplicaCheck
	}
	return o
}

// Validate reports whether o, with its defaults filled in, can be used.
func (o Options) Validate() error {
	o = o.withDefaults()
	var errs []error
	if len(o.Schema) > maxIdentifierLen {
		errs = append(errs, fmt.Errorf("schema name %q is longer than %d bytes", o.Schema, maxIdentifierLen))
	}
	for _, r := range o.Schema {
		if r == 0 {
			errs = append(errs, errors.New("schema name contains a NUL byte"))
			break
		}
	}
	if o.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("MaxRetries %d is negative", o.MaxRetries))
	}
	if o.RetryBackoff < 0 {
		errs = append(errs, fmt.Errorf("RetryBackoff %v is negative", o.RetryBackoff))
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"ReplicaWait", o.ReplicaWait}, {"ReplicaMaxLag", o.ReplicaMaxLag}, {"ReplicaCheck", o.ReplicaCheck}} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("%s %v is negative", d.name, d.d))
		}
	}
	if slices.Contains(o.Replicas, nil) {
		errs = append(errs, errors.New("Replicas holds a nil pool"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("postgres: invalid options: %w", errors.Join(errs...))
	}
	return nil
}
