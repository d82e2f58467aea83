package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	"github.com/vmware-tanzu/velero/pkg/label"
)

// tracker records what the drill created (or changed) in the target, as it
// happens, so that cleanup removes exactly that and nothing else.
type tracker struct {
	mu            sync.Mutex
	namespaces    []string
	restores      []string
	secrets       []string
	locations     []string
	backupPatches []backupPatch
	// readerBindings are the namespaces where the drill bound its Reader.
	readerBindings []string
	// crdRestores are the drill's Restores that restore
	// CustomResourceDefinitions: the CRDs labeled with their names were
	// created by the drill, cluster-scoped, outside the target namespaces.
	crdRestores []string
}

type backupPatch struct {
	backup, location, label string
}

// CleanupResult says what cleanup did.
type CleanupResult struct {
	// Policy is the policy applied.
	Policy CleanupPolicy `json:"policy"`
	// Done is false when the policy kept what the drill restored; the
	// reader bindings (see Reader) are deleted anyway, and listed in
	// Deleted.
	Done bool `json:"done"`
	// Deleted lists what was removed, as kind/name.
	Deleted []string `json:"deleted,omitempty"`
	// Kept lists what is left for investigation.
	Kept []string `json:"kept,omitempty"`
	// Error is set when something could not be removed.
	Error string `json:"error,omitempty"`
}

func (t *tracker) items() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for _, n := range t.namespaces {
		out = append(out, "namespace/"+n)
	}
	for _, n := range t.restores {
		out = append(out, "restore/"+n)
	}
	for _, n := range t.locations {
		out = append(out, "backupstoragelocation/"+n)
	}
	for _, n := range t.secrets {
		out = append(out, "secret/"+n)
	}
	for _, p := range t.backupPatches {
		out = append(out, fmt.Sprintf("backup/%s (storage location changed from %s)", p.backup, p.location))
	}
	for _, n := range t.crdRestores {
		out = append(out, fmt.Sprintf("customresourcedefinitions labeled %s=%s", labelRestoreName, n))
	}
	return out
}

// cleanup removes what tr recorded: restored namespaces (waiting until
// they are gone), the drill's Restores, the copy's location and Secret, and
// puts Backup objects back on their original location. It runs on a
// context that survives cancellation of ctx, with its own timeout, so
// Ctrl-C still cleans up.
func cleanup(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, veleroNS string, tr *tracker, timeout time.Duration) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var errs []error
	var deleted []string
	gone := func(err error) bool { return err == nil || apierrors.IsNotFound(err) }
	// A Restore interrupted by Ctrl-C goes on inside Velero, which cannot
	// cancel it: wait for it to end first, or it recreates the namespaces
	// cleanup deletes, and a Restore deleted while it runs keeps its
	// finalizer until Velero gets to it.
	for _, n := range tr.restores {
		_, err := watchRestore(ctx, dyn, veleroNS, n, time.Now, func(RestoreProgress) {}, n)
		if err != nil && !apierrors.IsNotFound(errors.Unwrap(err)) && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("wait for restore %s to end: %w", n, err))
		}
	}
	for _, n := range tr.namespaces {
		if err := cs.CoreV1().Namespaces().Delete(ctx, n, metav1.DeleteOptions{}); !gone(err) {
			errs = append(errs, fmt.Errorf("delete namespace %s: %w", n, err))
		}
	}
	for _, n := range tr.restores {
		if err := dyn.Resource(restoresGVR).Namespace(veleroNS).Delete(ctx, n, metav1.DeleteOptions{}); !gone(err) {
			errs = append(errs, fmt.Errorf("delete restore %s: %w", n, err))
		} else {
			deleted = append(deleted, "restore/"+n)
		}
	}
	// Velero's finalizer on a Restore removes its files from the location
	// of its backup: the Restores must be gone before the backup goes back
	// to its own location (the lost primary, perhaps) and before the copy's
	// location is deleted, or the finalizer is stuck.
	for _, n := range tr.restores {
		if err := waitGone(ctx, dyn, dyn.Resource(restoresGVR).Namespace(veleroNS), veleroNS, n); err != nil {
			errs = append(errs, fmt.Errorf("restore %s is still being deleted by Velero: %w", n, err))
		}
	}
	// Backups go back to their location before that location disappears.
	for _, p := range tr.backupPatches {
		label := any(p.label)
		if p.label == "" {
			label = nil
		}
		patch, _ := json.Marshal(map[string]any{
			"metadata": map[string]any{"labels": map[string]any{labelStorageLocation: label},
				"annotations": map[string]any{annotationDrillID: nil, annotationLocationBefore: nil, annotationLocationLabelBefore: nil}},
			"spec": map[string]any{"storageLocation": p.location},
		})
		_, err := dyn.Resource(backupsGVR).Namespace(veleroNS).Patch(ctx, p.backup, types.MergePatchType, patch, metav1.PatchOptions{})
		if !gone(err) {
			errs = append(errs, fmt.Errorf("put backup %s back on storage location %s: %w", p.backup, p.location, err))
		}
	}
	for _, n := range tr.locations {
		if err := dyn.Resource(locationsGVR).Namespace(veleroNS).Delete(ctx, n, metav1.DeleteOptions{}); !gone(err) {
			errs = append(errs, fmt.Errorf("delete BackupStorageLocation %s: %w", n, err))
		} else {
			deleted = append(deleted, "backupstoragelocation/"+n)
		}
		repos, err := deleteLocationRepositories(ctx, dyn, veleroNS, n)
		deleted = append(deleted, repos...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range tr.secrets {
		if err := cs.CoreV1().Secrets(veleroNS).Delete(ctx, n, metav1.DeleteOptions{}); !gone(err) {
			errs = append(errs, fmt.Errorf("delete Secret %s: %w", n, err))
		} else {
			deleted = append(deleted, "secret/"+n)
		}
	}
	for _, n := range tr.namespaces {
		if err := waitNamespaceGone(ctx, cs, n); err != nil {
			errs = append(errs, err)
		} else {
			deleted = append(deleted, "namespace/"+n)
		}
	}
	// Velero never relabels a CRD that already existed, so a CRD labeled
	// with one of the drill's Restores is one the drill created.
	for _, n := range tr.crdRestores {
		crds, err := deleteRestoredCRDs(ctx, dyn, n)
		deleted = append(deleted, crds...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

// deleteLocationRepositories deletes the BackupRepositories Velero opened
// on storage location loc (label velero.io/storage-location), as `velero
// backup-location delete` does (Velero v1.18
// pkg/cmd/cli/backuplocation/delete.go). Left behind, such a repository
// stays NotReady ("re-establish on BSL change, create or delete") and
// fails the volume data of the next drill's location of the same name.
func deleteLocationRepositories(ctx context.Context, dyn dynamic.Interface, veleroNS, loc string) ([]string, error) {
	res := dyn.Resource(backupRepositoriesGVR).Namespace(veleroNS)
	list, err := res.List(ctx, metav1.ListOptions{LabelSelector: labels.Set{velerov1.StorageLocationLabel: label.GetValidName(loc)}.String()})
	if err != nil {
		return nil, fmt.Errorf("list the BackupRepositories of storage location %s: %w", loc, err)
	}
	var deleted []string
	var errs []error
	for _, r := range list.Items {
		if err := res.Delete(ctx, r.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete BackupRepository %s of storage location %s: %w", r.GetName(), loc, err))
			continue
		}
		deleted = append(deleted, "backuprepository/"+r.GetName())
	}
	return deleted, errors.Join(errs...)
}

// deleteRestoredCRDs deletes the CustomResourceDefinitions that Restore
// restore created (Velero's label velero.io/restore-name).
func deleteRestoredCRDs(ctx context.Context, dyn dynamic.Interface, restore string) ([]string, error) {
	res := dyn.Resource(crdsGVR)
	list, err := res.List(ctx, metav1.ListOptions{LabelSelector: labelRestoreName + "=" + restore})
	if err != nil {
		return nil, fmt.Errorf("list the CustomResourceDefinitions restore %s created: %w", restore, err)
	}
	var deleted []string
	var errs []error
	for _, crd := range list.Items {
		if err := res.Delete(ctx, crd.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete CustomResourceDefinition %s: %w", crd.GetName(), err))
			continue
		}
		// The API server removes a CRD only after its custom resources
		// (finalizer customresourcecleanup.apiextensions.k8s.io): wait,
		// so that "deleted" means gone, as for namespaces.
		if err := waitGone(ctx, dyn, res, "", crd.GetName()); err != nil {
			errs = append(errs, fmt.Errorf("wait for CustomResourceDefinition %s to go: %w", crd.GetName(), err))
			continue
		}
		deleted = append(deleted, "customresourcedefinition/"+crd.GetName())
	}
	return deleted, errors.Join(errs...)
}

// waitNamespaceGone waits with a watch (see untilObject) until namespace
// n no longer exists.
func waitNamespaceGone(ctx context.Context, cs kubernetes.Interface, n string) error {
	sel := fields.OneTermEqualSelector("metadata.name", n).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return cs.CoreV1().Namespaces().List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return cs.CoreV1().Namespaces().Watch(ctx, o)
		},
	}
	if err := untilObject(ctx, cs, lw, &corev1.Namespace{}, n, gone, deleted); err != nil {
		return fmt.Errorf("namespace %s is still terminating: %w", n, err)
	}
	return nil
}

// waitGone waits with a watch (see untilObject) until object name of res
// (in namespace ns) no longer exists.
func waitGone(ctx context.Context, dyn dynamic.Interface, res dynamic.ResourceInterface, ns, name string) error {
	return untilObject(ctx, dyn, listWatchOne(res, name), &unstructured.Unstructured{}, ns+"/"+name, gone, deleted)
}

// gone and deleted end a wait for an object to go: it was not there, or
// its Deleted event came.
func gone() (bool, error) { return true, nil }

func deleted(ev watch.Event) (bool, error) { return ev.Type == watch.Deleted, nil }
