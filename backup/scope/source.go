package scope

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"sort"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	velerov2alpha1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v2alpha1"
	"github.com/vmware-tanzu/velero/pkg/label"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// ErrNotFound is what Files returns, possibly wrapped, for a file
// the backup does not have.
var ErrNotFound = errors.New("not found")

// Files reads the files Velero keeps in a storage location's bucket
// (pkg/persistence/object_store_layout.go).
type Files interface {
	// ReadFile returns the content of the object at key under the storage
	// location's prefix ("backups/NAME/NAME-podvolumebackups.json.gz",
	// "restores/NAME/restore-NAME-resource-list.json.gz"), at most
	// MaxFile bytes; ErrNotFound, possibly wrapped, when there is no such
	// object. It only reads.
	ReadFile(ctx context.Context, key string) ([]byte, error)
}

// MaxFile bounds what one file of a backup may hold, compressed or not.
const MaxFile = 64 << 20

// backupFile is the key of a file of a backup.
func backupFile(backup, file string) string { return "backups/" + backup + "/" + file }

// Source is the source cluster, read with get and list only, and the
// backup's bucket.
type Source struct {
	Kube    kubernetes.Interface
	Dynamic dynamic.Interface
	// VeleroNamespace is Velero's namespace in the source: its Backups,
	// Schedules, PodVolumeBackups and DataUploads.
	VeleroNamespace string
	// Files reads the backup's files in the bucket; nil reads none (the
	// snapshot files then go unread, and the PodVolumeBackups come from
	// the source alone).
	Files Files
}

// Result is the scope of one backup as the source shows it: report.json's
// "scope".
type Result struct {
	Backup string `json:"backup"`
	// Namespaces are the drill's namespaces (the scenario's
	// includedNamespaces), whose claims are listed.
	Namespaces []string `json:"namespaces"`
	Claims     []Claim  `json:"claims"`
	// Schedules are the names of the source's Velero Schedules.
	Schedules []string `json:"schedules"`
	// Uncovered are the source's namespaces with claims that no schedule
	// covers.
	Uncovered []Uncovered `json:"uncovered_namespaces"`
	// Counts set the backup's items against what the Restores created,
	// kind by kind; set after the restore (see CompareCounts).
	Counts *Counts `json:"counts,omitempty"`
	// SourceSkipped says why the source was not read (the scenario loses
	// it, or names none); the claims then come from the backup's files
	// alone (ReadBackup), and Schedules and Uncovered are empty. Empty
	// when the source was read (Read).
	SourceSkipped string `json:"source_skipped,omitempty"`
	// Problems are the reads that failed: the verdicts that needed them
	// are missing or less precise.
	Problems []string `json:"problems,omitempty"`
}

// NotInBackup are the claims whose data is not in the backup.
func (r *Result) NotInBackup() []Claim {
	var out []Claim
	for _, c := range r.Claims {
		if !c.InBackup {
			out = append(out, c)
		}
	}
	return out
}

// GVRs of the Velero resources read.
var (
	backupsGVR          = velerov1.SchemeGroupVersion.WithResource("backups")
	schedulesGVR        = velerov1.SchemeGroupVersion.WithResource("schedules")
	podVolumeBackupsGVR = velerov1.SchemeGroupVersion.WithResource("podvolumebackups")
	dataUploadsGVR      = velerov2alpha1.SchemeGroupVersion.WithResource("datauploads")
)

// Read reads the scope of backup in namespaces from the source: its
// claims and pods, the backup's PodVolumeBackups and DataUploads and its
// snapshot files in the bucket, and the source's Schedules with every
// claim of the cluster (for the uncovered namespaces). A read that fails
// is a problem of the Result, not an error; Read returns an error only
// when it cannot list the claims of namespaces, which every verdict needs.
func Read(ctx context.Context, src Source, backup string, namespaces []string) (*Result, error) {
	res := &Result{Backup: backup, Namespaces: namespaces, Claims: []Claim{}, Schedules: []string{}, Uncovered: []Uncovered{}}
	problem := func(format string, args ...any) { res.Problems = append(res.Problems, fmt.Sprintf(format, args...)) }
	ev := Evidence{NativeSnapshots: map[string]string{}}
	for _, ns := range namespaces {
		pvcs, err := src.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list PersistentVolumeClaims of namespace %s in the source: %w", ns, err)
		}
		ev.Claims = append(ev.Claims, pvcs.Items...)
		pods, err := src.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			problem("list pods of namespace %s in the source: %v", ns, err)
			continue
		}
		ev.Pods = append(ev.Pods, pods.Items...)
	}

	b, err := readBackup(ctx, src, backup)
	if err != nil {
		problem("%v", err)
	}
	ev.Backup = b

	// Velero labels its objects with the backup's name made a valid
	// label value (pkg/label.GetValidName: cut and hashed past 63 bytes).
	sel := metav1.ListOptions{LabelSelector: velerov1.BackupNameLabel + "=" + label.GetValidName(backup)}
	var pvbs []velerov1.PodVolumeBackup
	if err := list(ctx, src.Dynamic.Resource(podVolumeBackupsGVR).Namespace(src.VeleroNamespace), sel, &pvbs); err != nil {
		problem("list PodVolumeBackups of backup %s in the source: %v", backup, err)
	}
	if src.Files != nil {
		var stored []velerov1.PodVolumeBackup
		if err := readGzipJSON(ctx, src.Files, backupFile(backup, backup+"-podvolumebackups.json.gz"), &stored); err != nil {
			problem("%v", err)
		}
		pvbs = mergePodVolumeBackups(pvbs, stored)
	}
	ev.PodVolumeBackups = pvbs
	if err := list(ctx, src.Dynamic.Resource(dataUploadsGVR).Namespace(src.VeleroNamespace), sel, &ev.DataUploads); err != nil && !apierrors.IsNotFound(err) {
		problem("list DataUploads of backup %s in the source: %v", backup, err)
	}
	if src.Files != nil {
		native, csi, problems := readSnapshots(ctx, src.Files, backup)
		for _, p := range problems {
			problem("%s", p)
		}
		maps.Copy(ev.NativeSnapshots, native)
		ev.CSISnapshots = append(ev.CSISnapshots, csi...)
	}
	res.Claims = Classify(ev)
	if res.Claims == nil {
		res.Claims = []Claim{}
	}

	var schedules []velerov1.Schedule
	if err := list(ctx, src.Dynamic.Resource(schedulesGVR).Namespace(src.VeleroNamespace), metav1.ListOptions{}, &schedules); err != nil {
		problem("list Velero Schedules in the source: %v", err)
		return res, nil
	}
	for _, s := range schedules {
		res.Schedules = append(res.Schedules, s.Name)
	}
	sort.Strings(res.Schedules)
	all, err := src.Kube.CoreV1().PersistentVolumeClaims(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		problem("list the PersistentVolumeClaims of every namespace in the source: %v", err)
		return res, nil
	}
	if u := UncoveredNamespaces(all.Items, schedules); u != nil {
		res.Uncovered = u
	}
	return res, nil
}

// readBackup is the Backup from Velero's namespace of the source, else
// its velero-backup.json in the bucket.
func readBackup(ctx context.Context, src Source, name string) (*velerov1.Backup, error) {
	u, err := src.Dynamic.Resource(backupsGVR).Namespace(src.VeleroNamespace).Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		var b velerov1.Backup
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &b); err != nil {
			return nil, fmt.Errorf("read Backup %s/%s of the source: %w", src.VeleroNamespace, name, err)
		}
		return &b, nil
	}
	if !apierrors.IsNotFound(err) || src.Files == nil {
		return nil, fmt.Errorf("get Backup %s/%s in the source: %w", src.VeleroNamespace, name, err)
	}
	data, ferr := src.Files.ReadFile(ctx, backupFile(name, "velero-backup.json"))
	if ferr != nil {
		return nil, fmt.Errorf("backup %s is neither in the source (%v) nor readable in the bucket: %w", name, err, ferr)
	}
	var b velerov1.Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("parse velero-backup.json of backup %s: %w", name, err)
	}
	return &b, nil
}

// list lists the objects of ri into out, a pointer to a slice of Velero's
// type, converting each at this edge.
func list[T any](ctx context.Context, ri dynamic.ResourceInterface, opts metav1.ListOptions, out *[]T) error {
	l, err := ri.List(ctx, opts)
	if err != nil {
		return err
	}
	for _, item := range l.Items {
		var o T
		if err := fromUnstructured(item, &o); err != nil {
			return err
		}
		*out = append(*out, o)
	}
	return nil
}

func fromUnstructured(u unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		return fmt.Errorf("read %s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}

// readGzipJSON reads the gzipped JSON file at key into out; a file that
// does not exist leaves out empty (Velero writes none when there is
// nothing to list).
// readSnapshots reads the backup's native snapshots (Velero's
// NAME-volumesnapshots.json.gz, internal/volume.Snapshot) as phase by
// PersistentVolume name, and its CSI VolumeSnapshots
// (NAME-csi-volumesnapshots.json.gz) as "namespace/claim"; a file that
// cannot be read is a problem, a missing one none.
func readSnapshots(ctx context.Context, files Files, backup string) (native map[string]string, csi []string, problems []string) {
	var snaps []struct {
		Spec struct {
			PersistentVolumeName string `json:"persistentVolumeName"`
		} `json:"spec"`
		Status struct {
			Phase string `json:"phase"`
		} `json:"status"`
	}
	if err := readGzipJSON(ctx, files, backupFile(backup, backup+"-volumesnapshots.json.gz"), &snaps); err != nil {
		problems = append(problems, err.Error())
	}
	native = map[string]string{}
	for _, s := range snaps {
		native[s.Spec.PersistentVolumeName] = s.Status.Phase
	}
	var vss []struct {
		Metadata struct {
			Namespace string `json:"namespace"`
		} `json:"metadata"`
		Spec struct {
			Source struct {
				PersistentVolumeClaimName *string `json:"persistentVolumeClaimName"`
			} `json:"source"`
		} `json:"spec"`
	}
	if err := readGzipJSON(ctx, files, backupFile(backup, backup+"-csi-volumesnapshots.json.gz"), &vss); err != nil {
		problems = append(problems, err.Error())
	}
	for _, s := range vss {
		if n := s.Spec.Source.PersistentVolumeClaimName; n != nil {
			csi = append(csi, s.Metadata.Namespace+"/"+*n)
		}
	}
	return native, csi, problems
}

func readGzipJSON(ctx context.Context, files Files, key string, out any) error {
	data, err := files.ReadFile(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer zr.Close()
	if err := json.NewDecoder(io.LimitReader(zr, MaxFile)).Decode(out); err != nil {
		return fmt.Errorf("parse %s: %w", key, err)
	}
	return nil
}

// mergePodVolumeBackups is the PodVolumeBackups of the source and those
// stored with the backup, each once (by name; the source's copy first).
func mergePodVolumeBackups(a, b []velerov1.PodVolumeBackup) []velerov1.PodVolumeBackup {
	seen := map[string]bool{}
	var out []velerov1.PodVolumeBackup
	for _, p := range append(a, b...) {
		if !seen[p.Name] {
			seen[p.Name] = true
			out = append(out, p)
		}
	}
	return out
}
