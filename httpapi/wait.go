package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxWait caps how long a long poll waits for a new message.
const DefaultMaxWait = 30 * time.Second

// ParseWait reads a wait given in whole seconds ("" is no wait). Values
// above max are lowered to it. It reports false for anything but a
// non-negative integer.
func ParseWait(v string, max time.Duration) (time.Duration, bool) {
	if v == "" {
		return 0, true
	}
	if !allDigits(v) {
		return 0, false
	}
	v = strings.TrimLeft(v, "0")
	if len(v) > 6 { // a million seconds or more: capped like any other
		return max, true
	}
	n, _ := strconv.Atoi(v) // "" (all zeros) is 0
	return min(time.Duration(n)*time.Second, max), true
}

// AllowWait lets the response to a request that waits up to wait be
// written after the wait: it moves the connection's write deadline (a
// server's WriteTimeout) to wait plus 10 seconds from now, when the
// ResponseWriter supports it (http.ResponseController).
func AllowWait(w http.ResponseWriter, wait time.Duration) {
	if wait > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 10*time.Second))
	}
}

// allDigits reports whether s is a non-empty string of decimal digits.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
