package httpapi

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/parleyhq/parley/httpapi/internal/wire"
)

// FlexID is an id as seed 000's clients send it: a JSON string ("545382")
// or a JSON integer (545382). Parley keeps ids as strings. A FlexID is
// written as a JSON number when it is a canonical decimal integer (no sign,
// no leading zero) that a JSON number holds exactly (at most 2^53-1), as the
// seed's responses do, and as a JSON string otherwise.
type FlexID string

// errFlexID is the reason a FlexID does not decode.
var errFlexID = errors.New("expected a string or an integer id")

// maxExactJSONInt is the largest integer every JSON reader holds exactly.
const maxExactJSONInt = 1<<53 - 1

// UnmarshalJSON accepts a JSON string, a JSON integer written with digits
// only, or null (the empty id).
func (id *FlexID) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*id = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errFlexID
		}
		*id = FlexID(s)
		return nil
	case len(b) > 0 && wire.Digits(string(b)):
		*id = FlexID(b)
		return nil
	}
	return errFlexID
}

// AppendJSON appends the id as MarshalJSON writes it.
func (id FlexID) AppendJSON(b []byte) []byte {
	if id.numeric() {
		return append(b, id...)
	}
	return wire.AppendString(b, string(id))
}

// MarshalJSON writes the id as a number when it is one, else as a string.
func (id FlexID) MarshalJSON() ([]byte, error) {
	return id.AppendJSON(nil), nil
}

// numeric reports whether id is written as a JSON number.
func (id FlexID) numeric() bool {
	s := string(id)
	if s == "" || !wire.Digits(s) || (len(s) > 1 && s[0] == '0') {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n <= maxExactJSONInt
}
