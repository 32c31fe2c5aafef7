package wire

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// reference is what encoding/json writes for s without HTML escaping.
func reference(t *testing.T, s string) string {
	t.Helper()
	b, err := Marshal([]byte("x"), s)
	require.NoError(t, err)
	return string(b[1:])
}

func TestAppendString(t *testing.T) {
	cases := []string{
		"", "plain", `"quoted" \ back\slash`, "<a href='x'>&amp;</a>", "tab\tnew\nline\rret\bbs\fff",
		"\x00\x01\x1f\x7f", "é ü 中文 😀", "\u2028\u2029", "bad \xff utf8 \xc3", "\xed\xa0\x80 surrogate",
	}
	for b := range 256 {
		cases = append(cases, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "\"", "\\", "\n", "\x00", "é", "😀", "\u2028", "\xff", "<", "&", " ", "\x7f", "\xe2\x80"}
	for range 2000 {
		var s string
		for range r.IntN(12) {
			s += alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		require.Equal(t, reference(t, s), string(AppendString([]byte("prefix"), s))[len("prefix"):], "%q", s)
	}
	require.Equal(t, "null", string(AppendOptString(nil, nil)))
	s := "x<y"
	require.Equal(t, `"x<y"`, string(AppendOptString(nil, &s)))
}

func TestMarshal(t *testing.T) {
	b, err := Marshal([]byte("["), map[string]any{"a": "<&>", "b": []int{1}})
	require.NoError(t, err)
	require.Equal(t, `[{"a":"<&>","b":[1]}`, string(b), "compact, no HTML escaping, no newline")
	b, err = Marshal([]byte("["), func() {})
	require.Error(t, err)
	require.Equal(t, "[", string(b), "nothing appended on error")
}
