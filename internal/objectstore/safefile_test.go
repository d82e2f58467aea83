package objectstore

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// TestNew_RefusesDevicesAndFIFOs is the case cafile-devzero.yaml of issue
// 15 (section 6), and its FIFO twin, for the CA file and the shared
// credentials file: refused before anything is read.
func TestNew_RefusesDevicesAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	zero := filepath.Join(dir, "zero")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"caFile is /dev/zero", Config{CAFile: zero}, "CA file " + zero + ": not a regular file: it is a character device"},
		{"caFile is a FIFO", Config{CAFile: fifo}, "CA file " + fifo + ": not a regular file: it is a FIFO"},
		{"credentials file is /dev/zero", Config{Credentials: &Credentials{File: zero}}, "credentials file " + zero + ": not a regular file"},
		{"credentials file is a FIFO", Config{Credentials: &Credentials{File: fifo}}, "credentials file " + fifo + ": not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Endpoint = "https://127.0.0.1:1"
			_, err := New(context.Background(), tt.cfg)
			require.Error(t, err)
			assert.ErrorIs(t, err, safefile.ErrNotRegular)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestNew_NeverRepeatsASecretWrittenAsAVariableName is the case
// secret-as-envname.yaml of issue 15 (section 1): a secret written where the
// name of a variable belongs is not echoed by the "not set" error.
func TestNew_NeverRepeatsASecretWrittenAsAVariableName(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1"
	_, err := New(context.Background(), Config{Endpoint: "http://127.0.0.1:1",
		Credentials: &Credentials{AccessKeyIDEnv: "AK", SecretAccessKeyEnv: secret},
		Getenv:      envOf(map[string]string{"AK": "id"})})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "(secret access key) is empty or not set")
	assert.NotContains(t, err.Error(), secret)
}
