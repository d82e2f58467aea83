package restore

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestCopyLocation_ReadOnlyAndPutBack: the copy's location is what Velero
// reads as a read-only location with its own credentials, and the Backup
// is pointed at it, with the original recorded for cleanup.
func TestCopyLocation_ReadOnlyAndPutBack(t *testing.T) {
	ctx := context.Background()
	dyn := fakeDynamic(backupObj("daily-1", "daily", velerov1.BackupPhaseCompleted, time.Now()))
	cs := fake.NewClientset()
	tr := &tracker{}
	c := &CopyLocation{Name: "offsite", StorageLocation: "fd-copy", Provider: "aws", Bucket: "velero-copy", Prefix: "lab",
		Config: map[string]string{"region": "eu-1"}, Credentials: Secret("[default]\n")}
	require.NoError(t, createCopyLocation(ctx, cs, dyn, "velero", "fd-1", c, tr))

	u, err := dyn.Resource(locationsGVR).Namespace("velero").Get(ctx, "fd-copy", metav1.GetOptions{})
	require.NoError(t, err)
	var l velerov1.BackupStorageLocation
	require.NoError(t, fromObject(u, &l))
	assert.Equal(t, velerov1.BackupStorageLocationSpec{
		Provider:            "aws",
		Config:              map[string]string{"region": "eu-1"},
		Credential:          &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "fd-copy-firedrill-credentials"}, Key: "cloud"},
		StorageType:         velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: "velero-copy", Prefix: "lab"}},
		AccessMode:          velerov1.BackupStorageLocationAccessModeReadOnly,
		ValidationFrequency: &metav1.Duration{Duration: 10 * time.Second},
	}, l.Spec)
	assert.Equal(t, drillLabels("fd-1"), l.Labels)
	sec, err := cs.CoreV1().Secrets("velero").Get(ctx, "fd-copy-firedrill-credentials", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, []byte("[default]\n"), sec.Data["cloud"])

	require.NoError(t, useCopyLocation(ctx, dyn, "velero", "daily-1", "fd-copy", "fd-1", tr))
	u, err = dyn.Resource(backupsGVR).Namespace("velero").Get(ctx, "daily-1", metav1.GetOptions{})
	require.NoError(t, err)
	b, err := toBackup(u)
	require.NoError(t, err)
	assert.Equal(t, "fd-copy", b.Spec.StorageLocation)
	assert.Equal(t, "fd-copy", b.Labels[velerov1.StorageLocationLabel])
	assert.Equal(t, []backupPatch{{backup: "daily-1", location: "default", label: "default"}}, tr.backupPatches)
	// What a drill that dies before its cleanup needs to put it back
	// (LeftoversOf).
	assert.Equal(t, map[string]string{annotationDrillID: "fd-1", annotationLocationBefore: "default", annotationLocationLabelBefore: "default"}, b.Annotations)
}
