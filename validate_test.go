package parley

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley/conversation"
)

// FuzzValidate checks the validator's promises on any input: accepted
// content is valid UTF-8, not blank, within the limits, and free of
// control characters (but newline, carriage return and tab) and bidi
// controls; and validation never panics.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"", " ", "hello", "Hello, this is the first message.", "a\nb\r\nc\td",
		"a\x00b", "\x1b[31mred", "\xff\xfe", "abc\u202Etxt.exe", "\u2066x\u2069",
		"ünïcödé ✓ 日本語", strings.Repeat("x", 4001), "\u0085", "\u200f",
		"'; DROP TABLE conversations; --", "<script>alert(1)</script>",
	} {
		f.Add(s, "1", "product", "subject")
	}
	l := DefaultLimits()
	f.Fuzz(func(t *testing.T, content, id, kind, subject string) {
		var fe fieldErrors
		l.content(&fe, FieldMessageContent, content)
		if len(fe) == 0 {
			if !utf8.ValidString(content) || isBlank(content) || len(content) > l.MaxContentBytes ||
				utf8.RuneCountInString(content) > l.MaxContentRunes {
				t.Fatalf("accepted bad content %q", content)
			}
			for _, r := range content {
				if (unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t') || isBidiControl(r) {
					t.Fatalf("accepted %U in %q", r, content)
				}
			}
		}
		fe = nil
		l.subject(&fe, subject)
		if len(fe) == 0 && strings.ContainsAny(subject, "\r\n\x00") {
			t.Fatalf("accepted multi-line subject %q", subject)
		}
		fe = nil
		l.item(&fe, conversation.Item{Kind: conversation.ItemKind(kind), ID: id})
		if len(fe) == 0 {
			k := conversation.ItemKind(kind)
			if !k.Valid() || (k == conversation.ItemNone) != (id == "") || len(id) > l.MaxIDBytes || strings.ContainsFunc(id, unicode.IsSpace) {
				t.Fatalf("accepted item %q/%q", kind, id)
			}
		}
		for _, e := range fe {
			var ve *ValidationError
			if !strings.Contains(e.Error(), ":") || !asValidation(e, &ve) || ve.Reason == "" {
				t.Fatalf("bad error %v", e)
			}
		}
	})
}

func asValidation(err error, target **ValidationError) bool {
	ve, ok := err.(*ValidationError)
	*target = ve
	return ok
}

func TestLanguage(t *testing.T) {
	for _, ok := range []string{"", "en", "pt-BR", "zh-Hant-TW", "tr"} {
		var fe fieldErrors
		language(&fe, ok)
		if len(fe) != 0 {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"e", "en_US", "en-", "-en", "english!", "1e", strings.Repeat("a-", 20) + "a", "日本"} {
		var fe fieldErrors
		language(&fe, bad)
		if len(fe) != 1 {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHub(t *testing.T) {
	h := newHub()
	ch1, cancel1 := h.subscribe(7)
	ch2, cancel2 := h.subscribe(7)
	_, cancel3 := h.subscribe(8)
	if n := h.waiting(7); n != 2 {
		t.Fatalf("waiting(7) = %d", n)
	}
	h.publish(7)
	for _, ch := range []<-chan struct{}{ch1, ch2} {
		select {
		case <-ch:
		default:
			t.Fatal("publish did not wake a waiter")
		}
	}
	cancel1()
	cancel2()
	cancel2() // idempotent
	if n := h.waiting(7); n != 0 {
		t.Fatalf("waiting(7) after publish = %d", n)
	}
	ch4, cancel4 := h.subscribe(7)
	select {
	case <-ch4:
		t.Fatal("a new waiter was woken by an old publish")
	default:
	}
	cancel4()
	cancel3()
	if len(h.conns) != 0 {
		t.Fatalf("hub leaks %d entries", len(h.conns))
	}
}
