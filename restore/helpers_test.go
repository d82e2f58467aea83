package restore

import (
	"encoding/json"
	"fmt"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
)

func fmtSprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// fakeDynamic is a fake dynamic client holding objs. Velero's objects are
// given as Velero's types and converted as firedrill converts them (see
// toObject), so a test that builds a field wrong fails to compile, and one
// the code reads from the wrong path fails.
func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	us := make([]runtime.Object, len(objs))
	for i, o := range objs {
		us[i] = unstructuredOf(o)
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		backupsGVR: "BackupList", restoresGVR: "RestoreList", locationsGVR: "BackupStorageLocationList",
		downloadRequestsGVR: "DownloadRequestList", crdsGVR: "CustomResourceDefinitionList",
		podVolumeRestoresGVR: "PodVolumeRestoreList", podVolumeBackupsGVR: "PodVolumeBackupList",
		backupRepositoriesGVR: "BackupRepositoryList",
	}, us...)
}

// unstructuredOf converts one of Velero's objects for the dynamic client;
// anything else is returned as it is.
func unstructuredOf(o runtime.Object) runtime.Object {
	var (
		u   *unstructured.Unstructured
		err error
	)
	switch o := o.(type) {
	case *velerov1.Backup:
		u, err = toObject(o, "Backup")
	case *velerov1.Restore:
		u, err = toObject(o, "Restore")
	case *velerov1.BackupStorageLocation:
		u, err = toObject(o, "BackupStorageLocation")
	case *velerov1.DownloadRequest:
		u, err = toObject(o, "DownloadRequest")
	case *velerov1.PodVolumeRestore:
		u, err = toObject(o, "PodVolumeRestore")
	case *velerov1.PodVolumeBackup:
		u, err = toObject(o, "PodVolumeBackup")
	default:
		return o
	}
	if err != nil {
		panic(err)
	}
	return u
}
