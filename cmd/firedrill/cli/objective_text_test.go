package cli

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/drill"
)

// A drill stopped after its RTO (a scheduled drill's deadline) missed it by
// at least the time it ran: the summary says the figure is a lower bound.
func TestObjectiveText_StoppedRecoverySaysLowerBound(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	stopped := drill.MeasureRTO(time.Hour, t0, []drill.Phase{
		{Name: drill.StepRestore, CountsTowardRTO: true, Status: drill.PhaseError, Start: t0, End: t0.Add(90 * time.Minute)},
	})
	got := objectiveText(stopped)
	assert.Contains(t, got, "MISSED")
	assert.Contains(t, got, "at least that long")

	done := drill.MeasureRTO(time.Hour, t0, []drill.Phase{
		{Name: drill.StepRestore, CountsTowardRTO: true, Status: drill.PhasePassed, Start: t0, End: t0.Add(30 * time.Minute)},
	})
	assert.Equal(t, "30m00s against an objective of 1h00m: met", objectiveText(done))
}

// The terminal's reason for a failed drill reads as words, not as the
// report's status value ("not-measured").
func TestFailureSummary_StatusInWords(t *testing.T) {
	r := &drill.Report{Result: drill.ResultFail,
		RTO: drill.Objective{Status: drill.ObjectiveNotMeasured}, RPO: drill.Objective{Status: drill.ObjectiveMet}}
	assert.Equal(t, "RTO not measured", failureSummary(r))
}
