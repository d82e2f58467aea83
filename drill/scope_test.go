package drill

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup/scope"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// fakeScope answers with fixed results; ClaimsErr and CountsErr fail.
type fakeScope struct {
	Result               *scope.Result
	Counted              *scope.Counts
	ClaimsErr, CountsErr error

	backup   string
	restores []string
}

func (f *fakeScope) Claims(_ context.Context, backup string) (*scope.Result, error) {
	f.backup = backup
	return f.Result, f.ClaimsErr
}

func (f *fakeScope) Counts(_ context.Context, backup string, restores []string) (*scope.Counts, error) {
	f.restores = restores
	return f.Counted, f.CountsErr
}

func scopeScenario(t *testing.T, accepted string) *scenarios.Scenario {
	t.Helper()
	yaml := `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: unit}
spec:
  disaster: {summary: test disaster, lost: [namespace], lostNamespaces: [shop], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  source: {kubeconfig: /dev/null, context: prod}
  backups: {schedule: daily, includedNamespaces: [shop]` + accepted + `}
  storage:
    primary:
      endpoint: http://127.0.0.1:1
      bucket: velero-backups
      objectLock: {mode: COMPLIANCE}
  target: {kubeconfig: /dev/null}
`
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(yaml))
	require.NoError(t, err)
	return sc
}

func scopeResult() *scope.Result {
	return &scope.Result{Backup: "shop-daily-1", Namespaces: []string{"shop"}, Claims: []scope.Claim{
		{Namespace: "shop", Name: "orders", Volume: "pv-1", MountedBy: []string{"db-0"}, InBackup: true, Method: scope.MethodPodVolumeBackup, Detail: "PodVolumeBackup x Completed"},
		{Namespace: "shop", Name: "scratch", Reason: scope.ReasonNotMounted, Detail: "no pod of the source mounts it"},
	}, Uncovered: []scope.Uncovered{{Namespace: "ledger", Claims: []string{"journal"}}}}
}

func runScoped(t *testing.T, sc *scenarios.Scenario, sp *fakeScope) (*Report, string) {
	t.Helper()
	state := t.TempDir()
	clock := &stepClock{t: t0}
	rec := &fakeRecovery{Clock: clock, Takes: defaultTakes}
	out, err := Run(context.Background(), sc, Options{StateDir: state, DrillID: "fd-test", Now: clock.Now, Recovery: rec, Scope: sp})
	require.NoError(t, err)
	return out.Report, filepath.Join(state, "drills", "fd-test")
}

func TestRun_ClaimOutsideTheBackupFailsTheRecoveryPoint(t *testing.T) {
	sp := &fakeScope{Result: scopeResult(), Counted: scope.CompareCounts(
		map[string][]string{"v1/Pod": {"shop/db-0"}, "v1/PersistentVolumeClaim": {"shop/orders"}},
		[]map[string][]string{{"v1/PersistentVolumeClaim": {"shop/orders(created)"}}})}
	rep, dir := runScoped(t, scopeScenario(t, ""), sp)

	assert.Equal(t, "shop-daily-1", sp.backup, "the scope of the chosen backup")
	assert.Equal(t, []string{"r1"}, sp.restores, "the counts of the drill's Restores")
	assert.Equal(t, PhaseFailed, phaseStatus(rep, StepRecoveryPoint))
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepRestore), "the restore still runs")
	assert.Equal(t, ResultFail, rep.Result)
	f := findingByID(rep.Findings, scope.IDClaim)
	require.NotNil(t, f)
	assert.Equal(t, finding.StatusFail, f.Status)
	assert.Equal(t, "PersistentVolumeClaim shop/scratch in the source", f.Subject)
	u := findingByID(rep.Findings, scope.IDUncovered)
	require.NotNil(t, u)
	assert.Contains(t, u.Message, "ledger (journal)")
	c := findingByID(rep.Findings, scopeCountsID)
	require.NotNil(t, c)
	assert.Contains(t, c.Message, "v1/Pod 1 of 1 not restored")
	// Pods are restored (with their volume data): what is expected not
	// to come back is what the phases and Velero exclude.
	assert.NotContains(t, c.Message, "such as pods")
	assert.Contains(t, c.Message, "expected here: the kinds the restore phases exclude, replicasets.apps, endpoints, endpointslices.discovery.k8s.io, and what Velero never restores, such as events")
	require.NotNil(t, rep.ItemCounts)

	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| `shop`/`scratch` |  |  | **no** | not-mounted | no pod of the source mounts it |")
	assert.Contains(t, string(md), "| `shop`/`orders` | pv-1 | db-0 | yes | PodVolumeBackup |")
	assert.Contains(t, string(md), "- `ledger`: journal")
	assert.Contains(t, string(md), "| `v1/Pod` | 1 | 0 | 0 | 0 | 0 | **1** |")
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), "<td><code>shop/scratch</code></td><td></td><td></td><td><span class=\"s-fail\">no</span></td><td>not-mounted</td>")
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	require.NoError(t, err)
	assert.Contains(t, string(js), `"reason": "not-mounted"`)
	assert.Contains(t, string(js), `"uncovered_namespaces"`)
	assert.Contains(t, string(js), `"not_restored": 1`)
}

func TestRun_AcceptedOutOfScopeIsAWarning(t *testing.T) {
	rep, _ := runScoped(t, scopeScenario(t, ", acceptedOutOfScope: [shop/scratch]"), &fakeScope{Result: scopeResult()})
	f := findingByID(rep.Findings, scope.IDClaim)
	require.NotNil(t, f)
	assert.Equal(t, finding.StatusWarn, f.Status)
	assert.Equal(t, PhasePassed, phaseStatus(rep, StepRecoveryPoint))
	assert.Equal(t, ResultPass, rep.Result)
}

func TestRun_ScopeReadErrorsAreWarnings(t *testing.T) {
	rep, _ := runScoped(t, scopeScenario(t, ""), &fakeScope{ClaimsErr: errors.New("connection refused"), CountsErr: errors.New("access denied")})
	assert.Equal(t, ResultPass, rep.Result)
	f := findingByID(rep.Findings, scope.IDSource)
	require.NotNil(t, f)
	assert.Equal(t, finding.StatusWarn, f.Status)
	assert.Contains(t, f.Message, "connection refused")
	c := findingByID(rep.Findings, scopeCountsID)
	require.NotNil(t, c)
	assert.Equal(t, finding.StatusWarn, c.Status)
	assert.Nil(t, rep.Scope)

	// No source to read: nothing said, nothing failed.
	rep, _ = runScoped(t, scopeScenario(t, ""), &fakeScope{})
	assert.Nil(t, findingByID(rep.Findings, scope.IDSource))
	assert.Nil(t, findingByID(rep.Findings, scope.IDClaim))
}

func TestNewPlan_Scope(t *testing.T) {
	p, err := NewPlan(scopeScenario(t, ", acceptedOutOfScope: [shop/scratch]"))
	require.NoError(t, err)
	rp := strings.Join(stepOf(t, p, StepRecoveryPoint).Actions, "\n")
	assert.Contains(t, rp, "backup scope, read-only in the source (kubeconfig /dev/null, context \"prod\"): list the PersistentVolumeClaims of namespaces shop")
	assert.Contains(t, rp, "accepted out of scope (a warning, not a failure): shop/scratch")
	assert.Contains(t, rp, "name the namespaces with claims that no Schedule covers")
	assert.Contains(t, strings.Join(stepOf(t, p, StepPreflight).Actions, "\n"), "source cluster: only read (get and list requests)")

	lost, err := NewPlan(builtin(t, "region-loss"))
	require.NoError(t, err)
	lostRP := strings.Join(stepOf(t, lost, StepRecoveryPoint).Actions, "\n")
	assert.Contains(t, lostRP, "backup scope, from the backup's files alone (the source is not read: the scenario loses the source cluster)")
	assert.Contains(t, lostRP, "is restored without its data")
	assert.Contains(t, planFindingIDs(stepOf(t, lost, StepRecoveryPoint)), "scope.claim", "without the source, claims without data are still findings")
	assert.Contains(t, strings.Join(stepOf(t, lost, StepPreflight).Actions, "\n"), "source cluster: not contacted (the scenario loses it)")
}

func planFindingIDs(st PlanStep) []string {
	var ids []string
	for _, f := range st.Findings {
		ids = append(ids, f.ID)
	}
	return ids
}

// TestRun_ClaimsWithoutDataInTheBackupAlone (review): when the source is
// not read, the backup's own files decide: its claims without volume
// data fail the recovery point, said to be restored without their data,
// unless accepted.
func TestRun_ClaimsWithoutDataInTheBackupAlone(t *testing.T) {
	res := &scope.Result{Backup: "shop-daily-1", Namespaces: []string{"shop"}, SourceSkipped: "the scenario loses the source cluster",
		Claims: []scope.Claim{
			{Namespace: "shop", Name: "orders", InBackup: true, Method: scope.MethodPodVolumeBackup, Detail: "PodVolumeBackup x Completed"},
			{Namespace: "shop", Name: "exports", Reason: scope.ReasonNoVolumeData, Detail: "backup shop-daily-1 lists the claim but holds no PodVolumeBackup, DataUpload or snapshot of it"},
		}}
	rep, dir := runScoped(t, scopeScenario(t, ""), &fakeScope{Result: res})
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "the source was not read (the scenario loses the source cluster), so why not cannot be told")
	assert.NotContains(t, string(md), "covered by a Schedule", "no Schedules were read")
	assert.Contains(t, string(md), "| **no** | no-volume-data |")
	assert.Equal(t, PhaseFailed, phaseStatus(rep, StepRecoveryPoint))
	assert.Equal(t, ResultFail, rep.Result)
	f := findingByID(rep.Findings, scope.IDClaim)
	require.NotNil(t, f)
	assert.Equal(t, finding.StatusFail, f.Status)
	assert.Equal(t, "PersistentVolumeClaim shop/exports in backup shop-daily-1", f.Subject)
	assert.Contains(t, f.Message, "restored without its data")

	rep, _ = runScoped(t, scopeScenario(t, ", acceptedOutOfScope: [shop/exports]"), &fakeScope{Result: res})
	assert.Equal(t, ResultPass, rep.Result)
	assert.Equal(t, finding.StatusWarn, findingByID(rep.Findings, scope.IDClaim).Status)
}

// TestRun_FailedStepProgressSaysWhy (review): a step that fails through
// its findings says the first one on its progress line, not only at the
// end.
func TestRun_FailedStepProgressSaysWhy(t *testing.T) {
	var progress strings.Builder
	clock := &stepClock{t: t0}
	rec := &fakeRecovery{Clock: clock, Takes: defaultTakes}
	_, err := Run(context.Background(), scopeScenario(t, ""), Options{StateDir: t.TempDir(), DrillID: "fd-test", Now: clock.Now,
		Recovery: rec, Scope: &fakeScope{Result: scopeResult()}, Progress: &progress})
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^\[[^]]+\] recovery-point failed in [^:]+: scope\.claim: the data of PersistentVolumeClaim shop/scratch is not in backup shop-daily-1 \(not-mounted\): no pod of the source mounts it$`,
		progress.String())
	assert.Regexp(t, `(?m)^\[[^]]+\] restore passed in [^:]+$`, progress.String(), "a step that passed says nothing more")
}
