//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/scenarios"
)

func writeScenario(t *testing.T, sc *scenarios.Scenario) string {
	t.Helper()
	data, err := scenarios.MarshalYAML(sc)
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), sc.Metadata.Name+".yaml")
	require.NoError(t, os.WriteFile(file, data, 0o600))
	return file
}

// TestRestore_CLIExitCodeWhenOrderFails: `firedrill restore` of a one-phase
// scenario exits 3 and its JSON says why.
func TestRestore_CLIExitCodeWhenOrderFails(t *testing.T) {
	l := lab(t)
	bin := cliBinary(t)
	ctx := testContext(t, 5*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	sc, targets := labScenario(t, l, "rc")
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	sc.Spec.Target.Restore.Phases = []scenarios.Phase{{Name: "everything"}}
	sc.Spec.Cleanup.Policy = scenarios.CleanupAlways

	cmd := exec.CommandContext(ctx, bin, "restore", writeScenario(t, sc), "-o", "json")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want exit 3, got %v\n%s", err, stderr.String())
	assert.Equal(t, 3, ee.ExitCode())
	var res struct {
		DrillID       string `json:"drill_id"`
		OrderVerified bool   `json:"order_verified"`
		Restored      bool
		Restores      []struct{ Status string }
	}
	require.NoError(t, json.Unmarshal(out, &res), "%s", out)
	assert.False(t, res.OrderVerified)
	assert.False(t, res.Restored)
	require.Len(t, res.Restores, 1)
	assert.Equal(t, "PartiallyFailed", res.Restores[0].Status)
	assert.Contains(t, string(out), l.WebhookDeny)
	assert.Contains(t, stderr.String(), "Error: the restore failed")
	assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, res.DrillID, targets)
}

// TestRestore_InterruptCleansUp: Ctrl-C during the restore still removes
// what the drill created (teardown on a context that survives it).
func TestRestore_InterruptCleansUp(t *testing.T) {
	l := lab(t)
	bin := cliBinary(t)
	ctx := testContext(t, 5*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	sc, targets := labScenario(t, l, "ri")
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })

	cmd := exec.CommandContext(ctx, bin, "restore", writeScenario(t, sc))
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var log strings.Builder
	id := ""
	sent := false
	sc2 := bufio.NewScanner(stderr)
	for sc2.Scan() {
		line := sc2.Text()
		log.WriteString(line + "\n")
		// "restore 3/3 workloads: New" names the last Restore's start.
		if !sent && workloadsPhaseStarted.MatchString(line) {
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			sent = true
		}
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want exit 130, got %v\n%s", err, log.String())
	assert.Equal(t, 130, ee.ExitCode(), "%s", log.String())
	assert.True(t, sent, "never reached the workloads phase:\n%s", log.String())
	assert.Contains(t, log.String(), "cleanup: deleted")
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.HasPrefix(l, "cleanup: deleted restore/") {
			id = strings.TrimSuffix(strings.SplitN(strings.TrimPrefix(l, "cleanup: deleted restore/"), ",", 2)[0], "-network-policies")
		}
	}
	require.NotEmpty(t, id, "drill id from the cleanup line:\n%s", log.String())
	assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, id, targets)
}
