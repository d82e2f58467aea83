package kube

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// TestConfig_RefusesDevicesAndFIFOs is the case kubeconfig-devzero.yaml of
// issue 15 (section 6), and its FIFO twin: a kubeconfig, or a file the
// kubeconfig names, that is /dev/zero or a FIFO is refused before client-go
// reads it (which would exhaust memory, or hang past Ctrl-C).
func TestConfig_RefusesDevicesAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	naming := func(field, path string) string {
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		user := "{token: t}"
		cluster := `{server: "https://127.0.0.1:6443"}`
		switch field {
		case "certificate-authority":
			cluster = fmt.Sprintf(`{server: "https://127.0.0.1:6443", certificate-authority: %q}`, path)
		default:
			user = fmt.Sprintf("{%s: %q}", field, path)
		}
		require.NoError(t, os.WriteFile(kc, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: %s}]
users: [{name: u, user: %s}]
contexts: [{name: scratch, context: {cluster: c, user: u}}]
current-context: scratch
`, cluster, user)), 0o600))
		return kc
	}
	tests := []struct {
		name, kubeconfig, refused, kind string
	}{
		{"kubeconfig is /dev/zero", zero, zero, "kubeconfig"},
		{"kubeconfig is a FIFO", fifo, fifo, "kubeconfig"},
		{"certificate-authority is /dev/zero", naming("certificate-authority", zero), zero, "file named by the kubeconfig"},
		{"certificate-authority is a FIFO", naming("certificate-authority", fifo), fifo, "file named by the kubeconfig"},
		{"client-key is a FIFO", naming("client-key", fifo), fifo, "file named by the kubeconfig"},
		{"tokenFile is /dev/zero", naming("tokenFile", zero), zero, "file named by the kubeconfig"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Config(tt.kubeconfig, "")
			require.Error(t, err)
			assert.ErrorIs(t, err, safefile.ErrNotRegular)
			assert.Contains(t, err.Error(), tt.kind+" "+tt.refused+": not a regular file")
		})
	}
	_, _, err := Minify(fifo, "scratch")
	assert.ErrorIs(t, err, safefile.ErrNotRegular)
}
