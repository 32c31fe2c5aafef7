// Package wire holds the small parsing helpers that the HTTP kit and its
// dialects share and that programs have no use for.
package wire

import (
	"strconv"
	"unicode/utf8"
)

// Digits reports whether s is a non-empty string of decimal digits.
func Digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// PositiveInt parses a positive decimal integer written with digits only.
func PositiveInt(s string) (int64, bool) {
	if !Digits(s) || len(s) > 19 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n > 0
}

// Clip shortens s to at most n bytes, on a character boundary, for an
// error message or a log.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
