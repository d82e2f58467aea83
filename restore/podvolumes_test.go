package restore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware-tanzu/velero/pkg/apis/velero/shared"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

var pvrStart = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// pvr is a PodVolumeRestore of Restore restore for volume of pod ns/pod,
// restored from sourceNS, as Velero's restorer creates it
// (pkg/podvolume/restorer.go newPodVolumeRestore), in phase.
func pvr(name, restore, ns, pod, sourceNS, volume string, phase velerov1.PodVolumeRestorePhase) *velerov1.PodVolumeRestore {
	p := &velerov1.PodVolumeRestore{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", Labels: map[string]string{velerov1.RestoreNameLabel: restore}},
		Spec:       velerov1.PodVolumeRestoreSpec{Pod: corev1Ref(ns, pod), Volume: volume, SourceNamespace: sourceNS},
		Status:     velerov1.PodVolumeRestoreStatus{Phase: phase, Progress: shared.DataMoveOperationProgress{BytesDone: 100, TotalBytes: 400}},
	}
	if phase == velerov1.PodVolumeRestorePhaseCompleted || phase == velerov1.PodVolumeRestorePhaseFailed {
		p.Status.Progress.BytesDone = 400
		p.Status.StartTimestamp = ptr.To(metav1.NewTime(pvrStart))
		p.Status.CompletionTimestamp = ptr.To(metav1.NewTime(pvrStart.Add(3 * time.Second)))
	}
	if phase == velerov1.PodVolumeRestorePhaseFailed {
		p.Status.Message = "error restoring volume: no such snapshot"
	}
	return p
}

// pvb is a PodVolumeBackup of backup for volume of pod ns/pod.
func pvb(name, backup, ns, pod, volume string, phase velerov1.PodVolumeBackupPhase, snapshot string) *velerov1.PodVolumeBackup {
	return &velerov1.PodVolumeBackup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", Labels: map[string]string{velerov1.BackupNameLabel: backup}},
		Spec:       velerov1.PodVolumeBackupSpec{Pod: corev1Ref(ns, pod), Volume: volume},
		Status:     velerov1.PodVolumeBackupStatus{Phase: phase, SnapshotID: snapshot, Progress: shared.DataMoveOperationProgress{TotalBytes: 400}},
	}
}

// setPVRPhase writes phase as the PodVolumeRestore's status, as node-agent does.
func setPVRPhase(ctx context.Context, t *testing.T, dyn *dynamicfake.FakeDynamicClient, name string, phase velerov1.PodVolumeRestorePhase) {
	t.Helper()
	res := dyn.Resource(podVolumeRestoresGVR).Namespace("velero")
	cur, err := res.Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	var p velerov1.PodVolumeRestore
	require.NoError(t, fromObject(cur, &p))
	p.Status = pvr(name, "", "", "", "", "", phase).Status
	u, err := toObject(&p, "PodVolumeRestore")
	require.NoError(t, err)
	_, err = res.Update(ctx, u, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// pvrWatches hands the test each watch of PodVolumeRestores once it is open.
func pvrWatches(dyn *dynamicfake.FakeDynamicClient) <-chan watch.Interface {
	opened := make(chan watch.Interface, 10)
	dyn.PrependWatchReactor("podvolumerestores", func(a k8stesting.Action) (bool, watch.Interface, error) {
		w, err := dyn.Tracker().Watch(podVolumeRestoresGVR, a.GetNamespace())
		if err == nil {
			opened <- w
		}
		return true, w, err
	})
	return opened
}

// TestWaitPodVolumeRestores_UntilEveryOneEnds: the wait follows the
// Restore's PodVolumeRestores (and no other Restore's) until the last one
// ends, and reports each with Velero's progress and times.
func TestWaitPodVolumeRestores_UntilEveryOneEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dyn := fakeDynamic(
		pvr("fd-1-workloads-a", "fd-1-workloads", "shop-x", "backend-0", "shop", "data", velerov1.PodVolumeRestorePhaseCompleted),
		pvr("fd-1-workloads-b", "fd-1-workloads", "shop-x", "backend-0", "shop", "logs", velerov1.PodVolumeRestorePhaseInProgress),
		pvr("fd-0-workloads-c", "fd-0-workloads", "shop", "backend-0", "shop", "data", velerov1.PodVolumeRestorePhaseInProgress),
	)
	watches := pvrWatches(dyn)
	type out struct {
		pvrs []PodVolumeRestoreResult
		err  error
	}
	done := make(chan out, 1)
	go func() {
		pvrs, err := waitPodVolumeRestores(ctx, dyn, "velero", "fd-1-workloads")
		done <- out{pvrs, err}
	}()
	<-watches
	select {
	case o := <-done:
		t.Fatalf("returned before the InProgress one ended: %+v", o)
	default:
	}
	setPVRPhase(ctx, t, dyn, "fd-1-workloads-b", velerov1.PodVolumeRestorePhaseCompleted)
	o := <-done
	require.NoError(t, o.err)
	want := PodVolumeRestoreResult{Name: "fd-1-workloads-a", Namespace: "shop-x", Pod: "backend-0", SourceNamespace: "shop", Volume: "data",
		Phase: velerov1.PodVolumeRestorePhaseCompleted, BytesDone: 400, TotalBytes: 400, Started: pvrStart, Completed: pvrStart.Add(3 * time.Second), DurationSeconds: 3}
	require.Len(t, o.pvrs, 2, "only the Restore's own")
	assert.Equal(t, want, o.pvrs[0])
	assert.Equal(t, "logs", o.pvrs[1].Volume)
	assert.Equal(t, velerov1.PodVolumeRestorePhaseCompleted, o.pvrs[1].Phase)
}

// TestWaitPodVolumeRestores_NeverStarted: a PodVolumeRestore no node-agent
// takes stays New; the wait ends with the phase's time and says so.
func TestWaitPodVolumeRestores_NeverStarted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	dyn := fakeDynamic(pvr("fd-1-workloads-a", "fd-1-workloads", "shop", "backend-0", "shop", "data", ""))
	pvrs, err := waitPodVolumeRestores(ctx, dyn, "velero", "fd-1-workloads")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, pvrs, 1)
	assert.Equal(t, velerov1.PodVolumeRestorePhaseNew, pvrs[0].Phase)
	assert.Contains(t, pvrs[0].problem(), "never started")
}

// TestWaitPodVolumeRestores_None: a Restore without PodVolumeRestores is
// done at once.
func TestWaitPodVolumeRestores_None(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pvrs, err := waitPodVolumeRestores(ctx, fakeDynamic(), "velero", "fd-1-workloads")
	require.NoError(t, err)
	assert.Empty(t, pvrs)
	assert.NoError(t, ctx.Err(), "returned before the deadline")
}

// TestVolumeBackups_OnlyRestorableDataOfTheRestoredNamespaces: Velero
// restores only Completed PodVolumeBackups with a snapshot of the backup.
func TestVolumeBackups_OnlyRestorableDataOfTheRestoredNamespaces(t *testing.T) {
	dyn := fakeDynamic(
		pvb("b1-x", "b1", "shop", "backend-0", "data", velerov1.PodVolumeBackupPhaseCompleted, "snap1"),
		pvb("b1-y", "b1", "billing", "db-0", "data", velerov1.PodVolumeBackupPhaseCompleted, "snap2"),
		pvb("b1-z", "b1", "shop", "backend-0", "empty", velerov1.PodVolumeBackupPhaseCompleted, ""),
		pvb("b1-w", "b1", "shop", "web-0", "cache", velerov1.PodVolumeBackupPhaseFailed, ""),
		pvb("b0-x", "b0", "shop", "backend-0", "data", velerov1.PodVolumeBackupPhaseCompleted, "snap0"),
	)
	vs, err := volumeBackups(context.Background(), dyn, "velero", "b1", []string{"shop"})
	require.NoError(t, err)
	assert.Equal(t, []VolumeRef{{Namespace: "shop", Pod: "backend-0", Volume: "data", PodVolumeBackup: "b1-x", TotalBytes: 400}}, vs)
}

func TestMatchVolumeData(t *testing.T) {
	backed := []VolumeRef{{Namespace: "shop", Pod: "backend-0", Volume: "data"}, {Namespace: "shop", Pod: "backend-0", Volume: "logs"}}
	done := func(volume string, phase velerov1.PodVolumeRestorePhase) PodVolumeRestoreResult {
		return pvrResult(pvr("r-"+volume, "r", "shop-x", "backend-0", "shop", volume, phase))
	}
	tests := []struct {
		name string
		pvrs []PodVolumeRestoreResult
		ok   bool
		// msg must occur in the finding's message.
		msg string
	}{
		{"all restored", []PodVolumeRestoreResult{done("data", velerov1.PodVolumeRestorePhaseCompleted), done("logs", velerov1.PodVolumeRestorePhaseCompleted)}, true,
			"2 volumes restored from file-system backup, 800 bytes: pod shop-x/backend-0 volume \"data\", pod shop-x/backend-0 volume \"logs\""},
		{"pods excluded: none restored", nil, false,
			"2 of 2 volumes came back without their data (no PodVolumeRestore: Velero restores volume data only into pods it restores itself): pod shop/backend-0 volume \"data\", pod shop/backend-0 volume \"logs\""},
		{"one failed", []PodVolumeRestoreResult{done("data", velerov1.PodVolumeRestorePhaseCompleted), done("logs", velerov1.PodVolumeRestorePhaseFailed)}, false,
			"PodVolumeRestore r-logs (pod shop-x/backend-0 volume \"logs\") phase Failed: error restoring volume: no such snapshot"},
		{"one never started", []PodVolumeRestoreResult{done("data", velerov1.PodVolumeRestorePhaseCompleted), done("logs", "")}, false,
			"PodVolumeRestore r-logs (pod shop-x/backend-0 volume \"logs\") never started"},
		{"a restore into another namespace of the same name does not count", []PodVolumeRestoreResult{
			done("data", velerov1.PodVolumeRestorePhaseCompleted),
			pvrResult(pvr("o", "r", "billing", "backend-0", "billing", "logs", velerov1.PodVolumeRestorePhaseCompleted))}, false,
			"1 of 2 volumes came back without its data (no PodVolumeRestore: Velero restores volume data only into pods it restores itself): pod shop/backend-0 volume \"logs\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vd := matchVolumeData(backed, tt.pvrs)
			assert.Equal(t, tt.ok, vd.OK())
			f := volumeDataFinding(vd, tt.pvrs, "b1")
			assert.Equal(t, tt.ok, !finding.Failed([]finding.Finding{f}), f.Message)
			assert.Contains(t, f.Message, tt.msg)
		})
	}
}

// TestSessionRestore_VolumeData runs the restore step against fakes whose
// Velero completes every Restore at once: with the pods restored (a
// Completed PodVolumeRestore for the backed-up volume) it passes; with
// pods excluded Velero completes all the same, and the drill fails the
// restore naming the volume that came back without its data.
func TestSessionRestore_VolumeData(t *testing.T) {
	for _, podsRestored := range []bool{true, false} {
		t.Run(map[bool]string{true: "pods restored", false: "pods excluded"}[podsRestored], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			objs := []runtime.Object{pvb("daily-1-x", "daily-1", "shop", "backend-0", "data", velerov1.PodVolumeBackupPhaseCompleted, "snap1")}
			if podsRestored {
				objs = append(objs, pvr("fd-t-workloads-a", "fd-t-workloads", "shop-x", "backend-0", "shop", "data", velerov1.PodVolumeRestorePhaseCompleted))
			}
			dyn := fakeDynamic(objs...)
			dyn.PrependReactor("create", "restores", func(a k8stesting.Action) (bool, runtime.Object, error) {
				u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
				var r velerov1.Restore
				if err := fromObject(u, &r); err != nil {
					return true, nil, err
				}
				r.Status = velerov1.RestoreStatus{Phase: velerov1.RestorePhaseCompleted, Progress: &velerov1.RestoreProgress{ItemsRestored: 3, TotalItems: 3}}
				done, err := toObject(&r, "Restore")
				if err != nil {
					return true, nil, err
				}
				return true, done, dyn.Tracker().Create(restoresGVR, done, a.GetNamespace())
			})
			spec := defaulted(Spec{DrillID: "fd-t", IncludedNamespaces: []string{"shop"}, Backup: BackupSelector{Name: "daily-1"},
				NamespaceMapping: map[string]string{"shop": "shop-x"}, Phases: []Phase{{Name: "workloads"}}})
			s, err := NewSession(Target{Kube: fake.NewClientset(), Dynamic: dyn}, spec, Options{})
			require.NoError(t, err)
			s.res.Backup = &RecoveryPoint{Backup: "daily-1"}
			require.NoError(t, s.Restore(ctx))
			res := s.Result()
			require.Len(t, res.Restores, 1)
			assert.Equal(t, velerov1.RestorePhaseCompleted, res.Restores[0].Status, "Velero completes either way")
			require.NotNil(t, res.VolumeData)
			var f *finding.Finding
			for i := range res.Findings {
				if res.Findings[i].ID == "restore.volume-data" {
					f = &res.Findings[i]
				}
			}
			require.NotNil(t, f)
			if podsRestored {
				assert.True(t, res.Restored)
				require.Len(t, res.Restores[0].PodVolumeRestores, 1)
				assert.Equal(t, "data", res.Restores[0].PodVolumeRestores[0].Volume)
				assert.False(t, finding.Failed([]finding.Finding{*f}), f.Message)
				return
			}
			assert.False(t, res.Restored, "volumes without their data are a failed restore, never a pass")
			assert.Equal(t, []VolumeRef{{Namespace: "shop", Pod: "backend-0", Volume: "data", PodVolumeBackup: "daily-1-x", TotalBytes: 400}}, res.VolumeData.WithoutData)
			assert.True(t, finding.Failed([]finding.Finding{*f}))
			assert.Contains(t, f.Message, `pod shop/backend-0 volume "data"`)

			// The checks of a restore that did not complete are skipped:
			// no findings of their own, one cause one failure.
			s.spec.Checks = []Check{{Name: "orders", Command: &CommandCheck{Run: []string{"true"}}}}
			found := len(res.Findings)
			require.NoError(t, s.Verify(ctx))
			require.Len(t, res.Checks, 1)
			assert.True(t, res.Checks[0].Skipped)
			assert.False(t, res.Checks[0].Passed)
			assert.Equal(t, "skipped: the restore did not complete", res.Checks[0].Message)
			assert.Len(t, res.Findings, found, "no finding for a check that did not run")
			assert.False(t, res.Passed)
		})
	}
}

func corev1Ref(ns, pod string) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pod}
}

// TestSessionRestore_PodVolumeRestoreNeverStarts: Velero holds a Restore in
// progress while a PodVolumeRestore waits for a node-agent that never
// takes it; when the phase's time runs out the phase fails, and its reason
// names the PodVolumeRestore that never started.
func TestSessionRestore_PodVolumeRestoreNeverStarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dyn := fakeDynamic(pvr("fd-t-workloads-a", "fd-t-workloads", "shop", "db-0", "shop", "data", ""))
	dyn.PrependReactor("create", "restores", func(a k8stesting.Action) (bool, runtime.Object, error) {
		u := a.(k8stesting.CreateAction).GetObject().(*unstructured.Unstructured)
		var r velerov1.Restore
		if err := fromObject(u, &r); err != nil {
			return true, nil, err
		}
		r.Status = velerov1.RestoreStatus{Phase: velerov1.RestorePhaseInProgress}
		inProgress, err := toObject(&r, "Restore")
		if err != nil {
			return true, nil, err
		}
		return true, inProgress, dyn.Tracker().Create(restoresGVR, inProgress, a.GetNamespace())
	})
	spec := defaulted(Spec{DrillID: "fd-t", IncludedNamespaces: []string{"shop"}, Backup: BackupSelector{Name: "daily-1"},
		Phases: []Phase{{Name: "workloads"}}, PhaseTimeout: 300 * time.Millisecond})
	s, err := NewSession(Target{Kube: fake.NewClientset(), Dynamic: dyn}, spec, Options{})
	require.NoError(t, err)
	s.res.Backup = &RecoveryPoint{Backup: "daily-1"}
	require.NoError(t, s.Restore(ctx))
	res := s.Result()
	assert.False(t, res.Restored)
	require.Len(t, res.Restores, 1)
	ph := res.Restores[0]
	assert.Equal(t, StatusTimeout, ph.Status)
	require.Len(t, ph.PodVolumeRestores, 1)
	assert.Contains(t, ph.Reason(), `PodVolumeRestore fd-t-workloads-a (pod shop/db-0 volume "data") never started`)
}
