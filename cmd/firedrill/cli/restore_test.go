package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun_RestoreUsage(t *testing.T) {
	r := run(t, context.Background(), nil, "restore")
	assert.Equal(t, ExitUsage, r.code, "%s", r)
	assert.Contains(t, r.stderr, "restore needs one scenario name or file")
	r = run(t, context.Background(), nil, "restore", "x", "-o", "xml")
	assert.Equal(t, ExitUsage, r.code, "%s", r)
	assert.Contains(t, r.stderr, `invalid -o "xml": want one of text, json, yaml`)
}

func TestRun_RestoreUnreachableTargetIsAnError(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600))
	sc := filepath.Join(dir, "s.yaml")
	require.NoError(t, os.WriteFile(sc, []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: s}
spec:
  disaster: {summary: s, lost: [sourceCluster], detection: d, lead: l}
  objectives: {rto: 1h, rpo: 1h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: "http://127.0.0.1:1", bucket: backups, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: `+kc+`}
`), 0o600))
	r := run(t, context.Background(), nil, "restore", sc, "-o", "json")
	assert.Equal(t, ExitError, r.code, "%s", r)
	assert.Contains(t, r.stderr, "Error: read namespace kube-system of target https://127.0.0.1:1")
	assert.Empty(t, r.stdout)
}
