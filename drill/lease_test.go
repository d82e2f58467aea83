package drill

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/lease"
)

// TestRun_ScratchInUse: a drill refused by another drill's Lease stops at
// preflight with a finding that names that drill and what to do, and
// creates nothing (no restore; cleanup has nothing of its own to remove).
func TestRun_ScratchInUse(t *testing.T) {
	held := &lease.HeldError{Lease: "velero/firedrill-drill",
		Holder:    lease.Holder{DrillID: "fd-20261201-120000-aaaa", Scenario: "nightly", Host: "runner-1", PID: 12, Since: t0.Add(-5 * time.Minute)},
		RenewTime: t0.Add(-10 * time.Second), Expires: t0.Add(50 * time.Second)}
	rec := &fakeRecovery{PreflightErr: fmt.Errorf("preflight: %w", held)}
	rep, _ := runDrill(t, context.Background(), testScenario(t, "4h"), rec, &fakeProtection{}, nil)

	assert.Equal(t, ResultError, rep.Result)
	assert.Equal(t, StepPreflight, rep.ErrorStep)
	assert.Contains(t, rep.Error, "held by drill fd-20261201-120000-aaaa of scenario nightly on host runner-1 (pid 12), since 2026-")
	assert.Equal(t, PhaseSkipped, phaseStatus(rep, StepRestore))
	f := findingByID(rep.Findings, FindingScratchInUse)
	require.NotNil(t, f)
	assert.Equal(t, finding.StatusWarn, f.Status)
	assert.Contains(t, f.Hint, "wait for drill fd-20261201-120000-aaaa (scenario nightly) to end")
	assert.Contains(t, f.Hint, "--lock-wait")
	assert.False(t, rec.restored)
}

// TestRun_OtherPreflightErrorIsNoLeaseFinding: only the Lease's refusal
// is the scratch.in-use finding.
func TestRun_OtherPreflightErrorIsNoLeaseFinding(t *testing.T) {
	rep, _ := runDrill(t, context.Background(), testScenario(t, "4h"), &fakeRecovery{PreflightErr: fmt.Errorf("dial tcp: refused")}, &fakeProtection{}, nil)
	assert.Nil(t, findingByID(rep.Findings, FindingScratchInUse))
}

// TestRecovery_LeaseFromPreflightToCleanup: the Lease is taken in
// Velero's namespace of the target with the scenario's wait (or the
// option's), and released by Cleanup, last.
func TestRecovery_LeaseFromPreflightToCleanup(t *testing.T) {
	sc := testScenario(t, "4h")
	cs := fake.NewClientset()
	target := &kube.Clients{Kube: cs}
	h, err := takeLease(context.Background(), sc, target, "fd-1", RestoreOptions{})
	require.NoError(t, err)
	le, err := cs.CoordinationV1().Leases(sc.Spec.Backups.VeleroNamespace).Get(context.Background(), "firedrill-drill", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "fd-1", *le.Spec.HolderIdentity)
	assert.Equal(t, "unit", le.Annotations[lease.AnnotationScenario])

	// A second drill with no wait is refused, naming the first.
	zero := time.Duration(0)
	_, err = takeLease(context.Background(), sc, target, "fd-2", RestoreOptions{LockWait: &zero})
	var he *lease.HeldError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "fd-1", he.Holder.DrillID)

	rec := &recovery{sc: sc, lease: h}
	require.NoError(t, rec.Cleanup(context.Background(), true))
	le, err = cs.CoordinationV1().Leases(sc.Spec.Backups.VeleroNamespace).Get(context.Background(), "firedrill-drill", metav1.GetOptions{})
	require.NoError(t, err)
	assert.True(t, lease.Free(le, time.Now()), "released: %+v", le.Spec)
	_, err = takeLease(context.Background(), sc, target, "fd-2", RestoreOptions{LockWait: &zero})
	require.NoError(t, err)
}

func TestLockWait_OptionOverScenario(t *testing.T) {
	sc := testScenario(t, "4h")
	assert.Equal(t, 15*time.Minute, lockWait(sc, nil))
	d := time.Minute
	assert.Equal(t, time.Minute, lockWait(sc, &d))
}
