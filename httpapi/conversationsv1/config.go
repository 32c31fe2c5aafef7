package conversationsv1

import (
	"fmt"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/httpapi"
)

// Defaults applied to the zero fields of Options.
const (
	// DefaultMaxBodyBytes is the largest request body accepted (1 MiB)
	// when the kit's Config names no limit; a larger one is answered 413.
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMessageSetSize is how many messages each conversation of a
	// listing carries in its message_set.
	DefaultMessageSetSize = 10
	// DefaultPageSize is the page size of a listing whose request names
	// none.
	DefaultPageSize = 20
	// MaxPageSize caps the page_size (or limit) query parameter; larger
	// values are lowered to it.
	MaxPageSize = 100
)

// Options configure seed 000's dialect. All are optional. The user, data
// source and item objects that responses embed come from the Service's
// World (parley.Options.World); without it, or for an id it does not
// know, an object carries only its id.
type Options struct {
	// PublicChannel is the channel that /public-questions/ and
	// /public-reviews/ list. Empty: the client names it with the channel
	// query parameter, which is then required.
	PublicChannel string

	// MessageSetSize is how many of its newest messages each conversation
	// of a listing carries, oldest first; 0 means DefaultMessageSetSize.
	// At most MaxPageSize.
	MessageSetSize int
}

// withDefaults validates o (and that svc is set) and fills its zero
// fields.
func (o Options) withDefaults(svc *parley.Service) (Options, error) {
	var errs []error
	if o.MessageSetSize < 0 || o.MessageSetSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("MessageSetSize must be between 0 and %d", MaxPageSize))
	}
	if o.MessageSetSize == 0 {
		o.MessageSetSize = DefaultMessageSetSize
	}
	return o, httpapi.CheckOptions("conversationsv1", svc, errs...)
}
