// Package screen holds the built-in screeners of parley.Options.Screener.
//
// Contacts finds contact details in messages (email addresses, phone
// numbers, links) with their usual obfuscations ("name at domain dot
// com", digits spaced or dotted apart) and masks them, rejects the
// message or flags it for the operators, per channel: marketplaces mask
// them to keep deals on the platform.
package screen

import (
	"context"
	"regexp"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/moderation"
)

// DefaultMask replaces each contact detail that Contacts masks.
const DefaultMask = "[contact removed]"

// Rules configure Contacts for a channel. The zero Rules mask every kind
// of contact detail with DefaultMask.
type Rules struct {
	// Off turns screening off.
	Off bool
	// Action is what a text with a contact detail gets: parley.Mask (the
	// zero Decision parley.Accept means Mask here), parley.Reject or
	// parley.Flag.
	Action parley.Decision
	// AllowEmails, AllowPhones and AllowURLs leave that kind alone.
	AllowEmails, AllowPhones, AllowURLs bool
	// Mask replaces each detail; "" is DefaultMask.
	Mask string
}

// Contacts is a parley.Screener that finds contact details. It is safe
// for concurrent use; the zero Contacts masks every contact detail in
// every channel.
type Contacts struct {
	// Default applies to the channels that Channels does not name.
	Default Rules
	// Channels are the rules of particular channels.
	Channels map[string]Rules
}

var _ parley.Screener = Contacts{}

// The patterns. RE2 has no look-around: word bounds are checked by hand
// where they matter (see find).
var (
	// An email address, with "@" written as "at" and "." as "dot", in
	// brackets or parentheses or not, and spaces around them.
	atSign  = `(?:\s*@\s*|\s*[\[\(\{<]\s*(?:at|@)\s*[\]\)\}>]\s*|\s+(?:at|AT|At)\s+)`
	dotSign = `(?:\s*\.\s*|\s*[\[\(\{<]\s*(?:dot|\.)\s*[\]\)\}>]\s*|\s+(?:dot|DOT|Dot)\s+)`
	emailRE = regexp.MustCompile(`[\p{L}\p{N}._%+-]+` + atSign + `[\p{L}\p{N}-]+(?:` + dotSign + `[\p{L}\p{N}-]+)*` + dotSign + `\p{L}{2,24}\b`)

	// A link: a scheme or www, or a bare domain with a common top-level
	// domain (also written with "dot").
	urlRE = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[^\s<>"]+|\b[a-z0-9][a-z0-9-]*(?:` + dotSign + `[a-z0-9-]+)*` + dotSign +
		`(?:com|net|org|info|biz|io|co|me|app|shop|store|online|site|xyz|tr|uk|de|fr|ru|eu|us|ly|gl|be|to)\b(?:/[^\s<>"]*)?|\bwww` + dotSign + `[^\s<>"]+`)

	// A phone number: a run of digits with spaces, dots, dashes, slashes
	// or parentheses between them, optionally after + or 00; find keeps
	// those with 9 to 15 digits.
	phoneRE = regexp.MustCompile(`(?:\+|\b00)?\(?\d(?:[\s./\-()]{0,3}\d){6,18}`)
)

// rules returns the rules of channel.
func (c Contacts) rules(channel string) Rules {
	if r, ok := c.Channels[channel]; ok {
		return r
	}
	return c.Default
}

// Screen implements parley.Screener.
func (c Contacts) Screen(_ context.Context, in parley.ScreenInput) (parley.Verdict, error) {
	r := c.rules(in.Channel)
	if r.Off {
		return parley.Verdict{Decision: parley.Accept}, nil
	}
	spans := find(in.Text, r)
	if len(spans) == 0 {
		return parley.Verdict{Decision: parley.Accept}, nil
	}
	const why = "must not contain contact details (email addresses, phone numbers or links)"
	switch r.Action {
	case parley.Reject:
		return parley.Verdict{Decision: parley.Reject, Reason: why}, nil
	case parley.Flag:
		return parley.Verdict{Decision: parley.Flag, Reason: "contact details", ReportReason: moderation.ReasonContactDetails}, nil
	}
	mask := r.Mask
	if mask == "" {
		mask = DefaultMask
	}
	return parley.Verdict{Decision: parley.Mask, Text: apply(in.Text, spans, mask)}, nil
}

// Find returns the contact details that the zero Rules find in text, in
// order: what Contacts masks.
func Find(text string) []string {
	var out []string
	for _, s := range find(text, Rules{}) {
		out = append(out, text[s[0]:s[1]])
	}
	return out
}

// find returns the byte spans of the contact details in text, sorted and
// merged where they overlap.
func find(text string, r Rules) [][2]int {
	var spans [][2]int
	add := func(re *regexp.Regexp, keep func(string) bool) {
		for _, m := range re.FindAllStringIndex(text, -1) {
			if keep == nil || keep(text[m[0]:m[1]]) {
				spans = append(spans, [2]int{m[0], m[1]})
			}
		}
	}
	if !r.AllowEmails {
		add(emailRE, nil)
	}
	if !r.AllowURLs {
		add(urlRE, nil)
	}
	if !r.AllowPhones {
		add(phoneRE, func(s string) bool {
			n := 0
			for i := 0; i < len(s); i++ {
				if s[i] >= '0' && s[i] <= '9' {
					n++
				}
			}
			return n >= 9 && n <= 15
		})
	}
	if len(spans) == 0 {
		return nil
	}
	// Sort by start, then merge overlaps.
	for i := 1; i < len(spans); i++ {
		for j := i; j > 0 && spans[j][0] < spans[j-1][0]; j-- {
			spans[j], spans[j-1] = spans[j-1], spans[j]
		}
	}
	merged := spans[:1]
	for _, s := range spans[1:] {
		last := &merged[len(merged)-1]
		if s[0] <= last[1] {
			last[1] = max(last[1], s[1])
			continue
		}
		merged = append(merged, s)
	}
	return merged
}

// apply replaces each span of text with mask.
func apply(text string, spans [][2]int, mask string) string {
	var b strings.Builder
	at := 0
	for _, s := range spans {
		b.WriteString(text[at:s[0]])
		b.WriteString(mask)
		at = s[1]
	}
	b.WriteString(text[at:])
	return b.String()
}
