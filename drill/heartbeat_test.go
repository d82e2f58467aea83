package drill

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSettle_DeadOnlyAfterThreeMissedHeartbeats(t *testing.T) {
	hb := func(at time.Time) *Heartbeat {
		return &Heartbeat{At: at, IntervalSeconds: 30, Step: StepRestore, Host: "runner-1", PID: 4242}
	}
	for _, tt := range []struct {
		name      string
		rep       Report
		now       time.Time
		wantDied  bool
		wantStep  StepName
		wantError string
	}{
		{name: "fresh heartbeat", rep: Report{Result: ResultRunning, StartedAt: t0, Heartbeat: hb(t0.Add(time.Hour))},
			now: t0.Add(time.Hour + 30*time.Second)},
		{name: "three intervals late, not more", rep: Report{Result: ResultRunning, StartedAt: t0, Heartbeat: hb(t0)},
			now: t0.Add(90 * time.Second)},
		{name: "more than three intervals late", rep: Report{Result: ResultRunning, StartedAt: t0, Heartbeat: hb(t0)},
			now: t0.Add(90*time.Second + time.Nanosecond), wantDied: true, wantStep: StepRestore,
			wantError: "firedrill died: no heartbeat since 2026-11-22T10:00:00Z (process 4242 on runner-1; dead after 1m30s without one)"},
		{name: "a short interval (tests) dies sooner",
			rep: Report{Result: ResultRunning, StartedAt: t0, Heartbeat: &Heartbeat{At: t0, IntervalSeconds: 1, Step: StepVerify}},
			now: t0.Add(4 * time.Second), wantDied: true, wantStep: StepVerify},
		{name: "an ended drill never dies", rep: Report{Result: ResultFail, StartedAt: t0, Heartbeat: hb(t0), Phases: allPhases(StepCleanup)},
			now: t0.Add(48 * time.Hour)},
		// The report step writes the result before evidence and cleanup:
		// killed in them, the drill left its restore behind.
		{name: "result written, killed before its cleanup",
			rep: Report{Result: ResultPass, StartedAt: t0, Heartbeat: &Heartbeat{At: t0, IntervalSeconds: 30, Step: StepCleanup}, Phases: allPhases(StepEvidence)},
			now: t0.Add(91 * time.Second), wantDied: true, wantStep: StepCleanup},
		{name: "result written, cleanup still running", rep: Report{Result: ResultPass, StartedAt: t0, Heartbeat: hb(t0), Phases: allPhases(StepEvidence)},
			now: t0.Add(90 * time.Second)},
		{name: "earlier version without heartbeat, ended, no cleanup recorded", rep: Report{Result: ResultPass, StartedAt: t0, Phases: allPhases(StepReport)},
			now: t0.Add(48 * time.Hour)},
		{name: "earlier version without heartbeat, within a day",
			rep: Report{Result: ResultRunning, StartedAt: t0}, now: t0.Add(23 * time.Hour)},
		{name: "earlier version without heartbeat, after a day: the step after the last recorded",
			rep: Report{Result: ResultRunning, StartedAt: t0, Phases: []Phase{{Name: StepLoad}, {Name: StepPreflight}, {Name: StepProtection}, {Name: StepRecoveryPoint}}},
			now: t0.Add(24*time.Hour + time.Second), wantDied: true, wantStep: StepRestore,
			wantError: "firedrill died: the record says running since 2026-11-22T10:00:00Z and has no heartbeat (written by an earlier version; dead after 1d)"},
		{name: "earlier version, no step recorded", rep: Report{Result: ResultRunning, StartedAt: t0},
			now: t0.Add(25 * time.Hour), wantDied: true, wantStep: StepLoad},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rep
			before := r.Result
			assert.Equal(t, tt.wantDied, Settle(&r, tt.now))
			if !tt.wantDied {
				assert.Equal(t, before, r.Result, "untouched")
				assert.Empty(t, r.Error)
				return
			}
			assert.Equal(t, ResultDied, r.Result)
			assert.Equal(t, tt.wantStep, r.ErrorStep)
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, r.Error)
			}
		})
	}
}

func TestDue_DiedDrillIsNamedNotSilentlyNeverPassed(t *testing.T) {
	dead := &Report{DrillID: "fd-dead", Scenario: "lab", StartedAt: t0, Result: ResultRunning,
		Heartbeat: &Heartbeat{At: t0.Add(time.Minute), IntervalSeconds: 30, Step: StepRestore}}
	live := &Report{DrillID: "fd-live", Scenario: "other", StartedAt: t0, Result: ResultRunning,
		Heartbeat: &Heartbeat{At: t0.Add(time.Hour), IntervalSeconds: 30, Step: StepRestore}}
	got := Due([]*Report{dead, live}, nil, DuePolicy{MaxAge: 24 * time.Hour}, t0.Add(time.Hour+time.Second))
	require.Len(t, got, 2)
	assert.Equal(t, DueNeverPassed, got[0].State)
	require.NotNil(t, got[0].LastDrill)
	assert.Equal(t, DrillRef{DrillID: "fd-dead", StartedAt: t0, Result: ResultDied, ErrorStep: StepRestore}, *got[0].LastDrill)
	assert.Equal(t, ResultRunning, dead.Result, "Due settles a copy, not the caller's report")
	assert.Equal(t, DueNeverRun, got[1].State, "a live drill proved nothing yet")
	assert.Nil(t, got[1].LastDrill)
}

// syncClock is a clock two goroutines read (the drill's and the
// heartbeat's): it advances one second on every reading.
type syncClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *syncClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// While a step runs, the record on disk says running, names the step and
// its heartbeat is renewed; once the drill ends, the final record stands
// and nothing renews it any more.
func TestRun_HeartbeatRenewedWhileAStepRuns(t *testing.T) {
	state := t.TempDir()
	record := filepath.Join(state, "drills", "fd-test", ReportFile)
	read := func() *Report {
		b, err := os.ReadFile(record)
		require.NoError(t, err)
		var r Report
		require.NoError(t, json.Unmarshal(b, &r))
		return &r
	}
	var seen []*Report
	rec := &fakeRecovery{OnRestore: func() {
		// Wait, with the test's deadline, until two renewals are on disk.
		first := read()
		seen = append(seen, first)
		for {
			r := read()
			if r.Heartbeat != nil && r.Heartbeat.At.After(first.Heartbeat.At) {
				seen = append(seen, r)
				return
			}
			time.Sleep(time.Millisecond)
		}
	}}
	clock := &syncClock{t: t0}
	out, err := Run(context.Background(), testScenario(t, "1h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now,
		Recovery: rec, HeartbeatInterval: time.Millisecond})
	require.NoError(t, err)
	require.Len(t, seen, 2)
	for _, r := range seen {
		assert.Equal(t, ResultRunning, r.Result)
		require.NotNil(t, r.Heartbeat)
		assert.Equal(t, StepRestore, r.Heartbeat.Step)
		assert.Equal(t, 0.001, r.Heartbeat.IntervalSeconds)
		assert.Equal(t, os.Getpid(), r.Heartbeat.PID)
		assert.NotEmpty(t, r.Heartbeat.Host)
	}
	final := read()
	assert.Equal(t, ResultPass, out.Report.Result)
	assert.Equal(t, ResultPass, final.Result, "no renewal overwrites the final record")
	assert.False(t, final.Dead(final.Heartbeat.At.Add(time.Hour)), "an ended drill is never dead")
}

// allPhases is the timeline of a drill up to and including last.
func allPhases(last StepName) []Phase {
	var out []Phase
	for _, s := range Steps() {
		out = append(out, Phase{Name: s, Status: PhasePassed})
		if s == last {
			break
		}
	}
	return out
}
