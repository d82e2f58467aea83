package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
