package chatv2_test

import (
	"testing"

	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// TestChat_Hardening runs the kit's hardening rules against seed 002.
func TestChat_Hardening(t *testing.T) { kittest.Hardening(t, harness()) }
