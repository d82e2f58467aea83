//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

var (
	restoreBSLGVR    = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}
	restoreBackupGVR = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backups"}
)

// labScenario loads the lab's scenario and maps its namespaces to fresh
// names, so tests can run again and side by side on a live lab.
func labScenario(t *testing.T, l labEnv, tag string) (*scenarios.Scenario, []string) {
	t.Helper()
	dir := os.Getenv("FIREDRILL_SCENARIOS")
	require.NotEmpty(t, dir, "FIREDRILL_SCENARIOS")
	sc, err := scenarios.LoadFile(context.Background(), scenarios.Env{}, filepath.Join(dir, l.Scenario+".yaml"))
	require.NoError(t, err)
	suffix := fmt.Sprintf("%s-%s", tag, time.Now().UTC().Format("150405"))
	// See crossNamespaceCheck: a mapped shop cannot take orders.
	n := len(sc.Spec.Checks)
	sc.Spec.Checks = slices.DeleteFunc(sc.Spec.Checks, func(c scenarios.Check) bool { return c.Name == "shop-takes-orders" })
	require.Len(t, sc.Spec.Checks, n-1)
	sc.Spec.Target.NamespaceMapping = map[string]string{}
	var targets []string
	for _, ns := range sc.Spec.Backups.IncludedNamespaces {
		to := ns + "-" + suffix
		sc.Spec.Target.NamespaceMapping[ns] = to
		targets = append(targets, to)
	}
	return sc, targets
}

// assertNoLeftovers checks that nothing of drill id remains in the scratch
// cluster: no Restore, BackupStorageLocation, Secret or DownloadRequest with
// its label, and none of the restored namespaces.
func assertNoLeftovers(t *testing.T, cs kubernetes.Interface, dyn dynamic.Interface, veleroNS, id string, namespaces []string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	sel := metav1.ListOptions{LabelSelector: restore.LabelDrillID + "=" + id}
	for _, res := range []string{"restores", "backupstoragelocations", "downloadrequests"} {
		gvr := schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: res}
		list, err := dyn.Resource(gvr).Namespace(veleroNS).List(ctx, sel)
		require.NoError(t, err)
		assert.Empty(t, list.Items, "%s of drill %s left behind", res, id)
	}
	secrets, err := cs.CoreV1().Secrets(veleroNS).List(ctx, sel)
	require.NoError(t, err)
	assert.Empty(t, secrets.Items, "secrets of drill %s left behind", id)
	for _, ns := range namespaces {
		_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "namespace %s left behind (%v)", ns, err)
	}
}

// TestRestore_DrillRestoreSucceeds is e2e (1) and (6): `firedrill restore`
// restores the seeded application into the hardened scratch cluster,
// NetworkPolicies first, proves the order, finds every workload Available
// and the data canary of the latest backup, and leaves nothing behind.
func TestRestore_DrillRestoreSucceeds(t *testing.T) {
	l := lab(t)
	bin := cliBinary(t)
	ctx := testContext(t, 5*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	sc, targets := labScenario(t, l, "rs")
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	data, err := scenarios.MarshalYAML(sc)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "drill.yaml")
	require.NoError(t, os.WriteFile(file, data, 0o600))

	cmd := exec.CommandContext(ctx, bin, "restore", file, "-o", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "firedrill restore:\n%s\n%s", out, stderr.String())
	t.Logf("progress:\n%s", stderr.String())

	var res struct {
		DrillID string `json:"drill_id"`
		Backup  struct {
			Backup     string  `json:"backup"`
			RPOSeconds float64 `json:"rpo_seconds"`
		} `json:"backup"`
		Restores []struct {
			Phase, Status string
			Restore       string `json:"restore"`
		} `json:"restores"`
		OrderVerified bool `json:"order_verified"`
		Checks        []struct {
			Name       string
			Passed     bool
			Message    string
			CanaryTime *time.Time `json:"canary_time"`
		} `json:"checks"`
		RPOSeconds float64 `json:"rpo_seconds"`
		Passed     bool
		Cleanup    struct{ Done bool }
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	assert.Equal(t, l.LatestBackup, res.Backup.Backup, "latest Completed backup of the schedule")
	assert.Positive(t, res.RPOSeconds)
	require.Len(t, res.Restores, 3)
	assert.Equal(t, []string{"network-policies", "crds", "workloads"}, []string{res.Restores[0].Phase, res.Restores[1].Phase, res.Restores[2].Phase},
		"NetworkPolicies first, CRDs before any custom resource")
	for _, r := range res.Restores {
		assert.Equal(t, "Completed", r.Status, "restore %s", r.Restore)
		assert.True(t, strings.HasPrefix(r.Restore, res.DrillID+"-"), "restore %s named after the drill", r.Restore)
	}
	assert.True(t, res.OrderVerified, "order_verified")
	require.Len(t, res.Checks, len(sc.Spec.Checks), "one result per check of the scenario")
	for _, c := range res.Checks {
		assert.True(t, c.Passed, "check %s: %s", c.Name, c.Message)
		if c.CanaryTime != nil && c.Name == "data-canary" {
			// The ConfigMap canary the seed wrote right before the backup;
			// the volume's canary is the db's own (TestVolumeData_*).
			want, err := time.Parse(time.RFC3339Nano, l.LatestCanary)
			require.NoError(t, err)
			assert.True(t, want.Equal(*c.CanaryTime), "canary %s, want %s", c.CanaryTime, want)
		}
	}
	assert.True(t, res.Passed)
	assert.True(t, res.Cleanup.Done, "cleanup on success")
	assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, res.DrillID, targets)
}

// TestRestore_OnePhaseDefaultOrderFails is e2e (2): the same backup in one
// phase, Velero's default order, is reported failed with the webhook's
// reason per namespace.
func TestRestore_OnePhaseDefaultOrderFails(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	sc, targets := labScenario(t, l, "r1")
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	sc.Spec.Target.Restore.Phases = []scenarios.Phase{{Name: "everything"}}
	sc.Spec.Cleanup.Policy = scenarios.CleanupAlways

	res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{Progress: tlog{t}})
	require.NoError(t, err)
	require.NotNil(t, res)
	assert.False(t, res.Passed)
	assert.False(t, res.Restored)
	assert.False(t, res.OrderVerified)
	require.Len(t, res.Restores, 1)
	ph := res.Restores[0]
	assert.Contains(t, []velerov1.RestorePhase{velerov1.RestorePhasePartiallyFailed, velerov1.RestorePhaseFailed}, ph.Status)
	require.NotNil(t, ph.Results, "results downloaded (%s)", ph.ResultsError)
	assert.Contains(t, ph.Reason(), l.WebhookDeny)
	assert.NotEmpty(t, ph.Results.Errors.Namespaces[targets[0]], "errors of namespace %s", targets[0])
	for _, c := range res.Checks {
		assert.False(t, c.Passed)
	}
	assert.True(t, res.Cleanup.Done, "policy always")
	assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, res.DrillID, targets)
}

// TestRestore_UnmarkedTargetRefused is e2e (4): a target without the
// scratch marker, and a target that is the source, are refused before
// anything is created.
func TestRestore_UnmarkedTargetRefused(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, time.Minute)
	srcCS, _ := kubeClients(t, l.SourceKubeconfig)
	before, err := srcCS.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)

	t.Run("no marker", func(t *testing.T) {
		sc, _ := labScenario(t, l, "r4")
		// The source cluster carries no scratch marker; the scenario names
		// it as the target and no separate source.
		sc.Spec.Target.Kubeconfig, sc.Spec.Target.Context = l.SourceKubeconfig, os.Getenv("FIREDRILL_LAB_SOURCE_CONTEXT")
		sc.Spec.Source = scenarios.ClusterRef{}
		res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{})
		require.ErrorIs(t, err, kube.ErrNotScratchCluster)
		assert.Nil(t, res)
		assert.Contains(t, err.Error(), "kubectl label namespace kube-system firedrill.dev/scratch=true")
	})
	t.Run("target is source", func(t *testing.T) {
		sc, _ := labScenario(t, l, "r4")
		sc.Spec.Source = scenarios.ClusterRef{Kubeconfig: l.ScratchKubeconfig}
		res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{})
		require.ErrorIs(t, err, kube.ErrSameCluster)
		assert.Nil(t, res)
	})
	t.Run("cli", func(t *testing.T) {
		bin := cliBinary(t)
		sc, _ := labScenario(t, l, "r4")
		sc.Spec.Target.Kubeconfig, sc.Spec.Target.Context = l.SourceKubeconfig, os.Getenv("FIREDRILL_LAB_SOURCE_CONTEXT")
		sc.Spec.Source = scenarios.ClusterRef{}
		data, err := scenarios.MarshalYAML(sc)
		require.NoError(t, err)
		file := filepath.Join(t.TempDir(), "unmarked.yaml")
		require.NoError(t, os.WriteFile(file, data, 0o600))
		out, err := exec.CommandContext(ctx, bin, "restore", file).CombinedOutput()
		var ee *exec.ExitError
		require.True(t, errors.As(err, &ee), "want an exit code, got %v:\n%s", err, out)
		assert.Equal(t, 1, ee.ExitCode(), "%s", out)
		assert.Contains(t, string(out), "Error: refusing to restore")
		assert.Contains(t, string(out), "kubectl label namespace kube-system firedrill.dev/scratch=true")
	})

	after, err := srcCS.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, len(before.Items), len(after.Items), "nothing created in the unmarked cluster")
}

// TestRestore_MissingBackupAndBadLocation is e2e (5): a missing backup and
// an unavailable storage location each end with a clear error and leave
// nothing behind.
func TestRestore_MissingBackupAndBadLocation(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 3*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)

	t.Run("missing backup", func(t *testing.T) {
		sc, targets := labScenario(t, l, "r5")
		sc.Spec.Backups.Schedule, sc.Spec.Backups.BackupName = "", "no-such-backup-"+time.Now().UTC().Format("150405")
		id := drill.NewDrillID(time.Now())
		res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{DrillID: id, BackupSyncWait: 3 * time.Second})
		require.ErrorIs(t, err, restore.ErrNoBackup)
		assert.Nil(t, res)
		assert.Contains(t, err.Error(), sc.Spec.Backups.BackupName)
		assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, id, targets)
	})
	t.Run("unavailable location", func(t *testing.T) {
		name := "e2e-bad-" + time.Now().UTC().Format("150405")
		bsl := map[string]any{
			"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation",
			"metadata": map[string]any{"name": name, "namespace": l.VeleroNamespace},
			"spec": map[string]any{
				"provider": "aws", "accessMode": "ReadOnly", "validationFrequency": "1s",
				"objectStorage": map[string]any{"bucket": "nowhere", "prefix": "lab"},
				"config":        map[string]any{"region": "us-east-1", "s3ForcePathStyle": "true", "s3Url": "http://127.0.0.1:1"},
				"credential":    map[string]any{"name": "cloud-credentials", "key": "cloud"},
			},
		}
		_, err := dyn.Resource(restoreBSLGVR).Namespace(l.VeleroNamespace).Create(ctx, unstructuredOf(bsl), metav1.CreateOptions{})
		require.NoError(t, err)
		t.Cleanup(func() {
			_ = dyn.Resource(restoreBSLGVR).Namespace(l.VeleroNamespace).Delete(context.Background(), name, metav1.DeleteOptions{})
		})
		sc, targets := labScenario(t, l, "r5b")
		sc.Spec.Backups.StorageLocation = name
		id := drill.NewDrillID(time.Now())
		res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{DrillID: id})
		require.ErrorIs(t, err, restore.ErrLocationUnavailable)
		assert.Nil(t, res)
		assert.Contains(t, err.Error(), name)
		assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, id, targets)
	})
}

// tlog writes progress lines to the test log.
type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func unstructuredOf(m map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: m}
}
