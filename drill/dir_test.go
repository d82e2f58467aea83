package drill

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteFileAtomic_FailedWriteKeepsTheRecord: a write that fails (here
// the rename, as a full disk fails the write) leaves the file as it was
// and no temporary file behind.
func TestWriteFileAtomic_FailedWriteKeepsTheRecord(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	require.NoError(t, WriteFileAtomic(path, []byte(`{"result":"pass"}`)))
	// A directory in the temporary file's place: the write fails.
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "report.json.tmp", "x"), 0o755))
	err := WriteFileAtomic(path, []byte(`{"result":"running"}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write "+path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, `{"result":"pass"}`, string(b))

	// A failed rename (a directory in the file's place) removes the
	// temporary file it wrote.
	other := filepath.Join(dir, "other.json")
	require.NoError(t, os.MkdirAll(filepath.Join(other, "x"), 0o755))
	require.Error(t, WriteFileAtomic(other, []byte(`{}`)))
	assert.NoFileExists(t, other+".tmp")
}
