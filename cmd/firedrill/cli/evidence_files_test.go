package cli

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The files evidence commands read are read as every other file (issue 15,
// section 6): a FIFO or a device as the bundle, the public key or the
// signing key is refused at once, naming the file, as a read error (exit
// 1), never a hang, never an out-of-memory, never reported as tampering.
func TestEvidence_DevicesAndFIFOsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "bundle.fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	pub := filepath.Join(dir, "key.pub")
	require.NoError(t, os.Symlink("/dev/zero", pub))
	hostile, err := filepath.Abs(filepath.Join("..", "..", "..", "internal", "evidence", "testdata", "hostile"))
	require.NoError(t, err)
	good := filepath.Join(hostile, "firedrill-evidence.pub")
	require.FileExists(t, good)
	bundle := filepath.Join(hostile, "00-good.tar.gz")

	for name, tc := range map[string]struct {
		args    []string
		refused string
	}{
		"bundle is a FIFO":        {[]string{"evidence", "verify", fifo, "--public-key", good}, "evidence bundle " + fifo + ": not a regular file"},
		"bundle is a directory":   {[]string{"evidence", "verify", dir, "--public-key", good}, "evidence bundle " + dir + ": not a regular file"},
		"public key is /dev/zero": {[]string{"evidence", "verify", bundle, "--public-key", pub}, "public key " + pub + ": not a regular file"},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got := run(t, ctx, nil, tc.args...)
			assert.Equal(t, ExitError, got.code, "%s", got)
			assert.Contains(t, got.stderr, tc.refused)
			assert.NotContains(t, got.stdout+got.stderr, "INTACT")
		})
	}
}
