package restore

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

var tDead = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func deadRestore(name, drillID string, phase velerov1.RestorePhase, included []string, mapping map[string]string) *velerov1.Restore {
	r := &velerov1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", Labels: drillLabels(drillID), CreationTimestamp: metav1.NewTime(tDead)},
		Spec:       velerov1.RestoreSpec{BackupName: "daily-1", IncludedNamespaces: included, NamespaceMapping: mapping},
		Status:     velerov1.RestoreStatus{Phase: phase},
	}
	if terminal(phase) {
		r.Status.CompletionTimestamp = ptr.To(metav1.NewTime(tDead.Add(time.Minute)))
	}
	return r
}

func namespaceAt(name string, at time.Time) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(at)}}
}

// A dead drill's leftovers are only what Velero's records prove its own:
// the namespace its Restore created (and not one made again since, nor one
// that existed before), its Restores and not another drill's, its copy's
// location and Secret, and the Backup it pointed at the copy, put back
// (issue 18, item 2).
func TestLeftovers_OnlyWhatVeleroSaysTheDrillCreated(t *testing.T) {
	ctx := context.Background()
	backup := backupObj("daily-1", "daily", velerov1.BackupPhaseCompleted, tDead.Add(-time.Hour))
	backup.Spec.StorageLocation = "fd-copy"
	backup.Labels[velerov1.StorageLocationLabel] = "fd-copy"
	backup.Annotations = map[string]string{annotationDrillID: "fd-dead", annotationLocationBefore: "default", annotationLocationLabelBefore: "default"}
	dyn := fakeDynamic(
		deadRestore("fd-dead-network-policies", "fd-dead", velerov1.RestorePhaseCompleted, []string{"shop", "shop-data", "shop-old"}, map[string]string{"shop": "drill-shop"}),
		deadRestore("fd-dead-workloads", "fd-dead", velerov1.RestorePhaseCompleted, []string{"shop", "shop-data", "shop-old"}, map[string]string{"shop": "drill-shop"}),
		deadRestore("fd-other-workloads", "fd-other", velerov1.RestorePhaseInProgress, []string{"shop"}, nil),
		&velerov1.BackupStorageLocation{ObjectMeta: metav1.ObjectMeta{Name: "fd-copy", Namespace: "velero", Labels: drillLabels("fd-dead")},
			Spec: velerov1.BackupStorageLocationSpec{Credential: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: CopySecretName("fd-copy")}, Key: "cloud"}}},
		backup,
	)
	cs := fake.NewClientset(
		namespaceAt("drill-shop", tDead.Add(2*time.Second)), // created by the first Restore
		namespaceAt("shop-data", tDead.Add(-24*time.Hour)),  // existed before: Velero only updated it
		namespaceAt("shop-old", tDead.Add(3*time.Hour)),     // created by the Restore, deleted, made again by someone
		namespaceAt("shop", tDead.Add(-48*time.Hour)),       // the source's name, not a target of the drill
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: CopySecretName("fd-copy"), Namespace: "velero", Labels: drillLabels("fd-dead")}},
	)
	lists := map[string]map[string][]string{
		"fd-dead-network-policies": {"v1/Namespace": {"drill-shop(created)", "shop-old(created)"}, "networking.k8s.io/v1/NetworkPolicy": {"drill-shop/deny(created)"}},
		"fd-dead-workloads":        {"v1/Namespace": {}, "apps/v1/Deployment": {"drill-shop/web(created)", "shop-data/db(updated)"}},
	}
	opts := LeftoverOptions{Namespaces: []string{"drill-shop", "shop-data"}, ResourceList: func(_ context.Context, name string) (map[string][]string, error) {
		return lists[name], nil
	}}
	target := Target{Kube: cs, Dynamic: dyn}
	l, err := LeftoversOf(ctx, target, "velero", "fd-dead", opts)
	require.NoError(t, err)
	assert.Equal(t, []string{"fd-dead-network-policies", "fd-dead-workloads"}, l.Restores, "not fd-other's")
	assert.Equal(t, []string{"drill-shop"}, l.Namespaces)
	assert.Equal(t, []string{"fd-copy"}, l.Locations)
	assert.Equal(t, []string{"fd-copy-firedrill-credentials"}, l.Secrets)
	assert.Equal(t, []string{"daily-1"}, l.Backups)
	require.Len(t, l.NotOwned, 2)
	assert.Equal(t, NotOwned{Kind: "Namespace", Name: "shop-data", Command: "kubectl delete namespace shop-data",
		Why: "Velero's record of Restore fd-dead-network-policies does not say it created namespace shop-data: it existed before the drill"}, l.NotOwned[0])
	assert.Equal(t, "shop-old", l.NotOwned[1].Name)
	assert.Contains(t, l.NotOwned[1].Why, "created at 2026-11-30T13:00:00Z, outside that Restore's run")
	assert.Equal(t, "kubectl delete namespace shop-old", l.NotOwned[1].Command)

	deleted, err := RemoveLeftovers(ctx, target, "velero", l, time.Minute)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"restore/fd-dead-network-policies", "restore/fd-dead-workloads", "backupstoragelocation/fd-copy",
		"secret/fd-copy-firedrill-credentials", "namespace/drill-shop"}, deleted)
	for _, ns := range []string{"shop-data", "shop-old", "shop"} {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		assert.NoError(t, err, "namespace %s is not the drill's: never deleted", ns)
	}
	_, err = cs.CoreV1().Namespaces().Get(ctx, "drill-shop", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the drill's namespace is gone: %v", err)
	_, err = dyn.Resource(restoresGVR).Namespace("velero").Get(ctx, "fd-other-workloads", metav1.GetOptions{})
	assert.NoError(t, err, "another drill's Restore stays")
	u, err := dyn.Resource(backupsGVR).Namespace("velero").Get(ctx, "daily-1", metav1.GetOptions{})
	require.NoError(t, err)
	b, err := toBackup(u)
	require.NoError(t, err)
	assert.Equal(t, "default", b.Spec.StorageLocation, "the Backup is back on its own location")
	assert.Equal(t, "default", b.Labels[velerov1.StorageLocationLabel])
	assert.Empty(t, b.Annotations[annotationDrillID])
}

// A Restore still running (Velero goes on after firedrill dies) is
// pending when the cleanup does not wait: its namespaces are not proven
// yet, and are named, not deleted. An unreadable record proves nothing.
func TestLeftovers_PendingOrUnreadableProvesNothing(t *testing.T) {
	ctx := context.Background()
	dyn := fakeDynamic(
		deadRestore("fd-dead-workloads", "fd-dead", velerov1.RestorePhaseInProgress, []string{"shop"}, nil),
		deadRestore("fd-gone-workloads", "fd-gone", velerov1.RestorePhaseCompleted, []string{"web"}, nil),
	)
	cs := fake.NewClientset(namespaceAt("shop", tDead.Add(time.Second)), namespaceAt("web", tDead.Add(time.Second)))
	unreadable := func(context.Context, string) (map[string][]string, error) {
		return nil, errors.New("HTTP 403 Forbidden")
	}
	target := Target{Kube: cs, Dynamic: dyn}

	l, err := LeftoversOf(ctx, target, "velero", "fd-dead", LeftoverOptions{ResourceList: unreadable})
	require.NoError(t, err)
	assert.Equal(t, []string{"fd-dead-workloads"}, l.Pending)
	assert.Empty(t, l.Namespaces)
	require.Len(t, l.NotOwned, 1)
	assert.Equal(t, "shop", l.NotOwned[0].Name)
	assert.Contains(t, l.NotOwned[0].Why, "Restore fd-dead-workloads is InProgress")

	l, err = LeftoversOf(ctx, target, "velero", "fd-gone", LeftoverOptions{ResourceList: unreadable})
	require.NoError(t, err)
	assert.Empty(t, l.Namespaces)
	require.Len(t, l.NotOwned, 1)
	assert.Equal(t, NotOwned{Kind: "Namespace", Name: "web", Command: "kubectl delete namespace web",
		Why: "Velero's record of what Restore fd-gone-workloads created could not be read: HTTP 403 Forbidden"}, l.NotOwned[0])
}

func TestParseResourceList_VelerosShape(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	require.NoError(t, json.NewEncoder(zw).Encode(map[string][]string{"v1/Namespace": {"shop(created)", "shop-data(skipped)"}}))
	require.NoError(t, zw.Close())
	list, err := ParseResourceList(&buf)
	require.NoError(t, err)
	assert.Equal(t, []string{"shop"}, createdNamespaces(list))
}
