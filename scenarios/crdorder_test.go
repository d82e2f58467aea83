package scenarios

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsCustomResource(t *testing.T) {
	for res, want := range map[string]bool{
		"storefronts.shop.example.com":                  true,
		"volumesnapshots.snapshot.storage.k8s.io":       true,
		"httproutes.gateway.networking.k8s.io":          true,
		"backups.velero.io":                             true,
		"pods":                                          false,
		"deployments.apps":                              false,
		NetworkPolicies:                                 false,
		CustomResourceDefinitions:                       false,
		"endpointslices.discovery.k8s.io":               false,
		"horizontalpodautoscalers.autoscaling":          false,
		"clusterrolebindings.rbac.authorization.k8s.io": false,
	} {
		assert.Equal(t, want, IsCustomResource(res), res)
	}
}

// TestRestoreOrderWarnings: a phase plan that restores custom resources
// before (or without) a phase restoring their CRDs is named by file, line
// and field; the default phases and a CRD phase first are not.
func TestRestoreOrderWarnings(t *testing.T) {
	base := `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: crd-order}
spec:
  disaster: {summary: test, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 1h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target:
    kubeconfig: /dev/null
`
	tests := []struct {
		name   string
		phases string
		want   []string // "line: path: fragment"
	}{
		{"default phases", "", nil},
		{"old pair: everything before any CRD", `    restore:
      phases:
      - {name: network-policies, includedResources: [namespaces, networkpolicies.networking.k8s.io]}
      - name: workloads
`, []string{`15: spec.target.restore.phases[1]: phase "workloads" restores every resource, custom resources included, before any phase restores CustomResourceDefinitions`}},
		{"custom resource named before its CRD", `    restore:
      phases:
      - name: shop
        includedResources:
        - deployments.apps
        - storefronts.shop.example.com
      - {name: crds, includedResources: [customresourcedefinitions.apiextensions.k8s.io]}
`, []string{`17: spec.target.restore.phases[0].includedResources[1]: "storefronts.shop.example.com" is a custom resource restored before any phase restores CustomResourceDefinitions`}},
		{"CRDs excluded everywhere", `    restore:
      excludedResources: [customresourcedefinitions.apiextensions.k8s.io]
      phases:
      - {name: everything, includedResources: ["*"]}
`, []string{`15: spec.target.restore.phases[0]: phase "everything" restores every resource`}},
		{"CRDs first", `    restore:
      phases:
      - {name: crds, includedResources: [customresourcedefinitions]}
      - {name: shop, includedResources: [storefronts.shop.example.com]}
      - name: rest
`, nil},
		{"CRDs with their custom resources in one phase", `    restore:
      phases:
      - {name: all-custom, includedResources: [crds, storefronts.shop.example.com]}
`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse(testEnv(), "crd.yaml", []byte(base+tt.phases))
			require.NoError(t, err)
			var got []string
			for _, w := range sc.RestoreOrderWarnings() {
				assert.Equal(t, "crd.yaml", w.File)
				assert.Contains(t, w.Message, "includedResources: [customresourcedefinitions.apiextensions.k8s.io]", "the fix")
				got = append(got, w.Error())
			}
			require.Len(t, got, len(tt.want), "%v", got)
			for i, w := range tt.want {
				assert.True(t, strings.HasPrefix(got[i], "crd.yaml:"+w), "got %q, want prefix %q", got[i], w)
			}
		})
	}
}
