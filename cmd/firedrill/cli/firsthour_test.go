package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// runWith runs the command line like run does, with the Env e completed
// by the buffers (and by testdata/work when e names no WorkDir).
func runWith(t *testing.T, e Env, env map[string]string, args ...string) result {
	t.Helper()
	if e.WorkDir == "" {
		work, err := filepath.Abs("testdata/work")
		require.NoError(t, err)
		e.WorkDir = work
	}
	var stdout, stderr bytes.Buffer
	e.Stdout, e.Stderr = &stdout, &stderr
	e.Getenv = func(k string) string { return env[k] }
	code := Run(context.Background(), append([]string{"firedrill"}, args...), e)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// TestStateDir_NoHome: without $HOME (systemd units, some CI runners) and
// without --state-dir, $FIREDRILL_STATE_DIR or $XDG_DATA_HOME, the commands
// that keep or read records stop with a hint instead of writing to a
// relative .local/share under the working directory.
func TestStateDir_NoHome(t *testing.T) {
	for _, args := range [][]string{
		{"history"},
		{"due"},
		{"evidence", "export", "20260101-000000-shop"},
	} {
		t.Run(args[0], func(t *testing.T) {
			work := t.TempDir()
			r := runWith(t, Env{WorkDir: work}, nil, args...)
			assert.Equal(t, ExitUsage, r.code, r)
			assert.Contains(t, r.stderr, "Error: no state directory: $HOME is not set")
			assert.Contains(t, r.stderr, "Hint: pass --state-dir DIR or set $FIREDRILL_STATE_DIR")
			_, err := os.Stat(filepath.Join(work, ".local"))
			assert.True(t, os.IsNotExist(err), "nothing made under the working directory")
		})
	}
	t.Run("FIREDRILL_STATE_DIR", func(t *testing.T) {
		state := t.TempDir()
		r := runWith(t, Env{}, map[string]string{"FIREDRILL_STATE_DIR": state}, "history")
		assert.Equal(t, ExitOK, r.code, r)
	})
}

// TestHistory_UnknownScenarioGetsCloseMatches: a typo in 'history NAME'
// says there is no such scenario and offers close matches, as 'due' does,
// instead of "no drills recorded" over a state directory that holds drills;
// a scenario that exists but was never drilled is named as such.
func TestHistory_UnknownScenarioGetsCloseMatches(t *testing.T) {
	state := writeHistory(t)
	env := map[string]string{"FIREDRILL_STATE_DIR": state}

	res := run(t, context.Background(), env, "history", "region-los")
	assert.Equal(t, ExitError, res.code, res)
	assert.Contains(t, res.stderr, `Error: no scenario named "region-los", and no drill of it is recorded; did you mean "region-loss"?`+"\n")
	assert.Contains(t, res.stderr, "Hint: run 'firedrill scenarios list'")
	assert.Empty(t, res.stdout)

	res = run(t, context.Background(), env, "history", "observability-loss")
	assert.Equal(t, ExitOK, res.code, res)
	assert.Equal(t, "No drills of scenario \"observability-loss\" recorded in "+state+" yet (3 drills of other scenarios). Run one with 'firedrill run observability-loss'.\n", res.stdout)

	res = run(t, context.Background(), env, "history", "observability-loss", "-o", "json")
	assert.Equal(t, ExitOK, res.code, res)
	assert.JSONEq(t, `{"schema":"firedrill.dev/history/v2","drills":[],"outlook":[]}`, res.stdout)
}

// readOnlyDir makes dir read-only for this process: mode 0555 for a user,
// a read-only bind mount for root (whom modes do not stop); it skips the
// test where neither is possible.
func readOnlyDir(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("mount", "--bind", "-o", "ro", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only as root: %v: %s", dir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
}

// TestEvidenceExport_ReadOnlyStateDir: on a read-only copy of the state
// directory, export into the drill's directory stops before writing
// anything, with a hint to write the bundle elsewhere (exit 1, not a bundle
// written and then an error about recording it). The bundle written
// elsewhere with a warning is TestKeepEvidence_ReadOnlyDrillDir (drill).
func TestEvidenceExport_ReadOnlyStateDir(t *testing.T) {
	state := writeHistory(t)
	key, _ := keyPair(t)
	const id = "fd-20261103-090000-cccc"
	dir := filepath.Join(state, "drills", id)
	before, err := os.ReadDir(dir)
	require.NoError(t, err)
	readOnlyDir(t, state)

	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "evidence", "export", id, "--key", key)
	assert.Equal(t, ExitError, res.code, res)
	assert.Contains(t, res.stderr, "the drill directory cannot be written")
	assert.Contains(t, res.stderr, "Hint: write the bundle outside the read-only state directory")
	assert.Empty(t, res.stdout)

	// With --format oscal, -f names the OSCAL document, so the hint names
	// what works for the bundle instead.
	res = run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "evidence", "export", id, "--key", key, "--format", "oscal")
	assert.Equal(t, ExitError, res.code, res)
	assert.Contains(t, res.stderr, "Hint: --format oscal keeps the bundle in the drill's directory")
	assert.NotContains(t, res.stderr, "a FILE or - for standard output")
	assert.Empty(t, res.stdout)

	after, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after), "nothing written")
}

// TestScenariosShow_PathsAsWritten: 'scenarios show NAME > mine.yaml'
// writes the paths of the file ("~", relative to the scenario file), not
// the author's home directory and checkout; --resolve-paths prints the
// paths firedrill opens.
func TestScenariosShow_PathsAsWritten(t *testing.T) {
	res := run(t, context.Background(), nil, "scenarios", "show", "../files/paths.yaml")
	require.Equal(t, ExitOK, res.code, res)
	golden(t, "scenarios-show-paths", res.stdout)
	for _, line := range []string{"kubeconfig: ~/.kube/scratch.kubeconfig", "caFile: certs/ca.pem", "file: credentials", "file: runbooks/paths.md"} {
		assert.Contains(t, res.stdout, line)
	}
	files, err := filepath.Abs("testdata/files")
	require.NoError(t, err)
	assert.NotContains(t, res.stdout, files)

	res = run(t, context.Background(), nil, "scenarios", "show", "../files/paths.yaml", "--resolve-paths")
	require.Equal(t, ExitOK, res.code, res)
	for _, line := range []string{"kubeconfig: " + testHome + "/.kube/scratch.kubeconfig", "caFile: " + files + "/certs/ca.pem",
		"file: " + files + "/credentials", "file: " + files + "/runbooks/paths.md"} {
		assert.Contains(t, res.stdout, line)
	}
}

// TestScenariosNew_ValidateOnceFilled: 'scenarios new NAME --from BUILTIN'
// prints a portable starting file (golden) that validate refuses as made
// and accepts once every value marked FILL IN is filled in; -f writes it
// and never overwrites.
func TestScenariosNew_ValidateOnceFilled(t *testing.T) {
	ctx := context.Background()
	res := run(t, ctx, nil, "scenarios", "new", "shop-region-loss", "--from", "region-loss")
	require.Equal(t, ExitOK, res.code, res)
	golden(t, "scenarios-new", res.stdout)

	dir := t.TempDir()
	file := filepath.Join(dir, "shop-region-loss.yaml")
	res = run(t, ctx, nil, "scenarios", "new", "shop-region-loss", "--from", "region-loss", "-f", file)
	require.Equal(t, ExitOK, res.code, res)
	made, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, golden0(t, "scenarios-new"), string(made), "-f writes what stdout shows")

	res = run(t, ctx, nil, "scenarios", "new", "other", "--from", "namespace-deletion", "-f", file)
	assert.Equal(t, ExitError, res.code, res)
	assert.Contains(t, res.stderr, "never overwrites")
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, made, again)

	res = run(t, ctx, nil, "validate", file)
	assert.Equal(t, ExitError, res.code, res)
	assert.Contains(t, res.stdout+res.stderr, "spec.storage.primary.bucket")

	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(made, &doc))
	values := map[string]string{"kubeconfig": "~/.kube/mine.yaml", "context": "mine", "endpoint": "https://s3.example.com",
		"region": "us-east-1", "bucket": "my-velero-backups", "prefix": "prod"}
	filled := 0
	var fill func(n *yaml.Node)
	fill = func(n *yaml.Node) {
		for i := 0; n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if k, v := n.Content[i], n.Content[i+1]; strings.HasPrefix(v.LineComment, "# FILL IN:") {
				v.Value = values[k.Value]
				if k.Value == "bucket" {
					v.Value += "-" + strconv.Itoa(filled) // the copy's bucket is another
				}
				filled++
			}
		}
		for _, c := range n.Content {
			fill(c)
		}
	}
	fill(&doc)
	assert.Equal(t, 12, filled, "source and target: kubeconfig, context; primary and its copy: endpoint, region, bucket, prefix")
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, out, 0o600))
	res = run(t, ctx, nil, "validate", file)
	assert.Equal(t, ExitOK, res.code, "%s\n%s", res, out)

	res = run(t, ctx, nil, "scenarios", "new", "mine", "--from", "region-los")
	assert.Equal(t, ExitUsage, res.code, res)
	assert.Contains(t, res.stderr, `did you mean "region-loss"?`)
}

// golden0 is the content of testdata/NAME.golden.
func golden0(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
	require.NoError(t, err)
	return string(b)
}
