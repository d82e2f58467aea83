package drill

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func TestFingerprintOf(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := func(server string) string {
		p := filepath.Join(dir, "kubeconfig")
		require.NoError(t, os.WriteFile(p, []byte(`apiVersion: v1
kind: Config
clusters: [{name: scratch, cluster: {server: `+server+`}}]
users: [{name: u, user: {token: not-part-of-the-fingerprint}}]
contexts: [{name: scratch, context: {cluster: scratch, user: u}}]
current-context: scratch
`), 0o600))
		return p
	}
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(restoreScenario))
	require.NoError(t, err)
	sc.Spec.Target.Kubeconfig, sc.Spec.Target.Context = kubeconfig("https://scratch.example:6443"), ""
	rb := &runbooks.Runbook{Markdown: []byte("# Runbook\n")}

	f := FingerprintOf(sc, rb)
	assert.Equal(t, evidence.SHA256Hex([]byte(restoreScenario)), f.ScenarioSHA256, "the file's bytes")
	assert.Equal(t, evidence.SHA256Hex([]byte("# Runbook\n")), f.RunbookSHA256)
	assert.Equal(t, evidence.SHA256Hex([]byte("apiserver=https://scratch.example:6443\nscratch=firedrill.dev/scratch=true\n")), f.TargetSHA256)

	// Another token is the same target; another server is not.
	sc.Spec.Target.Kubeconfig = kubeconfig("https://scratch.example:6443")
	assert.Equal(t, f.TargetSHA256, FingerprintOf(sc, rb).TargetSHA256)
	sc.Spec.Target.Kubeconfig = kubeconfig("https://other.example:6443")
	assert.NotEqual(t, f.TargetSHA256, FingerprintOf(sc, rb).TargetSHA256)

	// No runbook, an unreadable kubeconfig: not known.
	sc.Spec.Target.Kubeconfig = filepath.Join(dir, "missing")
	assert.Equal(t, Fingerprint{ScenarioSHA256: f.ScenarioSHA256}, FingerprintOf(sc, nil))
}
