package scenarios

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAsWritten_PathsAsTheFileWroteThem: scenarios show prints a file an
// author can copy anywhere: "~" and relative paths as written, defaults
// filled in. Loaded again beside the original, it is the same scenario;
// the loaded scenario itself keeps its resolved paths.
func TestAsWritten_PathsAsTheFileWroteThem(t *testing.T) {
	env := testEnv()
	env.HomeDir = "/home/drill"
	sc, err := LoadFile(context.Background(), env, "testdata/valid-full.yaml")
	require.NoError(t, err)
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)

	w := sc.AsWritten()
	s := w.Spec
	assert.Equal(t, "/etc/firedrill/source.kubeconfig", s.Source.Kubeconfig)
	assert.Equal(t, "ca.pem", s.Storage.Primary.CAFile)
	assert.Equal(t, "~/.aws/credentials", s.Storage.Copies[1].Credentials.File)
	assert.Equal(t, "runbook.md", s.Runbook.File)
	assert.Equal(t, LockCompliance, s.Evidence.Push.LockMode, "defaults stay filled in")

	assert.Equal(t, filepath.Join(dir, "ca.pem"), sc.Spec.Storage.Primary.CAFile, "the loaded scenario keeps its resolved paths")
	assert.Equal(t, "/home/drill/.aws/credentials", sc.Spec.Storage.Copies[1].Credentials.File)
	assert.Equal(t, filepath.Join(dir, "runbook.md"), sc.Spec.Runbook.File)

	data, err := MarshalYAML(w)
	require.NoError(t, err)
	again, errs, err := parseFile(env, "testdata/copy-of-valid-full.yaml", data)
	require.NoError(t, err)
	require.Empty(t, errs, "%s", data)
	assert.Equal(t, sc.Spec, again.Spec, "the printed file, beside the original, loads to the same scenario")
}
