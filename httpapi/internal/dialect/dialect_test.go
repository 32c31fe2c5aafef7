package dialect

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
)

func TestPositiveInt(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "42": 42, "9223372036854775807": 1<<63 - 1} {
		n, ok := PositiveInt(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, n, in)
	}
	for _, in := range []string{"", "0", "-1", "+1", "1e3", "9223372036854775808", "12345678901234567890", "x"} {
		_, ok := PositiveInt(in)
		assert.False(t, ok, in)
	}
}

func TestSkip(t *testing.T) {
	// A listing of n items over cursors "c<offset>".
	listing := func(n int, calls *int) func(p parley.PageRequest) (int, string, error) {
		return func(p parley.PageRequest) (int, string, error) {
			*calls++
			off := 0
			if p.Cursor != "" {
				_, _ = fmt.Sscanf(p.Cursor, "c%d", &off)
			}
			got := min(p.Limit, n-off)
			if off+got < n {
				return got, fmt.Sprintf("c%d", off+got), nil
			}
			return got, "", nil
		}
	}
	t.Run("WithinTheListing", func(t *testing.T) {
		calls := 0
		cur, end, err := Skip(250, 100, listing(1000, &calls))
		require.NoError(t, err)
		assert.False(t, end)
		assert.Equal(t, "c250", cur)
		assert.Equal(t, 3, calls)
	})
	t.Run("NothingToSkip", func(t *testing.T) {
		calls := 0
		cur, end, err := Skip(0, 100, listing(10, &calls))
		require.NoError(t, err)
		assert.False(t, end)
		assert.Empty(t, cur)
		assert.Zero(t, calls)
	})
	t.Run("PastTheEnd", func(t *testing.T) {
		for _, skip := range []int{10, 11, 500} {
			calls := 0
			_, end, err := Skip(skip, 100, listing(10, &calls))
			require.NoError(t, err)
			assert.True(t, end, skip)
		}
	})
	t.Run("Error", func(t *testing.T) {
		boom := errors.New("boom")
		_, _, err := Skip(5, 100, func(parley.PageRequest) (int, string, error) { return 0, "", boom })
		assert.ErrorIs(t, err, boom)
	})
}

func TestClassify(t *testing.T) {
	assert.Equal(t, http.StatusNotFound, Classify(fmt.Errorf("x: %w", parley.ErrNotFound)).Status)
	assert.Equal(t, http.StatusForbidden, Classify(&parley.PermissionError{Reason: "no"}).Status)
	assert.Equal(t, http.StatusConflict, Classify(parley.ErrConversationClosed).Status)
	assert.Equal(t, http.StatusInternalServerError, Classify(errors.New("disk on fire")).Status)
	p := Classify(errors.Join(&parley.ValidationError{Field: "a", Reason: "is required"}, &parley.ValidationError{Field: "b", Reason: "must be short"}))
	assert.Equal(t, http.StatusBadRequest, p.Status)
	assert.Equal(t, map[string][]string{"a": {"is required"}, "b": {"must be short"}}, p.Fields)
	own := &Problem{Status: http.StatusTeapot, Message: "tea"}
	assert.Same(t, own, Classify(fmt.Errorf("wrapped: %w", own)))
}

func TestDecodeObject(t *testing.T) {
	for _, body := range []string{"", "  ", "{", `{"a":1}x`, "[]", `"s"`, "null", "1"} {
		_, err := DecodeObject([]byte(body), false)
		var p *Problem
		require.ErrorAs(t, err, &p, body)
		assert.Equal(t, http.StatusBadRequest, p.Status, body)
	}
	o, err := DecodeObject([]byte(`{"Message": "hi", "n": 5, "s": "7", "bad": 1.5, "neg": -2, "id": 12, "sid": "ab", "x": true}`), true)
	require.NoError(t, err)
	assert.Equal(t, "hi", o.String("message"), "case-insensitive")
	assert.Equal(t, int64(5), o.Int("n"))
	assert.Equal(t, int64(7), o.Int("s"))
	assert.Equal(t, "12", o.ID("id"))
	assert.Equal(t, "ab", o.ID("sid"))
	assert.Zero(t, o.Int("bad"))
	assert.Zero(t, o.Int("neg"))
	assert.Empty(t, o.String("x"))
	assert.Empty(t, o.ID("x"))
	assert.False(t, o.Has("missing"))
	assert.Equal(t, []TypeError{{"bad", WantInteger}, {"neg", WantInteger}, {"x", WantString}, {"x", WantID}}, o.Errs)

	strict, err := DecodeObject([]byte(`{"Message": "hi"}`), false)
	require.NoError(t, err)
	assert.False(t, strict.Has("message"), "case-sensitive")
}
