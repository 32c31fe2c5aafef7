package dialect

import (
	"github.com/parleyhq/parley"
)

// AllDigits reports whether s is a non-empty string of decimal digits.
func AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Skip returns the cursor at which a listing continues after its first
// skip items, for clients that ask for pages by number: it follows the
// listing's cursors in pages of at most step items. list fetches one page
// and returns how many items it had and its next cursor. end is true when
// the listing has no more than skip items.
func Skip(skip, step int, list func(p parley.PageRequest) (n int, next string, err error)) (cursor string, end bool, err error) {
	for skip > 0 {
		take := min(skip, step)
		n, next, err := list(parley.PageRequest{Limit: take, Cursor: cursor})
		if err != nil {
			return "", false, err
		}
		if next == "" || n < take {
			return "", true, nil
		}
		skip -= n
		cursor = next
	}
	return cursor, false, nil
}
