package drill

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/firedrill-dev/firedrill/restore"
)

// deadTarget is a scratch cluster in memory holding what drill fd-dead
// left: its Restore of namespace shop (created by it) and the namespace.
func deadTarget(t *testing.T, created time.Time) (restore.Target, *fake.Clientset) {
	t.Helper()
	r := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "velero.io/v1", "kind": "Restore",
		"metadata": map[string]any{"name": "fd-dead-workloads", "namespace": "velero", "labels": map[string]any{restore.LabelDrillID: "fd-dead"},
			"creationTimestamp": created.Add(-time.Second).Format(time.RFC3339)},
		"spec":   map[string]any{"backupName": "daily-1", "includedNamespaces": []any{"shop"}},
		"status": map[string]any{"phase": "Completed", "completionTimestamp": created.Add(time.Minute).Format(time.RFC3339)},
	}}
	gvr := func(res string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: res}
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		gvr("restores"): "RestoreList", gvr("backupstoragelocations"): "BackupStorageLocationList", gvr("backups"): "BackupList",
		{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}: "CustomResourceDefinitionList",
	}, r)
	cs := fake.NewClientset(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", CreationTimestamp: metav1.NewTime(created)}})
	return restore.Target{Kube: cs, Dynamic: dyn}, cs
}

func writeDeadRecord(t *testing.T, state string) {
	t.Helper()
	d, err := CreateDir(state, "fd-dead")
	require.NoError(t, err)
	require.NoError(t, d.WriteReport(&Report{DrillID: "fd-dead", Scenario: "unit", StartedAt: t0.Add(-time.Hour), Result: ResultRunning,
		Heartbeat: &Heartbeat{At: t0.Add(-time.Hour), IntervalSeconds: 30, Step: StepRestore, Host: "runner-1", PID: 7}}))
}

// The next run of a scenario cleans up after an earlier drill of it that
// died, before its preflight, saying so (issue 18, item 3).
func TestRun_CleansUpAfterADeadDrillFirst(t *testing.T) {
	state := t.TempDir()
	writeDeadRecord(t, state)
	target, cs := deadTarget(t, t0.Add(-time.Hour))
	sc := testScenario(t, "1h")
	cl := NewCleaner(sc, CleanupOptions{Records: []Records{LocalRecords{StateDir: state}}})
	cl.reach = func(context.Context) (restore.Target, error) { return target, nil }
	cl.resourceList = func(context.Context, string) (map[string][]string, error) {
		return map[string][]string{"v1/Namespace": {"shop(created)"}}, nil
	}
	var nsAtPreflight error
	rec := &fakeRecovery{}
	var progress bytes.Buffer
	clock := &stepClock{t: t0}
	rec.Clock, rec.Takes = clock, defaultTakes
	out, err := Run(context.Background(), sc, Options{StateDir: state, DrillID: "fd-test", Now: clock.Now, Recovery: &preflightProbe{fakeRecovery: rec, probe: func(ctx context.Context) {
		_, nsAtPreflight = cs.CoreV1().Namespaces().Get(ctx, "shop", metav1.GetOptions{})
	}}, Cleaner: cl, Progress: &progress})
	require.NoError(t, err)
	assert.True(t, apierrors.IsNotFound(nsAtPreflight), "the dead drill's namespace is gone before the preflight: %v", nsAtPreflight)
	assert.Equal(t, ResultPass, out.Report.Result)
	assert.Contains(t, progress.String(), "1 earlier drill of unit died: cleaning up after it first\n")
	f := findingByID(out.Report.Findings, "preflight.dead-drill")
	require.NotNil(t, f)
	assert.Equal(t, "drill fd-dead (died in step restore at 2026-11-22T09:00:00Z)", f.Subject)
	assert.Contains(t, f.Message, "removed what it left in the scratch cluster before this drill: restore/fd-dead-workloads, namespace/shop")
}

// cleanup DRILL_ID refuses a drill whose heartbeat is fresh, before it
// contacts the target.
func TestCleaner_RefusesALiveDrill(t *testing.T) {
	state := t.TempDir()
	d, err := CreateDir(state, "fd-live")
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, d.WriteReport(&Report{DrillID: "fd-live", Scenario: "unit", StartedAt: now, Result: ResultRunning,
		Heartbeat: &Heartbeat{At: now, IntervalSeconds: 20, Step: StepVerify, Host: "runner-2", PID: 9}}))
	cl := NewCleaner(testScenario(t, "1h"), CleanupOptions{Records: []Records{LocalRecords{StateDir: state}}, Now: func() time.Time { return now.Add(30 * time.Second) }})
	cl.reach = func(context.Context) (restore.Target, error) {
		t.Fatal("the target is contacted")
		return restore.Target{}, nil
	}
	rep, err := FindRecord(context.Background(), []Records{LocalRecords{StateDir: state}}, "fd-live", now.Add(30*time.Second))
	require.NoError(t, err)
	_, err = cl.Drills(context.Background(), []*Report{rep})
	var alive *DrillAliveError
	require.ErrorAs(t, err, &alive)
	assert.Contains(t, err.Error(), "drill fd-live of scenario unit is alive (process 9 on runner-2, step verify, heartbeat at ")
	// Durations as every message writes them (durfmt), not 1m0s.
	assert.Contains(t, err.Error(), "it counts as dead 1m00s after its last heartbeat")
	assert.Contains(t, alive.Hint(), "it is shown as died 1m00s after its last heartbeat")

	_, err = FindRecord(context.Background(), []Records{LocalRecords{StateDir: state}}, "fd-unknown", now)
	assert.True(t, errors.Is(err, ErrNoRecord), "%v", err)
}

// A dry run lists what it would delete and deletes nothing.
func TestCleaner_DryRunDeletesNothing(t *testing.T) {
	state := t.TempDir()
	writeDeadRecord(t, state)
	target, cs := deadTarget(t, t0.Add(-time.Hour))
	var progress bytes.Buffer
	cl := NewCleaner(testScenario(t, "1h"), CleanupOptions{Records: []Records{LocalRecords{StateDir: state}}, DryRun: true, Progress: &progress})
	cl.reach = func(context.Context) (restore.Target, error) { return target, nil }
	cl.resourceList = func(context.Context, string) (map[string][]string, error) {
		return map[string][]string{"v1/Namespace": {"shop(created)"}}, nil
	}
	dead, err := cl.DeadDrills(context.Background())
	require.NoError(t, err)
	require.Len(t, dead, 1)
	done, err := cl.Drills(context.Background(), dead)
	require.NoError(t, err)
	require.Len(t, done, 1)
	assert.Equal(t, []string{"shop"}, done[0].Found.Namespaces)
	assert.Empty(t, done[0].Deleted)
	assert.Contains(t, progress.String(), "  would delete namespace/shop\n  would delete restore/fd-dead-workloads\n")
	_, err = cs.CoreV1().Namespaces().Get(context.Background(), "shop", metav1.GetOptions{})
	assert.NoError(t, err)
}

// preflightProbe runs probe when the drill's preflight starts.
type preflightProbe struct {
	*fakeRecovery
	probe func(ctx context.Context)
}

func (p *preflightProbe) Preflight(ctx context.Context, disasterAt time.Time) error {
	p.probe(ctx)
	return p.fakeRecovery.Preflight(ctx, disasterAt)
}
