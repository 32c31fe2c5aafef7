package parley

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/conversation"
)

// textKind selects the rules for a piece of text.
type textKind uint8

const (
	textContent textKind = iota // message content: several lines
	textSubject                 // subject: one line
	textID                      // ids: no spaces
)

// checkText returns why s is not acceptable text of the given kind, or "".
// It rejects invalid UTF-8, NUL and other control characters (newline,
// carriage return and tab are allowed in content only), and the Unicode
// bidirectional embedding, override and isolate characters that can make
// text display differently from what it says.
func checkText(s string, kind textKind) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if kind != textContent {
				return "must be a single line"
			}
		case unicode.IsControl(r):
			return fmt.Sprintf("contains the control character %U", r)
		case isBidiControl(r):
			return fmt.Sprintf("contains the bidirectional control character %U", r)
		case kind == textID && unicode.IsSpace(r):
			return "must not contain spaces"
		}
	}
	return ""
}

// isBidiControl reports whether r is a bidi embedding, override or isolate
// character (U+202A..U+202E, U+2066..U+2069).
func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

func isBlank(s string) bool { return strings.TrimFunc(s, unicode.IsSpace) == "" }

// content validates message content.
func (l Limits) content(f *fieldErrors, field, s string) {
	switch {
	case isBlank(s):
		f.add(field, "must not be empty")
	case len(s) > l.MaxContentBytes:
		f.add(field, fmt.Sprintf("must be at most %d bytes", l.MaxContentBytes))
	case utf8.RuneCountInString(s) > l.MaxContentRunes:
		f.add(field, fmt.Sprintf("must be at most %d characters", l.MaxContentRunes))
	default:
		if why := checkText(s, textContent); why != "" {
			f.add(field, why)
		}
	}
}

// subject validates an optional subject.
func (l Limits) subject(f *fieldErrors, s string) {
	if s == "" {
		return
	}
	if len(s) > 4*l.MaxSubjectRunes || utf8.RuneCountInString(s) > l.MaxSubjectRunes {
		f.add(FieldSubject, fmt.Sprintf("must be at most %d characters", l.MaxSubjectRunes))
		return
	}
	if why := checkText(s, textSubject); why != "" {
		f.add(FieldSubject, why)
	}
}

// id validates a required id.
func (l Limits) id(f *fieldErrors, field, s string) {
	switch {
	case s == "":
		f.add(field, "is required")
	case len(s) > l.MaxIDBytes:
		f.add(field, fmt.Sprintf("must be at most %d bytes", l.MaxIDBytes))
	default:
		if why := checkText(s, textID); why != "" {
			f.add(field, why)
		}
	}
}

// item validates an item link: both fields or neither.
func (l Limits) item(f *fieldErrors, it conversation.Item) {
	switch {
	case !it.Kind.Valid():
		f.add(FieldItemContent, fmt.Sprintf("%q is not a valid choice (product, orderitem)", it.Kind))
	case it.Kind == conversation.ItemNone && it.ID != "":
		f.add(FieldItemContent, "is required with an item id")
	case it.Kind != conversation.ItemNone && it.ID == "":
		f.add(FieldItemID, "is required with an item kind")
	case it.ID != "":
		l.id(f, FieldItemID, it.ID)
	}
}

// language validates an optional BCP 47 language tag (letters, digits and
// hyphens; at most 35 bytes).
func language(f *fieldErrors, s string) {
	if s == "" {
		return
	}
	ok := len(s) <= 35
	for i, part := range strings.Split(s, "-") {
		if part == "" || len(part) > 8 || (i == 0 && len(part) < 2) {
			ok = false
		}
		for _, r := range part {
			if !(r < utf8.RuneSelf && (unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r)))) {
				ok = false
			}
		}
	}
	if !ok {
		f.add(FieldLanguage, "must be a language code such as en or pt-BR")
	}
}

// idempotencyKey validates an optional idempotency key: printable ASCII, at
// most 255 bytes.
func idempotencyKey(f *fieldErrors, s string) {
	if s == "" {
		return
	}
	if len(s) > 255 {
		f.add(FieldIdempotencyKey, "must be at most 255 bytes")
		return
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			f.add(FieldIdempotencyKey, "must be printable ASCII without spaces")
			return
		}
	}
}
