package store

import (
	"context"
	"fmt"
	"strconv"
	"sync"
)

// Position is a point in the history of a store's writes: a write at a
// later Position committed after one at an earlier Position. Zero means
// no write. On PostgreSQL it is a WAL LSN.
type Position uint64

// String returns p as the token that carries it outside the program: in
// hexadecimal digits.
func (p Position) String() string { return strconv.FormatUint(uint64(p), 16) }

// ParsePosition reads a Position from its String form. An empty string is
// the zero Position.
func ParsePosition(s string) (Position, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 16 {
		return 0, fmt.Errorf("consistency token %q: at most 16 hexadecimal digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("consistency token %q: not hexadecimal digits", s)
	}
	return Position(v), nil
}

// Session is the latest Position one caller (a user's browser, a request
// chain) has written, or has seen and wants its reads to reflect. It is
// safe for concurrent use. The zero Session is ready to use, at Position
// zero.
type Session struct {
	mu  sync.Mutex
	pos Position
}

// NewSession returns a Session at p: a caller's reads through it see
// every write up to p (a token the caller got from an earlier response).
func NewSession(p Position) *Session { return &Session{pos: p} }

// Position returns the Session's Position.
func (s *Session) Position() Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

// Advance moves the Session to p if p is later than its Position, and
// reports whether it moved.
func (s *Session) Advance(p Position) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p <= s.pos {
		return false
	}
	s.pos = p
	return true
}

type sessionKey struct{}

// WithSession returns a context whose calls to a store read their own
// writes through s (see Read-your-writes in the package doc).
func WithSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// SessionFrom returns the Session of ctx, or nil.
func SessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}
