package httpapi

import (
	"net/http"

	"github.com/parleyhq/parley/store"
)

// ConsistencyHeader is the header that carries a caller's consistency
// token, in every dialect: the kit sets it on the response of a write
// (when the store reads from replicas, see store.Session) and honours it
// on any request. A client that sends back the last token it received
// reads its own writes even when its reads are served by a replica that
// lags; without it, reads may be served a little behind. The token is
// opaque to clients (hexadecimal digits); a malformed one is a 400
// CodeMalformed, and nothing is done.
const ConsistencyHeader = "Parley-Consistency"

// withSession returns r with a store.Session in its context, at the
// position of its ConsistencyHeader (zero without one), and registers on
// w the hook that sends the session's position back when the request
// moved it (a write). It returns a Problem for a malformed token.
func withSession(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	pos, err := store.ParsePosition(r.Header.Get(ConsistencyHeader))
	if err != nil {
		p := NewProblem(CodeMalformed)
		p.Message = "The " + ConsistencyHeader + " header is not a consistency token."
		p.Err = err
		return r, p
	}
	sess := store.NewSession(pos)
	BeforeWriteHeader(w, func(_ int, h http.Header) {
		if now := sess.Position(); now > pos {
			h.Set(ConsistencyHeader, now.String())
		}
	})
	return r.WithContext(store.WithSession(r.Context(), sess)), nil
}
