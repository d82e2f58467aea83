package scope

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	velerov2alpha1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v2alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

var backupStart = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)

func testBackup(mutate func(*velerov1.BackupSpec)) *velerov1.Backup {
	f := false
	b := &velerov1.Backup{ObjectMeta: metav1.ObjectMeta{Name: "b1", Namespace: "velero"},
		Spec:   velerov1.BackupSpec{IncludedNamespaces: []string{"shop"}, DefaultVolumesToFsBackup: &f},
		Status: velerov1.BackupStatus{StartTimestamp: &metav1.Time{Time: backupStart}}}
	if mutate != nil {
		mutate(&b.Spec)
	}
	return b
}

func claim(ns, name string) corev1.PersistentVolumeClaim {
	return corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID("uid-" + name),
		CreationTimestamp: metav1.Time{Time: backupStart.Add(-time.Hour)}}, Spec: corev1.PersistentVolumeClaimSpec{VolumeName: "pv-" + name}}
}

// pod mounts claim as volume "data", with annotations.
func pod(ns, name, claimName string, annotations map[string]string) corev1.Pod {
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Annotations: annotations},
		Spec: corev1.PodSpec{Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

func pvb(name, podName, claimUID string, phase velerov1.PodVolumeBackupPhase) velerov1.PodVolumeBackup {
	p := velerov1.PodVolumeBackup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", Labels: map[string]string{velerov1.BackupNameLabel: "b1"}},
		Spec:   velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Namespace: "shop", Name: podName}, Volume: "data"},
		Status: velerov1.PodVolumeBackupStatus{Phase: phase, Message: "node-agent: disk full"}}
	if claimUID != "" {
		p.Labels[velerov1.PVCUIDLabel] = claimUID
	}
	return p
}

func TestClassify_EveryVerdict(t *testing.T) {
	opt := func(v string) map[string]string { return map[string]string{velerov1.VolumesToBackupAnnotation: v} }
	tests := []struct {
		name       string
		backup     *velerov1.Backup
		claim      corev1.PersistentVolumeClaim
		pods       []corev1.Pod
		pvbs       []velerov1.PodVolumeBackup
		uploads    []velerov2alpha1.DataUpload
		native     map[string]string
		csi        []string
		wantIn     bool
		wantMethod Method
		wantReason Reason
		wantDetail string
	}{
		{name: "file-system backup, by the claim's UID", backup: testBackup(nil), claim: claim("shop", "orders"),
			pods:   []corev1.Pod{pod("shop", "db-0", "orders", opt("data"))},
			pvbs:   []velerov1.PodVolumeBackup{pvb("b1-x", "db-old", "uid-orders", velerov1.PodVolumeBackupPhaseCompleted)},
			wantIn: true, wantMethod: MethodPodVolumeBackup, wantDetail: "PodVolumeBackup b1-x"},
		{name: "file-system backup, by pod and volume without the UID label", backup: testBackup(nil), claim: claim("shop", "orders"),
			pods:   []corev1.Pod{pod("shop", "db-0", "orders", opt("data"))},
			pvbs:   []velerov1.PodVolumeBackup{pvb("b1-y", "db-0", "", velerov1.PodVolumeBackupPhaseCompleted)},
			wantIn: true, wantMethod: MethodPodVolumeBackup, wantDetail: "PodVolumeBackup b1-y"},
		{name: "a failed retry does not hide the completed one", backup: testBackup(nil), claim: claim("shop", "orders"),
			pvbs: []velerov1.PodVolumeBackup{pvb("b1-a", "db-0", "uid-orders", velerov1.PodVolumeBackupPhaseCompleted),
				pvb("b1-b", "db-0", "uid-orders", velerov1.PodVolumeBackupPhaseFailed)},
			wantIn: true, wantMethod: MethodPodVolumeBackup, wantDetail: "PodVolumeBackup b1-a"},
		{name: "data mover", backup: testBackup(nil), claim: claim("shop", "orders"),
			uploads: []velerov2alpha1.DataUpload{{ObjectMeta: metav1.ObjectMeta{Name: "du-1"},
				Spec:   velerov2alpha1.DataUploadSpec{SourceNamespace: "shop", SourcePVC: "orders"},
				Status: velerov2alpha1.DataUploadStatus{Phase: velerov2alpha1.DataUploadPhaseCompleted}}},
			wantIn: true, wantMethod: MethodDataMover, wantDetail: "DataUpload du-1 Completed"},
		{name: "native snapshot", backup: testBackup(nil), claim: claim("shop", "orders"), native: map[string]string{"pv-orders": "Completed"},
			wantIn: true, wantMethod: MethodNativeSnapshot, wantDetail: "PersistentVolume pv-orders"},
		{name: "CSI snapshot", backup: testBackup(nil), claim: claim("shop", "orders"), csi: []string{"shop/orders"},
			wantIn: true, wantMethod: MethodCSISnapshot, wantDetail: "not in the bucket"},
		{name: "file-system backup failed", backup: testBackup(nil), claim: claim("shop", "orders"),
			pvbs:       []velerov1.PodVolumeBackup{pvb("b1-z", "db-0", "uid-orders", velerov1.PodVolumeBackupPhaseFailed)},
			wantReason: ReasonBackupFailed, wantDetail: "PodVolumeBackup b1-z of volume data of pod db-0 is Failed: node-agent: disk full"},
		{name: "data upload failed", backup: testBackup(nil), claim: claim("shop", "orders"),
			uploads: []velerov2alpha1.DataUpload{{ObjectMeta: metav1.ObjectMeta{Name: "du-2"},
				Spec:   velerov2alpha1.DataUploadSpec{SourceNamespace: "shop", SourcePVC: "orders"},
				Status: velerov2alpha1.DataUploadStatus{Phase: velerov2alpha1.DataUploadPhaseFailed, Message: "timeout"}}},
			wantReason: ReasonBackupFailed, wantDetail: "DataUpload du-2 is Failed: timeout"},
		{name: "native snapshot failed", backup: testBackup(nil), claim: claim("shop", "orders"), native: map[string]string{"pv-orders": "Failed"},
			wantReason: ReasonBackupFailed, wantDetail: "native snapshot of PersistentVolume pv-orders is Failed"},
		{name: "namespace not included", backup: testBackup(func(s *velerov1.BackupSpec) { s.IncludedNamespaces = []string{"web-*"} }),
			claim: claim("shop", "orders"), pods: []corev1.Pod{pod("shop", "db-0", "orders", opt("data"))},
			wantReason: ReasonNamespaceExcluded, wantDetail: "leaves namespace shop out (includedNamespaces [web-*], excludedNamespaces none)"},
		{name: "namespace excluded by a pattern", backup: testBackup(func(s *velerov1.BackupSpec) {
			s.IncludedNamespaces = []string{"*"}
			s.ExcludedNamespaces = []string{"sh?p"}
		}),
			claim: claim("shop", "orders"), wantReason: ReasonNamespaceExcluded, wantDetail: "excludedNamespaces [sh?p]"},
		{name: "claims excluded by the backup", backup: testBackup(func(s *velerov1.BackupSpec) { s.ExcludedResources = []string{"PersistentVolumeClaims"} }),
			claim: claim("shop", "orders"), pods: []corev1.Pod{pod("shop", "db-0", "orders", opt("data"))},
			wantReason: ReasonResourceExcluded, wantDetail: "excludedResources [PersistentVolumeClaims]"},
		{name: "claims not among the included namespace-scoped resources", backup: testBackup(func(s *velerov1.BackupSpec) { s.IncludedNamespaceScopedResources = []string{"deployments"} }),
			claim: claim("shop", "orders"), wantReason: ReasonResourceExcluded, wantDetail: "includedNamespaceScopedResources [deployments]"},
		{name: "claim labelled exclude-from-backup", backup: testBackup(nil),
			claim: func() corev1.PersistentVolumeClaim {
				c := claim("shop", "orders")
				c.Labels = map[string]string{velerov1.ExcludeFromBackupLabel: "true"}
				return c
			}(), wantReason: ReasonResourceExcluded, wantDetail: "label velero.io/exclude-from-backup=true"},
		{name: "created after the backup", backup: testBackup(nil),
			claim: func() corev1.PersistentVolumeClaim {
				c := claim("shop", "orders")
				c.CreationTimestamp = metav1.Time{Time: backupStart.Add(time.Minute)}
				return c
			}(), wantReason: ReasonCreatedAfterBackup, wantDetail: "created 2026-01-01T10:01:00Z, after backup b1 started (2026-01-01T10:00:00Z)"},
		{name: "not mounted", backup: testBackup(nil), claim: claim("shop", "orders"),
			pods:       []corev1.Pod{pod("shop", "other", "something-else", opt("data"))},
			wantReason: ReasonNotMounted, wantDetail: "no pod of the source mounts it"},
		{name: "mounted only by a finished pod", backup: testBackup(nil), claim: claim("shop", "orders"),
			pods: []corev1.Pod{func() corev1.Pod {
				p := pod("shop", "job-1", "orders", opt("data"))
				p.Status.Phase = corev1.PodSucceeded
				return p
			}()}, wantReason: ReasonNotMounted},
		{name: "opted out with defaultVolumesToFsBackup", backup: testBackup(func(s *velerov1.BackupSpec) { t := true; s.DefaultVolumesToFsBackup = &t }),
			claim: claim("shop", "orders"), pods: []corev1.Pod{pod("shop", "db-0", "orders", map[string]string{velerov1.VolumesToExcludeAnnotation: "cache, data"})},
			wantReason: ReasonOptedOut, wantDetail: "pod db-0 lists volume data in backup.velero.io/backup-volumes-excludes"},
		{name: "opted out without defaultVolumesToFsBackup", backup: testBackup(nil),
			claim: claim("shop", "orders"), pods: []corev1.Pod{pod("shop", "db-0", "orders", map[string]string{velerov1.VolumesToExcludeAnnotation: "data"})},
			wantReason: ReasonOptedOut},
		{name: "no opt-in", backup: testBackup(nil), claim: claim("shop", "orders"),
			pods:       []corev1.Pod{pod("shop", "db-0", "orders", opt("logs"))},
			wantReason: ReasonNoOptIn, wantDetail: "defaultVolumesToFsBackup false and no pod that mounts it (db-0 (volume data)) names it in backup.velero.io/backup-volumes"},
		{name: "opted in by annotation, no PodVolumeBackup", backup: testBackup(nil), claim: claim("shop", "orders"),
			pods:       []corev1.Pod{pod("shop", "db-0", "orders", opt("logs,data"))},
			wantReason: ReasonNoVolumeBackup, wantDetail: "opted in (pod db-0)"},
		{name: "opted in by default, no PodVolumeBackup", backup: testBackup(func(s *velerov1.BackupSpec) { t := true; s.DefaultVolumesToFsBackup = &t }),
			claim: claim("shop", "orders"), pods: []corev1.Pod{pod("shop", "db-0", "orders", nil)},
			wantReason: ReasonNoVolumeBackup, wantDetail: "opted in (pod db-0)"},
		{name: "no backup object", claim: claim("shop", "orders"), wantReason: ReasonNoVolumeBackup},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Classify(Evidence{Backup: tc.backup, Claims: []corev1.PersistentVolumeClaim{tc.claim}, Pods: tc.pods,
				PodVolumeBackups: tc.pvbs, DataUploads: tc.uploads, NativeSnapshots: tc.native, CSISnapshots: tc.csi})
			require.Len(t, got, 1)
			c := got[0]
			assert.Equal(t, tc.wantIn, c.InBackup)
			assert.Equal(t, tc.wantMethod, c.Method)
			assert.Equal(t, tc.wantReason, c.Reason)
			assert.Contains(t, c.Detail, tc.wantDetail)
		})
	}
}

func TestClassify_SortedWithMounts(t *testing.T) {
	got := Classify(Evidence{Backup: testBackup(nil),
		Claims: []corev1.PersistentVolumeClaim{claim("shop", "b"), claim("shop", "a")},
		Pods:   []corev1.Pod{pod("shop", "p1", "b", nil), pod("shop", "p2", "b", nil)}})
	require.Len(t, got, 2)
	assert.Equal(t, "shop/a", got[0].Ref())
	assert.Equal(t, []string{"p1", "p2"}, got[1].MountedBy)
	assert.Equal(t, "pv-b", got[1].Volume)
}

func TestUncoveredNamespaces(t *testing.T) {
	sched := func(name string, paused bool, inc, exc []string) velerov1.Schedule {
		return velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: velerov1.ScheduleSpec{Paused: paused, Template: velerov1.BackupSpec{IncludedNamespaces: inc, ExcludedNamespaces: exc}}}
	}
	claims := []corev1.PersistentVolumeClaim{claim("shop", "orders"), claim("ledger", "b"), claim("ledger", "a"), claim("web", "x"), claim("tmp", "y"), claim("old", "z")}
	got := UncoveredNamespaces(claims, []velerov1.Schedule{
		sched("shop", false, []string{"shop", "we?"}, nil),
		sched("all-but-tmp", false, []string{"*"}, []string{"tmp", "ledger"}),
		sched("paused", true, []string{"ledger"}, nil),
	})
	assert.Equal(t, []Uncovered{{Namespace: "ledger", Claims: []string{"a", "b"}}, {Namespace: "tmp", Claims: []string{"y"}}}, got)

	none := UncoveredNamespaces(claims[:1], nil)
	assert.Equal(t, []Uncovered{{Namespace: "shop", Claims: []string{"orders"}}}, none, "no schedule covers anything")

	excl := sched("no-pvcs", false, nil, nil)
	excl.Spec.Template.ExcludedResources = []string{"persistentvolumeclaims"}
	assert.Len(t, UncoveredNamespaces(claims[:1], []velerov1.Schedule{excl}), 1, "a schedule that leaves claims out covers none")
}

func TestFindings_FailAcceptedWarnPass(t *testing.T) {
	r := &Result{Backup: "b1", Namespaces: []string{"shop"}, Claims: []Claim{
		{Namespace: "shop", Name: "orders", InBackup: true, Method: MethodPodVolumeBackup},
		{Namespace: "shop", Name: "cache", Reason: ReasonOptedOut, Detail: "pod x lists volume data in backup.velero.io/backup-volumes-excludes"},
		{Namespace: "shop", Name: "spare", Reason: ReasonNotMounted, Detail: "no pod"},
	}, Uncovered: []Uncovered{{Namespace: "ledger", Claims: []string{"a"}}}, Problems: []string{"list pods: forbidden"}}
	fs := Findings(r, []string{"shop/cache"})
	require.Len(t, fs, 4)
	assert.Equal(t, IDClaim, fs[0].ID)
	assert.Equal(t, finding.StatusWarn, fs[0].Status, "accepted out of scope")
	assert.Contains(t, fs[0].Message, "shop/cache is not in backup b1 (opted-out)")
	assert.Equal(t, finding.StatusFail, fs[1].Status)
	assert.Equal(t, "PersistentVolumeClaim shop/spare in the source", fs[1].Subject)
	assert.Contains(t, fs[1].Message, "(not-mounted): no pod")
	assert.Equal(t, IDUncovered, fs[2].ID)
	assert.Contains(t, fs[2].Message, "ledger (a)")
	assert.Equal(t, IDSource, fs[3].ID)

	all := Findings(&Result{Backup: "b1", Namespaces: []string{"shop"}, Claims: r.Claims[:1]}, nil)
	require.Len(t, all, 1)
	assert.Equal(t, finding.StatusPass, all[0].Status)
	assert.Contains(t, all[0].Message, "shop/orders (PodVolumeBackup)")
}

func TestCompareCounts(t *testing.T) {
	backedUp := map[string][]string{
		"v1/Pod":             {"shop/a", "shop/b"},
		"apps/v1/Deployment": {"shop/web"},
		"v1/ConfigMap":       {"shop/c1", "shop/c2", "shop/kube-root-ca.crt"},
	}
	restores := []map[string][]string{
		{"v1/Namespace": {"shop-restored(created)"}, "v1/ConfigMap": {"shop-restored/c1(failed)", "shop-restored/kube-root-ca.crt(failed)"}},
		{"v1/Namespace": {"shop-restored(skipped)"}, "apps/v1/Deployment": {"shop-restored/web(created)"}, "v1/ConfigMap": {"shop-restored/c1(created)", "shop-restored/c2(failed)"}},
	}
	c := CompareCounts(backedUp, restores)
	assert.Equal(t, []KindCount{
		{Kind: "apps/v1/Deployment", BackedUp: 1, Created: 1},
		{Kind: "v1/ConfigMap", BackedUp: 3, Created: 1, Skipped: 1, Failed: 1, NotRestored: 1},
		{Kind: "v1/Namespace", Created: 1},
		{Kind: "v1/Pod", BackedUp: 2, NotRestored: 2},
	}, c.Kinds)
	assert.True(t, c.Differ())
	assert.False(t, CompareCounts(map[string][]string{"v1/Pod": {"a"}}, []map[string][]string{{"v1/Pod": {"a(created)"}}}).Differ())
}
