package parley

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"

	"github.com/parleyhq/parley/store"
)

// Cursors are opaque to clients: a kind byte, the keyset position as
// varints, and 8 bytes of HMAC-SHA256 (keyed with Options.CursorSecret) so
// that an altered cursor is rejected with ErrInvalidCursor.

const (
	cursorConversations byte = 'c'
	cursorMessages      byte = 'm'
	cursorReports       byte = 'r'
	cursorAudit         byte = 'a'
	cursorMACSize            = 8
)

func (s *Service) sealCursor(kind byte, vals ...int64) string {
	b := []byte{kind}
	for _, v := range vals {
		b = binary.AppendVarint(b, v)
	}
	b = append(b, s.cursorMAC(b)...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Service) cursorMAC(b []byte) []byte {
	m := hmac.New(sha256.New, s.opts.CursorSecret)
	m.Write(b)
	return m.Sum(nil)[:cursorMACSize]
}

// openCursor decodes a cursor of the given kind holding n values.
func (s *Service) openCursor(c string, kind byte, n int) ([]int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 1+cursorMACSize || b[0] != kind {
		return nil, ErrInvalidCursor
	}
	body, mac := b[:len(b)-cursorMACSize], b[len(b)-cursorMACSize:]
	if !hmac.Equal(mac, s.cursorMAC(body)) {
		return nil, ErrInvalidCursor
	}
	vals := make([]int64, 0, n)
	rest := body[1:]
	for range n {
		v, k := binary.Varint(rest)
		if k <= 0 {
			return nil, ErrInvalidCursor
		}
		vals = append(vals, v)
		rest = rest[k:]
	}
	if len(rest) != 0 {
		return nil, ErrInvalidCursor
	}
	return vals, nil
}

func (s *Service) conversationCursor(c string) (*store.ConversationCursor, error) {
	if c == "" {
		return nil, nil
	}
	v, err := s.openCursor(c, cursorConversations, 2)
	if err != nil {
		return nil, err
	}
	return &store.ConversationCursor{LastMessageAt: time.UnixMicro(v[0]).UTC(), ID: v[1]}, nil
}

func (s *Service) messageCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	v, err := s.openCursor(c, cursorMessages, 1)
	if err != nil {
		return 0, err
	}
	if v[0] <= 0 {
		return 0, ErrInvalidCursor
	}
	return v[0], nil
}

// idCursor opens a cursor of the given kind that holds the id of the last
// item of a page listed by ascending id (reports, audit entries).
func (s *Service) idCursor(c string, kind byte) (int64, error) {
	if c == "" {
		return 0, nil
	}
	v, err := s.openCursor(c, kind, 1)
	if err != nil {
		return 0, err
	}
	if v[0] <= 0 {
		return 0, ErrInvalidCursor
	}
	return v[0], nil
}
