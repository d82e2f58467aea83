package drill

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestNewPlan_VolumeCanaryIsNotAConfigMap (review): a data canary read
// from a file or a command in a restored pod is described as such in the
// plan's recovery-point step, never as "the time in ConfigMap NS/" with an
// empty name.
func TestNewPlan_VolumeCanaryIsNotAConfigMap(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "shop.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: shop}
spec:
  disaster: {summary: region lost, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop-data]}
  storage:
    primary: {endpoint: "http://127.0.0.1:1", bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
  checks:
    - {name: file-canary, dataCanary: {namespace: shop-data, pod: db-0, file: /data/canary}}
    - {name: command-canary, dataCanary: {namespace: shop-data, pod: db-0, command: [/shop, cat, /data/canary]}}
`))
	require.NoError(t, err)
	p, err := NewPlan(sc)
	require.NoError(t, err)
	actions := strings.Join(stepOf(t, p, StepRecoveryPoint).Actions, "\n")
	assert.NotContains(t, actions, "ConfigMap shop-data/\n")
	assert.NotContains(t, actions, `check "file-canary" gives the RPO the application sees: disaster time - the time in ConfigMap`)
	assert.Contains(t, actions, "/data/canary")
}
