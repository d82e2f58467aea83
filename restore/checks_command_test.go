package restore

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/procenv/proctest"
)

func TestCommandCheck_TimeoutEndsItWhileAChildHoldsItsOutput(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	c := Check{Name: "hangs", Timeout: 300 * time.Millisecond,
		Command: &CommandCheck{Run: []string{"sh", "-c", `sleep 100000 & echo $! > ` + pidfile + `; wait`}}}
	r := runCheck(context.Background(), checkEnv{now: time.Now}, c)
	assert.False(t, r.Passed)
	assert.Contains(t, r.Message, "not passed within 300ms")
	proctest.WaitGone(t, readPid(t, pidfile))
}

func TestCommandCheck_InterruptEndsIt(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	ctx, cancel := context.WithCancel(context.Background())
	c := Check{Name: "hangs", Timeout: time.Hour,
		Command: &CommandCheck{Run: []string{"sh", "-c", `sleep 100000 & echo $! > ` + pidfile + `; wait`}}}
	go func() {
		// Ctrl-C once the command has started its child.
		for {
			if _, err := os.Stat(pidfile); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	r := runCheck(ctx, checkEnv{now: time.Now}, c)
	assert.False(t, r.Passed)
	proctest.WaitGone(t, readPid(t, pidfile))
}

func TestCommandCheck_EnvironmentHasNoCredentials(t *testing.T) {
	for _, name := range []string{"FIREDRILL_EVIDENCE_KEY_FILE", "AWS_SECRET_ACCESS_KEY", "SHOP_S3_SECRET", "FIREDRILL_NOTIFY_WEBHOOK", "KUBECONFIG"} {
		t.Setenv(name, "inherited-"+name)
	}
	out := filepath.Join(t.TempDir(), "env")
	c := Check{Name: "env", Timeout: 5 * time.Second, Command: &CommandCheck{Run: []string{"sh", "-c", "env > " + out}}}
	r := runCheck(context.Background(), checkEnv{now: time.Now, kubeconfig: "/private/kubeconfig", context: "scratch"}, c)
	require.True(t, r.Passed, r.Message)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "inherited-")
	assert.Contains(t, string(b), "KUBECONFIG=/private/kubeconfig\n")
	assert.Contains(t, string(b), "FIREDRILL_TARGET_CONTEXT=scratch\n")
}

// A command check runs in a private directory, never firedrill's own
// working directory (the drill directory, a checkout), which it could
// otherwise read or rewrite; the directory is gone when the check ends.
func TestCommandCheck_RunsInAPrivateDirectory(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pwd")
	c := Check{Name: "pwd", Timeout: 5 * time.Second, Command: &CommandCheck{Run: []string{"sh", "-c", "pwd > " + out}}}
	r := runCheck(context.Background(), checkEnv{now: time.Now}, c)
	require.True(t, r.Passed, r.Message)
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	dir := strings.TrimSpace(string(b))
	wd, err := os.Getwd()
	require.NoError(t, err)
	assert.NotEqual(t, wd, dir)
	assert.Contains(t, filepath.Base(dir), "firedrill-check-")
	_, err = os.Stat(dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "removed after the check")
}

func readPid(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	return pid
}
