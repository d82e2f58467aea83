package drill

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// sessionRecovery is the drill's real Recovery over a restore.Session
// whose clients are fakes: only Preflight differs, which would otherwise
// build clients from the scenario's kubeconfig; it starts the session as
// the real one does.
type sessionRecovery struct {
	*recovery
	target restore.Target
	opts   restore.Options
}

func (r sessionRecovery) Preflight(ctx context.Context, disasterAt time.Time) error {
	return r.startSession(ctx, r.target, r.spec, disasterAt, r.opts)
}

// fakeVelero is a target cluster whose Velero completes every Restore at
// once: the Backup and location objects a real one holds, and a reactor
// that gives each created Restore a terminal status.
func fakeVelero(t *testing.T) (*fake.Clientset, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	gvr := func(r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: r}
	}
	obj := func(kind, name string, labels map[string]any, status map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "velero.io/v1", "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": "velero", "labels": labels},
			"spec":     map[string]any{"storageLocation": "default"}, "status": status}}
	}
	started := t0.Add(-2 * time.Hour).Format(time.RFC3339)
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		gvr("backups"): "BackupList", gvr("restores"): "RestoreList", gvr("backupstoragelocations"): "BackupStorageLocationList",
		gvr("downloadrequests"):  "DownloadRequestList",
		gvr("podvolumerestores"): "PodVolumeRestoreList", gvr("podvolumebackups"): "PodVolumeBackupList",
		{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}: "CustomResourceDefinitionList",
	},
		obj("BackupStorageLocation", "default", nil, map[string]any{"phase": "Available"}),
		obj("Backup", "daily-1", map[string]any{"velero.io/schedule-name": "daily"},
			map[string]any{"phase": "Completed", "startTimestamp": started, "completionTimestamp": started}),
	)
	dyn.PrependReactor("create", "restores", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		u.Object["status"] = map[string]any{"phase": "Completed", "progress": map[string]any{"itemsRestored": int64(0), "totalItems": int64(0)}}
		return false, nil, nil
	})
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "velero"}})
	return cs, dyn
}

// TestPlan_ClaimsMatchTheRun pins what `firedrill plan` says a drill
// records to what a drill records: a drill through the real Recovery and
// restore.Session (fake clusters only) produces no finding the plan does
// not name, and every finding the plan promises unconditionally.
// Protection findings are the backup package's and are not part of it.
func TestPlan_ClaimsMatchTheRun(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "claims.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: claims}
spec:
  disaster: {summary: test disaster, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
  checks:
  - {name: first, command: {run: ["true"]}}
  - {name: second, command: {run: ["true", "again"]}}
`))
	require.NoError(t, err)
	plan, err := NewPlan(sc)
	require.NoError(t, err)
	planned := map[string]PlannedFinding{}
	for _, st := range plan.Steps {
		for _, f := range st.Findings {
			require.NotEmpty(t, f.Evidence, "finding %s names its evidence", f.ID)
			planned[f.ID] = f
		}
	}

	cs, dyn := fakeVelero(t)
	spec, err := RestoreSpec(sc, "fd-claims", nil)
	require.NoError(t, err)
	clock := &fakeClock{t: t0}
	rec := sessionRecovery{&recovery{sc: sc, spec: spec, progress: &switchWriter{}}, restore.Target{Kube: cs, Dynamic: dyn}, restore.Options{Now: clock.Now}}
	out, err := Run(context.Background(), sc, Options{StateDir: t.TempDir(), DrillID: "fd-claims", Now: clock.Now, Recovery: rec})
	require.NoError(t, err)
	rep := out.Report
	require.Equal(t, PhasePassed, phaseStatus(rep, StepVerify), "the drill ran its checks: %+v", rep.Phases)

	got := map[string]bool{}
	for _, f := range rep.Findings {
		got[f.ID] = true
		_, ok := planned[f.ID]
		assert.True(t, ok, "the run recorded finding %s, which the plan does not name", f.ID)
	}
	var promised []string
	for id, f := range planned {
		if f.When == "" {
			promised = append(promised, id)
		}
	}
	sort.Strings(promised)
	assert.Equal(t, []string{
		"recovery-point.backup",
		"restore.order",
		"restore.phase.crds", "restore.phase.network-policies", "restore.phase.workloads",
		"restore.volume-data",
		"verify.first", "verify.second",
	}, promised, "what the plan promises for this scenario")
	for _, id := range promised {
		assert.True(t, got[id], "the plan promises finding %s; the run did not record it", id)
	}
}
