package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRun_HostileFilesRefused turns the cases rb-devzero, rb-fifo,
// cafile-devzero and kubeconfig-devzero of issue 15 (section 6) into
// commands that end at once with an error naming the file and the field,
// instead of exhausting memory or hanging. The FIFO is made at test time.
func TestRun_HostileFilesRefused(t *testing.T) {
	const cases = "../../../../../scenarios/testdata/security/"
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "scenarios", "testdata", "security", "rb-fifo.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rb-fifo.yaml"), data, 0o600))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "rb.fifo"), 0o600))

	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"validate", cases + "rb-devzero.yaml"}, ExitError, "rb-devzero.yaml:32: spec.runbook.file: runbook /dev/zero: not a regular file: it is a character device"},
		{[]string{"plan", filepath.Join(dir, "rb-fifo.yaml")}, ExitError, "rb-fifo.yaml:32: spec.runbook.file: runbook rb.fifo: not a regular file: it is a FIFO (named pipe)"},
		{[]string{"validate", cases + "cafile-devzero.yaml"}, ExitOK, "cafile-devzero.yaml:22: warning: spec.storage.primary.caFile: CA file /dev/zero: not a regular file: it is a character device"},
		{[]string{"verify", cases + "cafile-devzero.yaml"}, ExitError, "cafile-devzero.yaml:22: spec.storage.primary.caFile: CA file /dev/zero: not a regular file"},
		// A kubeconfig is checked with the other files before anything is
		// touched: validate warns, the others stop, and run records no drill.
		{[]string{"validate", cases + "kubeconfig-devzero.yaml"}, ExitOK, "kubeconfig-devzero.yaml:30: warning: spec.target.kubeconfig: kubeconfig /dev/zero: not a regular file: it is a character device"},
		{[]string{"restore", cases + "kubeconfig-devzero.yaml"}, ExitError, "nothing has been touched:\n  " + cases + "kubeconfig-devzero.yaml:30: spec.target.kubeconfig: kubeconfig /dev/zero: not a regular file: it is a character device"},
		{[]string{"run", cases + "kubeconfig-devzero.yaml"}, ExitError, "nothing has been touched:\n  " + cases + "kubeconfig-devzero.yaml:30: spec.target.kubeconfig: kubeconfig /dev/zero: not a regular file"},
		{[]string{"verify", cases + "kubeconfig-devzero.yaml"}, ExitError, "nothing has been touched:\n  " + cases + "kubeconfig-devzero.yaml:30: spec.target.kubeconfig"},
		{[]string{"plan", cases + "kubeconfig-devzero.yaml"}, ExitError, "nothing has been touched:\n  " + cases + "kubeconfig-devzero.yaml:30: spec.target.kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0]+" "+filepath.Base(tt.args[1]), func(t *testing.T) {
			state := t.TempDir()
			got := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, tt.args...)
			assert.Equal(t, tt.code, got.code, "%s", got)
			assert.Contains(t, got.stdout+got.stderr, tt.want)
			entries, err := os.ReadDir(state)
			require.NoError(t, err)
			assert.Empty(t, entries, "no drill is recorded")
		})
	}
}

// TestRun_DeviceInScenariosDir: planning one scenario by name reads every
// file of ./scenarios/; a /dev/zero symlink and a FIFO there do not stop
// it, and 'scenarios list' and 'validate' show them as invalid.
func TestRun_DeviceInScenariosDir(t *testing.T) {
	work := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(work, "scenarios"), 0o700))
	data, err := os.ReadFile("testdata/files/valid.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(work, "scenarios", "shop.yaml"), data, 0o600))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(work, "scenarios", "zero.yaml")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(work, "scenarios", "pipe.yaml"), 0o600))

	runIn := func(args ...string) result {
		var stdout, stderr bytes.Buffer
		code := Run(context.Background(), append([]string{"firedrill"}, args...), Env{Stdout: &stdout, Stderr: &stderr, WorkDir: work, HomeDir: testHome})
		return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	}
	got := runIn("plan", "shop-test")
	assert.Equal(t, ExitOK, got.code, "%s", got)
	assert.Contains(t, got.stdout, "Plan for scenario shop-test")

	got = runIn("scenarios", "list")
	assert.Regexp(t, `(?m)^zero +\./scenarios .*INVALID`, got.stdout)
	assert.Regexp(t, `(?m)^pipe +\./scenarios .*INVALID`, got.stdout)

	got = runIn("validate", "scenarios")
	assert.Equal(t, ExitError, got.code, "%s", got)
	assert.Contains(t, got.stdout, "read scenario file scenarios/zero.yaml: not a regular file: it is a character device")
	assert.Contains(t, got.stdout, "read scenario file scenarios/pipe.yaml: not a regular file: it is a FIFO (named pipe)")
	assert.Contains(t, got.stdout, "scenarios/shop.yaml: ok (shop-test)")
}
