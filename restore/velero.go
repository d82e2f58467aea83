package restore

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Velero's resources, read and written through the dynamic client so that
// firedrill needs none of Velero's generated clients.
var (
	restoresGVR         = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "restores"}
	backupsGVR          = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backups"}
	locationsGVR        = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}
	downloadRequestsGVR = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "downloadrequests"}
	crdsGVR             = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// Labels firedrill puts on what it creates, so cleanup and people can find it.
const (
	LabelDrillID   = "firedrill.dev/drill-id"
	LabelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "firedrill"
	// labelScheduleName and labelStorageLocation are Velero's.
	labelScheduleName    = "velero.io/schedule-name"
	labelStorageLocation = "velero.io/storage-location"
	// labelRestoreName is what Velero puts on every object a Restore
	// creates (pkg/restore/restore.go, addRestoreLabels).
	labelRestoreName = "velero.io/restore-name"
)

// Velero Restore phases that end a restore.
const (
	PhaseCompleted        = "Completed"
	PhasePartiallyFailed  = "PartiallyFailed"
	PhaseFailed           = "Failed"
	PhaseFailedValidation = "FailedValidation"
)

func terminal(phase string) bool {
	switch phase {
	case PhaseCompleted, PhasePartiallyFailed, PhaseFailed, PhaseFailedValidation:
		return true
	}
	return false
}

func str(o *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(o.Object, fields...)
	return s
}

func num(o *unstructured.Unstructured, fields ...string) int64 {
	n, _, _ := unstructured.NestedInt64(o.Object, fields...)
	if n == 0 {
		if f, ok, _ := unstructured.NestedFloat64(o.Object, fields...); ok {
			return int64(f)
		}
	}
	return n
}

func strs(o *unstructured.Unstructured, fields ...string) []string {
	s, _, _ := unstructured.NestedStringSlice(o.Object, fields...)
	return s
}

func drillLabels(id string) map[string]any {
	return map[string]any{LabelDrillID: id, LabelManagedBy: managedBy}
}
