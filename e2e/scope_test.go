//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// scopeReport is the part of report.json the scope test reads.
type scopeReport struct {
	DrillID string `json:"drill_id"`
	Result  string `json:"result"`
	Phases  []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"phases"`
	Findings []struct {
		ID, Status, Subject, Message string
	} `json:"findings"`
	Scope *struct {
		Backup string `json:"backup"`
		Claims []struct {
			Namespace string   `json:"namespace"`
			Name      string   `json:"name"`
			MountedBy []string `json:"mounted_by"`
			InBackup  bool     `json:"in_backup"`
			Method    string   `json:"method"`
			Reason    string   `json:"reason"`
			Detail    string   `json:"detail"`
		} `json:"claims"`
		Uncovered []struct {
			Namespace string   `json:"namespace"`
			Claims    []string `json:"claims"`
		} `json:"uncovered_namespaces"`
		Problems []string `json:"problems"`
	} `json:"scope"`
	ItemCounts *struct {
		BackupItemsBackedUp int `json:"backup_items_backed_up"`
		Kinds               []struct {
			Kind        string `json:"kind"`
			BackedUp    int    `json:"backed_up"`
			Created     int    `json:"created"`
			NotRestored int    `json:"not_restored"`
		} `json:"kinds"`
	} `json:"item_counts"`
}

// TestScope_ClaimsOutsideTheBackupAreNamedWithWhy drills the lab with its
// source cluster reachable (the disaster loses the region's storage
// path, not the source): the report names each PersistentVolumeClaim of
// the shop whose data is not in the backup, with Velero's reason, read
// from the real source cluster and bucket: the db's cache opted out by
// annotation (accepted by the scenario: a warning), the exports claim no
// pod mounts (a failure); the db's data is in through its
// PodVolumeBackup; and the namespace shop-analytics, whose claim no
// Schedule covers. The backup's item counts are set against the Restores'.
func TestScope_ClaimsOutsideTheBackupAreNamedWithWhy(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 8*time.Minute)
	file, targets := drillScenario(t, l, "e2e-scope",
		"lost: [sourceCluster, region]", "lost: [region]",
		// Only the cache is accepted here (the lab's list replaced), so the
		// exports claim fails.
		labAcceptedOutOfScope, "    includedNamespaces: [shop, shop-data]\n    acceptedOutOfScope: [shop-data/cache-db-0]\n")
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.Equal(t, 3, res.code, "a claim outside the backup fails the drill\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep scopeReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "fail", rep.Result)
	require.NotNil(t, rep.Scope, "the source was read")
	assert.Empty(t, rep.Scope.Problems)

	verdict := map[string]string{}
	for _, c := range rep.Scope.Claims {
		v := c.Method
		if !c.InBackup {
			v = c.Reason
		}
		verdict[c.Namespace+"/"+c.Name] = v
	}
	assert.Equal(t, "PodVolumeBackup", verdict["shop-data/data-db-0"], "the db's data: %v", rep.Scope.Claims)
	assert.Equal(t, "opted-out", verdict["shop-data/cache-db-0"])
	assert.Equal(t, "not-mounted", verdict["shop/exports"])
	assert.NotContains(t, verdict, "shop-analytics/warehouse", "only the drill's namespaces are classified")

	// The PodVolumeBackup named in the evidence is the backup's own, in the source.
	_, dyn := kubeClients(t, l.SourceKubeconfig)
	pvbs, err := dyn.Resource(schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "podvolumebackups"}).
		Namespace(l.VeleroNamespace).List(ctx, metav1.ListOptions{LabelSelector: "velero.io/backup-name=" + rep.Scope.Backup})
	require.NoError(t, err)
	require.NotEmpty(t, pvbs.Items, "the lab's backup %s has PodVolumeBackups", rep.Scope.Backup)

	status := map[string]string{}
	for _, f := range rep.Findings {
		if f.ID == "scope.claim" {
			status[f.Subject] = f.Status
		}
	}
	assert.Equal(t, map[string]string{
		"PersistentVolumeClaim shop-data/cache-db-0 in the source": "warn",
		"PersistentVolumeClaim shop/exports in the source":         "fail",
	}, status)

	var uncovered []string
	for _, u := range rep.Scope.Uncovered {
		uncovered = append(uncovered, u.Namespace)
		if u.Namespace == "shop-analytics" {
			assert.Equal(t, []string{"warehouse"}, u.Claims)
		}
	}
	assert.Contains(t, uncovered, "shop-analytics")
	assert.NotContains(t, uncovered, "shop-data", "the lab's Schedule covers it")

	require.NotNil(t, rep.ItemCounts, "item counts after the restore")
	assert.Greater(t, rep.ItemCounts.BackupItemsBackedUp, 0)
	counted := map[string]int{}
	for _, k := range rep.ItemCounts.Kinds {
		counted[k.Kind] = k.Created
	}
	assert.Greater(t, counted["apps/v1/Deployment"], 0, "the Restores created the shop's Deployments: %+v", rep.ItemCounts.Kinds)

	md, err := os.ReadFile(filepath.Join(state, "drills", rep.DrillID, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| `shop`/`exports` |")
	assert.Contains(t, string(md), "| **no** | not-mounted |")
	assert.Contains(t, string(md), "- `shop-analytics`: warehouse")
	assertNamespacesGone(t, l, targets)
}
