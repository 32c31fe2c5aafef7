package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// ErrInvalidHeader is the error a *HeaderError unwraps to. Check it with
// errors.Is.
var ErrInvalidHeader = errors.New("email: invalid header value")

// HeaderError reports a header value or an address that cannot be put in
// a message, such as one containing a line break that would start a
// header of its own.
type HeaderError struct {
	Field  string // the header: "Subject", "To", "From", ...
	Reason string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("email: invalid %s header: %s", e.Field, e.Reason)
}

// Unwrap returns ErrInvalidHeader.
func (e *HeaderError) Unwrap() error { return ErrInvalidHeader }

// checkHeader rejects a value that contains CR, LF or NUL.
func checkHeader(field, value string) error {
	if i := strings.IndexAny(value, "\r\n\x00"); i >= 0 {
		return &HeaderError{Field: field, Reason: fmt.Sprintf("contains control character %q", value[i])}
	}
	return nil
}

// header holds the values of a message's headers.
type header struct {
	from, to mail.Address
	subject  string
	date     time.Time
	key      string // the notification's idempotency key
}

// maxSubject is the longest subject accepted, in bytes before encoding.
const maxSubject = 2000

// build returns the message with the given headers and a
// multipart/alternative body of text and html, each UTF-8 and
// quoted-printable, with CRLF line ends.
func build(h header, text, html string) ([]byte, error) {
	for _, v := range []struct{ field, value string }{
		{"From", h.from.Name}, {"From", h.from.Address},
		{"To", h.to.Name}, {"To", h.to.Address},
		{"Subject", h.subject},
		{"X-Parley-Idempotency-Key", h.key},
	} {
		if err := checkHeader(v.field, v.value); err != nil {
			return nil, err
		}
	}
	if len(h.subject) > maxSubject {
		return nil, &HeaderError{Field: "Subject", Reason: "too long"}
	}
	if h.key == "" || !isPrintableASCII(h.key) {
		return nil, &HeaderError{Field: "X-Parley-Idempotency-Key", Reason: "not printable ASCII"}
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ contentType, content string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(part.content)); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	var msg bytes.Buffer
	field := func(name, value string) { msg.WriteString(name + ": " + value + "\r\n") }
	field("From", h.from.String())
	field("To", h.to.String())
	field("Subject", encodeHeader(h.subject))
	field("Date", h.date.Format(time.RFC1123Z))
	field("Message-ID", messageID(h.key, h.from.Address))
	field("X-Parley-Idempotency-Key", h.key)
	field("MIME-Version", "1.0")
	field("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// encodeHeader encodes a header value with RFC 2047 Q-encoding if it is
// not plain ASCII, folding the encoded words onto lines of their own so no
// line grows past the limit of RFC 5322.
func encodeHeader(v string) string {
	enc := mime.QEncoding.Encode("utf-8", v)
	if enc == v {
		return v
	}
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

// messageID returns the Message-ID of the notification with key sent from
// address from: the same for every delivery of the notification.
func messageID(key, from string) string {
	domain := "parley.invalid"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && isDotAtom(from[at+1:]) {
		domain = from[at+1:]
	}
	local := "parley." + key
	if !isDotAtom(local) {
		sum := sha256.Sum256([]byte(key))
		local = "parley." + hex.EncodeToString(sum[:16])
	}
	return "<" + local + "@" + domain + ">"
}

// isDotAtom reports whether s is made of letters, digits, '-', '_' and
// single dots: safe on either side of a Message-ID's '@'.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for _, c := range []byte(s) {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}
