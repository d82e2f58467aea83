package drill

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"

	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestRun_OneDisasterTime (review): a drill without declaredAt measures
// every RPO from one disaster time, its start: the data canary's
// application_rpo_seconds in checks.json equals report.json's
// rpo_data.measured_seconds, though the restore session starts later
// than the drill.
func TestRun_OneDisasterTime(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "rpo.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: rpo}
spec:
  disaster: {summary: test disaster, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
  checks:
  - {name: canary, dataCanary: {namespace: shop, configMap: canary, key: time}}
`))
	require.NoError(t, err)
	cs, dyn := fakeVelero(t)
	// The restore brings the canary back: written 90 minutes before t0.
	dyn.PrependReactor("create", "restores", func(k8stesting.Action) (bool, runtime.Object, error) {
		_ = cs.Tracker().Add(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "canary", Namespace: "shop"},
			Data: map[string]string{"time": t0.Add(-90 * time.Minute).Format(time.RFC3339)}})
		return false, nil, nil
	})
	spec, err := RestoreSpec(sc, "fd-rpo", nil)
	require.NoError(t, err)
	clock := &fakeClock{t: t0} // a second later at every reading
	rec := sessionRecovery{&recovery{sc: sc, spec: spec, progress: &switchWriter{}}, restore.Target{Kube: cs, Dynamic: dyn}, restore.Options{Now: clock.Now}}
	state := t.TempDir()
	out, err := Run(context.Background(), sc, Options{StateDir: state, DrillID: "fd-rpo", Now: clock.Now, Recovery: rec})
	require.NoError(t, err)
	rep := out.Report
	require.NotNil(t, rep.RPOData, "the canary gives the application RPO: %+v", rep.Phases)
	require.NotNil(t, rep.RPOData.MeasuredSeconds)

	data, err := os.ReadFile(filepath.Join(state, "drills", "fd-rpo", "checks.json"))
	require.NoError(t, err)
	var checks []struct {
		Name                  string   `json:"name"`
		ApplicationRPOSeconds *float64 `json:"application_rpo_seconds"`
	}
	require.NoError(t, json.Unmarshal(data, &checks))
	require.Len(t, checks, 1)
	require.NotNil(t, checks[0].ApplicationRPOSeconds)
	assert.Equal(t, *rep.RPOData.MeasuredSeconds, *checks[0].ApplicationRPOSeconds, "checks.json and report.json measure from one disaster time")
	assert.Equal(t, rep.DisasterAt.Sub(t0.Add(-90*time.Minute)).Seconds(), *checks[0].ApplicationRPOSeconds)

	// The report names the check its application RPO comes from.
	assert.Equal(t, "canary", rep.RPODataCheck)
	md, err := os.ReadFile(filepath.Join(state, "drills", "fd-rpo", "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "| RPO (data lost, by check `canary`) |")
	html, err := os.ReadFile(filepath.Join(state, "drills", "fd-rpo", "report.html"))
	require.NoError(t, err)
	assert.Contains(t, string(html), "RPO · data lost (check canary)")
}
