package cli

import (
	"errors"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/lease"
)

// ExitScratchInUse: another drill held the scratch cluster's Lease past
// the wait; this one restored nothing (run, restore).
const ExitScratchInUse = 4

func lockWaitFlag() cli.Flag {
	// DefaultText: urfave/cli would show the zero value, 0s, which is
	// not the default (lockWait reads an unset flag as the scenario's).
	return &cli.DurationFlag{Name: "lock-wait",
		Usage:       "wait up to `DURATION` for another drill that holds the scratch cluster's Lease; 0 refuses at once, naming it",
		DefaultText: "the scenario's spec.target.lockWait, 15m"}
}

// lockWait is --lock-wait when given; nil leaves the scenario's.
func lockWait(c *cli.Context) (*time.Duration, error) {
	if !c.IsSet("lock-wait") {
		return nil, nil
	}
	d := c.Duration("lock-wait")
	if d < 0 {
		return nil, usageErrorf("write 0 to refuse at once, or how long to wait (e.g. 10m)", "--lock-wait %s: must not be negative", d)
	}
	return &d, nil
}

// scratchInUseError is a drill that did not run because another held the
// scratch cluster: exit code 4.
type scratchInUseError struct{ msg string }

func (e *scratchInUseError) Error() string { return e.msg }

// scratchInUse reports whether err is a refusal by the scratch cluster's
// Lease, from a drill's report or from a restore.
func scratchInUse(err error) bool {
	var inUse *scratchInUseError
	var held *lease.HeldError
	return errors.As(err, &inUse) || errors.As(err, &held)
}

// scratchInUseHint is the hint of that refusal.
const scratchInUseHint = "wait for that drill to end, or wait for it with --lock-wait DURATION (spec.target.lockWait); a drill that died frees the Lease 60s after its last renewal"

// hasFinding reports whether rep has a finding with id.
func hasFinding(rep *drill.Report, id string) bool {
	for _, f := range rep.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}
