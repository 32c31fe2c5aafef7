package wire

import (
	"testing"

	"github.com/stretchr/testify/assert"
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

func TestClip(t *testing.T) {
	assert.Equal(t, "ab", Clip("abc", 2))
	assert.Equal(t, "a", Clip("aé", 2), "never half a character")
	assert.Equal(t, "abc", Clip("abc", 5))
}
