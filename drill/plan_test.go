package drill

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func builtin(t *testing.T, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Find(context.Background(), scenarios.Env{WorkDir: t.TempDir(), RunbookExists: runbooks.Exists}, name)
	require.NoError(t, err)
	return sc
}

func stepOf(t *testing.T, p *Plan, name StepName) PlanStep {
	t.Helper()
	for _, s := range p.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("plan has no step %s", name)
	return PlanStep{}
}

func TestNewPlan_StepsInOrder(t *testing.T) {
	p, err := NewPlan(builtin(t, "region-loss"))
	require.NoError(t, err)
	var names []StepName
	var timed []StepName
	for _, s := range p.Steps {
		names = append(names, s.Name)
		if s.CountsTowardRTO {
			timed = append(timed, s.Name)
		}
		assert.NotEmpty(t, s.Summary, s.Name)
	}
	assert.Equal(t, []StepName{"load", "preflight", "protection", "recovery-point", "restore", "verify", "runbook", "report", "evidence", "cleanup"}, names)
	assert.Equal(t, []StepName{StepRestore, StepVerify, StepRunbook}, timed)
}

func TestNewPlan_NetworkPoliciesFirstThenCRDs(t *testing.T) {
	p, err := NewPlan(builtin(t, "region-loss"))
	require.NoError(t, err)
	restore := stepOf(t, p, StepRestore)
	require.Len(t, restore.Phases, 3)
	first, crds, last := restore.Phases[0], restore.Phases[1], restore.Phases[2]
	assert.Equal(t, []string{"namespaces", scenarios.NetworkPolicies}, first.IncludedResources)
	assert.Equal(t, []string{scenarios.CustomResourceDefinitions}, crds.IncludedResources, "CRDs before any custom resource")
	assert.True(t, crds.IncludeClusterResources)
	assert.False(t, first.IncludeClusterResources)
	assert.Empty(t, last.IncludedResources, "the last phase restores everything else")
	assert.Contains(t, last.ExcludedResources, scenarios.NetworkPolicies)
	assert.Contains(t, last.ExcludedResources, "replicasets.apps", "the scenario-wide exclusions apply to every phase")
	assert.Contains(t, first.ExcludedResources, "replicasets.apps")
	assert.NotContains(t, last.ExcludedResources, "pods", "pods are restored: file-system backup data comes back through them")
	assert.Empty(t, p.Warnings)
	assert.Contains(t, strings.Join(stepOf(t, p, StepRestore).Actions, "\n"), "a NetworkPolicy was created before every workload")
}

func TestNewPlan_RestoresFromCopyWhenPrimaryStorageIsLost(t *testing.T) {
	p, err := NewPlan(builtin(t, "ransomware-backup-storage"))
	require.NoError(t, err)
	for _, ph := range stepOf(t, p, StepRestore).Phases {
		assert.Equal(t, "offsite-copy", ph.StorageLocation, ph.Name)
	}
	pre := strings.Join(stepOf(t, p, StepPreflight).Actions, "\n")
	assert.Contains(t, pre, `create read-only BackupStorageLocation "offsite-copy" for copy "offsite"`)
	assert.Contains(t, pre, "source cluster: not contacted")
	prot := strings.Join(stepOf(t, p, StepProtection).Actions, "\n")
	assert.Contains(t, prot, "these checks prove the lock held", "the primary bucket's lock is still checked")
	assert.Contains(t, prot, "10% of the objects (seed 7)")
}

func TestNewPlan_NamespaceMapping(t *testing.T) {
	p, err := NewPlan(builtin(t, "namespace-deletion"))
	require.NoError(t, err)
	for _, ph := range stepOf(t, p, StepRestore).Phases {
		assert.Equal(t, map[string]string{"shop": "shop-restored"}, ph.NamespaceMapping)
		assert.Equal(t, []string{"shop"}, ph.IncludedNamespaces, "Velero includes namespaces by their backup names")
	}
	checks := stepOf(t, p, StepVerify).Checks
	require.NotEmpty(t, checks)
	assert.Contains(t, checks[0].Does, "namespace shop-restored (shop in the backup)")
	assert.Contains(t, strings.Join(stepOf(t, p, StepCleanup).Actions, "\n"), "namespaces shop-restored")
}

func TestNewPlan_RunbookSteps(t *testing.T) {
	p, err := NewPlan(builtin(t, "region-loss"))
	require.NoError(t, err)
	rb, err := runbooks.Builtin("region-loss")
	require.NoError(t, err)
	step := stepOf(t, p, StepRunbook)
	require.NotNil(t, step.Runbook)
	require.Len(t, step.Runbook.Steps, len(rb.Steps))
	for i, s := range rb.Steps {
		assert.Equal(t, s.Name, step.Runbook.Steps[i].Name)
		assert.Equal(t, s.Timeout.Seconds(), step.Runbook.Steps[i].TimeoutSeconds)
	}
}

func TestNewPlan_RecoveryPoint(t *testing.T) {
	tests := []struct {
		scenario string
		want     string
	}{
		{"region-loss", `use the latest Completed Backup of Schedule "nightly"`},
		{"failed-upgrade-rollback", "use the latest Completed Backup started within 12h00m before the disaster"},
		{"random-restore-audit", "pick at random (a seed chosen at run time, recorded in the report as recovery_point_choice.seed; run --pick-seed replays it) one of the Completed Backups of Schedule \"shop-nightly\" started within 7d before the disaster"},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			p, err := NewPlan(builtin(t, tt.scenario))
			require.NoError(t, err)
			assert.Contains(t, strings.Join(stepOf(t, p, StepRecoveryPoint).Actions, "\n"), tt.want)
		})
	}
}

// The window check promises missed runs only when a schedule is named:
// without one the window holds every backup in the bucket.
func TestNewPlan_WindowMissedRuns(t *testing.T) {
	sc := builtin(t, "random-restore-audit")
	p, err := NewPlan(sc)
	require.NoError(t, err)
	actions := strings.Join(stepOf(t, p, StepProtection).Actions, "\n")
	assert.Contains(t, actions, `of Schedule "shop-nightly": reaches back retention 7d, no backup failed, no run of the schedule's cron expression missed`)

	sc.Spec.Backups.Schedule = ""
	p, err = NewPlan(sc)
	require.NoError(t, err)
	actions = strings.Join(stepOf(t, p, StepProtection).Actions, "\n")
	assert.NotContains(t, actions, "cron expression missed")
	assert.Contains(t, actions, "missed runs are not looked for: no spec.backups.schedule is named")
}

func TestNewPlan_RunbookFileProblems(t *testing.T) {
	dir := t.TempDir()
	minimal, err := os.ReadFile("../scenarios/testdata/valid-minimal.yaml")
	require.NoError(t, err)
	scenario := string(minimal) + "  runbook:\n    file: runbook.md\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(scenario), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "runbook.md"), []byte("```sh firedrill-step name=a\n```\n"), 0o600))
	sc, err := scenarios.LoadFile(context.Background(), scenarios.Env{WorkDir: dir}, "s.yaml")
	require.NoError(t, err)

	_, err = NewPlan(sc)
	var perrs runbooks.ParseErrors
	require.ErrorAs(t, err, &perrs)
	assert.Equal(t, "runbook.md:1: step \"a\": has no commands", perrs[0].Error(), "the runbook is named as the user knows it")

	require.NoError(t, os.Remove(filepath.Join(dir, "runbook.md")))
	_, err = NewPlan(sc)
	var ferr *scenarios.ValidationError
	require.ErrorAs(t, err, &ferr)
	assert.Equal(t, "spec.runbook.file", ferr.Path)
	assert.Equal(t, 32, ferr.Line, "the line of runbook.file")
	assert.NotContains(t, err.Error(), dir, "no absolute paths the user did not write")
}

// TestNewPlan_ServiceAccountAndServiceChecks: the verify step says what
// the new kinds of check do, in the target's namespaces.
func TestNewPlan_ServiceAccountAndServiceChecks(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(restoreScenario))
	require.NoError(t, err)
	p, err := NewPlan(sc)
	require.NoError(t, err)
	does := map[string]PlannedCheck{}
	for _, c := range stepOf(t, p, StepVerify).Checks {
		does[c.Name] = c
	}
	tests := []struct {
		check string
		kind  scenarios.CheckKind
		want  string
	}{
		{"shop-api-identity", scenarios.CheckServiceAccount,
			"ServiceAccount shop-api in namespace shop-dr (shop in the backup) authenticates: a token requested for it (TokenRequest, valid 10m00s) " +
				"passes a TokenReview as system:serviceaccount:shop-dr:shop-api; the token is never printed"},
		{"legacy-token", scenarios.CheckServiceAccount,
			"ServiceAccount ci-deployer in namespace shop-data authenticates: the long-lived token in Secret ci-deployer-token " +
				"(type kubernetes.io/service-account-token, annotated for it) passes a TokenReview as system:serviceaccount:shop-data:ci-deployer; the token is never printed"},
		{"web-through-api", scenarios.CheckHTTP,
			"GET /healthz from Service web port http in namespace shop-dr (shop in the backup), through the target API server's service proxy " +
				`with the target's credentials, answers 200 with "ok" in the body`},
		{"db-admin-through-api", scenarios.CheckHTTP,
			"GET / from Service db-admin port 8080 in namespace shop-data, through the target API server's service proxy with the target's credentials, answers 200-299"},
		{"http", scenarios.CheckHTTP, "GET http://127.0.0.1:3/ answers 200-204"},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			c, ok := does[tt.check]
			require.True(t, ok)
			assert.Equal(t, tt.kind, c.Kind)
			assert.Equal(t, tt.want, c.Does)
		})
	}
}

// TestNewPlan_VolumeCanaryIsNotAConfigMap (review): a data canary read
// from a file or a command in a restored pod is described as such in the
// plan's recovery-point step, never as "the time in ConfigMap NS/" with an
// empty name.
func TestNewPlan_VolumeCanaryIsNotAConfigMap(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "shop.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: shop}
spec:
  disaster: {summary: region lost, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop-data]}
  storage:
    primary: {endpoint: "http://127.0.0.1:1", bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
  checks:
    - {name: file-canary, dataCanary: {namespace: shop-data, pod: db-0, file: /data/canary}}
    - {name: command-canary, dataCanary: {namespace: shop-data, pod: db-0, command: [/shop, cat, /data/canary]}}
`))
	require.NoError(t, err)
	p, err := NewPlan(sc)
	require.NoError(t, err)
	actions := strings.Join(stepOf(t, p, StepRecoveryPoint).Actions, "\n")
	assert.NotContains(t, actions, "ConfigMap shop-data/\n")
	assert.NotContains(t, actions, `check "file-canary" gives the RPO the application sees: disaster time - the time in ConfigMap`)
	assert.Contains(t, actions, "/data/canary")
	// Only the first data canary that reads a time gives rpo_data.
	assert.Contains(t, actions, `check "file-canary" gives the RPO the application sees (rpo_data): disaster time - the newest time in file /data/canary of pod db-0 in namespace shop-data`)
	assert.Contains(t, actions, `check "command-canary" reads the newest time /shop cat /data/canary prints in pod db-0 in namespace shop-data as well; it gives rpo_data only when no data canary before it ("file-canary" first) reads a time`)
}
