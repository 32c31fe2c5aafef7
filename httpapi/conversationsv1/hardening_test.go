package conversationsv1_test

import (
	"testing"

	"github.com/parleyhq/parley/httpapi/internal/kittest"
)

// TestE2E_Hardening runs the kit's hardening rules against seed 000.
func TestE2E_Hardening(t *testing.T) { kittest.Hardening(t, harness()) }
