package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// ErrLocationUnavailable is returned (wrapped) when a BackupStorageLocation
// is not Available.
var ErrLocationUnavailable = errors.New("backup storage location is not Available")

// DefaultLocationWait bounds the wait for a location to become Available.
const DefaultLocationWait = 90 * time.Second

// waitLocationAvailable waits with a watch (see untilObject) until
// location name reports Available. An Unavailable location that Velero has
// validated ends the wait at once when failFast is set (an existing
// location the drill does not own); a location the drill just created gets
// until the timeout, because Velero may validate it before its Secret is
// readable.
func waitLocationAvailable(ctx context.Context, dyn dynamic.Interface, ns, name string, timeout time.Duration, failFast bool) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	last := &velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Name: name}}
	err := untilObject(wctx, dyn, listWatchOne(dyn.Resource(locationsGVR).Namespace(ns), name), &unstructured.Unstructured{}, ns+"/"+name,
		func() (bool, error) {
			return false, fmt.Errorf("BackupStorageLocation %q does not exist in namespace %s of the target: %w", name, ns, ErrLocationUnavailable)
		},
		func(ev watch.Event) (bool, error) {
			if ev.Type == watch.Deleted {
				return false, fmt.Errorf("BackupStorageLocation %s was deleted: %w", name, ErrLocationUnavailable)
			}
			var l velerov1.BackupStorageLocation
			if err := fromObject(ev.Object.(*unstructured.Unstructured), &l); err != nil {
				return false, err
			}
			last = &l
			switch l.Status.Phase {
			case velerov1.BackupStorageLocationPhaseAvailable:
				return true, nil
			case velerov1.BackupStorageLocationPhaseUnavailable:
				if failFast {
					return false, unavailable(&l)
				}
			}
			return false, nil
		})
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("after %s: %w", timeout, unavailable(last))
	}
	if err != nil && !errors.Is(err, ErrLocationUnavailable) && ctx.Err() == nil {
		return fmt.Errorf("read BackupStorageLocation %s/%s: %w", ns, name, err)
	}
	return err
}

func unavailable(l *velerov1.BackupStorageLocation) error {
	phase := orNone(string(l.Status.Phase))
	if msg := l.Status.Message; msg != "" {
		return fmt.Errorf("BackupStorageLocation %q is %s: %s: %w", l.Name, phase, msg, ErrLocationUnavailable)
	}
	return fmt.Errorf("BackupStorageLocation %q is %s: %w", l.Name, phase, ErrLocationUnavailable)
}

// CopySecretName is the name of the credentials Secret of the copy's
// location: fixed, like the location's own name, so that a scheduled
// drill's RBAC can name the one Secret it may delete.
func CopySecretName(location string) string {
	name := location + "-firedrill-credentials"
	if len(name) > 253 {
		name = name[:253]
	}
	return name
}

// createCopyLocation creates the read-only BackupStorageLocation of an
// off-site copy and its credentials Secret, recording both in tr before
// anything else can fail so that cleanup finds them.
func createCopyLocation(ctx context.Context, cs kubernetes.Interface, dyn dynamic.Interface, ns, drillID string, c *CopyLocation, tr *tracker) error {
	locs := dyn.Resource(locationsGVR).Namespace(ns)
	if _, err := locs.Get(ctx, c.StorageLocation, metav1.GetOptions{}); err == nil {
		return fmt.Errorf("BackupStorageLocation %q already exists in namespace %s of the target; the drill creates it for copy %q "+
			"(a kept drill leaves it: delete it with 'kubectl -n %s delete backupstoragelocation %s')", c.StorageLocation, ns, c.Name, ns, c.StorageLocation)
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("read BackupStorageLocation %s/%s: %w", ns, c.StorageLocation, err)
	}
	bsl := &velerov1.BackupStorageLocation{
		ObjectMeta: metav1.ObjectMeta{Name: c.StorageLocation, Namespace: ns, Labels: drillLabels(drillID)},
		Spec: velerov1.BackupStorageLocationSpec{
			Provider:            c.Provider,
			AccessMode:          velerov1.BackupStorageLocationAccessModeReadOnly,
			StorageType:         velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{Bucket: c.Bucket, Prefix: c.Prefix}},
			Default:             false,
			ValidationFrequency: &metav1.Duration{Duration: 10 * time.Second},
			Config:              maps.Clone(c.Config),
		},
	}
	if len(c.Credentials) > 0 {
		secretName := CopySecretName(c.StorageLocation)
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: secretName, Namespace: ns,
				Labels: map[string]string{LabelDrillID: drillID, LabelManagedBy: managedBy}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{"cloud": c.Credentials},
		}
		if _, err := cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("credentials Secret %s/%s for copy %q already exists: a kept drill leaves it (delete it with 'kubectl -n %s delete secret %s')",
					ns, secretName, c.Name, ns, secretName)
			}
			return fmt.Errorf("create credentials Secret %s/%s for copy %q: %w", ns, secretName, c.Name, err)
		}
		tr.secrets = append(tr.secrets, secretName)
		bsl.Spec.Credential = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: secretName}, Key: "cloud"}
	}
	u, err := toObject(bsl, "BackupStorageLocation")
	if err != nil {
		return err
	}
	if _, err := locs.Create(ctx, u, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create BackupStorageLocation %s/%s for copy %q: %w", ns, c.StorageLocation, c.Name, err)
	}
	tr.locations = append(tr.locations, c.StorageLocation)
	return nil
}

// useCopyLocation makes the Backup object name the copy's location before
// the Restore is created: Velero's backup sync works by name, so a backup
// already synced from the primary location keeps naming it and would be
// read from the lost primary bucket. The original location is recorded in
// tr and put back at cleanup.
func useCopyLocation(ctx context.Context, dyn dynamic.Interface, ns, backup, location, drillID string, tr *tracker) error {
	res := dyn.Resource(backupsGVR).Namespace(ns)
	u, err := res.Get(ctx, backup, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read backup %s: %w", backup, err)
	}
	b, err := toBackup(u)
	if err != nil {
		return err
	}
	orig := b.Spec.StorageLocation
	if orig == location {
		return nil
	}
	// The annotations let 'firedrill cleanup' put the backup back after
	// a drill that died before its own cleanup (LeftoversOf).
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{
			"labels": map[string]any{labelStorageLocation: location},
			"annotations": map[string]any{annotationDrillID: drillID, annotationLocationBefore: orig,
				annotationLocationLabelBefore: b.Labels[labelStorageLocation]},
		},
		"spec": map[string]any{"storageLocation": location},
	})
	if _, err := res.Patch(ctx, backup, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("point backup %s at storage location %s: %w", backup, location, err)
	}
	tr.backupPatches = append(tr.backupPatches, backupPatch{backup: backup, location: orig, label: b.Labels[labelStorageLocation]})
	return nil
}
