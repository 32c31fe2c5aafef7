package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"conversation already exists",
		"the user has 1 unread message(s)",
		"datasource 1: Yes, all four ports.",
		"parley: a data source can't reply to a review",
		"public questions: 1",
		"public reviews: 1",
		"[notify datasource 1: conversation.started]",
		"[notify user 545382: message.posted]",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReadme runs the README's program twice over one file: the second
// run finds the first run's conversation and answers it again.
func TestReadme(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parley.db")
	var out strings.Builder
	for range 2 {
		if err := readme(context.Background(), path, &out); err != nil {
			t.Fatal(err)
		}
	}
	if want := "conversation 1 has 2 messages\nconversation 1 has 3 messages\n"; out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}
}

// TestReadmeInStep: the README's Go snippet is readme's body.
func TestReadmeInStep(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "\t// README:begin\n")
	if !ok {
		t.Fatal("no README:begin in main.go")
	}
	body, _, ok = strings.Cut(body, "\t// README:end\n")
	if !ok {
		t.Fatal("no README:end in main.go")
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "\t")
	}
	snippet := strings.Join(lines, "\n") + "\n"
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+snippet+"```\n") {
		t.Errorf("README.md does not show readme's body as a Go block:\n%s", snippet)
	}
}
