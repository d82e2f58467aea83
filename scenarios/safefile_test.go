package scenarios

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

// The cases of issue 15, section 6: a device or a FIFO where firedrill
// reads a scenario or a runbook is refused, naming the file (and the
// field), instead of exhausting memory or hanging past Ctrl-C. The devices
// and FIFOs are made at test time; only the scenarios are committed.

func TestLoadFile_RefusesDevicesAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o600))
	env := Env{WorkDir: dir}
	for file, what := range map[string]string{"zero.yaml": "a character device", "pipe.yaml": "a FIFO (named pipe)"} {
		t.Run(file, func(t *testing.T) {
			_, err := LoadFile(context.Background(), env, file)
			require.Error(t, err)
			assert.ErrorIs(t, err, safefile.ErrNotRegular)
			assert.EqualError(t, err, "read scenario file "+file+": not a regular file: it is "+what+"; firedrill reads only regular files")
			_, err = Find(context.Background(), env, file)
			assert.ErrorIs(t, err, safefile.ErrNotRegular)
		})
	}
}

// TestFind_DeviceInScenariosDirDoesNotStopAnother: the search reads every
// file of ./scenarios/ to learn their names; a /dev/zero symlink or a FIFO
// there is an invalid entry, and the scenario asked for is still found.
func TestFind_DeviceInScenariosDirDoesNotStopAnother(t *testing.T) {
	root := writeFiles(t, map[string]string{"scenarios/drill.yaml": scenarioYAML(t, "drill")})
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(root, "scenarios", "zero.yaml")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "scenarios", "pipe.yaml"), 0o600))
	env := Env{WorkDir: root, Catalog: fakeCatalog(t)}

	sc, err := Find(context.Background(), env, "drill")
	require.NoError(t, err)
	assert.Equal(t, "drill", sc.Metadata.Name)

	entries, err := List(context.Background(), env)
	require.NoError(t, err)
	bad := map[string]string{}
	for _, e := range entries {
		if e.Err != nil {
			bad[e.File] = e.Err.Error()
		}
	}
	assert.Equal(t, map[string]string{
		filepath.Join("scenarios", "zero.yaml"): "read scenario file scenarios/zero.yaml: not a regular file: it is a character device; firedrill reads only regular files",
		filepath.Join("scenarios", "pipe.yaml"): "read scenario file scenarios/pipe.yaml: not a regular file: it is a FIFO (named pipe); firedrill reads only regular files",
	}, bad)
}

// TestLoad_RunbookFileNotRegular is rb-devzero.yaml and rb-fifo.yaml: the
// runbook is refused at validation, at its line and field.
func TestLoad_RunbookFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"rb-devzero.yaml", "rb-fifo.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "security", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), data, 0o600))
	}
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "rb.fifo"), 0o600))
	for file, want := range map[string]string{
		"rb-devzero.yaml": "runbook /dev/zero: not a regular file: it is a character device",
		"rb-fifo.yaml":    "runbook rb.fifo: not a regular file: it is a FIFO (named pipe)",
	} {
		t.Run(file, func(t *testing.T) {
			_, err := LoadFile(context.Background(), Env{WorkDir: dir}, file)
			var verrs ValidationErrors
			require.ErrorAs(t, err, &verrs)
			require.Len(t, verrs, 1)
			assert.Equal(t, 32, verrs[0].Line)
			assert.Equal(t, "spec.runbook.file", verrs[0].Path)
			assert.Contains(t, verrs[0].Message, want)
		})
	}
}
