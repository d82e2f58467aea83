package restore

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"
)

func TestRestorePlan_NetworkPoliciesFirstThenCRDs(t *testing.T) {
	// The phases of a scenario that names none (scenarios.DefaultPhases).
	s := defaulted(Spec{
		DrillID:            "fd-1",
		IncludedNamespaces: []string{"shop", "shop-data"},
		NamespaceMapping:   map[string]string{"shop": "shop-x", "shop-data": "shop-data"},
		ExcludedResources:  []string{"pods", "replicasets.apps"},
	})
	got := PlanRestores(s, "b1")
	require.Len(t, got, 3)
	assert.Equal(t, PlannedRestore{
		Phase: "network-policies", Name: "fd-1-network-policies", Backup: "b1",
		IncludedNamespaces: []string{"shop", "shop-data"},
		IncludedResources:  []string{"namespaces", NetworkPolicies},
		ExcludedResources:  []string{"pods", "replicasets.apps"},
		NamespaceMapping:   map[string]string{"shop": "shop-x"},
	}, got[0])
	assert.Equal(t, "fd-1-crds", got[1].Name)
	assert.Equal(t, []string{CustomResourceDefinitions}, got[1].IncludedResources)
	assert.True(t, got[1].IncludeClusterResources, "CRDs are cluster-scoped: Velero skips them in a namespace-limited Restore without it")
	assert.Equal(t, ptr.To(true), got[1].object("velero", "fd-1").Spec.IncludeClusterResources)
	assert.Equal(t, "fd-1-workloads", got[2].Name)
	assert.Empty(t, got[2].IncludedResources, "phase 3 restores everything else, custom resources after their CRDs")
	assert.False(t, got[2].IncludeClusterResources)
	assert.Nil(t, got[2].object("velero", "fd-1").Spec.IncludeClusterResources, "unset: Velero's default")
	assert.Equal(t, []string{NetworkPolicies, "pods", "replicasets.apps"}, got[2].ExcludedResources)
}

func TestRestorePlan_CustomPhases(t *testing.T) {
	s := Spec{
		DrillID:            "fd-2",
		IncludedNamespaces: []string{"a"},
		Phases:             []Phase{{Name: "crds", IncludedResources: []string{"customresourcedefinitions", "pods"}}, {Name: "rest"}},
		ExcludedResources:  []string{"pods"},
	}
	got := PlanRestores(s, "b")
	require.Len(t, got, 2)
	assert.Empty(t, got[0].ExcludedResources, "a resource a phase includes is not excluded from it")
	assert.Equal(t, []string{"pods"}, got[1].ExcludedResources)
	assert.Nil(t, got[0].NamespaceMapping)

	obj := got[0].object("velero", "fd-2")
	assert.Equal(t, "fd-2-crds", obj.GetName())
	assert.Equal(t, "fd-2", obj.GetLabels()[LabelDrillID])
	assert.Equal(t, "b", obj.Spec.BackupName)
	assert.Equal(t, []string{"a"}, obj.Spec.IncludedNamespaces)
	assert.Equal(t, []string{"customresourcedefinitions", "pods"}, obj.Spec.IncludedResources)
	// What the API server receives: Velero's field names, from Velero's type.
	u, err := toObject(obj, "Restore")
	require.NoError(t, err)
	assert.Equal(t, "velero.io/v1", u.GetAPIVersion())
	assert.Equal(t, []any{"customresourcedefinitions", "pods"}, u.Object["spec"].(map[string]any)["includedResources"])
}

func TestSpecValidate(t *testing.T) {
	ok := defaulted(Spec{DrillID: "fd", IncludedNamespaces: []string{"a"}, Backup: BackupSelector{Schedule: "s"},
		Checks: []Check{{Name: "web", TCP: &TCPCheck{Address: "web:80"}}}})
	require.NoError(t, ok.Validate())
	tests := map[string]func(*Spec){
		// Restore defaults nothing: a value a loaded scenario always
		// carries is required.
		"no velero namespace":   func(s *Spec) { s.VeleroNamespace = "" },
		"no storage location":   func(s *Spec) { s.StorageLocation = "" },
		"no phases":             func(s *Spec) { s.Phases = nil },
		"no phase timeout":      func(s *Spec) { s.PhaseTimeout = 0 },
		"no cleanup timeout":    func(s *Spec) { s.CleanupTimeout = 0 },
		"no cleanup policy":     func(s *Spec) { s.Cleanup = "" },
		"unknown policy":        func(s *Spec) { s.Cleanup = "sometimes" },
		"no check timeout":      func(s *Spec) { s.Checks = []Check{{Name: "web", TCP: &TCPCheck{Address: "web:80"}}} },
		"copy without provider": func(s *Spec) { s.FromCopy = &CopyLocation{Name: "c", StorageLocation: "x", Bucket: "b"} },
		"no id":                 func(s *Spec) { s.DrillID = "" },
		"two selectors":         func(s *Spec) { s.Backup.Name = "b" },
		"no namespaces":         func(s *Spec) { s.IncludedNamespaces = nil },
		"duplicate phase":       func(s *Spec) { s.Phases = []Phase{{Name: "a"}, {Name: "a"}} },
		"copy no bucket":        func(s *Spec) { s.FromCopy = &CopyLocation{Name: "c", StorageLocation: "x"} },
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			s := ok
			mutate(&s)
			assert.Error(t, s.Validate())
		})
	}
}

func TestSecret_NeverPrinted(t *testing.T) {
	c := CopyLocation{Name: "c", Credentials: AWSCredentialsFile("AKID", "SECRETKEY", "")}
	for _, s := range []string{
		fmtSprintf("%v", c), fmtSprintf("%+v", c), fmtSprintf("%#v", c), fmtSprintf("%s", c.Credentials), fmtSprintf("%x", c.Credentials),
	} {
		assert.NotContains(t, s, "SECRETKEY")
		assert.NotContains(t, s, "AKID")
	}
	b, err := jsonMarshal(c)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "SECRETKEY")
}
