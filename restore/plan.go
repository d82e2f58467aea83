package restore

import (
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// object is the Velero Restore to create.
func (p PlannedRestore) object(namespace, drillID string) *unstructured.Unstructured {
	spec := map[string]any{
		"backupName":         p.Backup,
		"includedNamespaces": toAny(p.IncludedNamespaces),
	}
	if len(p.IncludedResources) > 0 {
		spec["includedResources"] = toAny(p.IncludedResources)
	}
	if len(p.ExcludedResources) > 0 {
		spec["excludedResources"] = toAny(p.ExcludedResources)
	}
	if p.IncludeClusterResources {
		spec["includeClusterResources"] = true
	}
	if len(p.NamespaceMapping) > 0 {
		m := map[string]any{}
		for k, v := range p.NamespaceMapping {
			m[k] = v
		}
		spec["namespaceMapping"] = m
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "velero.io/v1",
		"kind":       "Restore",
		"metadata": map[string]any{
			"name":      p.Name,
			"namespace": namespace,
			"labels":    drillLabels(drillID),
		},
		"spec": spec,
	}}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
