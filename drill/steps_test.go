package drill

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestSteps_PlanRunAndReportFollowOneList: the plan, the drill's timeline
// and the report's verdict all come from the one list of steps.
func TestSteps_PlanRunAndReportFollowOneList(t *testing.T) {
	sc := testScenario(t, "4h")
	plan, err := NewPlan(sc)
	require.NoError(t, err)
	rep, _ := runDrill(t, context.Background(), sc, &fakeRecovery{}, &fakeProtection{}, nil)
	require.Equal(t, ResultPass, rep.Result)

	require.Len(t, plan.Steps, len(steps()))
	require.Len(t, rep.Phases, len(steps()))
	for i, st := range steps() {
		assert.Equal(t, st.name, plan.Steps[i].Name, "plan step %d", i)
		assert.Equal(t, st.name, rep.Phases[i].Name, "run step %d", i)
		assert.Equal(t, st.countsTowardRTO, plan.Steps[i].CountsTowardRTO, "plan: step %s", st.name)
		assert.Equal(t, st.countsTowardRTO, rep.Phases[i].CountsTowardRTO, "run: step %s", st.name)
		assert.Equal(t, st.countsTowardRTO, st.name.CountsTowardRTO())
		assert.Equal(t, PhasePassed, rep.Phases[i].Status, "step %s", st.name)
	}
	assert.Equal(t, Steps(), []StepName{StepLoad, StepPreflight, StepProtection, StepRecoveryPoint, StepRestore,
		StepVerify, StepRunbook, StepReport, StepEvidence, StepCleanup})
	assert.False(t, StepName("no-such-step").CountsTowardRTO())
}

// TestReport_StoppedByIgnoresTheStepsAfterTheProof: an error of evidence
// or cleanup is a warning, not a drill in error; an error of any other
// step (the report's included) is.
func TestReport_StoppedByIgnoresTheStepsAfterTheProof(t *testing.T) {
	for _, name := range Steps() {
		r := &Report{Phases: []Phase{{Name: StepLoad, Status: PhasePassed}, {Name: name, Status: PhaseError, Error: "boom"}}}
		warning := name == StepEvidence || name == StepCleanup
		if warning {
			assert.Nil(t, r.StoppedBy(), "step %s", name)
			continue
		}
		require.NotNil(t, r.StoppedBy(), "step %s", name)
		assert.Equal(t, name, r.StoppedBy().Name)
	}
}

// TestRun_CleanupErrorIsAWarningWithinItsOwnTimeout: cleanup runs as the
// last step of the list, detached from the drill's context; its failure
// is a warning finding and the drill keeps its result.
func TestRun_CleanupErrorIsAWarningWithinItsOwnTimeout(t *testing.T) {
	rec := &fakeRecovery{CleanupErr: errors.New("namespace shop-dr stuck Terminating")}
	rep, _ := runDrill(t, context.Background(), testScenario(t, "4h"), rec, &fakeProtection{}, nil)
	assert.Equal(t, ResultPass, rep.Result)
	last := rep.Phases[len(rep.Phases)-1]
	assert.Equal(t, StepCleanup, last.Name)
	assert.Equal(t, PhaseError, last.Status)
	assert.Equal(t, "namespace shop-dr stuck Terminating", last.Error)
	f := findingByID(rep.Findings, "cleanup")
	require.NotNil(t, f)
	assert.Equal(t, "cleanup did not finish: namespace shop-dr stuck Terminating", f.Message)

	rep, _ = runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{PreflightErr: errors.New("no")}, &fakeProtection{}, nil)
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepCleanup), "cleanup runs after a stop")
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepReport))
}

func TestCleanupPolicy(t *testing.T) {
	for in, want := range map[scenarios.CleanupPolicy]restore.CleanupPolicy{
		scenarios.CleanupOnSuccess: restore.CleanupOnSuccess,
		scenarios.CleanupAlways:    restore.CleanupAlways,
		scenarios.CleanupNever:     restore.CleanupNever,
	} {
		got, err := CleanupPolicy(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	for _, bad := range []scenarios.CleanupPolicy{"", "OnSuccess", "sometimes"} {
		_, err := CleanupPolicy(bad)
		assert.EqualError(t, err, `unknown cleanup policy "`+string(bad)+`": want onSuccess, always or never`)
	}
}

func TestObjectLockMode(t *testing.T) {
	for in, want := range map[scenarios.LockMode]objectstore.LockMode{
		scenarios.LockCompliance: objectstore.Compliance,
		scenarios.LockGovernance: objectstore.Governance,
	} {
		got, err := ObjectLockMode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	for _, bad := range []scenarios.LockMode{"", "compliance", "LEGAL_HOLD"} {
		_, err := ObjectLockMode(bad)
		assert.EqualError(t, err, `unknown object lock mode "`+string(bad)+`": want COMPLIANCE or GOVERNANCE`)
	}
}

func TestCompareMode(t *testing.T) {
	for in, want := range map[scenarios.CompareMode]backup.CompareMode{
		scenarios.CompareExistence: backup.ModeExistence,
		scenarios.CompareSize:      backup.ModeSize,
		scenarios.CompareChecksum:  backup.ModeChecksum,
		scenarios.CompareContent:   backup.ModeContent,
		scenarios.CompareSampled:   backup.ModeSampled,
	} {
		got, err := CompareMode(in)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	for _, bad := range []scenarios.CompareMode{"", "etag"} {
		_, err := CompareMode(bad)
		assert.EqualError(t, err, `unknown comparison mode "`+string(bad)+`": want existence, size, checksum, content or sampled`)
	}
}

// TestSpecs_RejectUnknownEnumValues: a value the scenario package would
// never produce (a hand-built or future scenario) stops the spec at its
// field, instead of reaching restore or backup unchecked.
func TestSpecs_RejectUnknownEnumValues(t *testing.T) {
	sc := testScenario(t, "4h")
	sc.Spec.Cleanup.Policy = "sometimes"
	_, err := RestoreSpec(sc, "fd-unit", nil)
	assert.ErrorContains(t, err, `spec.cleanup.policy: unknown cleanup policy "sometimes"`)

	sc = testScenario(t, "4h")
	sc.Spec.Storage.Primary.ObjectLock.Mode = "LEGAL_HOLD"
	_, err = ProtectionSpec(context.Background(), sc, &BackupRef{Name: "b"}, ProtectionOptions{Getenv: func(string) string { return "" }})
	assert.ErrorContains(t, err, `spec.storage.primary.objectLock.mode: unknown object lock mode "LEGAL_HOLD"`)
}
