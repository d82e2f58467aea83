package drill

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/restore"
	"github.com/firedrill-dev/firedrill/runbooks"
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

// TestRun_VolumesWithoutDataStopTheDrillLikeAFailedRestore (review): a
// restore whose Restores all Complete but whose volumes come back without
// their data is a restore that did not complete, as a failed Velero
// Restore is: verify and runbook are skipped, "the restore did not
// complete", and the checks add no failed findings; the drill fails from
// the restore's own finding.
func TestRun_VolumesWithoutDataStopTheDrillLikeAFailedRestore(t *testing.T) {
	sc, err := scenarios.Parse(scenarios.Env{}, "nodata.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: nodata}
spec:
  disaster: {summary: test disaster, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
  checks:
  - {name: first, command: {run: ["true"]}}
  - {name: second, command: {run: ["true"]}}
`))
	require.NoError(t, err)
	cs, dyn := fakeVelero(t)
	// The backup holds the data of pod shop/db-0's volume "data"; no
	// PodVolumeRestore ever restores it.
	pvb := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "velero.io/v1", "kind": "PodVolumeBackup",
		"metadata": map[string]any{"name": "daily-1-x", "namespace": "velero", "labels": map[string]any{"velero.io/backup-name": "daily-1"}},
		"spec":     map[string]any{"pod": map[string]any{"namespace": "shop", "name": "db-0"}, "volume": "data"},
		"status":   map[string]any{"phase": "Completed", "snapshotID": "s1", "progress": map[string]any{"totalBytes": int64(132)}}}}
	_, err = dyn.Resource(schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "podvolumebackups"}).Namespace("velero").
		Create(context.Background(), pvb, metav1.CreateOptions{})
	require.NoError(t, err)
	spec, err := RestoreSpec(sc, "fd-nodata", nil)
	require.NoError(t, err)
	clock := &fakeClock{t: t0}
	rec := sessionRecovery{&recovery{sc: sc, spec: spec, progress: &switchWriter{}}, restore.Target{Kube: cs, Dynamic: dyn}, restore.Options{Now: clock.Now}}
	out, err := Run(context.Background(), sc, Options{StateDir: t.TempDir(), DrillID: "fd-nodata", Now: clock.Now, Recovery: rec,
		Runbook: &runbooks.Runbook{File: "r.md", Steps: []runbooks.Step{{Name: "s", Script: "true"}}}})
	require.NoError(t, err)
	rep := out.Report
	assert.Equal(t, ResultFail, rep.Result)
	assert.Equal(t, PhaseFailed, phaseStatus(rep, StepRestore))
	for _, st := range []StepName{StepVerify, StepRunbook} {
		var p Phase
		for _, ph := range rep.Phases {
			if ph.Name == st {
				p = ph
			}
		}
		assert.Equal(t, PhaseSkipped, p.Status, "step %s", st)
		assert.Equal(t, "the restore did not complete", p.Error, "step %s", st)
	}
	var failed []string
	for _, f := range rep.Findings {
		if f.Status == finding.StatusFail {
			failed = append(failed, f.ID)
		}
		assert.False(t, strings.HasPrefix(f.ID, "verify."), "a check that did not run has no finding: %s %s", f.ID, f.Message)
	}
	assert.Contains(t, failed, "restore.volume-data", "the drill fails from the restore's finding")
	assert.Empty(t, rep.Checks)
}
