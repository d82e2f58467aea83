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
	"k8s.io/apimachinery/pkg/runtime/schema"

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

// runBroken runs a drill of file with a 1 s heartbeat and calls fault once
// the first progress line matching at appears, with the drill's process
// (running, or paused between reads of its output). It reads the drill's
// output to its end.
func runBroken(t *testing.T, ctx context.Context, file, state string, at *regexp.Regexp, fault func(p *os.Process), args ...string) brokenDrill {
	t.Helper()
	cmd := exec.CommandContext(ctx, cliBinary(t), append([]string{"run", file, "--state-dir", state, "--log-level", "warn"}, args...)...)
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
// drill still cleans up and exits 1 naming the disk. Neither corrupts the
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
		assert.Contains(t, b.progress(), "cleanup: deleted ", "the drill cleaned up although its record could not be written")
		assertNothingLeft(t, l, b.id, targets)
		t.Logf("progress:\n%s", b.progress())
		// Its record is the last one written whole: it parses, and says
		// running with a heartbeat nobody renews, so history shows died.
		rep := readReport(t, state, b.id)
		assert.Equal(t, b.id, rep.DrillID)
		waitDied(t, ctx, state, b.id)
		assert.NoFileExists(t, filepath.Join(state, "drills", b.id, "report.json.tmp"), "a failed write leaves no partial file")
	})

	now, err := os.ReadFile(filepath.Join(state, "drills", first.DrillID, "report.json"))
	require.NoError(t, err)
	assert.Equal(t, string(earlier), string(now), "the earlier drill's record is untouched")
	assertRecordIntact(t, ctx, state, first.DrillID, "pass")
	assertNextDrillPasses(t, ctx, l, file, state, targets)
}
