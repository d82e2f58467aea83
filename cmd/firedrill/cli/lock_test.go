package cli

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/internal/lease"
)

// TestExitCode_ScratchInUse: a refusal by the Lease, from a drill's report
// or wrapped by a restore, is exit 4 with a hint; other errors are not.
func TestExitCode_ScratchInUse(t *testing.T) {
	ctx := context.Background()
	held := fmt.Errorf("one drill at a time: %w", &lease.HeldError{Lease: "velero/firedrill-drill", Holder: lease.Holder{DrillID: "fd-1"}})
	for name, err := range map[string]error{
		"restore": held,
		"run":     &scratchInUseError{msg: "drill fd-2 of lab did not run: ..."},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, ExitScratchInUse, exitCode(ctx, err))
			var out bytes.Buffer
			printError(&out, err, ExitScratchInUse)
			assert.Contains(t, out.String(), "Hint: wait for that drill to end, or wait for it with --lock-wait DURATION")
		})
	}
	assert.Equal(t, ExitError, exitCode(ctx, fmt.Errorf("dial tcp: refused")))
}
