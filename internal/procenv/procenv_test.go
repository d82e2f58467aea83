package procenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/procenv/proctest"
)

func TestFilter_OnlyBaseVariablesThenExtra(t *testing.T) {
	env := map[string]string{"PATH": "/bin", "HOME": "/home/d", "TZ": "UTC",
		"FIREDRILL_EVIDENCE_KEY": "-----BEGIN PRIVATE KEY-----", "FIREDRILL_EVIDENCE_KEY_FILE": "/k",
		"AWS_SECRET_ACCESS_KEY": "s", "SHOP_S3_SECRET": "s", "FIREDRILL_NOTIFY_WEBHOOK": "https://hooks/T/B/x",
		"FIREDRILL_PUSHGATEWAY": "https://u:p@pgw"}
	got := Filter(func(k string) string { return env[k] }, "KUBECONFIG=/x")
	assert.Equal(t, []string{"PATH=/bin", "HOME=/home/d", "TZ=UTC", "KUBECONFIG=/x"}, got)
}

// started runs script under Run and returns the pid the script wrote to
// the file named by $PIDFILE.
func runScript(t *testing.T, ctx context.Context, script string) (pid int, out string, err error) {
	t.Helper()
	pidfile := filepath.Join(t.TempDir(), "pid")
	cmd := exec.Command("sh", "-c", script)
	cmd.Env = Child("PIDFILE=" + pidfile)
	tail := &Tail{Max: 1 << 10}
	err = Run(ctx, cmd, tail)
	b, rerr := os.ReadFile(pidfile)
	require.NoError(t, rerr, "the script wrote its child's pid")
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, perr)
	return pid, tail.String(), err
}

func TestRun_ExitZeroPassesAndEndsWhatItLeftBehind(t *testing.T) {
	for name, script := range map[string]string{
		"child holds the output":    `sleep 100 & echo $! > "$PIDFILE"; echo done`,
		"child's output redirected": `sleep 100 >/dev/null 2>&1 & echo $! > "$PIDFILE"; echo done`,
	} {
		t.Run(name, func(t *testing.T) {
			pid, out, err := runScript(t, context.Background(), script)
			assert.NoError(t, err, "the program exited 0")
			assert.Equal(t, "done\n", out)
			proctest.WaitGone(t, pid)
		})
	}
}

func TestRun_TimeoutKillsTheGroupWhileAChildHoldsTheOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	pid, _, err := runScript(t, ctx, `sleep 100 & echo $! > "$PIDFILE"; wait`)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "killed")
	assert.ErrorIs(t, ctx.Err(), context.DeadlineExceeded)
	proctest.WaitGone(t, pid)
}

func TestRun_ExitStatusAndOutput(t *testing.T) {
	cmd := exec.Command("sh", "-c", "echo out; echo err >&2; exit 3")
	tail := &Tail{Max: 6}
	err := Run(context.Background(), cmd, tail)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 3, exit.ExitCode())
	assert.Equal(t, "t\nerr\n", tail.String(), "stdout and stderr in one stream, the last Max bytes")
	assert.True(t, tail.Truncated)
}
