package httpapi

import (
	"fmt"

	"github.com/parleyhq/parley"
)

// PageByNumber returns page number n (from 1) of size items of a listing:
// list fetches one page. It is the one place where page numbers become the
// Service's requests, so that every dialect that takes page numbers gets
// the same reach: page n is the Service's page at Offset (n-1)*size,
// which equals following Next n-1 times from the first page and is one
// indexed read more than the first page at any depth (see
// parley.PageRequest.Offset). A page past the end
// of the listing is empty, with no Next. A page number below 1 is
// CodeInvalid on field.
func PageByNumber[T any](c *Call, field string, n, size int, withTotal bool, list func(parley.PageRequest) (parley.Page[T], error)) (parley.Page[T], error) {
	if n < 1 {
		return parley.Page[T]{}, Invalid(field, fmt.Sprintf("must be a positive integer, not %d", n))
	}
	return list(parley.PageRequest{Limit: size, Offset: int64(n-1) * int64(size), WithTotal: withTotal})
}
