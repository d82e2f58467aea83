package restore

import "time"

// defaulted fills in what every spec a drill hands over carries (the
// scenarios package's defaults, applied when a scenario is loaded), so a
// test names only what it is about. Restore itself defaults nothing.
func defaulted(s Spec) Spec {
	if s.VeleroNamespace == "" {
		s.VeleroNamespace = "velero"
	}
	if s.StorageLocation == "" {
		s.StorageLocation = "default"
	}
	if len(s.Phases) == 0 {
		s.Phases = []Phase{
			{Name: "network-policies", IncludedResources: []string{"namespaces", NetworkPolicies}},
			{Name: "crds", IncludedResources: []string{CustomResourceDefinitions}},
			{Name: "workloads", ExcludedResources: []string{NetworkPolicies}},
		}
	}
	if s.PhaseTimeout == 0 {
		s.PhaseTimeout = 10 * time.Minute
	}
	if s.Cleanup == "" {
		s.Cleanup = CleanupOnSuccess
	}
	if s.CleanupTimeout == 0 {
		s.CleanupTimeout = 5 * time.Minute
	}
	for i := range s.Checks {
		if s.Checks[i].Timeout == 0 {
			s.Checks[i].Timeout = 2 * time.Minute
		}
	}
	return s
}
