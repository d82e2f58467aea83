package kube

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"
)

const twoContexts = `apiVersion: v1
kind: Config
clusters:
- {name: a, cluster: {server: "https://127.0.0.1:6443"}}
- {name: b, cluster: {server: "https://127.0.0.1:7443"}}
users: [{name: u, user: {token: t}}]
contexts:
- {name: source, context: {cluster: a, user: u}}
- {name: scratch, context: {cluster: b, user: u}}
current-context: source
`

func TestConfigAndPinContext(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, []byte(twoContexts), 0o600))

	rc, err := Config(kc, "scratch")
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:7443", rc.Host)
	_, err = Config(kc, "nope")
	assert.Error(t, err)

	path, remove, err := PinContext(kc, "scratch")
	require.NoError(t, err)
	assert.NotEqual(t, kc, path)
	cfg, err := clientcmd.LoadFromFile(path)
	require.NoError(t, err)
	assert.Equal(t, "scratch", cfg.CurrentContext)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	remove()
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err))

	same, _, err := PinContext(kc, "source")
	require.NoError(t, err)
	assert.Equal(t, kc, same, "already current: no copy")
	_, _, err = PinContext(kc, "nope")
	assert.Error(t, err)
}
