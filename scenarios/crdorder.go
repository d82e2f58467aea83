package scenarios

import (
	"fmt"
	"slices"
	"strings"
)

// builtinGroups are the API groups Kubernetes itself serves: a resource of
// any other group is a custom resource, served only once its
// CustomResourceDefinition exists. Groups that end in k8s.io but are
// served by CRDs (snapshot.storage.k8s.io, gateway.networking.k8s.io) are
// not listed.
var builtinGroups = []string{
	"", "apps", "batch", "policy", "autoscaling", "extensions",
	"admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
	"authentication.k8s.io", "authorization.k8s.io", "certificates.k8s.io",
	"coordination.k8s.io", "discovery.k8s.io", "events.k8s.io",
	"flowcontrol.apiserver.k8s.io", "internal.apiserver.k8s.io", "networking.k8s.io",
	"node.k8s.io", "rbac.authorization.k8s.io", "resource.k8s.io",
	"scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
}

// IsCustomResource reports whether a resource, named as Velero names it
// (plural.group, e.g. storefronts.shop.example.com), is of an API group
// Kubernetes does not serve itself. A name without a group (pods, or a
// short name) is taken as built in.
func IsCustomResource(resource string) bool {
	_, group, ok := strings.Cut(resource, ".")
	return ok && !slices.Contains(builtinGroups, group)
}

// restoresCRDs reports whether includedResources name
// CustomResourceDefinitions; firedrill creates such a phase with
// includeClusterResources, the only way a namespace-limited Velero
// Restore restores them.
func restoresCRDs(includedResources []string) bool {
	return slices.ContainsFunc(includedResources, func(r string) bool {
		return r == CustomResourceDefinitions || r == "customresourcedefinitions" || r == "crd" || r == "crds"
	})
}

// RestoreOrderWarnings names, by file, line and field, each restore phase
// that restores custom resources before any phase restores
// CustomResourceDefinitions: an includedResources entry naming a custom
// resource, or a phase that restores every resource. Velero restores no
// cluster-scoped resource in a Restore limited to namespaces unless
// includeClusterResources is set (velero pkg/restore/restore.go,
// getOrderedResourceCollection), so those custom resources come back only
// if the target already has their CRDs; otherwise Velero cannot create
// them. They are warnings, not errors: a target whose CRDs are installed
// by other means restores them fine. The default phases give none.
func (sc *Scenario) RestoreOrderWarnings() []*ValidationError {
	r := sc.Spec.Target.Restore
	const fix = "add a phase before it with includedResources: [" + CustomResourceDefinitions + "] (the default phases do), or make sure the target already has the CRDs"
	crdPhase := slices.IndexFunc(r.Phases, func(p Phase) bool {
		return restoresCRDs(p.IncludedResources) && !restoresCRDs(p.ExcludedResources) && !restoresCRDs(r.ExcludedResources)
	})
	var out []*ValidationError
	for i, ph := range r.Phases {
		if crdPhase >= 0 && i >= crdPhase {
			// Within one Restore Velero restores CRDs first.
			break
		}
		pp := fmt.Sprintf("spec.target.restore.phases[%d]", i)
		if len(ph.IncludedResources) == 0 || slices.Contains(ph.IncludedResources, "*") {
			out = append(out, sc.FieldError(pp, "phase %q restores every resource, custom resources included, before any phase restores CustomResourceDefinitions: Velero does not restore the CRDs of a namespace-limited Restore, so it cannot create custom resources the target has no CRD for; %s", ph.Name, fix))
			continue
		}
		for j, res := range ph.IncludedResources {
			if IsCustomResource(res) {
				out = append(out, sc.FieldError(fmt.Sprintf("%s.includedResources[%d]", pp, j), "%q is a custom resource restored before any phase restores CustomResourceDefinitions: Velero cannot create it unless the target already has its CRD; %s", res, fix))
			}
		}
	}
	return out
}
