package restore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/cache"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/plural"
)

// Volume data with Velero's file-system backup (node-agent and kopia):
// a backup records one PodVolumeBackup per backed-up volume of a pod
// (velero.io/backup-name=<backup>), which Velero's backup sync brings into
// the target with the Backup. When a Restore creates a pod that has
// PodVolumeBackups, Velero creates one PodVolumeRestore per volume
// (velero.io/restore-name=<restore>) and node-agent writes the data into
// the new pod's volume while its velero-restore-helper init container
// waits (Velero v1.18 pkg/restore/restore.go restorePodVolumeBackups,
// pkg/podvolume/restorer.go). Both kinds are in velero.io/v1.

// PodVolumeRestoreResult is one Velero PodVolumeRestore of a Restore: the
// data of one volume of a restored pod.
type PodVolumeRestoreResult struct {
	// Name is the PodVolumeRestore's name in Velero's namespace.
	Name string `json:"name"`
	// Namespace and Pod are the restored pod, as named in the target;
	// SourceNamespace is its namespace in the backup.
	Namespace       string `json:"namespace"`
	Pod             string `json:"pod"`
	SourceNamespace string `json:"source_namespace"`
	// Volume is the pod's volume name.
	Volume string `json:"volume"`
	// Phase is Velero's status.phase (New when Velero has not set one).
	Phase   velerov1.PodVolumeRestorePhase `json:"phase"`
	Message string                         `json:"message,omitempty"`
	// BytesDone and TotalBytes are Velero's status.progress.
	BytesDone  int64 `json:"bytes_done"`
	TotalBytes int64 `json:"total_bytes"`
	// Node is where node-agent restored it.
	Node string `json:"node,omitempty"`
	// Started and Completed are Velero's (whole seconds); DurationSeconds
	// is the time between them, zero until both are set.
	Started         time.Time `json:"started,omitzero"`
	Completed       time.Time `json:"completed,omitzero"`
	DurationSeconds float64   `json:"duration_seconds"`
}

// Done reports whether Velero changes the PodVolumeRestore no more:
// Completed, Failed or Canceled.
func (p PodVolumeRestoreResult) Done() bool { return pvrDone(p.Phase) }

func pvrDone(phase velerov1.PodVolumeRestorePhase) bool {
	switch phase {
	case velerov1.PodVolumeRestorePhaseCompleted, velerov1.PodVolumeRestorePhaseFailed, velerov1.PodVolumeRestorePhaseCanceled:
		return true
	}
	return false
}

// String is `pod NS/POD volume "V"`.
func (p PodVolumeRestoreResult) String() string {
	return fmt.Sprintf("pod %s/%s volume %q", p.Namespace, p.Pod, p.Volume)
}

// problem says what is wrong with a PodVolumeRestore that did not complete
// (empty when it did): its phase and Velero's message.
func (p PodVolumeRestoreResult) problem() string {
	switch p.Phase {
	case velerov1.PodVolumeRestorePhaseCompleted:
		return ""
	case velerov1.PodVolumeRestorePhaseNew:
		return "never started (phase New: no node-agent accepted it; is node-agent running on the pod's node?)"
	}
	s := "phase " + string(p.Phase)
	if !p.Done() {
		s += ", not finished"
	}
	if p.Message != "" {
		s += ": " + p.Message
	}
	return s
}

func pvrResult(pvr *velerov1.PodVolumeRestore) PodVolumeRestoreResult {
	st := pvr.Status
	r := PodVolumeRestoreResult{Name: pvr.Name, Namespace: pvr.Spec.Pod.Namespace, Pod: pvr.Spec.Pod.Name,
		SourceNamespace: pvr.Spec.SourceNamespace, Volume: pvr.Spec.Volume, Phase: st.Phase, Message: st.Message,
		BytesDone: st.Progress.BytesDone, TotalBytes: st.Progress.TotalBytes, Node: st.Node}
	if r.Phase == "" {
		r.Phase = velerov1.PodVolumeRestorePhaseNew
	}
	if r.SourceNamespace == "" {
		r.SourceNamespace = r.Namespace
	}
	if t := st.StartTimestamp; t != nil {
		r.Started = t.UTC()
	}
	if t := st.CompletionTimestamp; t != nil {
		r.Completed = t.UTC()
	}
	if !r.Started.IsZero() && !r.Completed.IsZero() {
		r.DurationSeconds = r.Completed.Sub(r.Started).Seconds()
	}
	return r
}

// waitPodVolumeRestores follows the PodVolumeRestores of Restore restore
// (label velero.io/restore-name, as Velero sets it) with
// watchtools.UntilWithSync until every one is Completed, Failed or
// Canceled, and returns them sorted by pod and volume. Velero holds a
// Restore in progress until its PodVolumeRestores end, so after its
// terminal phase this usually returns at once. When ctx ends first, the
// PodVolumeRestores as last seen come with ctx's error.
func waitPodVolumeRestores(ctx context.Context, dyn dynamic.Interface, veleroNS, restore string) ([]PodVolumeRestoreResult, error) {
	value := label.GetValidName(restore)
	var (
		mu   sync.Mutex
		seen = map[string]PodVolumeRestoreResult{}
	)
	allDone := func() bool {
		for _, p := range seen {
			if !p.Done() {
				return false
			}
		}
		return true
	}
	record := func(obj any, deleted bool) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok || u.GetLabels()[velerov1.RestoreNameLabel] != value {
			// A fake client does not filter watches by label.
			return nil
		}
		if deleted {
			delete(seen, u.GetName())
			return nil
		}
		var pvr velerov1.PodVolumeRestore
		if err := fromObject(u, &pvr); err != nil {
			return err
		}
		seen[u.GetName()] = pvrResult(&pvr)
		return nil
	}
	err := until(ctx, dyn, listWatchLabel(dyn.Resource(podVolumeRestoresGVR).Namespace(veleroNS), velerov1.RestoreNameLabel, value),
		&unstructured.Unstructured{},
		func(store cache.Store) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			for _, obj := range store.List() {
				if err := record(obj, false); err != nil {
					return false, err
				}
			}
			return allDone(), nil
		},
		func(ev watch.Event) (bool, error) {
			mu.Lock()
			defer mu.Unlock()
			if err := record(ev.Object, ev.Type == watch.Deleted); err != nil {
				return false, err
			}
			return allDone(), nil
		})
	mu.Lock()
	defer mu.Unlock()
	out := make([]PodVolumeRestoreResult, 0, len(seen))
	for _, p := range seen {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b PodVolumeRestoreResult) int { return strings.Compare(a.String(), b.String()) })
	if err != nil {
		return out, fmt.Errorf("PodVolumeRestores of restore %s: %w", restore, err)
	}
	return out, nil
}

// pvrListTimeout bounds the listing of a timed-out Restore's
// PodVolumeRestores, done after the phase's own time ran out.
const pvrListTimeout = 15 * time.Second

// listPodVolumeRestores lists the PodVolumeRestores of Restore restore as
// they are now, sorted by pod and volume.
func listPodVolumeRestores(ctx context.Context, dyn dynamic.Interface, veleroNS, restore string) ([]PodVolumeRestoreResult, error) {
	value := label.GetValidName(restore)
	l, err := dyn.Resource(podVolumeRestoresGVR).Namespace(veleroNS).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{velerov1.RestoreNameLabel: value}.String()})
	if err != nil {
		return nil, fmt.Errorf("list PodVolumeRestores of restore %s: %w", restore, err)
	}
	var out []PodVolumeRestoreResult
	for i := range l.Items {
		var pvr velerov1.PodVolumeRestore
		if err := fromObject(&l.Items[i], &pvr); err != nil {
			return nil, err
		}
		if pvr.Labels[velerov1.RestoreNameLabel] == value {
			out = append(out, pvrResult(&pvr))
		}
	}
	slices.SortFunc(out, func(a, b PodVolumeRestoreResult) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// VolumeRef is one volume of a pod in the backup that has file-system
// backup data: a Completed PodVolumeBackup with a snapshot.
type VolumeRef struct {
	// Namespace and Pod are the pod as named in the backup.
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Volume    string `json:"volume"`
	// PodVolumeBackup is its name in Velero's namespace.
	PodVolumeBackup string `json:"pod_volume_backup"`
	// TotalBytes is the data backed up (status.progress.totalBytes).
	TotalBytes int64 `json:"total_bytes"`
}

// String is `pod NS/POD volume "V"`.
func (v VolumeRef) String() string {
	return fmt.Sprintf("pod %s/%s volume %q", v.Namespace, v.Pod, v.Volume)
}

// volumeBackups lists the PodVolumeBackups of backup (label
// velero.io/backup-name) whose pod is in one of namespaces and that hold
// data Velero would restore: Completed, with a snapshot ID (Velero skips
// the others, pkg/podvolume/util.go getVolumeBackupInfoForPod).
func volumeBackups(ctx context.Context, dyn dynamic.Interface, veleroNS, backup string, namespaces []string) ([]VolumeRef, error) {
	l, err := dyn.Resource(podVolumeBackupsGVR).Namespace(veleroNS).List(ctx, metav1.ListOptions{
		LabelSelector: labels.Set{velerov1.BackupNameLabel: label.GetValidName(backup)}.String()})
	if err != nil {
		return nil, fmt.Errorf("list PodVolumeBackups of backup %s: %w", backup, err)
	}
	var out []VolumeRef
	for i := range l.Items {
		var pvb velerov1.PodVolumeBackup
		if err := fromObject(&l.Items[i], &pvb); err != nil {
			return nil, err
		}
		if pvb.Labels[velerov1.BackupNameLabel] != label.GetValidName(backup) || !slices.Contains(namespaces, pvb.Spec.Pod.Namespace) ||
			pvb.Status.Phase != velerov1.PodVolumeBackupPhaseCompleted || pvb.Status.SnapshotID == "" {
			continue
		}
		out = append(out, VolumeRef{Namespace: pvb.Spec.Pod.Namespace, Pod: pvb.Spec.Pod.Name, Volume: pvb.Spec.Volume,
			PodVolumeBackup: pvb.Name, TotalBytes: pvb.Status.Progress.TotalBytes})
	}
	slices.SortFunc(out, func(a, b VolumeRef) int { return strings.Compare(a.String(), b.String()) })
	return out, nil
}

// VolumeData is what became of the backup's file-system volume data.
type VolumeData struct {
	// Backed are the volumes of the restored namespaces the backup holds
	// data of.
	Backed []VolumeRef `json:"backed_up"`
	// WithoutData are those of Backed that no PodVolumeRestore of the
	// drill restored: their pods were not restored by Velero (pods
	// excluded, or not restored), so their volumes came back empty.
	WithoutData []VolumeRef `json:"without_data,omitempty"`
	// Failed are the PodVolumeRestores that did not complete.
	Failed []PodVolumeRestoreResult `json:"failed,omitempty"`
	// Error says why the PodVolumeBackups could not be read.
	Error string `json:"error,omitempty"`
}

// OK reports whether every backed-up volume's data came back.
func (v VolumeData) OK() bool { return v.Error == "" && len(v.WithoutData) == 0 && len(v.Failed) == 0 }

// matchVolumeData sets the backup's volumes against the PodVolumeRestores
// of the drill's Restores: a volume is restored when a PodVolumeRestore of
// its pod (by source namespace and name, as Velero matches them) and
// volume exists.
func matchVolumeData(backed []VolumeRef, pvrs []PodVolumeRestoreResult) VolumeData {
	vd := VolumeData{Backed: backed}
	for _, v := range backed {
		if !slices.ContainsFunc(pvrs, func(p PodVolumeRestoreResult) bool {
			return p.SourceNamespace == v.Namespace && p.Pod == v.Pod && p.Volume == v.Volume
		}) {
			vd.WithoutData = append(vd.WithoutData, v)
		}
	}
	for _, p := range pvrs {
		if p.Phase != velerov1.PodVolumeRestorePhaseCompleted {
			vd.Failed = append(vd.Failed, p)
		}
	}
	return vd
}

// volumeDataFinding is the finding on the restored volume data.
func volumeDataFinding(vd VolumeData, pvrs []PodVolumeRestoreResult, backup string) finding.Finding {
	const id = "restore.volume-data"
	subject := fmt.Sprintf("volume data of backup %s (Velero PodVolumeBackups and the drill's PodVolumeRestores)", backup)
	if vd.Error != "" {
		return finding.Fail(id, finding.SeverityFail, subject, "could not tell whether the volumes' data came back: "+vd.Error).
			With("the PodVolumeBackups of the backup readable", vd.Error, "let the drill's identity list podvolumebackups.velero.io in Velero's namespace")
	}
	if vd.OK() {
		if len(vd.Backed) == 0 {
			return finding.Pass(id, subject, "the backup holds no file-system volume data of the restored namespaces")
		}
		var bytes int64
		var names []string
		for _, p := range pvrs {
			bytes += p.BytesDone
			names = append(names, p.String())
		}
		return finding.Pass(id, subject, fmt.Sprintf("%s restored from file-system backup, %s: %s", plural.Count(len(vd.Backed), "volume", "volumes"), plural.Count(bytes, "byte", "bytes"), strings.Join(names, ", ")))
	}
	var parts []string
	if len(vd.WithoutData) > 0 {
		var names []string
		for _, v := range vd.WithoutData {
			names = append(names, v.String())
		}
		parts = append(parts, fmt.Sprintf("%d of %s came back without %s data (no PodVolumeRestore: Velero restores volume data only into pods it restores itself): %s",
			len(vd.WithoutData), plural.Count(len(vd.Backed), "volume", "volumes"), plural.Of(len(vd.WithoutData), "its", "their"), strings.Join(names, ", ")))
	}
	for _, p := range vd.Failed {
		parts = append(parts, fmt.Sprintf("PodVolumeRestore %s (%s) %s", p.Name, p.String(), p.problem()))
	}
	hint := "restore the pods of these volumes: keep pods out of spec.target.restore.excludedResources (the default) and in the phase that restores their PersistentVolumeClaims"
	if len(vd.WithoutData) == 0 {
		hint = "read node-agent's logs on the pod's node and `velero restore describe --details`; check that node-agent runs on every node"
	}
	return finding.Fail(id, finding.SeverityFail, subject, strings.Join(parts, "; ")).
		With("a Completed PodVolumeRestore for every backed-up volume", fmt.Sprintf("%d without data, %d not completed", len(vd.WithoutData), len(vd.Failed)), hint)
}
