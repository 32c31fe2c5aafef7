package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// Object is one JSON object's fields, decoded one by one by a dialect.
// Absent and null fields are zero; a field of the wrong type is recorded
// in TypeErrors. With FoldCase, names match without regard to case (as
// ASP.NET binds them).
type Object struct {
	raw      map[string]json.RawMessage
	foldCase bool
	// TypeErrors are the fields that had the wrong JSON type, in the order
	// they were asked for.
	TypeErrors []TypeError
}

// Want is the JSON type a field should have had.
type Want string

// The types fields are decoded as.
const (
	WantString  Want = "string"
	WantInteger Want = "integer"
	WantID      Want = "string or integer"
)

// TypeError is a field of the wrong JSON type.
type TypeError struct {
	Field string // as the request spells it
	Want  Want
}

// The reasons of the problems DecodeObject finds in fields.
const (
	ReasonRepeated = "is given more than once"
	ReasonBadText  = "must be valid UTF-8 text (it has invalid bytes or an unpaired surrogate)"
)

// DecodeObject parses body as one JSON object, strictly: an empty body,
// malformed JSON or another JSON value than an object is CodeMalformed; a
// name given twice (without regard to case with foldCase) is CodeInvalid
// naming it, so that no proxy reads another request than Parley does; a
// string with invalid UTF-8 or an unpaired surrogate escape ("\ud800")
// anywhere in a field's value is CodeInvalid naming the field, rather
// than being replaced with U+FFFD and stored.
func DecodeObject(body []byte, foldCase bool) (*Object, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		p := NewProblem(CodeMalformed)
		p.Message = "The request body is empty: send a JSON object."
		return nil, p
	}
	if !json.Valid(trimmed) {
		p := NewProblem(CodeMalformed)
		p.Message = "The request body is not valid JSON."
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			if syn, ok := err.(*json.SyntaxError); ok {
				p.Message = fmt.Sprintf("The request body is not valid JSON (error at byte %d).", syn.Offset)
			}
		}
		return nil, p
	}
	if trimmed[0] != '{' {
		p := NewProblem(CodeMalformed)
		p.Message = fmt.Sprintf("The request body must be a JSON object, not %s.", jsonKind(trimmed[0]))
		return nil, p
	}
	s := scanner{b: trimmed}
	o := &Object{raw: map[string]json.RawMessage{}, foldCase: foldCase}
	seen := map[string]bool{}
	errs := Fields{}
	s.i++ // {
	for {
		s.ws()
		if s.b[s.i] == '}' {
			break
		}
		rawKey, okKey := s.str()
		var key string
		_ = json.Unmarshal(rawKey, &key)
		if !okKey {
			key = strings.ToValidUTF8(key, "\uFFFD")
		}
		s.ws()
		s.i++ // :
		s.ws()
		start := s.i
		okVal := s.value()
		val := json.RawMessage(s.b[start:s.i])
		id := key
		if foldCase {
			id = strings.ToLower(key)
		}
		switch {
		case !okKey || !okVal:
			errs.Add(wire.Clip(key, 64), ReasonBadText)
		case seen[id]:
			errs.Add(wire.Clip(key, 64), ReasonRepeated)
		}
		seen[id] = true
		o.raw[key] = val
		s.ws()
		if s.b[s.i] == ',' {
			s.i++
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return o, nil
}

// DecodeForm parses body as application/x-www-form-urlencoded fields
// (name=value pairs joined by '&', '+' for a space, %XX escapes) into an
// Object whose fields are strings: a route reads them as it reads a JSON
// object's, and Int and ID accept their digits. It is as strict as
// DecodeObject: an empty body or a malformed escape is CodeMalformed; a
// name given twice (without regard to case with foldCase) is CodeInvalid
// naming it; a name or value whose bytes are not valid UTF-8 is
// CodeInvalid naming the field. A name without '=' has the value "".
func DecodeForm(body []byte, foldCase bool) (*Object, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		p := NewProblem(CodeMalformed)
		p.Message = "The request body is empty: send form fields."
		return nil, p
	}
	o := &Object{raw: map[string]json.RawMessage{}, foldCase: foldCase}
	seen := map[string]bool{}
	errs := Fields{}
	for _, pair := range strings.Split(string(trimmed), "&") {
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(rawKey)
		val, err2 := url.QueryUnescape(rawVal)
		if err1 != nil || err2 != nil {
			p := NewProblem(CodeMalformed)
			p.Message = "The request body is not valid form data (a malformed %-escape)."
			return nil, p
		}
		okKey := utf8.ValidString(key)
		if !okKey {
			key = strings.ToValidUTF8(key, "\uFFFD")
		}
		id := key
		if foldCase {
			id = strings.ToLower(key)
		}
		switch {
		case !okKey || !utf8.ValidString(val):
			errs.Add(wire.Clip(key, 64), ReasonBadText)
		case seen[id]:
			errs.Add(wire.Clip(key, 64), ReasonRepeated)
		}
		seen[id] = true
		v, _ := json.Marshal(val)
		o.raw[key] = v
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if len(o.raw) == 0 {
		p := NewProblem(CodeMalformed)
		p.Message = "The request body is empty: send form fields."
		return nil, p
	}
	return o, nil
}

func jsonKind(first byte) string {
	switch first {
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// scanner walks JSON that json.Valid accepted, checking its strings.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// str consumes a string and returns it with its quotes; ok is false if it
// holds invalid UTF-8 or an unpaired surrogate escape.
func (s *scanner) str() (raw []byte, ok bool) {
	start := s.i
	s.i++ // "
	ok = true
	for {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start:s.i], ok
		case c == '\\':
			if s.b[s.i+1] != 'u' {
				s.i += 2
				continue
			}
			r := hex4(s.b[s.i+2 : s.i+6])
			s.i += 6
			switch {
			case r >= 0xD800 && r < 0xDC00:
				if s.i+6 <= len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
					if lo := hex4(s.b[s.i+2 : s.i+6]); lo >= 0xDC00 && lo < 0xE000 {
						s.i += 6
						continue
					}
				}
				ok = false
			case r >= 0xDC00 && r < 0xE000:
				ok = false
			}
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n == 1 {
				ok = false
			}
			s.i += n
		}
	}
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// value consumes any value; ok is false if a string in it is not valid
// text.
func (s *scanner) value() (ok bool) {
	ok = true
	switch s.b[s.i] {
	case '"':
		_, ok = s.str()
	case '{', '[':
		close := byte('}')
		if s.b[s.i] == '[' {
			close = ']'
		}
		s.i++
		for {
			s.ws()
			if s.b[s.i] == close {
				s.i++
				return ok
			}
			if close == '}' {
				if _, k := s.str(); !k {
					ok = false
				}
				s.ws()
				s.i++ // :
				s.ws()
			}
			if !s.value() {
				ok = false
			}
			s.ws()
			if s.b[s.i] == ',' {
				s.i++
			}
		}
	default: // number, true, false, null
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
	}
	return ok
}

// get returns a field's raw value, or nil if it is absent or null.
func (o *Object) get(name string) json.RawMessage {
	v, ok := o.raw[name]
	if !ok && o.foldCase {
		for k, kv := range o.raw {
			if strings.EqualFold(k, name) {
				v, ok = kv, true
				break
			}
		}
	}
	if !ok || string(v) == "null" {
		return nil
	}
	return v
}

// Has reports whether the field is present and not null.
func (o *Object) Has(name string) bool { return o.get(name) != nil }

// String decodes a string field.
func (o *Object) String(name string) string {
	v := o.get(name)
	if v == nil {
		return ""
	}
	var s string
	if v[0] != '"' || json.Unmarshal(v, &s) != nil {
		o.TypeErrors = append(o.TypeErrors, TypeError{Field: name, Want: WantString})
		return ""
	}
	return s
}

// ID decodes an id given as a JSON string or a JSON integer (see FlexID).
func (o *Object) ID(name string) string {
	v := o.get(name)
	if v == nil {
		return ""
	}
	var id FlexID
	if err := id.UnmarshalJSON(v); err != nil {
		o.TypeErrors = append(o.TypeErrors, TypeError{Field: name, Want: WantID})
		return ""
	}
	return string(id)
}

// Int decodes a positive integer id (of a conversation or a message),
// given as a JSON integer or a string of digits. Zero, negative numbers,
// fractions and other types are type errors.
func (o *Object) Int(name string) int64 {
	v := o.get(name)
	if v == nil {
		return 0
	}
	var id FlexID
	n, ok := int64(0), id.UnmarshalJSON(v) == nil
	if ok {
		n, ok = wire.PositiveInt(string(id))
	}
	if !ok {
		o.TypeErrors = append(o.TypeErrors, TypeError{Field: name, Want: WantInteger})
		return 0
	}
	return n
}
