package httpapi

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseWait(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"000", 0, true}, {"5", 5 * time.Second, true}, {"30", 30 * time.Second, true},
		{"31", 30 * time.Second, true}, {"99999999999999999999999", 30 * time.Second, true}, {"0005", 5 * time.Second, true},
		{"-1", 0, false}, {"1.5", 0, false}, {"soon", 0, false}, {" 5", 0, false}, {"5s", 0, false},
	} {
		got, ok := ParseWait(c.in, 30*time.Second)
		assert.Equal(t, c.ok, ok, c.in)
		assert.Equal(t, c.want, got, c.in)
	}
}
