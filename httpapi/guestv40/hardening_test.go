package guestv40_test

import (
	"testing"

	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// TestGuest_Hardening runs the kit's hardening rules against seed 001.
func TestGuest_Hardening(t *testing.T) { kittest.Hardening(t, harness()) }
