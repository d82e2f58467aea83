//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	cliOnce sync.Once
	cliPath string
	cliErr  error
)

// cliBinary is the firedrill binary under test: $FIREDRILL_BIN (make sets
// it to bin/firedrill), else one built once for this test run.
func cliBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("FIREDRILL_BIN"); p != "" {
		// make sets it relative to the repository root; tests run in e2e/.
		if _, err := os.Stat(p); err != nil && !filepath.IsAbs(p) {
			p = filepath.Join("..", p)
		}
		abs, err := filepath.Abs(p)
		require.NoError(t, err)
		return abs
	}
	cliOnce.Do(func() {
		dir, err := os.MkdirTemp("", "firedrill-e2e-")
		if err != nil {
			cliErr = err
			return
		}
		cliPath = filepath.Join(dir, "firedrill")
		out, err := exec.Command("go", "build", "-o", cliPath, "../cmd/firedrill").CombinedOutput()
		if err != nil {
			cliErr = errors.New(string(out))
		}
	})
	require.NoError(t, cliErr, "build firedrill")
	return cliPath
}

// cliResult is one run of the firedrill command.
type cliResult struct {
	code           int
	stdout, stderr string
}

// firedrill runs the firedrill command with the lab's environment plus env.
func firedrill(t *testing.T, ctx context.Context, env []string, args ...string) cliResult {
	t.Helper()
	cmd := exec.CommandContext(ctx, cliBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		require.NoError(t, err, "run firedrill %v", args)
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}
