package drill

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A drill stopped while recovering (a scheduled drill's Job deadline sends
// SIGTERM) after its RTO had passed has missed its RTO: the report, the
// metrics and the alerts say so, though the drill was interrupted. Stopped
// before, nothing is measured (issue 14, item 9).
func TestRun_StoppedAfterItsRTOMissedIt(t *testing.T) {
	tests := []struct {
		name   string
		stopAt time.Duration // how long into the drill it is stopped
		status string
		// measured is the RTO measured: at least this long.
		measured float64
	}{
		{"stopped by the deadline, after the RTO", 5 * time.Hour, ObjectiveMissed, (5 * time.Hour).Seconds()},
		{"stopped by a person, within the RTO", 10 * time.Minute, ObjectiveNotMeasured, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := &stepClock{t: t0}
			// Every other call takes no time: the restore step ends
			// exactly stopAt after the disaster (the drill's start).
			rec := &fakeRecovery{Clock: clock, OnRestore: func() { clock.Advance(tt.stopAt); cancel() }}
			out, err := Run(ctx, testScenario(t, "4h"), Options{StateDir: t.TempDir(), DrillID: "fd-test", Now: clock.Now, Recovery: rec, Protection: &fakeProtection{}})
			require.NoError(t, err)
			rep := out.Report
			assert.Equal(t, ResultInterrupted, rep.Result, "the drill was stopped")
			assert.Equal(t, tt.status, rep.RTO.Status)
			if tt.status == ObjectiveMissed {
				require.NotNil(t, rep.RTO.MeasuredSeconds)
				assert.Equal(t, tt.measured, *rep.RTO.MeasuredSeconds)
				require.NotNil(t, rep.RTO.MarginSeconds)
				assert.Equal(t, (4*time.Hour - tt.stopAt).Seconds(), *rep.RTO.MarginSeconds)
				assert.False(t, *rep.RTO.Met)
				assert.Contains(t, rep.RTO.Note, "recovery had not completed 5h00m")
				assert.Contains(t, rep.RTO.Note, "step restore error")
			} else {
				assert.Nil(t, rep.RTO.MeasuredSeconds)
			}
		})
	}
}

func TestMeasureRTO_UnfinishedRecovery(t *testing.T) {
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	tests := []struct {
		name   string
		phases []Phase
		want   string
		secs   float64
	}{
		{"completed", []Phase{{Name: StepRestore, CountsTowardRTO: true, Status: PhasePassed, End: at(time.Hour)}}, ObjectiveMet, 3600},
		{"completed late", []Phase{{Name: StepRestore, CountsTowardRTO: true, Status: PhasePassed, End: at(3 * time.Hour)}}, ObjectiveMissed, 3 * 3600},
		{"failed early", []Phase{{Name: StepRestore, CountsTowardRTO: true, Status: PhaseFailed, End: at(time.Hour)}}, ObjectiveNotMeasured, 0},
		{"failed after the objective", []Phase{{Name: StepRestore, CountsTowardRTO: true, Status: PhaseFailed, End: at(3 * time.Hour)}}, ObjectiveMissed, 3 * 3600},
		{"skipped after the objective", []Phase{
			{Name: StepProtection, Status: PhaseError, End: at(3 * time.Hour)},
			{Name: StepRestore, CountsTowardRTO: true, Status: PhaseSkipped, End: at(3*time.Hour + time.Second)},
		}, ObjectiveMissed, 3*3600 + 1},
		{"exactly at the objective", []Phase{{Name: StepVerify, CountsTowardRTO: true, Status: PhaseError, End: at(2 * time.Hour)}}, ObjectiveNotMeasured, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := MeasureRTO(2*time.Hour, t0, tt.phases)
			assert.Equal(t, tt.want, o.Status)
			if tt.secs > 0 {
				require.NotNil(t, o.MeasuredSeconds)
				assert.Equal(t, tt.secs, *o.MeasuredSeconds)
			}
		})
	}
}
