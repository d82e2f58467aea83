package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A credential of firedrill's environment printed anywhere, on stdout or
// on stderr, is replaced: the command's output goes through its secret set.
func TestRun_OutputGoesThroughTheSecretPolicy(t *testing.T) {
	const key = "wjalrxutnfemi-k7mdeng-bpxrficy"
	env := map[string]string{"AWS_SECRET_ACCESS_KEY": key}

	res := run(t, context.Background(), env, "plan", key)
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, `Error: no scenario named "[redacted]"`, "an error that echoes its input")
	assert.NotContains(t, res.String(), key)

	file := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(file, []byte("apiVersion: firedrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: UPPER-"+key+"}\n"), 0o644))
	res = run(t, context.Background(), env, "validate", file)
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stdout, `"UPPER-[redacted]" is not a valid name`, "a validation message on stdout")
	assert.NotContains(t, res.String(), key)
}
