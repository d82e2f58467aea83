package restore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes/fake"
)

func location(name string, phase velerov1.BackupStorageLocationPhase, msg string) *velerov1.BackupStorageLocation {
	return &velerov1.BackupStorageLocation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero"},
		Status:     velerov1.BackupStorageLocationStatus{Phase: phase, Message: msg},
	}
}

func ns(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func TestRun_PreflightRefusals(t *testing.T) {
	spec := defaulted(Spec{DrillID: "fd-t", IncludedNamespaces: []string{"shop"}, Backup: BackupSelector{Schedule: "daily"},
		NamespaceMapping: map[string]string{"shop": "shop-x"}})
	tests := []struct {
		name string
		kube []*corev1.Namespace
		loc  *velerov1.BackupStorageLocation
		want func(error) bool
	}{
		{"target namespace exists", []*corev1.Namespace{ns("velero"), ns("shop-x")}, location("default", "Available", ""),
			func(err error) bool { var e *NamespaceExistsError; return errors.As(err, &e) }},
		{"location unavailable", []*corev1.Namespace{ns("velero")}, location("default", "Unavailable", "dial tcp: connection refused"),
			func(err error) bool { return errors.Is(err, ErrLocationUnavailable) }},
		{"no velero", nil, location("default", "Available", ""),
			func(err error) bool { return err != nil }},
		{"no backup", []*corev1.Namespace{ns("velero")}, location("default", "Available", ""),
			func(err error) bool { return errors.Is(err, ErrNoBackup) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset()
			for _, n := range tt.kube {
				_, err := cs.CoreV1().Namespaces().Create(context.Background(), n, metav1.CreateOptions{})
				require.NoError(t, err)
			}
			dyn := fakeDynamic(tt.loc)
			res, err := Run(context.Background(), Target{Kube: cs, Dynamic: dyn}, spec, Options{})
			require.Error(t, err)
			assert.True(t, tt.want(err), "unexpected error %v", err)
			assert.Nil(t, res)
			restores, lerr := dyn.Resource(restoresGVR).Namespace("velero").List(context.Background(), metav1.ListOptions{})
			require.NoError(t, lerr)
			assert.Empty(t, restores.Items, "nothing created")
		})
	}
}

func TestKeepAfter(t *testing.T) {
	tests := []struct {
		policy                                   CleanupPolicy
		passed, interrupted, failedBeforeRestore bool
		keep                                     bool
	}{
		{CleanupOnSuccess, true, false, false, false},
		{CleanupOnSuccess, false, false, false, true},
		{CleanupOnSuccess, false, true, false, false},
		{CleanupOnSuccess, false, false, true, false},
		{CleanupAlways, false, false, false, false},
		{CleanupNever, true, false, false, true},
		{CleanupNever, false, true, true, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.keep, keepAfter(tt.policy, tt.passed, tt.interrupted, tt.failedBeforeRestore), "%+v", tt)
	}
}

// TestCleanup_DeletesOnlyTheCRDsTheDrillRestored: a CRD phase creates
// cluster-scoped objects outside the target namespaces; cleanup removes
// those Velero labeled with the drill's Restore and no other CRD.
func TestCleanup_DeletesOnlyTheCRDsTheDrillRestored(t *testing.T) {
	crd := func(name, restore string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
			"metadata": map[string]any{"name": name},
		}}
		if restore != "" {
			u.SetLabels(map[string]string{labelRestoreName: restore})
		}
		return u
	}
	dyn := fakeDynamic(
		crd("storefronts.shop.example.com", "fd-1-crds"),
		crd("widgets.example.com", "fd-0-crds"),
		crd("backups.velero.io", ""),
	)
	tr := &tracker{crdRestores: []string{"fd-1-crds"}}
	deleted, err := cleanup(context.Background(), fake.NewClientset(), dyn, "velero", tr, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []string{"customresourcedefinition/storefronts.shop.example.com"}, deleted)
	left, err := dyn.Resource(crdsGVR).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	var names []string
	for _, u := range left.Items {
		names = append(names, u.GetName())
	}
	assert.ElementsMatch(t, []string{"widgets.example.com", "backups.velero.io"}, names)
	assert.Contains(t, tr.items(), "customresourcedefinitions labeled velero.io/restore-name=fd-1-crds", "kept under policy never, and said so")
}

// TestCleanup_DeletesTheRepositoriesOfTheCopysLocation: Velero opens a
// BackupRepository per namespace on the copy's location the drill created;
// cleanup deletes those with the location (as `velero backup-location
// delete` does) and leaves the repositories of other locations alone. Left
// behind, the next drill's location of the same name found its repository
// NotReady and every volume's restore failed.
func TestCleanup_DeletesTheRepositoriesOfTheCopysLocation(t *testing.T) {
	// Velero's BackupRepository, as pkg/repository/backup_repo_op.go
	// labels it; the code reads only its name and labels.
	repo := func(name, location string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": velerov1.SchemeGroupVersion.String(), "kind": "BackupRepository",
			"metadata": map[string]any{"namespace": "velero", "name": name, "labels": map[string]any{velerov1.StorageLocationLabel: location}},
			"spec":     map[string]any{"backupStorageLocation": location, "volumeNamespace": "shop-data", "repositoryType": "kopia"},
		}}
	}
	dyn := fakeDynamic(
		&velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Namespace: "velero", Name: "lab-offsite"}},
		repo("shop-data-lab-offsite-kopia", "lab-offsite"),
		repo("shop-data-default-kopia", "default"),
	)
	tr := &tracker{locations: []string{"lab-offsite"}}
	deleted, err := cleanup(context.Background(), fake.NewClientset(), dyn, "velero", tr, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []string{"backupstoragelocation/lab-offsite", "backuprepository/shop-data-lab-offsite-kopia"}, deleted)
	left, err := dyn.Resource(backupRepositoriesGVR).Namespace("velero").List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, left.Items, 1)
	assert.Equal(t, "shop-data-default-kopia", left.Items[0].GetName())
}
