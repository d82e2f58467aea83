package drill

import (
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// RunbookWarnings are the likely mistakes of sc's runbook rb, each at the
// runbook's line: its steps hidden in HTML (never run), and manual steps
// whose declared estimates alone exceed the RTO objective or nearly use it
// up. The plan lists them after the scenario's; validate prints them as
// RUNBOOK:LINE: warning: where: message. None when rb is nil.
func RunbookWarnings(sc *scenarios.Scenario, rb *runbooks.Runbook) []*runbooks.ParseError {
	if rb == nil {
		return nil
	}
	ws := append([]*runbooks.ParseError(nil), rb.Warnings...)
	if w := manualTimeOf(sc, rb).warning(rb); w != nil {
		ws = append(ws, w)
	}
	return ws
}
