package scope

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	velerov2alpha1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v2alpha1"
	corev1 "k8s.io/api/core/v1"
)

// Method is how Velero put a volume's data in a backup.
type Method string

// The methods, named as Velero's volume information names them
// (BackupVolumeInfo.BackupMethod, internal/volume/volumes_information.go).
const (
	// MethodPodVolumeBackup: file-system backup by node-agent (kopia), a
	// PodVolumeBackup of the backup; the data is in the bucket.
	MethodPodVolumeBackup Method = "PodVolumeBackup"
	// MethodCSISnapshot: a CSI VolumeSnapshot; the data stays in the
	// source's storage system, not in the bucket.
	MethodCSISnapshot Method = "CSISnapshot"
	// MethodNativeSnapshot: a snapshot by a Velero volume snapshotter
	// plugin; the data stays with the storage provider.
	MethodNativeSnapshot Method = "NativeSnapshot"
	// MethodDataMover: a CSI snapshot whose data a DataUpload moved to the
	// bucket (snapshotMoveData).
	MethodDataMover Method = "DataMover"
)

// Reason says why a PersistentVolumeClaim's data is not in a backup.
type Reason string

// The reasons, in the order Classify tests them.
const (
	// ReasonBackupFailed: Velero started to back the volume up and did
	// not finish (a PodVolumeBackup or DataUpload not Completed).
	ReasonBackupFailed Reason = "backup-failed"
	// ReasonNamespaceExcluded: the backup's includedNamespaces or
	// excludedNamespaces leave the claim's namespace out.
	ReasonNamespaceExcluded Reason = "namespace-excluded"
	// ReasonResourceExcluded: the backup's resource filters leave
	// persistentvolumeclaims out, or the claim carries the label
	// velero.io/exclude-from-backup=true.
	ReasonResourceExcluded Reason = "resource-excluded"
	// ReasonCreatedAfterBackup: the claim did not exist when the backup
	// started.
	ReasonCreatedAfterBackup Reason = "created-after-backup"
	// ReasonNotMounted: no pod of the source mounts the claim, so
	// file-system backup, which reads a volume through the pod that mounts
	// it, has nothing to read.
	ReasonNotMounted Reason = "not-mounted"
	// ReasonOptedOut: every pod that mounts the claim names its volume in
	// the annotation backup.velero.io/backup-volumes-excludes.
	ReasonOptedOut Reason = "opted-out"
	// ReasonNoOptIn: the backup's defaultVolumesToFsBackup is false and no
	// pod that mounts the claim names its volume in the annotation
	// backup.velero.io/backup-volumes (and no snapshot was taken).
	ReasonNoOptIn Reason = "no-opt-in"
	// ReasonNoVolumeBackup: the claim was mounted and opted in, yet the
	// backup holds no PodVolumeBackup, snapshot or DataUpload of it:
	// the pod was not running at backup time, or node-agent did not run
	// on its node.
	ReasonNoVolumeBackup Reason = "no-volume-backup"
)

// Claim is one PersistentVolumeClaim of the source and whether its data
// is in the backup.
type Claim struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Volume is the PersistentVolume bound to the claim; empty when unbound.
	Volume string `json:"volume,omitempty"`
	// MountedBy are the pods of the source that mount the claim, now.
	MountedBy []string `json:"mounted_by,omitempty"`
	// InBackup says whether the backup holds the claim's data.
	InBackup bool `json:"in_backup"`
	// Method is how the data is in the backup; empty when it is not.
	Method Method `json:"method,omitempty"`
	// Reason is why the data is not in the backup; empty when it is.
	Reason Reason `json:"reason,omitempty"`
	// Detail says, in words, the evidence of the verdict: which
	// PodVolumeBackup, annotation or filter.
	Detail string `json:"detail"`
}

// Ref is "namespace/name".
func (c Claim) Ref() string { return c.Namespace + "/" + c.Name }

// Evidence is what Classify decides from: the backup, and what the source
// cluster and the bucket hold. Each list may be empty.
type Evidence struct {
	Backup *velerov1.Backup
	// Claims are the source's PersistentVolumeClaims of the namespaces in
	// question.
	Claims []corev1.PersistentVolumeClaim
	// Pods are the source's pods of those namespaces.
	Pods []corev1.Pod
	// PodVolumeBackups are the backup's (label velero.io/backup-name, and
	// backups/NAME/NAME-podvolumebackups.json.gz).
	PodVolumeBackups []velerov1.PodVolumeBackup
	// DataUploads are the backup's (label velero.io/backup-name).
	DataUploads []velerov2alpha1.DataUpload
	// NativeSnapshots are the PersistentVolume names of the backup's
	// native snapshots (backups/NAME/NAME-volumesnapshots.json.gz) with
	// their phase.
	NativeSnapshots map[string]string
	// CSISnapshots are the "namespace/claim" of the backup's CSI
	// VolumeSnapshots (backups/NAME/NAME-csi-volumesnapshots.json.gz).
	CSISnapshots []string
}

// Classify says, for each claim of ev, whether its data is in ev.Backup
// and, when it is not, why not; sorted by namespace and name. The rules
// are Velero v1.18's: a volume goes through file-system backup when the
// pod that mounts it opts it in (defaultVolumesToFsBackup, else the
// annotation backup.velero.io/backup-volumes) and does not opt it out
// (backup.velero.io/backup-volumes-excludes), as
// pkg/util/podvolume.GetVolumesByPod decides; the backup's namespace
// filters match as Velero's IncludesExcludes does (pkg/util/collections),
// with path.Match standing in for its glob library (the same for "*",
// "?" and "[...]"; "{a,b}" is not supported).
func Classify(ev Evidence) []Claim {
	b := ev.Backup
	pvbByClaim := map[string]velerov1.PodVolumeBackup{}
	pvbByPodVolume := map[string]velerov1.PodVolumeBackup{}
	for _, pvb := range ev.PodVolumeBackups {
		if uid := pvb.Labels[velerov1.PVCUIDLabel]; uid != "" {
			pvbByClaim[uid] = better(pvbByClaim[uid], pvb)
		}
		k := pvb.Spec.Pod.Namespace + "/" + pvb.Spec.Pod.Name + "/" + pvb.Spec.Volume
		pvbByPodVolume[k] = better(pvbByPodVolume[k], pvb)
	}
	uploads := map[string]velerov2alpha1.DataUpload{}
	for _, du := range ev.DataUploads {
		uploads[du.Spec.SourceNamespace+"/"+du.Spec.SourcePVC] = du
	}
	mounts := map[string][]mount{}
	for _, p := range ev.Pods {
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				k := p.Namespace + "/" + v.PersistentVolumeClaim.ClaimName
				mounts[k] = append(mounts[k], mount{pod: p, volume: v.Name})
			}
		}
	}
	var out []Claim
	for _, pvc := range ev.Claims {
		c := Claim{Namespace: pvc.Namespace, Name: pvc.Name, Volume: pvc.Spec.VolumeName}
		ms := mounts[c.Ref()]
		for _, m := range ms {
			c.MountedBy = append(c.MountedBy, m.pod.Name)
		}
		// The PodVolumeBackup of the claim: by its UID (label
		// velero.io/pvc-uid, set by pkg/podvolume/backupper.go), else by
		// the pod and volume it read, when that pod still mounts the claim.
		pvb, ok := pvbByClaim[string(pvc.UID)]
		for _, m := range ms {
			if !ok {
				pvb, ok = pvbByPodVolume[m.pod.Namespace+"/"+m.pod.Name+"/"+m.volume]
			}
		}
		du, hasUpload := uploads[c.Ref()]
		snap, hasNative := ev.NativeSnapshots[c.Volume]
		switch {
		case ok && pvb.Status.Phase == velerov1.PodVolumeBackupPhaseCompleted:
			c.InBackup, c.Method = true, MethodPodVolumeBackup
			c.Detail = fmt.Sprintf("PodVolumeBackup %s (volume %s of pod %s) Completed, %s", pvb.Name, pvb.Spec.Volume, pvb.Spec.Pod.Name, byteText(pvb.Status.Progress.TotalBytes))
		case hasUpload && du.Status.Phase == velerov2alpha1.DataUploadPhaseCompleted:
			c.InBackup, c.Method = true, MethodDataMover
			c.Detail = fmt.Sprintf("DataUpload %s Completed, %s moved to the bucket", du.Name, byteText(du.Status.Progress.TotalBytes))
		case hasNative && c.Volume != "" && snap == "Completed":
			c.InBackup, c.Method = true, MethodNativeSnapshot
			c.Detail = fmt.Sprintf("native snapshot of PersistentVolume %s Completed; the data stays with the storage provider, not in the bucket", c.Volume)
		case slices.Contains(ev.CSISnapshots, c.Ref()):
			c.InBackup, c.Method = true, MethodCSISnapshot
			c.Detail = "CSI VolumeSnapshot taken; the data stays in the source's storage system, not in the bucket"
		case ok:
			c.Reason = ReasonBackupFailed
			c.Detail = fmt.Sprintf("PodVolumeBackup %s of volume %s of pod %s is %s", pvb.Name, pvb.Spec.Volume, pvb.Spec.Pod.Name, orNone(string(pvb.Status.Phase), "New"))
			if pvb.Status.Message != "" {
				c.Detail += ": " + pvb.Status.Message
			}
		case hasUpload:
			c.Reason = ReasonBackupFailed
			c.Detail = fmt.Sprintf("DataUpload %s is %s", du.Name, orNone(string(du.Status.Phase), "New"))
			if du.Status.Message != "" {
				c.Detail += ": " + du.Status.Message
			}
		case hasNative:
			c.Reason = ReasonBackupFailed
			c.Detail = fmt.Sprintf("native snapshot of PersistentVolume %s is %s", c.Volume, orNone(snap, "New"))
		default:
			c.Reason, c.Detail = whyNot(b, pvc, ms)
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref() < out[j].Ref() })
	return out
}

// mount is a pod volume that mounts a claim.
type mount struct {
	pod    corev1.Pod
	volume string
}

// better keeps a Completed PodVolumeBackup over any other of the same
// volume (a retried one leaves a Failed one behind).
func better(have, next velerov1.PodVolumeBackup) velerov1.PodVolumeBackup {
	if have.Name == "" || have.Status.Phase != velerov1.PodVolumeBackupPhaseCompleted {
		return next
	}
	return have
}

// whyNot is why a claim without any volume backup of the backup has none.
func whyNot(b *velerov1.Backup, pvc corev1.PersistentVolumeClaim, ms []mount) (Reason, string) {
	if b == nil {
		return ReasonNoVolumeBackup, "the backup holds no PodVolumeBackup, DataUpload or snapshot of it"
	}
	s := b.Spec
	if !included(pvc.Namespace, s.IncludedNamespaces, s.ExcludedNamespaces) {
		return ReasonNamespaceExcluded, fmt.Sprintf("backup %s leaves namespace %s out (includedNamespaces %s, excludedNamespaces %s)",
			b.Name, pvc.Namespace, listText(s.IncludedNamespaces, "*"), listText(s.ExcludedNamespaces, "none"))
	}
	if pvc.Labels[velerov1.ExcludeFromBackupLabel] == "true" {
		return ReasonResourceExcluded, fmt.Sprintf("the claim carries the label %s=true", velerov1.ExcludeFromBackupLabel)
	}
	if !claimsIncluded(s) {
		return ReasonResourceExcluded, fmt.Sprintf("backup %s leaves persistentvolumeclaims out (includedResources %s, excludedResources %s, includedNamespaceScopedResources %s, excludedNamespaceScopedResources %s)",
			b.Name, listText(s.IncludedResources, "*"), listText(s.ExcludedResources, "none"), listText(s.IncludedNamespaceScopedResources, "*"), listText(s.ExcludedNamespaceScopedResources, "none"))
	}
	if st := b.Status.StartTimestamp; st != nil && !pvc.CreationTimestamp.IsZero() && pvc.CreationTimestamp.After(st.Time) {
		return ReasonCreatedAfterBackup, fmt.Sprintf("created %s, after backup %s started (%s)",
			pvc.CreationTimestamp.UTC().Format("2006-01-02T15:04:05Z"), b.Name, st.UTC().Format("2006-01-02T15:04:05Z"))
	}
	if len(ms) == 0 {
		return ReasonNotMounted, "no pod of the source mounts it: file-system backup reads a volume only through a running pod that mounts it"
	}
	defaultFS := s.DefaultVolumesToFsBackup != nil && *s.DefaultVolumesToFsBackup
	var optedOut, optedIn []string
	for _, m := range ms {
		// With defaultVolumesToFsBackup the exclusions decide; without
		// it only the opt-in list does, but an exclusion still says the
		// volume was left out on purpose.
		excluded := slices.Contains(annotationList(m.pod, velerov1.VolumesToExcludeAnnotation), m.volume)
		in := (defaultFS && !excluded) || (!defaultFS && slices.Contains(annotationList(m.pod, velerov1.VolumesToBackupAnnotation), m.volume))
		switch {
		case in:
			optedIn = append(optedIn, m.pod.Name)
		case excluded:
			optedOut = append(optedOut, fmt.Sprintf("pod %s lists volume %s in %s", m.pod.Name, m.volume, velerov1.VolumesToExcludeAnnotation))
		}
	}
	switch {
	case len(optedIn) > 0:
		return ReasonNoVolumeBackup, fmt.Sprintf("opted in (pod %s) but the backup holds no PodVolumeBackup, DataUpload or snapshot of it: the pod was not running at backup time, or node-agent did not run on its node",
			strings.Join(optedIn, ", "))
	case len(optedOut) > 0:
		return ReasonOptedOut, strings.Join(optedOut, "; ")
	}
	var pods []string
	for _, m := range ms {
		pods = append(pods, fmt.Sprintf("%s (volume %s)", m.pod.Name, m.volume))
	}
	return ReasonNoOptIn, fmt.Sprintf("backup %s has defaultVolumesToFsBackup %s and no pod that mounts it (%s) names it in %s; no snapshot was taken",
		b.Name, boolText(s.DefaultVolumesToFsBackup), strings.Join(pods, ", "), velerov1.VolumesToBackupAnnotation)
}

// included is Velero's IncludesExcludes.ShouldInclude
// (pkg/util/collections/includes_excludes.go): excludes win; no includes,
// or "*", means every namespace.
func included(ns string, includes, excludes []string) bool {
	if matchAny(ns, excludes) {
		return false
	}
	return len(includes) == 0 || slices.Contains(includes, "*") || matchAny(ns, includes)
}

func matchAny(s string, patterns []string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, s); err == nil && ok {
			return true
		}
	}
	return false
}

// claimsIncluded says whether the backup's resource filters keep
// persistentvolumeclaims: the old filters (includedResources,
// excludedResources) or the namespace-scoped ones, which Velero does not
// allow together.
func claimsIncluded(s velerov1.BackupSpec) bool {
	names := []string{"persistentvolumeclaims", "persistentvolumeclaim", "pvc", "pvcs"}
	has := func(list []string) bool {
		return slices.ContainsFunc(list, func(r string) bool {
			r = strings.ToLower(r)
			return r == "*" || slices.Contains(names, r)
		})
	}
	if slices.ContainsFunc(s.ExcludedResources, func(r string) bool { return slices.Contains(names, strings.ToLower(r)) }) ||
		slices.ContainsFunc(s.ExcludedNamespaceScopedResources, func(r string) bool { return slices.Contains(names, strings.ToLower(r)) }) {
		return false
	}
	if len(s.IncludedResources) > 0 && !has(s.IncludedResources) {
		return false
	}
	return len(s.IncludedNamespaceScopedResources) == 0 || has(s.IncludedNamespaceScopedResources)
}

// annotationList is the comma-separated list of a pod annotation,
// as pkg/util/podvolume splits it.
func annotationList(p corev1.Pod, key string) []string {
	v := p.Annotations[key]
	if v == "" {
		return nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		out = append(out, strings.TrimSpace(s))
	}
	return out
}

func listText(ss []string, empty string) string {
	if len(ss) == 0 {
		return empty
	}
	return "[" + strings.Join(ss, ", ") + "]"
}

func boolText(b *bool) string {
	if b == nil {
		return "unset"
	}
	return fmt.Sprint(*b)
}

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

func byteText(n int64) string {
	return fmt.Sprintf("%d bytes", n)
}
