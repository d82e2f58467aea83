package scope

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	velerov2alpha1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v2alpha1"
	"github.com/vmware-tanzu/velero/pkg/label"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// memFiles is an in-memory bucket of a storage location; Err fails every read.
type memFiles struct {
	files map[string][]byte
	Err   error
}

func (m memFiles) ReadFile(_ context.Context, key string) ([]byte, error) {
	if m.Err != nil {
		return nil, m.Err
	}
	b, ok := m.files[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return b, nil
}

func gz(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	require.NoError(t, json.NewEncoder(zw).Encode(v))
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func unstructuredOf(t *testing.T, o runtime.Object, gvk schema.GroupVersionKind) runtime.Object {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	require.NoError(t, err)
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	return u
}

func TestRead_SourceAndBucket(t *testing.T) {
	b := testBackup(nil)
	kube := kubefake.NewSimpleClientset(
		ptr(claim("shop", "orders")), ptr(claim("shop", "cache")), ptr(claim("shop", "spare")), ptr(claim("shop", "disk")),
		ptr(claim("ledger", "journal")), ptr(claim("kube-system", "etcd")),
		ptr(pod("shop", "db-0", "orders", map[string]string{velerov1.VolumesToBackupAnnotation: "data"})),
		ptr(pod("shop", "web-0", "cache", map[string]string{velerov1.VolumesToExcludeAnnotation: "data"})),
	)
	inSource := pvb("b1-src", "db-0", "uid-orders", velerov1.PodVolumeBackupPhaseFailed)
	sched := &velerov1.Schedule{ObjectMeta: metav1.ObjectMeta{Name: "daily", Namespace: "velero"},
		Spec: velerov1.ScheduleSpec{Template: velerov1.BackupSpec{IncludedNamespaces: []string{"shop", "kube-*"}}}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		backupsGVR: "BackupList", schedulesGVR: "ScheduleList", podVolumeBackupsGVR: "PodVolumeBackupList", dataUploadsGVR: "DataUploadList",
	},
		unstructuredOf(t, b, velerov1.SchemeGroupVersion.WithKind("Backup")),
		unstructuredOf(t, &inSource, velerov1.SchemeGroupVersion.WithKind("PodVolumeBackup")),
		unstructuredOf(t, sched, velerov1.SchemeGroupVersion.WithKind("Schedule")),
		// Another backup's DataUpload: not this backup's.
		unstructuredOf(t, &velerov2alpha1.DataUpload{ObjectMeta: metav1.ObjectMeta{Name: "du-other", Namespace: "velero", Labels: map[string]string{velerov1.BackupNameLabel: "b0"}},
			Spec:   velerov2alpha1.DataUploadSpec{SourceNamespace: "shop", SourcePVC: "spare"},
			Status: velerov2alpha1.DataUploadStatus{Phase: velerov2alpha1.DataUploadPhaseCompleted}}, velerov2alpha1.SchemeGroupVersion.WithKind("DataUpload")),
	)
	// The bucket holds the completed PodVolumeBackup (the source's copy is
	// a failed attempt of the same volume) and a native snapshot.
	stored := pvb("b1-stored", "db-0", "uid-orders", velerov1.PodVolumeBackupPhaseCompleted)
	files := memFiles{files: map[string][]byte{
		"backups/b1/b1-podvolumebackups.json.gz": gz(t, []velerov1.PodVolumeBackup{stored}),
		"backups/b1/b1-volumesnapshots.json.gz": gz(t, []map[string]any{
			{"spec": map[string]any{"persistentVolumeName": "pv-disk"}, "status": map[string]any{"phase": "Completed"}}}),
	}}

	res, err := Read(context.Background(), Source{Kube: kube, Dynamic: dyn, VeleroNamespace: "velero", Files: files}, "b1", []string{"shop"})
	require.NoError(t, err)
	assert.Empty(t, res.Problems)
	verdicts := map[string]string{}
	for _, c := range res.Claims {
		verdicts[c.Ref()] = string(c.Method) + string(c.Reason)
	}
	assert.Equal(t, map[string]string{
		"shop/cache": "opted-out", "shop/disk": "NativeSnapshot", "shop/orders": "PodVolumeBackup", "shop/spare": "not-mounted",
	}, verdicts)
	assert.Equal(t, []string{"daily"}, res.Schedules)
	assert.Equal(t, []Uncovered{{Namespace: "ledger", Claims: []string{"journal"}}}, res.Uncovered)

	// The source is only read.
	for _, a := range append(kube.Actions(), dyn.Actions()...) {
		assert.Contains(t, []string{"get", "list"}, a.GetVerb(), "%s %s", a.GetVerb(), a.GetResource())
	}
}

func TestRead_ProblemsAreNamed(t *testing.T) {
	kube := kubefake.NewSimpleClientset(ptr(claim("shop", "orders")))
	kube.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("pods is forbidden")
	})
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		backupsGVR: "BackupList", schedulesGVR: "ScheduleList", podVolumeBackupsGVR: "PodVolumeBackupList", dataUploadsGVR: "DataUploadList",
	})
	res, err := Read(context.Background(), Source{Kube: kube, Dynamic: dyn, VeleroNamespace: "velero",
		Files: memFiles{Err: fmt.Errorf("access denied")}}, "b1", []string{"shop"})
	require.NoError(t, err)
	assert.Contains(t, res.Problems, "list pods of namespace shop in the source: pods is forbidden")
	assert.Contains(t, res.Problems[1], "backup b1 is neither in the source")
	assert.Contains(t, res.Problems[1], "access denied")
	require.Len(t, res.Claims, 1)
	assert.Equal(t, ReasonNoVolumeBackup, res.Claims[0].Reason, "without the Backup, no rule can say more")

	kube.PrependReactor("list", "persistentvolumeclaims", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("connection refused")
	})
	_, err = Read(context.Background(), Source{Kube: kube, Dynamic: dyn, VeleroNamespace: "velero"}, "b1", []string{"shop"})
	assert.EqualError(t, err, "list PersistentVolumeClaims of namespace shop in the source: connection refused")
}

func ptr[T any](v T) *T { return &v }

func TestReadCounts_FromTheBucket(t *testing.T) {
	b := testBackup(nil)
	b.Status.Progress = &velerov1.BackupProgress{TotalItems: 3, ItemsBackedUp: 3}
	vb, err := json.Marshal(b)
	require.NoError(t, err)
	files := memFiles{files: map[string][]byte{
		"backups/b1/velero-backup.json":                vb,
		"backups/b1/b1-resource-list.json.gz":          gz(t, map[string][]string{"v1/Pod": {"shop/a"}, "v1/ConfigMap": {"shop/c", "shop/d"}}),
		"restores/r1/restore-r1-resource-list.json.gz": gz(t, map[string][]string{"v1/ConfigMap": {"shop-restored/c(created)", "shop-restored/d(created)"}}),
	}}
	c, err := ReadCounts(context.Background(), files, files, "b1", []string{"r1"})
	require.NoError(t, err)
	assert.Equal(t, 3, c.BackupTotalItems)
	assert.Equal(t, 3, c.BackupItemsBackedUp)
	assert.Equal(t, []string{"r1"}, c.Restores)
	assert.Equal(t, []KindCount{{Kind: "v1/ConfigMap", BackedUp: 2, Created: 2}, {Kind: "v1/Pod", BackedUp: 1, NotRestored: 1}}, c.Kinds)

	_, err = ReadCounts(context.Background(), files, files, "b1", []string{"r2"})
	require.NoError(t, err, "a Restore without a resource list restored nothing")
	_, err = ReadCounts(context.Background(), memFiles{Err: fmt.Errorf("access denied")}, files, "b1", nil)
	assert.ErrorContains(t, err, "read backups/b1/b1-resource-list.json.gz: access denied")
}

func TestRead_LongBackupNameMatchesVelerosLabel(t *testing.T) {
	long := "shop-daily-" + strings.Repeat("x", 60)
	p := pvb("p-long", "db-0", "uid-orders", velerov1.PodVolumeBackupPhaseCompleted)
	p.Labels[velerov1.BackupNameLabel] = label.GetValidName(long)
	require.NotEqual(t, long, p.Labels[velerov1.BackupNameLabel], "Velero cuts the name")
	kube := kubefake.NewSimpleClientset(ptr(claim("shop", "orders")))
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		backupsGVR: "BackupList", schedulesGVR: "ScheduleList", podVolumeBackupsGVR: "PodVolumeBackupList", dataUploadsGVR: "DataUploadList",
	}, unstructuredOf(t, &p, velerov1.SchemeGroupVersion.WithKind("PodVolumeBackup")))
	res, err := Read(context.Background(), Source{Kube: kube, Dynamic: dyn, VeleroNamespace: "velero"}, long, []string{"shop"})
	require.NoError(t, err)
	require.Len(t, res.Claims, 1)
	assert.Equal(t, MethodPodVolumeBackup, res.Claims[0].Method)
}
