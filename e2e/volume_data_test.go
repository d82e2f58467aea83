//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
)

// labData is the lab's stateful back end, as `firedrill-lab env` names it
// (e2e/lab/seed.go): the db StatefulSet keeps its order log and its canary
// on the PersistentVolumeClaim of volume Volume, which every lab backup
// holds through file-system backup.
type labData struct {
	Namespace, Pod, Container, PVC, Volume, OrdersFile, CanaryFile string
}

func labDataOf(t *testing.T) labData {
	t.Helper()
	d := labData{Namespace: os.Getenv("FIREDRILL_LAB_DATA_NAMESPACE"), Pod: os.Getenv("FIREDRILL_LAB_DATA_POD"),
		Container: os.Getenv("FIREDRILL_LAB_DATA_CONTAINER"), PVC: os.Getenv("FIREDRILL_LAB_DATA_PVC"),
		Volume: os.Getenv("FIREDRILL_LAB_DATA_VOLUME"), OrdersFile: os.Getenv("FIREDRILL_LAB_DATA_ORDERS_FILE"),
		CanaryFile: os.Getenv("FIREDRILL_LAB_DATA_CANARY_FILE")}
	if d.Namespace == "" || d.Pod == "" || d.Volume == "" || d.OrdersFile == "" || d.CanaryFile == "" {
		t.Fatal("the lab has no stateful back end (FIREDRILL_LAB_DATA_* unset): merge the lab's volume data and restart it")
	}
	return d
}

// podExec runs argv in a container through the API server's pods/exec, as
// this test's own code (not firedrill's), and returns its stdout.
func podExec(t *testing.T, ctx context.Context, kubeconfig, ns, pod, container string, argv ...string) string {
	t.Helper()
	rc := restConfig(t, kubeconfig)
	cs, err := kubernetes.NewForConfig(rc)
	require.NoError(t, err)
	req := cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(ns).Name(pod).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: argv, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	ex, err := remotecommand.NewSPDYExecutor(rc, "POST", req.URL())
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	require.NoError(t, err, "exec %v in %s/%s: %s", argv, ns, pod, stderr.String())
	return stdout.String()
}

// volumeReport is what these tests read of report.json: the Restores'
// PodVolumeRestores and the application RPO.
type volumeReport struct {
	DrillID    string    `json:"drill_id"`
	Result     string    `json:"result"`
	DisasterAt time.Time `json:"disaster_at"`
	RPOData    *struct {
		Measured *float64 `json:"measured_seconds"`
		Status   string   `json:"status"`
	} `json:"rpo_data"`
	Restores []struct {
		Name              string `json:"name"`
		Phase             string `json:"phase"`
		VeleroPhase       string `json:"velero_phase"`
		Start             time.Time
		End               time.Time
		PodVolumeRestores []struct {
			Namespace, Pod, Volume, Phase, Message string
			BytesDone                              int64   `json:"bytes_done"`
			TotalBytes                             int64   `json:"total_bytes"`
			DurationSeconds                        float64 `json:"duration_seconds"`
		} `json:"pod_volume_restores"`
	} `json:"restores"`
	Checks []struct {
		Name, Kind, Message string
		Passed              bool
		DurationSeconds     float64 `json:"duration_seconds"`
	} `json:"checks"`
	Phases []struct {
		Name            string  `json:"name"`
		Status          string  `json:"status"`
		DurationSeconds float64 `json:"duration_seconds"`
	} `json:"phases"`
	Findings []struct {
		ID, Status, Message string
	} `json:"findings"`
}

func readVolumeReport(t *testing.T, state, id string) volumeReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "drills", id, "report.json"))
	require.NoError(t, err)
	var r volumeReport
	require.NoError(t, json.Unmarshal(b, &r))
	return r
}

func (r volumeReport) phaseStatus(name string) string {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.Status
		}
	}
	return "missing"
}

func (r volumeReport) findingOf(t *testing.T, id string) (status, message string) {
	t.Helper()
	for _, f := range r.Findings {
		if f.ID == id {
			return f.Status, f.Message
		}
	}
	require.Failf(t, "finding missing", "no finding %s in %+v", id, r.Findings)
	return "", ""
}

// TestVolumeData_DrillRestoresTheBackEndsData is issue 17's first e2e
// test: a fresh backup of the shop, taken by this test, whose order log
// the test reads (SHA-256, through pods/exec in the source) right before
// and right after the backup; the file did not change in between, so that
// is what the backup holds. A drill of the lab scenario from that backup,
// with the default phases, restores the stateful back end with its data:
// a Completed PodVolumeRestore of the volume, the restored order log has
// the same SHA-256 (an exec check), and the application RPO comes from the
// canary in the restored volume, which lies between the test's reads of
// the source canary and the backup's end.
func TestVolumeData_DrillRestoresTheBackEndsData(t *testing.T) {
	l := lab(t)
	d := labDataOf(t)
	ctx := testContext(t, 10*time.Minute)

	sum := func() string {
		return strings.TrimSpace(podExec(t, ctx, l.SourceKubeconfig, d.Namespace, d.Pod, d.Container, "/shop", "sha256sum", d.OrdersFile))
	}
	canary := func() time.Time {
		c, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(podExec(t, ctx, l.SourceKubeconfig, d.Namespace, d.Pod, d.Container, "/shop", "cat", d.CanaryFile)))
		require.NoError(t, err)
		return c
	}
	before, canaryBefore := sum(), canary()
	backup := "e2e-data-" + time.Now().UTC().Format("20060102150405")
	l.velero(t, ctx, l.SourceKubeconfig, "backup", "create", backup, "--include-namespaces", strings.Join(l.AppNamespaces, ","),
		"--default-volumes-to-fs-backup", "--ttl", "12h", "--wait") // the schedule's TTL, within the buckets' retention
	backupDone := time.Now()
	after := sum()
	require.Equal(t, before, after, "the order log changed during the backup: rerun")
	require.Regexp(t, `^[0-9a-f]{64}  `+d.OrdersFile+`$`, after)

	// The lab copies its bucket off-cloud when it seeds, not afterwards:
	// the test's own backup is on the off-site copy (replication) only.
	labText, err := os.ReadFile(filepath.Join(os.Getenv("FIREDRILL_SCENARIOS"), l.Scenario+".yaml"))
	require.NoError(t, err)
	offcloud := regexp.MustCompile(`(?m)^      - name: offcloud\n(?:        .*\n)+`).FindString(string(labText))
	require.NotEmpty(t, offcloud, "the lab scenario's off-cloud copy")
	file, targets := drillScenario(t, l, "e2e-data", offcloud, "",
		"schedule: "+os.Getenv("FIREDRILL_LAB_SCHEDULE"), "backupName: "+backup,
		"  checks:\n", fmt.Sprintf(`  checks:
    - name: backup-orders
      exec: {namespace: %[1]s, pod: %[2]s, container: %[3]s, command: [/shop, sha256sum, %[4]s], expectOutput: %[5]q}
    - name: backup-canary
      dataCanary: {namespace: %[1]s, pod: %[2]s, container: %[3]s, command: [/shop, cat, %[6]s]}
`, d.Namespace, d.Pod, d.Container, d.OrdersFile, after, d.CanaryFile))
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	t.Logf("stderr:\n%s", res.stderr)
	var top drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &top), res.stdout)
	rep := readVolumeReport(t, state, top.DrillID)
	require.Equal(t, 0, res.code, "stdout:\n%s", res.stdout)
	assert.Equal(t, "pass", rep.Result)

	// The volume came back through a PodVolumeRestore of the workloads phase.
	var pvrs int
	for _, r := range rep.Restores {
		for _, p := range r.PodVolumeRestores {
			pvrs++
			assert.Equal(t, "workloads", r.Phase)
			assert.Equal(t, "Completed", p.Phase, p.Message)
			assert.Equal(t, d.Pod, p.Pod)
			assert.Equal(t, d.Volume, p.Volume)
			assert.Equal(t, p.TotalBytes, p.BytesDone)
			assert.Positive(t, p.TotalBytes)
			t.Logf("PodVolumeRestore %s/%s volume %s: %d bytes in %.0fs (Velero's clock)", p.Namespace, p.Pod, p.Volume, p.BytesDone, p.DurationSeconds)
		}
	}
	assert.Equal(t, 1, pvrs, "one volume with data: the db's (its cache volume is opted out)")
	status, msg := rep.findingOf(t, "restore.volume-data")
	assert.Equal(t, "pass", status, msg)

	for _, c := range rep.Checks {
		assert.True(t, c.Passed, "check %s: %s", c.Name, c.Message)
		if c.Name == "backup-orders" {
			assert.Contains(t, c.Message, after, "the restored order log has the SHA-256 the source had at backup time")
		}
	}
	// The application RPO is the disaster time minus the restored canary,
	// which the source wrote between the test's first read and the
	// backup's end.
	require.NotNil(t, rep.RPOData)
	require.NotNil(t, rep.RPOData.Measured)
	restoredCanary := rep.DisasterAt.Add(-time.Duration(*rep.RPOData.Measured * float64(time.Second)))
	assert.False(t, restoredCanary.Before(canaryBefore.Add(-time.Millisecond)), "restored canary %s before the source's %s", restoredCanary, canaryBefore)
	assert.False(t, restoredCanary.After(backupDone), "restored canary %s after the backup ended %s", restoredCanary, backupDone)

	var restoreS, verifyS, pvrS float64
	for _, p := range rep.Phases {
		switch p.Name {
		case "restore":
			restoreS = p.DurationSeconds
		case "verify":
			verifyS = p.DurationSeconds
		}
	}
	for _, r := range rep.Restores {
		for _, p := range r.PodVolumeRestores {
			pvrS += p.DurationSeconds
		}
	}
	t.Logf("time split: restore step %.1fs (PodVolumeRestores %.0fs of it, Velero's clock), checks %.1fs; application RPO %.1fs",
		restoreS, pvrS, verifyS, *rep.RPOData.Measured)
	assertNamespacesGone(t, l, targets)
}

// TestVolumeData_PodsExcludedFailsNamingTheVolumes is issue 17's second
// e2e test: the same restore with pods excluded (firedrill's old default)
// lets every Velero Restore complete and the PersistentVolumeClaims come
// back empty; the drill fails, naming the volume that came back without
// its data, never a pass.
func TestVolumeData_PodsExcludedFailsNamingTheVolumes(t *testing.T) {
	l := lab(t)
	d := labDataOf(t)
	ctx := testContext(t, 8*time.Minute)
	file, targets := drillScenario(t, l, "e2e-nopods", "    namespaceMapping: {",
		"    restore: {excludedResources: [pods, replicasets.apps, endpoints, endpointslices.discovery.k8s.io]}\n    namespaceMapping: {")
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	t.Logf("stderr:\n%s", res.stderr)
	require.NotEqual(t, 0, res.code, "the drill must fail:\nstdout:\n%s", res.stdout)
	var top drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &top), res.stdout)
	rep := readVolumeReport(t, state, top.DrillID)
	assert.Equal(t, "fail", rep.Result)
	for _, r := range rep.Restores {
		assert.Equal(t, "Completed", r.VeleroPhase, "Velero completes restore %s all the same", r.Name)
		assert.Empty(t, r.PodVolumeRestores, "no pod restored, so no volume data restored")
	}
	status, msg := rep.findingOf(t, "restore.volume-data")
	assert.Equal(t, "fail", status)
	want := fmt.Sprintf("pod %s/%s volume %q", d.Namespace, d.Pod, d.Volume)
	assert.Contains(t, msg, want, "names the volume that came back without its data")
	assert.Contains(t, msg, "1 of 1 volume came back without its data", "the lab's one volume with data")
	assert.Equal(t, "failed", rep.phaseStatus("restore"))
	// A restore that did not complete, as a failed Velero Restore: the
	// checks and the runbook are skipped, and no check counts as failed.
	assert.Equal(t, "skipped", rep.phaseStatus("verify"))
	assert.Equal(t, "skipped", rep.phaseStatus("runbook"))
	for _, f := range rep.Findings {
		assert.False(t, strings.HasPrefix(f.ID, "verify."), "a check that did not run has no finding: %s %s", f.ID, f.Message)
	}
	assertNamespacesGone(t, l, targets)
}
