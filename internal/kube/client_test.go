package kube

import (
	"fmt"
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

func TestConfig(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, []byte(twoContexts), 0o600))

	rc, err := Config(kc, "scratch")
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:7443", rc.Host)
	_, err = Config(kc, "nope")
	assert.Error(t, err)
}

const twoUsers = `apiVersion: v1
kind: Config
clusters:
- {name: prod, cluster: {server: "https://10.0.0.1:6443"}}
- {name: scratch, cluster: {server: "https://127.0.0.1:7443", certificate-authority: ca.crt}}
users:
- {name: admin, user: {token: prod-admin-token-aaaa}}
- {name: drill, user: {token: scratch-drill-token-bbbb}}
contexts:
- {name: prod, context: {cluster: prod, user: admin}}
- {name: scratch, context: {cluster: scratch, user: drill, namespace: shop}}
current-context: %s
`

func TestMinify_OnlyTheCheckedContext(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"), 0o600))
	// The scenario's context is the current one: the case where steps
	// used the user's live file.
	require.NoError(t, os.WriteFile(kc, []byte(fmt.Sprintf(twoUsers, "scratch")), 0o600))

	path, remove, err := Minify(kc, "scratch")
	require.NoError(t, err)
	assert.NotEqual(t, kc, path, "a copy, also when the context is already current")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), "prod", "no other context, cluster or user")
	cfg, err := clientcmd.Load(b)
	require.NoError(t, err)
	assert.Equal(t, "scratch", cfg.CurrentContext)
	require.Len(t, cfg.Contexts, 1)
	require.Len(t, cfg.Clusters, 1)
	require.Len(t, cfg.AuthInfos, 1)
	assert.Equal(t, "https://127.0.0.1:7443", cfg.Clusters["scratch"].Server)
	assert.Equal(t, "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n", string(cfg.Clusters["scratch"].CertificateAuthorityData), "the CA file is inlined")
	assert.Equal(t, "scratch-drill-token-bbbb", cfg.AuthInfos["drill"].Token)
	assert.Equal(t, "shop", cfg.Contexts["scratch"].Namespace)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	st, err = os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "a private directory")

	// Someone switches context in another terminal mid-drill.
	require.NoError(t, os.WriteFile(kc, []byte(fmt.Sprintf(twoUsers, "prod")), 0o600))
	rc, err := Config(path, "")
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:7443", rc.Host, "the drill's kubeconfig still reaches the scratch cluster")

	remove()
	_, err = os.Stat(filepath.Dir(path))
	assert.True(t, os.IsNotExist(err))

	_, _, err = Minify(kc, "nope")
	assert.ErrorContains(t, err, `no context "nope"`)
	current, remove, err := Minify(kc, "")
	require.NoError(t, err)
	defer remove()
	rc, err = Config(current, "")
	require.NoError(t, err)
	assert.Equal(t, "https://10.0.0.1:6443", rc.Host, "no context: the current one")
}

func TestCredentials(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kc, []byte(fmt.Sprintf(twoUsers, "scratch")), 0o600))
	rc, err := Config(kc, "prod")
	require.NoError(t, err)
	values, key := Credentials(rc)
	assert.Contains(t, values, "prod-admin-token-aaaa")
	assert.Empty(t, key)
}
