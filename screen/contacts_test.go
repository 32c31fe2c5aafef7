package screen_test

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/moderation"
	"github.com/parleyhq/parley/screen"
)

// contactCases are texts with contact details and what masking leaves.
var contactCases = []struct{ in, want string }{
	{"write to ada@example.com please", "write to [contact removed] please"},
	{"ADA.Lovelace+shop@mail.example.co.uk", "[contact removed]"},
	{"ada at example dot com", "[contact removed]"},
	{"ada [at] example [dot] com", "[contact removed]"},
	{"ada(at)example(dot)com", "[contact removed]"},
	{"ada @ example . com", "[contact removed]"},
	{"ada {at} gmail {dot} com!", "[contact removed]!"},
	{"ayşe@örnek.com.tr", "[contact removed]"},
	{"call +90 555 123 45 67", "call [contact removed]"},
	{"call 0555 123 45 67 now", "call [contact removed] now"},
	{"0 5 5 5 1 2 3 4 5 6 7", "[contact removed]"},
	{"(555) 123-4567", "[contact removed]"},
	{"555.123.4567", "[contact removed]"},
	{"+1-202-555-0143", "[contact removed]"},
	{"0044 20 7946 0958", "[contact removed]"},
	{"05551234567", "[contact removed]"},
	{"see https://example.com/shop?id=1", "see [contact removed]"},
	{"see www.example.com", "see [contact removed]"},
	{"www dot example dot com", "[contact removed]"},
	{"visit example.shop, cheaper", "visit [contact removed], cheaper"},
	{"buy at example.shop", "[contact removed]"}, // "name at domain.tld" is an address
	{"wa.me/905551234567", "[contact removed]"},
	{"example dot com", "[contact removed]"},
	{"mail ada@example.com or call 0555 123 45 67", "mail [contact removed] or call [contact removed]"},
}

// cleanCases have no contact details.
var cleanCases = []string{
	"Is it still available in size M?",
	"It costs 1.299,90 TL and ships in 3-5 days.",
	"Delivered on 2023-07-19 at 10:30.",
	"Order 12345678 arrived.",
	"I am at home, look at it.",
	"The 55 inch model, 4K, 120 Hz.",
	"",
}

func screenText(t *testing.T, c screen.Contacts, channel, text string) parley.Verdict {
	t.Helper()
	v, err := c.Screen(context.Background(), parley.ScreenInput{Channel: channel, Field: parley.FieldMessageContent, Text: text})
	require.NoError(t, err)
	return v
}

func TestContacts_Masks(t *testing.T) {
	var c screen.Contacts
	for _, tc := range contactCases {
		v := screenText(t, c, "1", tc.in)
		assert.Equal(t, parley.Mask, v.Decision, tc.in)
		assert.Equal(t, tc.want, v.Text, tc.in)
		assert.Equal(t, parley.Accept, screenText(t, c, "1", v.Text).Decision, "the masked text is clean: %q", v.Text)
	}
	for _, text := range cleanCases {
		v := screenText(t, c, "1", text)
		assert.Equal(t, parley.Accept, v.Decision, "%q: found %q", text, screen.Find(text))
	}
}

func TestContacts_PerChannel(t *testing.T) {
	c := screen.Contacts{
		Default: screen.Rules{Mask: "***"},
		Channels: map[string]screen.Rules{
			"strict": {Action: parley.Reject},
			"review": {Action: parley.Flag},
			"off":    {Off: true},
			"links":  {AllowURLs: true, AllowEmails: true},
		},
	}
	text := "mail ada@example.com, see example.com or call 0555 123 45 67"
	assert.Equal(t, "mail ***, see *** or call ***", screenText(t, c, "other", text).Text)
	v := screenText(t, c, "strict", text)
	assert.Equal(t, parley.Reject, v.Decision)
	assert.NotEmpty(t, v.Reason)
	v = screenText(t, c, "review", text)
	assert.Equal(t, parley.Flag, v.Decision)
	assert.Equal(t, moderation.ReasonContactDetails, v.ReportReason)
	assert.Equal(t, parley.Accept, screenText(t, c, "off", text).Decision)
	assert.Equal(t, "mail ada@example.com, see example.com or call [contact removed]", screenText(t, c, "links", text).Text)
}

func FuzzContacts(f *testing.F) {
	for _, tc := range contactCases {
		f.Add(tc.in)
	}
	for _, text := range cleanCases {
		f.Add(text)
	}
	var c screen.Contacts
	f.Fuzz(func(t *testing.T, text string) {
		v, err := c.Screen(context.Background(), parley.ScreenInput{Channel: "1", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		switch v.Decision {
		case parley.Accept:
			if len(screen.Find(text)) != 0 {
				t.Fatalf("%q accepted with contact details", text)
			}
		case parley.Mask:
			if utf8.ValidString(text) && !utf8.ValidString(v.Text) {
				t.Fatalf("masking %q made invalid UTF-8 %q", text, v.Text)
			}
			if !strings.Contains(v.Text, screen.DefaultMask) {
				t.Fatalf("masked %q without a mask: %q", text, v.Text)
			}
		default:
			t.Fatalf("unexpected decision %d", v.Decision)
		}
	})
}
