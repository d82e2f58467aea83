package scope

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	podvolumeconfigs "github.com/vmware-tanzu/velero/pkg/podvolume/configs"
)

// ReasonNoVolumeData: the backup lists the claim among its resources but
// holds no PodVolumeBackup, DataUpload or snapshot of it, so a restore
// creates it empty. Only the source can tell why (the reasons above);
// ReadBackup gives this one when the source is not read.
const ReasonNoVolumeData Reason = "no-volume-data"

// claimKind is the key of PersistentVolumeClaims in a backup's resource
// list (pkg/backup/backup.go: "GROUP/VERSION/Kind" of the core group).
const claimKind = "v1/PersistentVolumeClaim"

// volumeInfo is the fields read of Velero's BackupVolumeInfo
// (internal/volume/volumes_information.go, an internal package), one per
// PersistentVolumeClaim in backups/NAME/NAME-volumeinfo.json.gz.
type volumeInfo struct {
	PVCName           string `json:"pvcName"`
	PVCNamespace      string `json:"pvcNamespace"`
	PVName            string `json:"pvName"`
	BackupMethod      Method `json:"backupMethod"`
	SnapshotDataMoved bool   `json:"snapshotDataMoved"`
	Skipped           bool   `json:"skipped"`
	SkippedReason     string `json:"skippedReason"`
	// Result is "succeeded" or "failed" once the volume's backup ended.
	Result string `json:"result"`
}

// ReadBackup reads the scope of backup in namespaces from the backup's
// files alone, for a drill that does not read the source (it loses it, or
// names none): every PersistentVolumeClaim of namespaces in the backup's
// resource list (backups/NAME/NAME-resource-list.json.gz) and whether the
// backup holds its data: a Completed PodVolumeBackup
// (NAME-podvolumebackups.json.gz, matched by its pod's namespace and the
// annotation velero.io/pvc-name Velero sets), a DataUpload or snapshot
// recorded in NAME-volumeinfo.json.gz (Velero v1.13 and later), a native
// snapshot (NAME-volumesnapshots.json.gz) or a CSI snapshot
// (NAME-csi-volumesnapshots.json.gz). A claim with none of them is
// ReasonNoVolumeData: why not cannot be told without the source, and
// Detail says so (with Velero's skippedReason when volumeinfo has one).
// skipped says why the source is not read (Result.SourceSkipped). A file
// Velero did not write counts as empty; ReadBackup returns an error only
// when the resource list cannot be read, which every verdict needs; other
// failed reads are Problems.
func ReadBackup(ctx context.Context, files Files, backup string, namespaces []string, skipped string) (*Result, error) {
	res := &Result{Backup: backup, Namespaces: namespaces, Claims: []Claim{}, Schedules: []string{}, Uncovered: []Uncovered{}, SourceSkipped: skipped}
	var resources map[string][]string
	if err := readGzipJSON(ctx, files, backupFile(backup, backup+"-resource-list.json.gz"), &resources); err != nil {
		return nil, err
	}
	var pvbs []velerov1.PodVolumeBackup
	if err := readGzipJSON(ctx, files, backupFile(backup, backup+"-podvolumebackups.json.gz"), &pvbs); err != nil {
		res.Problems = append(res.Problems, err.Error())
	}
	var infos []volumeInfo
	if err := readGzipJSON(ctx, files, backupFile(backup, backup+"-volumeinfo.json.gz"), &infos); err != nil {
		res.Problems = append(res.Problems, err.Error())
	}
	nativeByPV, csiClaims, problems := readSnapshots(ctx, files, backup)
	res.Problems = append(res.Problems, problems...)

	pvbByClaim := map[string]velerov1.PodVolumeBackup{}
	for _, pvb := range pvbs {
		if name := pvb.Annotations[podvolumeconfigs.PVCNameAnnotation]; name != "" {
			k := pvb.Spec.Pod.Namespace + "/" + name
			pvbByClaim[k] = better(pvbByClaim[k], pvb)
		}
	}
	infoByClaim := map[string]volumeInfo{}
	for _, vi := range infos {
		infoByClaim[vi.PVCNamespace+"/"+vi.PVCName] = vi
	}
	for _, ref := range resources[claimKind] {
		ns, name, ok := strings.Cut(ref, "/")
		if !ok || !slices.Contains(namespaces, ns) {
			continue
		}
		c := Claim{Namespace: ns, Name: name}
		vi, hasInfo := infoByClaim[ref]
		c.Volume = vi.PVName
		pvb, hasPVB := pvbByClaim[ref]
		snap, hasNative := nativeByPV[c.Volume]
		switch {
		case hasPVB && pvb.Status.Phase == velerov1.PodVolumeBackupPhaseCompleted:
			c.InBackup, c.Method = true, MethodPodVolumeBackup
			c.Detail = fmt.Sprintf("PodVolumeBackup %s (volume %s of pod %s) Completed, %s", pvb.Name, pvb.Spec.Volume, pvb.Spec.Pod.Name, byteText(pvb.Status.Progress.TotalBytes))
		case hasInfo && !vi.Skipped && vi.BackupMethod != "" && vi.Result != "failed":
			c.InBackup, c.Method = true, vi.BackupMethod
			if vi.BackupMethod == MethodCSISnapshot && vi.SnapshotDataMoved {
				c.Method = MethodDataMover
			}
			c.Detail = fmt.Sprintf("backed up by %s (backups/%s/%s-volumeinfo.json.gz)", c.Method, backup, backup)
		case hasNative && c.Volume != "" && snap == "Completed":
			c.InBackup, c.Method = true, MethodNativeSnapshot
			c.Detail = fmt.Sprintf("native snapshot of PersistentVolume %s Completed; the data stays with the storage provider, not in the bucket", c.Volume)
		case slices.Contains(csiClaims, ref):
			c.InBackup, c.Method = true, MethodCSISnapshot
			c.Detail = "CSI VolumeSnapshot taken; the data stays in the source's storage system, not in the bucket"
		case hasPVB:
			c.Reason = ReasonBackupFailed
			c.Detail = fmt.Sprintf("PodVolumeBackup %s of volume %s of pod %s is %s", pvb.Name, pvb.Spec.Volume, pvb.Spec.Pod.Name, orNone(string(pvb.Status.Phase), "New"))
			if pvb.Status.Message != "" {
				c.Detail += ": " + pvb.Status.Message
			}
		case hasInfo && vi.Result == "failed":
			c.Reason = ReasonBackupFailed
			c.Detail = fmt.Sprintf("its %s failed (backups/%s/%s-volumeinfo.json.gz)", orNone(string(vi.BackupMethod), "volume backup"), backup, backup)
		default:
			c.Reason = ReasonNoVolumeData
			c.Detail = fmt.Sprintf("backup %s lists the claim but holds no PodVolumeBackup, DataUpload or snapshot of it, so the restore creates it empty; why not cannot be told without the source (%s)", backup, skipped)
			if vi.SkippedReason != "" {
				c.Detail += fmt.Sprintf("; Velero recorded: %s", strings.TrimSuffix(strings.TrimSpace(vi.SkippedReason), ";"))
			}
		}
		res.Claims = append(res.Claims, c)
	}
	sort.Slice(res.Claims, func(i, j int) bool { return res.Claims[i].Ref() < res.Claims[j].Ref() })
	return res, nil
}
