//go:build e2e

package e2e

// The fault-injection suite (issue 18): each test breaks a drill or one
// of its dependencies at a step and checks what firedrill promises: the
// drill ends with a report naming the fault, or is known as died; at most
// one cleanup (`firedrill cleanup` or the next run's own) leaves nothing
// in the scratch cluster; no record is lost or corrupted (report.json
// parses, history lists it); and the next drill passes. README "A drill
// that dies" has the table of faults and the test of each.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/firedrill-dev/firedrill/drill"
)

// stepStarted matches a drill's progress line at a step's start
// ("[8.6s] verify ..."); the drill writes its record naming the step
// before it prints the line.
var stepStarted = regexp.MustCompile(`^\[[^\]]+\] ([a-z-]+) \.\.\.$`)

// brokenDrill is what a drill that a test broke printed and left.
type brokenDrill struct {
	id     string
	code   int
	stdout string
	stderr []string
	// acted: the fault was injected; step is the last step the drill
	// started before it was.
	acted bool
	step  string
	// last is the last step the drill started at all.
	last string
}

func (b brokenDrill) progress() string { return strings.Join(b.stderr, "\n") }

// faultAt is one action on a drill: do runs, with the drill's process,
// once a progress line matches at (the drill runs on meanwhile, or is
// paused between reads of its output).
type faultAt struct {
	at *regexp.Regexp
	do func(p *os.Process)
}

// runBroken runs a drill of file with a 1 s heartbeat and calls fault once
// the first progress line matching at appears, then each of more in turn
// at its line. It reads the drill's output to its end.
func runBroken(t *testing.T, ctx context.Context, file, state string, at *regexp.Regexp, fault func(p *os.Process), more ...faultAt) brokenDrill {
	t.Helper()
	cmd := exec.CommandContext(ctx, cliBinary(t), "run", file, "--state-dir", state, "--log-level", "warn")
	cmd.Env = append(append(os.Environ(), drillEnv()...), "FIREDRILL_HEARTBEAT_INTERVAL="+deadHeartbeat)
	var stdout strings.Builder
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var b brokenDrill
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		b.stderr = append(b.stderr, line)
		if m := drillLine.FindStringSubmatch(line); m != nil && b.id == "" {
			b.id = m[1]
		}
		if m := stepStarted.FindStringSubmatch(line); m != nil {
			b.last = m[1]
		}
		if !b.acted && at.MatchString(line) {
			b.step = b.last
			fault(cmd.Process)
			b.acted = true
		} else if b.acted && len(more) > 0 && more[0].at.MatchString(line) {
			more[0].do(cmd.Process)
			more = more[1:]
		}
	}
	_ = cmd.Wait()
	b.code = cmd.ProcessState.ExitCode()
	b.stdout = stdout.String()
	require.True(t, b.acted, "no progress line matched %s:\n%s", at, b.progress())
	return b
}

func kill(p *os.Process) { _ = p.Kill() }

// stepOrder is a step's place in a drill.
func stepOrder(t *testing.T, name string) int {
	t.Helper()
	i := slices.Index(drill.Steps(), drill.StepName(name))
	require.GreaterOrEqual(t, i, 0, "step %q", name)
	return i
}

// assertNothingLeft checks that nothing of drill id is in the scratch
// cluster: its Velero Restores, locations and Secrets, the CRDs its
// Restores created, and the namespaces.
func assertNothingLeft(t *testing.T, l labEnv, id string, namespaces []string) {
	t.Helper()
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, id, namespaces)
	crds, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
		List(testContext(t, time.Minute), metav1.ListOptions{LabelSelector: "velero.io/restore-name"})
	require.NoError(t, err)
	for _, c := range crds.Items {
		assert.False(t, strings.HasPrefix(c.GetLabels()["velero.io/restore-name"], id+"-"), "CRD %s of drill %s left behind", c.GetName(), id)
	}
}

// assertRecordIntact: the drill's report.json parses and history lists
// it with want as its result.
func assertRecordIntact(t *testing.T, ctx context.Context, state, id, want string) map[string]any {
	t.Helper()
	rep := readReport(t, state, id)
	assert.Equal(t, id, rep.DrillID)
	for _, r := range historyRows(t, ctx, state) {
		if r["drill_id"] == id {
			assert.Equal(t, want, r["result"], "history's row of %s: %v", id, r)
			return r
		}
	}
	t.Fatalf("history lists no drill %s", id)
	return nil
}

// assertNextDrillPasses runs the scenario again: it passes, cleans up
// after dead drills first when there are any, and leaves nothing behind.
func assertNextDrillPasses(t *testing.T, ctx context.Context, l labEnv, file, state string, targets []string) drillReport {
	t.Helper()
	res := firedrill(t, ctx, append(drillEnv(), "FIREDRILL_HEARTBEAT_INTERVAL="+deadHeartbeat), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "the next drill passes; stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "pass", rep.Result)
	assertRecordIntact(t, ctx, state, rep.DrillID, "pass")
	assertNothingLeft(t, l, rep.DrillID, targets)
	return rep
}

// TestFault_KilledAtEachStep kills firedrill with SIGKILL at each step
// boundary of one scenario, drill after drill: at the start of protection,
// of each restore phase, of verify, runbook, report, evidence and
// cleanup. Each killed drill is shown as died in the step it was in (a
// drill killed after its report step wrote "pass" too), its record
// parses, and one 'firedrill cleanup' leaves nothing of it; the last one
// is left to the next run, which cleans up after it first and passes.
func TestFault_KilledAtEachStep(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 15*time.Minute)
	file, targets := drillScenario(t, l, "e2e-fault-kill")
	state := t.TempDir()
	var killed []string
	t.Cleanup(func() {
		// Whatever failed, nothing of the killed drills stays in the lab.
		res := firedrill(t, context.Background(), nil, "cleanup", "--stale", file, "--state-dir", state)
		t.Logf("cleanup --stale after the test (exit %d):\n%s%s", res.code, res.stdout, res.stderr)
	})
	kills := []struct {
		name string
		at   string
	}{
		{"protection", `^\[[^\]]+\] protection \.\.\.$`},
		{"restore phase network-policies", `^restore 1/3 network-policies: `},
		{"restore phase crds", `^restore 2/3 crds: `},
		{"restore phase workloads", `^restore 3/3 workloads: `},
		{"verify", `^\[[^\]]+\] verify \.\.\.$`},
		{"runbook", `^\[[^\]]+\] runbook \.\.\.$`},
		{"report", `^\[[^\]]+\] report \.\.\.$`},
		{"evidence", `^\[[^\]]+\] evidence \.\.\.$`},
		{"cleanup", `^\[[^\]]+\] cleanup \.\.\.$`},
	}
	for i, k := range kills {
		last := i == len(kills)-1
		ok := t.Run(k.name, func(t *testing.T) {
			b := runBroken(t, ctx, file, state, regexp.MustCompile(k.at), kill)
			require.NotEmpty(t, b.id, b.progress())
			killed = append(killed, b.id)
			assert.Equal(t, -1, b.code, "killed by the signal")
			row := waitDied(t, ctx, state, b.id)
			// The record names the step the drill was in: the one it had
			// started when killed, or the next one if the signal arrived
			// after the record moved on (a step's record is written
			// before its progress line).
			died, _ := row["error_step"].(string)
			assert.Contains(t, []int{stepOrder(t, b.last), stepOrder(t, b.last) + 1}, stepOrder(t, died),
				"died in %s, the last step started was %s:\n%s", died, b.last, b.progress())
			if b.last != b.step {
				t.Logf("the drill reached step %s before the signal (sent in %s)", b.last, b.step)
			}
			assert.Contains(t, row["error"], "firedrill died: no heartbeat since ")
			assertRecordIntact(t, ctx, state, b.id, "died")
			if last {
				return // the next run cleans up after it
			}
			res := firedrill(t, ctx, nil, "cleanup", b.id, "--state-dir", state)
			assert.Equal(t, 0, res.code, "one cleanup removes everything; stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			assertNothingLeft(t, l, b.id, targets)
		})
		require.True(t, ok, "the drills after a failed kill would find its leftovers")
	}

	rep := assertNextDrillPasses(t, ctx, l, file, state, targets)
	assertNothingLeft(t, l, killed[len(killed)-1], targets)
	assert.Equal(t, "warn", rep.finding("preflight.dead-drill"), "the next run cleaned up after the drill killed in its cleanup")
	rows := historyRows(t, ctx, state)
	assert.Len(t, rows, len(kills)+1, "every drill's record is kept")
	for _, r := range rows[1:] {
		assert.Equal(t, "died", r["result"], "%v", r)
	}
	// The audit's view: every drill, each killed one as died.
	sum := firedrill(t, ctx, nil, "evidence", "summary", "-o", "json", "--state-dir", state)
	require.Equal(t, 0, sum.code, sum.stderr)
	var doc struct {
		Drills []struct {
			DrillID string `json:"drill_id"`
			Result  string `json:"result"`
		} `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(sum.stdout), &doc))
	results := map[string]string{}
	for _, d := range doc.Drills {
		results[d.DrillID] = d.Result
	}
	for _, id := range killed {
		assert.Equal(t, "died", results[id], "evidence summary of %s", id)
	}
	assert.Equal(t, "pass", results[rep.DrillID])
}

// stateDisk mounts a tmpfs of size bytes as a drill's state directory and
// unmounts it when the test ends.
func stateDisk(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(dir, 0o755))
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file that takes all but leave bytes of the free space
// of the file system of dir, and returns its path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	var st syscall.Statfs_t
	require.NoError(t, syscall.Statfs(dir, &st))
	free := int64(st.Bavail) * int64(st.Bsize)
	require.Greater(t, free, leave)
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 64<<10)
	for n := free - leave; n > 0; n -= int64(len(buf)) {
		if n < int64(len(buf)) {
			buf = buf[:n]
		}
		if _, err := f.Write(buf); err != nil {
			break // full already: what the test wants
		}
	}
	return path
}

// TestFault_StateDiskFull fills the state directory's disk (a 2 MiB
// tmpfs): before a drill, the drill fails at once naming the disk, before
// it touches the scratch cluster; filled while the drill restores, the
// drill stops at the next step (verify: an error naming the write),
// still cleans up, and exits 1 naming the disk. Neither corrupts the
// record of the drill before them (report.json is written through a
// temporary file and a rename), and with the disk freed the next drill
// passes.
func TestFault_StateDiskFull(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 10*time.Minute)
	file, targets := drillScenario(t, l, "e2e-fault-disk")
	state := stateDisk(t, "2m")
	first := assertNextDrillPasses(t, ctx, l, file, state, targets)
	earlier, err := os.ReadFile(filepath.Join(state, "drills", first.DrillID, "report.json"))
	require.NoError(t, err)

	t.Run("full before the drill", func(t *testing.T) {
		filler := fillDisk(t, state, 0)
		defer os.Remove(filler)
		res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "--log-level", "warn")
		assert.Equal(t, 1, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		assert.Contains(t, res.stderr, "no space left on device")
		assert.Contains(t, res.stderr, "Error: ")
		assert.Contains(t, res.stderr, state, "the error names where")
		assert.Contains(t, res.stderr, "Hint: the disk of the path above is full")
		assertNamespacesGone(t, l, targets)
	})

	t.Run("full while the drill restores", func(t *testing.T) {
		var filler string
		b := runBroken(t, ctx, file, state, workloadsPhaseStarted, func(*os.Process) { filler = fillDisk(t, state, 0) })
		defer os.Remove(filler)
		require.NotEmpty(t, b.id, b.progress())
		assert.Equal(t, 1, b.code, b.progress())
		assert.Contains(t, b.progress(), "no space left on device")
		assert.Contains(t, b.progress(), "Error: ")
		assert.Regexp(t, `(?m)^\[[^\]]+\] verify error: the drill's record cannot be written: write `+regexp.QuoteMeta(filepath.Join(state, "drills", b.id, "report.json"))+`: .*no space left on device$`,
			b.progress(), "the drill stops at the next step")
		assert.Contains(t, b.progress(), "runbook skipped: the drill's record cannot be written")
		assert.Contains(t, b.progress(), "Hint: the disk of the path above is full")
		assert.Contains(t, b.progress(), "cleanup: deleted ", "the drill cleaned up although its record could not be written")
		assertNothingLeft(t, l, b.id, targets)
		t.Logf("progress:\n%s", b.progress())
		// Its record is the last one written whole: it parses, and says
		// running with a heartbeat nobody renews, so history shows died.
		rep := readReport(t, state, b.id)
		assert.Equal(t, b.id, rep.DrillID)
		waitDied(t, ctx, state, b.id)
		partial, err := filepath.Glob(filepath.Join(state, "drills", b.id, ".report.json.*.tmp"))
		require.NoError(t, err)
		assert.Empty(t, partial, "a failed write leaves no partial file (drill.WriteFileAtomic's temporary files)")
	})

	now, err := os.ReadFile(filepath.Join(state, "drills", first.DrillID, "report.json"))
	require.NoError(t, err)
	assert.Equal(t, string(earlier), string(now), "the earlier drill's record is untouched")
	assertRecordIntact(t, ctx, state, first.DrillID, "pass")
	assertNextDrillPasses(t, ctx, l, file, state, targets)
}

// The lab-disruptive faults: each stops one lab component with the lab's
// own control (as TestRestore_FromOffsiteCopy does) for as short a time as
// the fault needs, and starts it again with `up`, in t.Cleanup too.

// labOutage stops component and returns the function that starts it
// again (at most once; also run when the test ends).
func labOutage(t *testing.T, component string) (restart func()) {
	t.Helper()
	done := false
	restart = func() {
		if done {
			return
		}
		done = true
		// Another test's `up` may run at the same time (they race on
		// the lab's image files): try again a few times.
		ctl := os.Getenv("FIREDRILL_LAB_CTL")
		var out []byte
		var err error
		for range 4 {
			if out, err = exec.Command(ctl, "up").CombinedOutput(); err == nil {
				return
			}
			t.Logf("%s up: %v (trying again):\n%s", ctl, err, out)
			time.Sleep(5 * time.Second)
		}
		t.Errorf("%s up: %v:\n%s", ctl, err, out)
	}
	t.Cleanup(restart)
	labCtl(t, "stop", component)
	return restart
}

// recordOf reads the drill's report.json as written.
func recordOf(t *testing.T, state, id string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "drills", id, "report.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "report.json parses")
	return m
}

// waitLocationAvailable waits until the scratch cluster's Velero says its
// backup storage location is Available again (it validates every 10 s
// in the lab), so the next drill's preflight does not race it.
func waitLocationAvailable(t *testing.T, ctx context.Context, l labEnv) {
	t.Helper()
	_, dyn := kubeClients(t, l.ScratchKubeconfig)
	gvr := schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}
	require.NoError(t, wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		bsl, err := dyn.Resource(gvr).Namespace(l.VeleroNamespace).Get(ctx, "default", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		phase, _, _ := unstructured.NestedString(bsl.Object, "status", "phase")
		return phase == "Available", nil
	}))
}

// TestFault_PrimaryS3StoppedMidProtection stops the primary MinIO while
// the protection step reads it (the drill paused meanwhile, so the
// outage lands inside the step): the drill does not hang, ends in error
// at protection with a report naming the unreachable endpoint, restores
// nothing, and the next drill passes.
func TestFault_PrimaryS3StoppedMidProtection(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 10*time.Minute)
	file, targets := drillScenario(t, l, "e2e-fault-s3")
	state := t.TempDir()
	var restart func()
	paused := func(p *os.Process, do func()) {
		require.NoError(t, p.Signal(syscall.SIGSTOP))
		defer func() { require.NoError(t, p.Signal(syscall.SIGCONT)) }()
		do()
	}
	// Down from inside the protection step to its end: the restore
	// after it reads the backup from the primary again.
	b := runBroken(t, ctx, file, state, regexp.MustCompile(`^recovery point: backup `), func(p *os.Process) {
		paused(p, func() { restart = labOutage(t, "s3-primary") })
	}, faultAt{regexp.MustCompile(`^\[[^\]]+\] protection [a-z]+ in `), func(p *os.Process) { paused(p, restart) }})
	restart()
	t.Logf("progress:\n%s", b.progress())
	assert.Equal(t, "protection", b.step, "the outage began inside the protection step")
	rec := recordOf(t, state, b.id)
	t.Logf("what the record says went wrong:\n%s", faultText(rec))
	assert.NotEqual(t, "passed", phaseOf(rec, "protection"))
	host := strings.TrimPrefix(l.Stores["primary"].Endpoint, "http://")
	assert.Contains(t, faultText(rec), host, "the report names the unreachable endpoint")
	assert.Contains(t, b.progress(), host)
	switch rec["result"] {
	case "error":
		assert.Equal(t, 1, b.code, "a drill that could not run to the end")
		assert.Equal(t, "protection", rec["error_step"])
	default:
		assert.Equal(t, "fail", rec["result"], "a protection finding, or an error")
		assert.Equal(t, 3, b.code)
	}
	assertRecordIntact(t, ctx, state, b.id, rec["result"].(string))
	assertNothingLeft(t, l, b.id, targets)

	waitLocationAvailable(t, ctx, l)
	assertNextDrillPasses(t, ctx, l, file, state, targets)
}

// faultText is what a record says went wrong: its error, the errors of
// its steps and its findings that did not pass.
func faultText(rec map[string]any) string {
	parts := []string{fmt.Sprint(rec["error"])}
	phases, _ := rec["phases"].([]any)
	for _, p := range phases {
		if m, ok := p.(map[string]any); ok && m["error"] != nil {
			parts = append(parts, fmt.Sprintf("step %v: %v", m["name"], m["error"]))
		}
	}
	findings, _ := rec["findings"].([]any)
	for _, f := range findings {
		if m, ok := f.(map[string]any); ok && m["status"] != "pass" {
			parts = append(parts, fmt.Sprintf("finding %v (%v): %v", m["id"], m["status"], m["message"]))
		}
	}
	return strings.Join(parts, "\n")
}

// restartMidRestore stops component once the drill's workloads Restore is
// InProgress and starts it again at once, then checks what the user is
// promised: the drill ran to its end (pass, or a report naming the
// fault), its own cleanup left nothing, and the next drill passes.
func restartMidRestore(t *testing.T, component, name string, fault func(l labEnv) []string) {
	l := lab(t)
	names := fault(l)
	ctx := testContext(t, 10*time.Minute)
	file, targets := drillScenario(t, l, name)
	state := t.TempDir()
	b := runBroken(t, ctx, file, state, regexp.MustCompile(`^restore 3/3 workloads: InProgress`), func(*os.Process) {
		labOutage(t, component)()
	})
	t.Logf("progress:\n%s", b.progress())
	rec := recordOf(t, state, b.id)
	switch rec["result"] {
	case "pass":
		assert.Equal(t, 0, b.code)
	default:
		assert.NotEqual(t, 0, b.code, "a drill that did not pass exits non-zero")
		out := faultText(rec)
		named := false
		for _, n := range names {
			named = named || strings.Contains(out, n)
		}
		assert.True(t, named, "the report names the fault (one of %q): %s", names, out)
	}
	assertRecordIntact(t, ctx, state, b.id, rec["result"].(string))
	if phaseOf(rec, "cleanup") != "passed" {
		// The drill's own cleanup met the outage: one 'firedrill
		// cleanup' is what a person runs, as the finding says.
		res := firedrill(t, ctx, nil, "cleanup", b.id, "--state-dir", state)
		assert.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		t.Logf("the drill's cleanup %s; firedrill cleanup %s:\n%s", phaseOf(rec, "cleanup"), b.id, res.stdout)
	}
	assertNothingLeft(t, l, b.id, targets)

	waitLocationAvailable(t, ctx, l)
	assertNextDrillPasses(t, ctx, l, file, state, targets)
}

// phaseOf is the status of step name in a record.
func phaseOf(rec map[string]any, name string) string {
	phases, _ := rec["phases"].([]any)
	for _, p := range phases {
		if m, ok := p.(map[string]any); ok && m["name"] == name {
			s, _ := m["status"].(string)
			return s
		}
	}
	return "missing"
}

// TestFault_VeleroRestartedMidRestore restarts the scratch cluster's
// Velero server while the workloads Restore runs. Velero marks a Restore
// it finds InProgress at its start as Failed; the drill either passes
// (the restore ended first) or fails naming the Restore, never waits
// past it.
func TestFault_VeleroRestartedMidRestore(t *testing.T) {
	restartMidRestore(t, "scratch-velero", "e2e-fault-velero", func(labEnv) []string { return []string{"-workloads", "Velero"} })
}

// TestFault_ScratchAPIServerRestartedMidRestore restarts the scratch
// cluster's kube-apiserver while the workloads Restore runs: the drill's
// watch resumes and the drill passes, or it fails naming the API server
// it lost.
func TestFault_ScratchAPIServerRestartedMidRestore(t *testing.T) {
	restartMidRestore(t, "scratch-kube-apiserver", "e2e-fault-apiserver", func(l labEnv) []string {
		host := strings.TrimPrefix(restConfig(t, l.ScratchKubeconfig).Host, "https://")
		return []string{"-workloads", host}
	})
}
