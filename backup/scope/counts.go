package scope

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

// Counts set a backup's items against what the drill's Restores did with
// them, kind by kind.
type Counts struct {
	// BackupTotalItems and BackupItemsBackedUp are the backup's
	// status.progress.
	BackupTotalItems    int `json:"backup_total_items"`
	BackupItemsBackedUp int `json:"backup_items_backed_up"`
	// Restores are the Restores whose resource lists were read.
	Restores []string    `json:"restores"`
	Kinds    []KindCount `json:"kinds"`
}

// KindCount is one kind of the backup (Velero's key, "apps/v1/Deployment")
// and what the Restores did with its items. An item appears once: created
// in one phase and found existing in a later one counts as created.
type KindCount struct {
	Kind     string `json:"kind"`
	BackedUp int    `json:"backed_up"`
	Created  int    `json:"created"`
	Updated  int    `json:"updated,omitempty"`
	// Skipped items already existed, or a restore item action skipped them.
	Skipped int `json:"skipped,omitempty"`
	Failed  int `json:"failed,omitempty"`
	// NotRestored is BackedUp minus what the Restores created, updated
	// or skipped: items the Restores' filters left out (pods, say) or lost.
	NotRestored int `json:"not_restored"`
}

// ReadCounts reads the backup's resource list
// (backups/NAME/NAME-resource-list.json.gz: "GROUP/VERSION/Kind" to
// "namespace/name") and each Restore's
// (restores/NAME/restore-NAME-resource-list.json.gz: the same keys to
// "namespace/name(created|updated|skipped|failed)", written by Velero's
// restore controller from pkg/restore/request.go RestoredResourceList),
// and sets them against each other with CompareCounts; the totals are the
// backup's status.progress in its velero-backup.json. backupFiles reads
// the backup's bucket, restoreFiles the bucket the Restores wrote to.
func ReadCounts(ctx context.Context, backupFiles, restoreFiles Files, backup string, restores []string) (*Counts, error) {
	var backedUp map[string][]string
	if err := readGzipJSON(ctx, backupFiles, backupFile(backup, backup+"-resource-list.json.gz"), &backedUp); err != nil {
		return nil, err
	}
	var lists []map[string][]string
	for _, r := range restores {
		var l map[string][]string
		if err := readGzipJSON(ctx, restoreFiles, "restores/"+r+"/restore-"+r+"-resource-list.json.gz", &l); err != nil {
			return nil, err
		}
		lists = append(lists, l)
	}
	c := CompareCounts(backedUp, lists)
	c.Restores = restores
	data, err := backupFiles.ReadFile(ctx, backupFile(backup, "velero-backup.json"))
	if err != nil {
		return nil, fmt.Errorf("read velero-backup.json of backup %s: %w", backup, err)
	}
	var b velerov1.Backup
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("parse velero-backup.json of backup %s: %w", backup, err)
	}
	if b.Status.Progress != nil {
		c.BackupTotalItems, c.BackupItemsBackedUp = b.Status.Progress.TotalItems, b.Status.Progress.ItemsBackedUp
	}
	return c, nil
}

// CompareCounts counts, per kind of the backup's resource list and of the
// Restores' lists, the items backed up and what the Restores did with
// them; kinds sorted. An item's result is the best of its phases:
// created, then updated, then skipped, then failed. A namespace's
// kube-root-ca.crt ConfigMap Velero found existing counts as skipped.
func CompareCounts(backedUp map[string][]string, restoreLists []map[string][]string) *Counts {
	rank := map[string]int{"created": 4, "updated": 3, "skipped": 2, "failed": 1}
	results := map[string]map[string]string{} // kind -> item -> result
	for _, l := range restoreLists {
		for kind, entries := range l {
			if results[kind] == nil {
				results[kind] = map[string]string{}
			}
			for _, e := range entries {
				item, result := splitEntry(e)
				if result == "failed" && kind == "v1/ConfigMap" && strings.HasSuffix(item, "/kube-root-ca.crt") {
					// Kubernetes creates this ConfigMap in every new
					// namespace before Velero restores it; Velero then
					// records the one it finds existing as failed. It
					// came back, as restore/run.go also reads it.
					result = "skipped"
				}
				if rank[result] > rank[results[kind][item]] {
					results[kind][item] = result
				}
			}
		}
	}
	kinds := map[string]bool{}
	for k := range backedUp {
		kinds[k] = true
	}
	for k := range results {
		kinds[k] = true
	}
	c := &Counts{Kinds: []KindCount{}, Restores: []string{}}
	for kind := range kinds {
		kc := KindCount{Kind: kind, BackedUp: len(backedUp[kind])}
		for _, r := range results[kind] {
			switch r {
			case "created":
				kc.Created++
			case "updated":
				kc.Updated++
			case "skipped":
				kc.Skipped++
			case "failed":
				kc.Failed++
			}
		}
		kc.NotRestored = max(0, kc.BackedUp-kc.Created-kc.Updated-kc.Skipped)
		c.Kinds = append(c.Kinds, kc)
	}
	sort.Slice(c.Kinds, func(i, j int) bool { return c.Kinds[i].Kind < c.Kinds[j].Kind })
	return c
}

// splitEntry splits "ns/name(created)" into "ns/name" and "created".
func splitEntry(e string) (string, string) {
	i := strings.LastIndex(e, "(")
	if i < 0 || !strings.HasSuffix(e, ")") {
		return e, ""
	}
	return e[:i], e[i+1 : len(e)-1]
}

// Differ is whether any kind has items not restored or failed.
func (c *Counts) Differ() bool {
	for _, k := range c.Kinds {
		if k.NotRestored > 0 || k.Failed > 0 {
			return true
		}
	}
	return false
}

func (k KindCount) String() string {
	return fmt.Sprintf("%s: %d backed up, %d created, %d not restored", k.Kind, k.BackedUp, k.Created, k.NotRestored)
}
