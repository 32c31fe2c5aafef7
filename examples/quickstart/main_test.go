package main

import (
	"context"
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
		"DataSource can't reply to a review.",
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
