//go:build e2e

package e2e

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/firedrill-dev/firedrill/drill"
)

// workloadsPhaseStarted matches the progress line of the drill's workloads
// Restore ("restore 3/3 workloads: New"): the first phases have created the
// namespaces, NetworkPolicies and CRDs, and the workloads are on their way.
var workloadsPhaseStarted = regexp.MustCompile(`restore \d+/\d+ workloads:`)

// drillScenario writes a variant of the lab's scenario (and its runbook)
// for one test: its own name, namespaces mapped to fresh names so tests
// never collide on a live lab, cleanup always (a failing test drill must
// not leave namespaces behind), plus the replacements given. It returns
// the scenario file and the target namespaces.
func drillScenario(t *testing.T, l labEnv, name string, replace ...string) (string, []string) {
	t.Helper()
	dir := os.Getenv("FIREDRILL_SCENARIOS")
	src, err := os.ReadFile(filepath.Join(dir, l.Scenario+".yaml"))
	require.NoError(t, err)
	rb, err := os.ReadFile(filepath.Join(dir, l.Scenario+".md"))
	require.NoError(t, err)
	suffix := time.Now().UTC().Format("150405")
	var mapping, targets []string
	for _, ns := range l.AppNamespaces {
		mapping = append(mapping, ns+": "+ns+"-"+name+"-"+suffix)
		targets = append(targets, ns+"-"+name+"-"+suffix)
	}
	text := strings.Replace(string(src), "name: "+l.Scenario, "name: "+name, 1)
	text = withoutCrossNamespaceCheck(t, text)
	text = withLabAcceptedOutOfScope(t, text)
	text = strings.Replace(text, "    context: lab-scratch\n", "    context: lab-scratch\n    namespaceMapping: {"+strings.Join(mapping, ", ")+"}\n", 1)
	text = strings.Replace(text, "cleanup: {policy: onSuccess}", "cleanup: {policy: always}", 1)
	for i := 0; i+1 < len(replace); i += 2 {
		require.Contains(t, text, replace[i], "scenario text to replace")
		text = strings.Replace(text, replace[i], replace[i+1], 1)
	}
	out := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(out, l.Scenario+".md"), rb, 0o644))
	file := filepath.Join(out, name+".yaml")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	return file, targets
}

// labAcceptedOutOfScope is the lab scenario's acceptedOutOfScope, as
// e2e/lab/scenario.go writes it (a module of its own, so copied here).
const labAcceptedOutOfScope = `    includedNamespaces: [shop, shop-data]
    # Claims the backup holds no data of, on purpose: the drill names
    # them as warnings, not failures.
    acceptedOutOfScope:
      # The db's cache volume: a cache, so it needs no backup (the db pod
      # opts it out with backup.velero.io/backup-volumes-excludes).
      - shop-data/cache-db-0
      # An export area no pod mounts: file-system backup has nothing to
      # read, so no backup holds its data.
      - shop/exports
`

// withLabAcceptedOutOfScope gives a scenario of a lab started before the
// lab scenario accepted its two claims out of scope the same list, so
// the tests drill what the lab scenario now says whichever lab runs.
func withLabAcceptedOutOfScope(t *testing.T, text string) string {
	t.Helper()
	if strings.Contains(text, labAcceptedOutOfScope) {
		return text
	}
	require.NotContains(t, text, "acceptedOutOfScope", "the lab scenario's acceptedOutOfScope differs from labAcceptedOutOfScope")
	require.Contains(t, text, "    includedNamespaces: [shop, shop-data]\n")
	return strings.Replace(text, "    includedNamespaces: [shop, shop-data]\n", labAcceptedOutOfScope, 1)
}

// crossNamespaceCheck is the lab scenario's check of the shop's whole
// path, web -> api -> db.shop-data.svc. Under a namespace mapping the api
// still calls db.shop-data.svc, as any application's cross-namespace
// addresses stay what they were, so tests that map namespaces leave it out.
const crossNamespaceCheck = `    - name: shop-takes-orders
      # web -> api -> db, across the shop's two namespaces: the whole
      # shop serves, not only its front end.
      http: {service: {namespace: shop, name: web, port: 80}, path: /orders, expectStatus: 200}
`

func withoutCrossNamespaceCheck(t *testing.T, text string) string {
	t.Helper()
	require.Contains(t, text, crossNamespaceCheck, "the lab scenario checks the shop's whole path")
	return strings.Replace(text, crossNamespaceCheck, "", 1)
}

// drillEnv puts the lab's kubectl and velero on PATH for runbook steps.
func drillEnv() []string {
	return []string{"PATH=" + os.Getenv("FIREDRILL_LAB_BIN") + ":" + os.Getenv("PATH")}
}

type drillReport struct {
	DrillID    string    `json:"drill_id"`
	Result     string    `json:"result"`
	StartedAt  time.Time `json:"started_at"`
	DisasterAt time.Time `json:"disaster_at"`
	RTO        struct {
		Measured *float64 `json:"measured_seconds"`
		// Total is measured + the runbook's declared manual time: what
		// the objective is judged on (the lab's runbook has a manual step).
		Total     *float64 `json:"total_seconds"`
		Objective float64  `json:"objective_seconds"`
		Met       *bool    `json:"met"`
		Status    string   `json:"status"`
	} `json:"rto"`
	RPO struct {
		Measured *float64 `json:"measured_seconds"`
		Status   string   `json:"status"`
	} `json:"rpo"`
	Backup *struct {
		Name    string    `json:"name"`
		Started time.Time `json:"started"`
	} `json:"backup"`
	Phases []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"phases"`
	Findings []struct {
		ID, Status, Subject, Message string
	} `json:"findings"`
	OrderVerified *bool `json:"order_verified"`
}

func (r drillReport) phase(name string) string {
	for _, p := range r.Phases {
		if p.Name == name {
			return p.Status
		}
	}
	return "missing"
}

func (r drillReport) finding(id string) string {
	for _, f := range r.Findings {
		if f.ID == id {
			return f.Status
		}
	}
	return "missing"
}

func readReport(t *testing.T, state, id string) drillReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "drills", id, "report.json"))
	require.NoError(t, err)
	var r drillReport
	require.NoError(t, json.Unmarshal(b, &r))
	return r
}

func assertNamespacesGone(t *testing.T, l labEnv, names []string) {
	t.Helper()
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	ctx := testContext(t, time.Minute)
	for _, n := range names {
		_, err := cs.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{})
		assert.True(t, apierrors.IsNotFound(err), "namespace %s must be cleaned up, got %v", n, err)
	}
}

// TestRun_LabDrillPasses runs the whole drill of the lab's scenario and
// checks the four files and the numbers in them.
func TestRun_LabDrillPasses(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	file, targets := drillScenario(t, l, "e2e-pass")
	labRunbookWithManualStep(t, filepath.Join(filepath.Dir(file), l.Scenario+".md"))
	state := t.TempDir()
	// In a zone other than UTC, the report's times are still in UTC.
	res := firedrill(t, ctx, append(drillEnv(), "TZ=Asia/Kolkata"), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "pass", rep.Result)
	assert.Regexp(t, `"started_at": "[0-9T:.-]+Z"`, res.stdout)
	for _, f := range []string{"report.json", "report.md", "report.html", "retrospective.md"} {
		assert.FileExists(t, filepath.Join(state, "drills", rep.DrillID, f))
	}
	require.NotNil(t, rep.RTO.Measured)
	assert.Greater(t, *rep.RTO.Measured, 0.0)
	assert.Less(t, *rep.RTO.Measured, rep.RTO.Objective)
	assert.Equal(t, "met", rep.RTO.Status)
	require.NotNil(t, rep.OrderVerified)
	assert.True(t, *rep.OrderVerified)
	assert.Equal(t, "passed", rep.phase("runbook"))

	// The scenario loses the source, so the backup's own files say which
	// claims come back without their data: the two the lab scenario
	// accepts, as warnings (data-db-0 has its PodVolumeBackup).
	require.NotNil(t, rep.Backup)
	claims := map[string]string{}
	for _, f := range rep.Findings {
		if f.ID == "scope.claim" {
			claims[f.Subject] = f.Status
			assert.Contains(t, f.Message, "restored without its data")
			assert.Contains(t, f.Message, "why not cannot be told without the source")
		}
	}
	assert.Equal(t, map[string]string{
		"PersistentVolumeClaim shop-data/cache-db-0 in backup " + rep.Backup.Name: "warn",
		"PersistentVolumeClaim shop/exports in backup " + rep.Backup.Name:         "warn",
	}, claims)

	// RPO = disaster time - the backup's start, as Velero recorded it.
	require.NotNil(t, rep.Backup)
	assert.Equal(t, l.LatestBackup, rep.Backup.Name)
	_, dyn := kubeClients(t, l.ScratchKubeconfig)
	b, err := dyn.Resource(schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backups"}).
		Namespace(l.VeleroNamespace).Get(ctx, rep.Backup.Name, metav1.GetOptions{})
	require.NoError(t, err)
	startS, _, _ := unstructured.NestedString(b.Object, "status", "startTimestamp")
	start, err := time.Parse(time.RFC3339, startS)
	require.NoError(t, err)
	require.NotNil(t, rep.RPO.Measured)
	assert.InDelta(t, rep.DisasterAt.Sub(start).Seconds(), *rep.RPO.Measured, 1.0)

	assertNamespacesGone(t, l, targets)
	assertDeclaredManualRTO(t, state, rep.DrillID)

	hist := firedrill(t, ctx, nil, "history", "-o", "json", "--state-dir", state)
	require.Equal(t, 0, hist.code, hist.stderr)
	var hdoc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(hist.stdout), &hdoc))
	rows := hdoc.Drills
	require.Len(t, rows, 1)
	assert.Equal(t, rep.DrillID, rows[0]["drill_id"])

	// The record holds what "after a major change" compares (issue 21):
	// the SHA-256 of the scenario file, of its runbook and of the target's
	// API server URL with the scratch marker; due is fresh until one of
	// them changes.
	var fp struct {
		Scenario string `json:"scenario_sha256"`
		Runbook  string `json:"runbook_sha256"`
		Target   string `json:"target_sha256"`
	}
	rj, err := os.ReadFile(filepath.Join(state, "drills", rep.DrillID, "report.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rj, &fp))
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	text, err := os.ReadFile(file)
	require.NoError(t, err)
	runbook := filepath.Join(filepath.Dir(file), l.Scenario+".md")
	rb, err := os.ReadFile(runbook)
	require.NoError(t, err)
	kc, err := clientcmd.LoadFromFile(l.ScratchKubeconfig)
	require.NoError(t, err)
	require.NotNil(t, kc.Contexts["lab-scratch"])
	server := kc.Clusters[kc.Contexts["lab-scratch"].Cluster].Server
	assert.Equal(t, sum(text), fp.Scenario)
	assert.Equal(t, sum(rb), fp.Runbook)
	assert.Equal(t, sum([]byte(drill.TargetDescription(server))), fp.Target, "target %s", server)
	due := func() cliResult {
		return firedrill(t, ctx, nil, "due", "e2e-pass", "--scenario-dir", filepath.Dir(file), "--state-dir", state)
	}
	res = due()
	assert.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	require.NoError(t, os.WriteFile(runbook, append(rb, "\nEdited after the drill.\n"...), 0o644))
	res = due()
	assert.Equal(t, 3, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Regexp(t, `e2e-pass\s+changed\s+changed: runbook\s`, res.stdout)
}

// TestRun_ImpossibleRTOExitsThree: an RTO no restore can meet fails the
// drill with exit code 3, naming the missed objective.
func TestRun_ImpossibleRTOExitsThree(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	file, targets := drillScenario(t, l, "e2e-rto", "rto: 15m", "rto: 1ms")
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "--log-level", "warn")
	assert.Equal(t, 3, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	assert.Contains(t, res.stdout, "RTO")
	assert.Contains(t, res.stdout, "MISSED")
	assert.Contains(t, res.stderr, "RTO missed")
	assertNamespacesGone(t, l, targets)
}

// TestRun_BrokenRunbookStepIsOutOfDate: a runbook step that no longer
// matches the platform fails the drill with the "runbook out of date"
// finding, naming the step.
func TestRun_BrokenRunbookStepIsOutOfDate(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	file, _ := drillScenario(t, l, "e2e-runbook")
	rb := filepath.Join(filepath.Dir(file), l.Scenario+".md")
	text, err := os.ReadFile(rb)
	require.NoError(t, err)
	broken := strings.Replace(string(text), "get networkpolicies", "get networkpolicy-that-was-renamed", 1)
	require.NotEqual(t, string(text), broken)
	require.NoError(t, os.WriteFile(rb, []byte(broken), 0o644))

	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	assert.Equal(t, 3, res.code, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "fail", rep.finding("runbook.out-of-date"))
	assert.Equal(t, "failed", rep.phase("runbook"))
	for _, f := range rep.Findings {
		if f.ID == "runbook.out-of-date" {
			assert.Contains(t, f.Message, "network-policies")
		}
	}
}

// TestRun_DamagedCopyFindingWhileRestoreRuns: an off-site copy that does
// not hold the backup is a protection finding, and the restore still runs.
func TestRun_DamagedCopyFindingWhileRestoreRuns(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	file, _ := drillScenario(t, l, "e2e-copy", "        prefix: lab\n        pathStyle: true\n        credentials: {accessKeyIDEnv: FIREDRILL_LAB_OFFSITE",
		"        prefix: damaged\n        pathStyle: true\n        credentials: {accessKeyIDEnv: FIREDRILL_LAB_OFFSITE")
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	assert.Equal(t, 3, res.code, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "fail", rep.finding("protection.copy.offsite"))
	assert.Equal(t, "failed", rep.phase("protection"))
	assert.Equal(t, "passed", rep.phase("restore"), "a protection finding does not stop the restore")
	assert.Equal(t, "passed", rep.phase("verify"))
}

// TestRun_InterruptMidRestoreCleansUp sends SIGINT while the restore runs:
// exit 130, nothing left in the scratch cluster, an "interrupted" drill in
// the history.
func TestRun_InterruptMidRestoreCleansUp(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	file, targets := drillScenario(t, l, "e2e-sigint", "cleanup: {policy: always}", "cleanup: {policy: onSuccess}")
	state := t.TempDir()
	cmd := exec.CommandContext(ctx, cliBinary(t), "run", file, "--state-dir", state, "--log-level", "warn")
	cmd.Env = append(os.Environ(), drillEnv()...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	sc := bufio.NewScanner(stderr)
	sent := false
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		// The first phase has created the namespaces and NetworkPolicies;
		// the last is restoring the workloads.
		if !sent && workloadsPhaseStarted.MatchString(sc.Text()) {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			sent = true
		}
	}
	err = cmd.Wait()
	require.True(t, sent, "the restore never started:\n%s", strings.Join(lines, "\n"))
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 130, exit.ExitCode(), strings.Join(lines, "\n"))
	assertNamespacesGone(t, l, targets)

	hist := firedrill(t, ctx, nil, "history", "-o", "json", "--state-dir", state)
	var hdoc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(hist.stdout), &hdoc))
	rows := hdoc.Drills
	require.Len(t, rows, 1)
	assert.Equal(t, "interrupted", rows[0]["result"])
}
