package dialect

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/message"
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
	if !AllDigits(v) {
		return 0, false
	}
	v = strings.TrimLeft(v, "0")
	if len(v) > 6 { // a million seconds or more: capped like any other
		return max, true
	}
	n, _ := strconv.Atoi(v) // "" (all zeros) is 0
	return min(time.Duration(n)*time.Second, max), true
}

// AllDigits reports whether s is a non-empty string of decimal digits.
func AllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// NewMessages returns up to limit messages of a conversation that come
// after the message afterMessageID (0: from the first), oldest first. With
// wait 0 it answers at once (parley.Service.Poll). Otherwise it answers as
// soon as there are some (parley.Service.Wait, which costs no store query
// while nothing is posted), or with an empty list once wait has passed.
// When ctx itself ends, its error is returned.
func NewMessages(ctx context.Context, svc *parley.Service, a parley.Actor, conversationID, afterMessageID int64, limit int, wait time.Duration) ([]message.Message, error) {
	if wait <= 0 {
		return svc.Poll(ctx, a, conversationID, afterMessageID, limit)
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	msgs, err := svc.Wait(wctx, a, conversationID, afterMessageID, limit)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return []message.Message{}, nil
	}
	return msgs, err
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
