package restore

import (
	"maps"
	"slices"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// PlannedRestore is one Velero Restore the drill creates.
type PlannedRestore struct {
	// Phase is the phase's name.
	Phase string `json:"phase"`
	// Name is the Restore's name: drill id and phase, unique and traceable
	// (Velero writes <prefix>/restores/<name>/ even through a read-only
	// location, so a name must never be reused).
	Name               string            `json:"restore"`
	Backup             string            `json:"backup"`
	IncludedNamespaces []string          `json:"included_namespaces"`
	IncludedResources  []string          `json:"included_resources,omitempty"`
	ExcludedResources  []string          `json:"excluded_resources,omitempty"`
	NamespaceMapping   map[string]string `json:"namespace_mapping,omitempty"`
	// IncludeClusterResources is set on a phase that restores
	// CustomResourceDefinitions (see RestoresCRDs): Velero restores no
	// cluster-scoped resource of a namespace-limited Restore without it.
	IncludeClusterResources bool `json:"include_cluster_resources,omitempty"`
}

// PlanRestores turns the spec's phases into Velero Restores of backup, in
// order: the phase's exclusions plus the spec's, the namespace mapping
// (identity entries dropped), and names drill id + phase.
func PlanRestores(s Spec, backup string) []PlannedRestore {
	var mapping map[string]string
	for _, ns := range s.IncludedNamespaces {
		if to := s.TargetNamespace(ns); to != ns {
			if mapping == nil {
				mapping = map[string]string{}
			}
			mapping[ns] = to
		}
	}
	out := make([]PlannedRestore, 0, len(s.Phases))
	for _, ph := range s.Phases {
		excluded := slices.Clone(ph.ExcludedResources)
		for _, r := range s.ExcludedResources {
			// Velero refuses a resource both included and excluded.
			if !slices.Contains(excluded, r) && !slices.Contains(ph.IncludedResources, r) {
				excluded = append(excluded, r)
			}
		}
		out = append(out, PlannedRestore{
			Phase:              ph.Name,
			Name:               restoreName(s.DrillID, ph.Name),
			Backup:             backup,
			IncludedNamespaces: slices.Clone(s.IncludedNamespaces),
			IncludedResources:  slices.Clone(ph.IncludedResources),
			ExcludedResources:  excluded,
			NamespaceMapping:   mapping,
			// Only the resources the phase lists are restored: naming
			// CRDs there restores the backup's CRDs and nothing else
			// cluster-scoped.
			IncludeClusterResources: RestoresCRDs(ph.IncludedResources),
		})
	}
	return out
}

func restoreName(drillID, phase string) string {
	n := drillID + "-" + phase
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

// object is the Velero Restore to create, as `velero restore create` builds
// it (pkg/cmd/cli/restore/create.go).
func (p PlannedRestore) object(namespace, drillID string) *velerov1.Restore {
	r := &velerov1.Restore{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: namespace, Labels: drillLabels(drillID)},
		Spec: velerov1.RestoreSpec{
			BackupName:         p.Backup,
			IncludedNamespaces: slices.Clone(p.IncludedNamespaces),
			IncludedResources:  slices.Clone(p.IncludedResources),
			ExcludedResources:  slices.Clone(p.ExcludedResources),
			NamespaceMapping:   maps.Clone(p.NamespaceMapping),
		},
	}
	if p.IncludeClusterResources {
		r.Spec.IncludeClusterResources = ptr.To(true)
	}
	return r
}
