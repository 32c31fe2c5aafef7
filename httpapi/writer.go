package httpapi

import (
	"net/http"
)

// responseWriter is the ResponseWriter every route and middleware sees:
// it records the status for the log, runs the hooks registered with
// BeforeWriteHeader just before the header is sent, and unwraps to the
// server's writer so that http.ResponseController reaches the connection
// (flushes, deadlines).
type responseWriter struct {
	http.ResponseWriter
	status int
	hooks  []func(status int, h http.Header)
}

var _ http.ResponseWriter = (*responseWriter)(nil)

func (w *responseWriter) WriteHeader(status int) {
	if w.status != 0 {
		return
	}
	w.status = status
	hooks := w.hooks
	w.hooks = nil
	for _, fn := range hooks {
		fn(status, w.Header())
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends buffered data, writing the header first if needed.
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap returns the server's writer, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// BeforeWriteHeader registers fn to run just before the response header is
// sent, with the status and the header, which fn may change: a middleware
// uses it to add a header that depends on what the route did (for example
// a consistency token after a write). It reports false when w is not (and
// does not wrap) a writer of this package, or when the header was already
// sent.
func BeforeWriteHeader(w http.ResponseWriter, fn func(status int, h http.Header)) bool {
	for w != nil {
		if rw, ok := w.(*responseWriter); ok {
			if rw.status != 0 {
				return false
			}
			rw.hooks = append(rw.hooks, fn)
			return true
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
	return false
}
