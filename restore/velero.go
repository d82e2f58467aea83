package restore

import (
	"fmt"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Velero's resources, read and written through the dynamic client so that
// firedrill needs none of Velero's generated clients: objects are Velero's
// own types (velerov1), converted at the dynamic client's edge (toObject,
// fromObject).
var (
	restoresGVR         = velerov1.SchemeGroupVersion.WithResource("restores")
	backupsGVR          = velerov1.SchemeGroupVersion.WithResource("backups")
	locationsGVR        = velerov1.SchemeGroupVersion.WithResource("backupstoragelocations")
	downloadRequestsGVR = velerov1.SchemeGroupVersion.WithResource("downloadrequests")
	// PodVolumeRestores and PodVolumeBackups are velero.io/v1 in Velero
	// v1.18 (pkg/apis/velero/v1/pod_volume_*_type.go).
	podVolumeRestoresGVR = velerov1.SchemeGroupVersion.WithResource("podvolumerestores")
	podVolumeBackupsGVR  = velerov1.SchemeGroupVersion.WithResource("podvolumebackups")
	// BackupRepositories are the kopia repositories Velero opened on a
	// storage location, one per namespace (velero.io/storage-location).
	backupRepositoriesGVR = velerov1.SchemeGroupVersion.WithResource("backuprepositories")
	crdsGVR               = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// Labels firedrill puts on what it creates, so cleanup and people can find it.
const (
	LabelDrillID   = "firedrill.dev/drill-id"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "firedrill"
	// labelScheduleName, labelStorageLocation and labelRestoreName are
	// Velero's; labelRestoreName is what Velero puts on every object a
	// Restore creates (pkg/restore/restore.go, addRestoreLabels).
	labelScheduleName    = velerov1.ScheduleNameLabel
	labelStorageLocation = velerov1.StorageLocationLabel
	labelRestoreName     = velerov1.RestoreNameLabel
	// annotationDrillID, annotationLocationBefore and
	// annotationLocationLabelBefore are on a Backup a drill restoring
	// from a copy pointed at the copy's location: which drill, and the
	// location (and its label) to put back.
	annotationDrillID             = "firedrill.dev/drill-id"
	annotationLocationBefore      = "firedrill.dev/storage-location-before"
	annotationLocationLabelBefore = "firedrill.dev/storage-location-label-before"
)

// StatusTimeout is PhaseResult.Status of a Restore that reached no
// terminal phase within the phase timeout. It is firedrill's, not a phase
// of Velero's.
const StatusTimeout velerov1.RestorePhase = "Timeout"

// terminal reports whether a Restore in phase has ended: Velero changes a
// Restore no more once it is Completed, PartiallyFailed, Failed or
// FailedValidation.
func terminal(phase velerov1.RestorePhase) bool {
	switch phase {
	case velerov1.RestorePhaseCompleted, velerov1.RestorePhasePartiallyFailed, velerov1.RestorePhaseFailed,
		velerov1.RestorePhaseFailedValidation:
		return true
	}
	return false
}

// veleroObject is a Velero type the dynamic client reads and writes.
type veleroObject interface {
	*velerov1.Backup | *velerov1.Restore | *velerov1.BackupStorageLocation | *velerov1.DownloadRequest |
		*velerov1.PodVolumeRestore | *velerov1.PodVolumeBackup
	runtime.Object
}

// fromObject converts an object read through the dynamic client into
// Velero's type T; an error names the object.
func fromObject[T veleroObject](u *unstructured.Unstructured, into T) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return fmt.Errorf("read Velero %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// toObject converts o, with its kind set, for the dynamic client.
func toObject[T veleroObject](o T, kind string) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, fmt.Errorf("convert Velero %s: %w", kind, err)
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(velerov1.SchemeGroupVersion.WithKind(kind))
	return u, nil
}

func drillLabels(id string) map[string]string {
	return map[string]string{LabelDrillID: id, LabelManagedBy: managedBy}
}
