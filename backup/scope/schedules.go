package scope

import (
	"sort"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
)

// Uncovered is a namespace of the source that holds PersistentVolumeClaims
// but that no Schedule's backups include.
type Uncovered struct {
	Namespace string `json:"namespace"`
	// Claims are its PersistentVolumeClaims' names.
	Claims []string `json:"claims"`
}

// UncoveredNamespaces are the namespaces of claims that no schedule
// covers, sorted: a schedule covers a namespace when its template's
// includedNamespaces and excludedNamespaces keep it, as Velero's
// IncludesExcludes does (see Classify), and its template does not leave
// persistentvolumeclaims out. A paused schedule covers nothing.
func UncoveredNamespaces(claims []corev1.PersistentVolumeClaim, schedules []velerov1.Schedule) []Uncovered {
	byNS := map[string][]string{}
	for _, c := range claims {
		byNS[c.Namespace] = append(byNS[c.Namespace], c.Name)
	}
	var out []Uncovered
	for ns, names := range byNS {
		if covered(ns, schedules) {
			continue
		}
		sort.Strings(names)
		out = append(out, Uncovered{Namespace: ns, Claims: names})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Namespace < out[j].Namespace })
	return out
}

func covered(ns string, schedules []velerov1.Schedule) bool {
	for _, s := range schedules {
		t := s.Spec.Template
		if !s.Spec.Paused && included(ns, t.IncludedNamespaces, t.ExcludedNamespaces) && claimsIncluded(t) {
			return true
		}
	}
	return false
}
