package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
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

// waitLocationAvailable waits with a watch until location name reports
// Available. An Unavailable location that Velero has validated ends the
// wait at once when failFast is set (an existing location the drill does
// not own); a location the drill just created gets until the timeout,
// because Velero may validate it before its Secret is readable.
func waitLocationAvailable(ctx context.Context, dyn dynamic.Interface, ns, name string, timeout time.Duration, failFast bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res := dyn.Resource(locationsGVR).Namespace(ns)
	sel := fields.OneTermEqualSelector("metadata.name", name).String()
	list, err := res.List(ctx, metav1.ListOptions{FieldSelector: sel})
	if err != nil {
		return fmt.Errorf("read BackupStorageLocation %s/%s: %w", ns, name, err)
	}
	if len(list.Items) == 0 {
		return fmt.Errorf("BackupStorageLocation %q does not exist in namespace %s of the target: %w", name, ns, ErrLocationUnavailable)
	}
	last := &list.Items[0]
	check := func(o *unstructured.Unstructured) (bool, error) {
		last = o
		switch str(o, "status", "phase") {
		case "Available":
			return true, nil
		case "Unavailable":
			if failFast {
				return false, unavailable(o)
			}
		}
		return false, nil
	}
	if ok, err := check(last); ok || err != nil {
		return err
	}
	w, err := res.Watch(ctx, metav1.ListOptions{FieldSelector: sel, ResourceVersion: list.GetResourceVersion()})
	if err != nil {
		return fmt.Errorf("watch BackupStorageLocation %s/%s: %w", ns, name, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("after %s: %w", timeout, unavailable(last))
			}
			return ctx.Err()
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("watch of BackupStorageLocation %s closed: %w", name, unavailable(last))
			}
			if ev.Type == watch.Deleted {
				return fmt.Errorf("BackupStorageLocation %s was deleted: %w", name, ErrLocationUnavailable)
			}
			if o, ok := ev.Object.(*unstructured.Unstructured); ok {
				if ok, err := check(o); ok || err != nil {
					return err
				}
			}
		}
	}
}

func unavailable(o *unstructured.Unstructured) error {
	msg := str(o, "status", "message")
	phase := orNone(str(o, "status", "phase"))
	if msg != "" {
		return fmt.Errorf("BackupStorageLocation %q is %s: %s: %w", o.GetName(), phase, msg, ErrLocationUnavailable)
	}
	return fmt.Errorf("BackupStorageLocation %q is %s: %w", o.GetName(), phase, ErrLocationUnavailable)
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
	spec := map[string]any{
		"provider":            c.Provider,
		"accessMode":          "ReadOnly",
		"objectStorage":       map[string]any{"bucket": c.Bucket, "prefix": c.Prefix},
		"default":             false,
		"validationFrequency": "10s",
	}
	if len(c.Config) > 0 {
		cfg := map[string]any{}
		for k, v := range c.Config {
			cfg[k] = v
		}
		spec["config"] = cfg
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
		spec["credential"] = map[string]any{"name": secretName, "key": "cloud"}
	}
	bsl := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "velero.io/v1",
		"kind":       "BackupStorageLocation",
		"metadata":   map[string]any{"name": c.StorageLocation, "namespace": ns, "labels": drillLabels(drillID)},
		"spec":       spec,
	}}
	if _, err := locs.Create(ctx, bsl, metav1.CreateOptions{}); err != nil {
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
func useCopyLocation(ctx context.Context, dyn dynamic.Interface, ns, backup, location string, tr *tracker) error {
	res := dyn.Resource(backupsGVR).Namespace(ns)
	b, err := res.Get(ctx, backup, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read backup %s: %w", backup, err)
	}
	orig := str(b, "spec", "storageLocation")
	if orig == location {
		return nil
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"labels": map[string]any{labelStorageLocation: location}},
		"spec":     map[string]any{"storageLocation": location},
	})
	if _, err := res.Patch(ctx, backup, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("point backup %s at storage location %s: %w", backup, location, err)
	}
	tr.backupPatches = append(tr.backupPatches, backupPatch{backup: backup, location: orig, label: b.GetLabels()[labelStorageLocation]})
	return nil
}
