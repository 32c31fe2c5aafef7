package httpapi

import (
	"fmt"

	"github.com/parleyhq/parley"
)

// followStep is the page size the kit reads with when it follows cursors
// to reach a page by number.
const followStep = 100

// PageByNumber returns page number n (from 1) of size items of a listing
// that pages with cursors: list fetches one page. It is the one place
// where page numbers become cursors, so that every dialect that takes
// page numbers gets the same reach. Today it follows the cursors from the
// first page, in steps of 100 items, and so reaches only the first
// Config.MaxPageDepth items: a deeper page is CodeInvalid on field. A page
// past the end of the listing is empty, with no Next.
func PageByNumber[T any](c *Call, field string, n, size int, withTotal bool, list func(parley.PageRequest) (parley.Page[T], error)) (parley.Page[T], error) {
	if !c.PageReachable(n, size) {
		return parley.Page[T]{}, Invalid(field, fmt.Sprintf(
			"is too deep: pages beyond the first %d items are reached by following the next links", c.h.cfg.MaxPageDepth))
	}
	cursor := ""
	for skip := (n - 1) * size; skip > 0; {
		take := min(skip, followStep)
		pg, err := list(parley.PageRequest{Limit: take, Cursor: cursor})
		if err != nil {
			return parley.Page[T]{}, err
		}
		if pg.Next == "" || len(pg.Items) < take {
			// The listing ends before page n: an empty page, with the
			// total if asked.
			out := parley.Page[T]{Items: []T{}, Total: -1}
			if withTotal {
				last, err := list(parley.PageRequest{Limit: 1, WithTotal: true})
				if err != nil {
					return parley.Page[T]{}, err
				}
				out.Total = last.Total
			}
			return out, nil
		}
		skip -= len(pg.Items)
		cursor = pg.Next
	}
	return list(parley.PageRequest{Limit: size, Cursor: cursor, WithTotal: withTotal})
}

// PageReachable reports whether page n of size items can be asked for by
// number (see PageByNumber).
func (c *Call) PageReachable(n, size int) bool {
	return n >= 1 && int64(n-1)*int64(size) <= int64(c.h.cfg.MaxPageDepth)
}
