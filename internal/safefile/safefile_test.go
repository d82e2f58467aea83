package safefile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// hostile makes, in a fresh directory, each kind of path that must be
// refused without being read: a symlink to /dev/zero, a FIFO nobody writes
// to (opening it for reading would wait forever), a directory, and a file
// one byte over the limit of kind.
func hostile(t *testing.T, kind safefile.Kind) map[string]string {
	t.Helper()
	dir := t.TempDir()
	paths := map[string]string{
		"devzero": filepath.Join(dir, "zero"),
		"fifo":    filepath.Join(dir, "fifo"),
		"dir":     filepath.Join(dir, "sub"),
		"large":   filepath.Join(dir, "large"),
	}
	require.NoError(t, os.Symlink("/dev/zero", paths["devzero"]))
	require.NoError(t, syscall.Mkfifo(paths["fifo"], 0o600))
	require.NoError(t, os.Mkdir(paths["dir"], 0o700))
	require.NoError(t, os.WriteFile(paths["large"], make([]byte, kind.MaxBytes+1), 0o600))
	return paths
}

func TestReadFile_RefusesWhatIsNotASmallRegularFile(t *testing.T) {
	kind := safefile.Kind{Name: "CA file", MaxBytes: 1024}
	paths := hostile(t, kind)
	tests := []struct {
		path string
		want error
		msg  string
	}{
		{paths["devzero"], safefile.ErrNotRegular, "CA file " + paths["devzero"] + ": not a regular file: it is a character device; firedrill reads only regular files"},
		{paths["fifo"], safefile.ErrNotRegular, "CA file " + paths["fifo"] + ": not a regular file: it is a FIFO (named pipe); firedrill reads only regular files"},
		{paths["dir"], safefile.ErrNotRegular, "it is a directory"},
		{paths["large"], safefile.ErrTooLarge, "too large: larger than 1024 bytes, the most firedrill reads of a CA file"},
		{filepath.Join(t.TempDir(), "missing"), fs.ErrNotExist, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			data, err := safefile.ReadFile(tt.path, kind)
			require.Error(t, err)
			assert.Nil(t, data)
			assert.ErrorIs(t, err, tt.want)
			assert.Contains(t, err.Error(), tt.msg)
			var se *safefile.Error
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tt.path, se.Path)
			assert.Equal(t, 1, strings.Count(err.Error(), tt.path), "the path is named once")

			assert.ErrorIs(t, safefile.Check(tt.path, kind), tt.want, "Check refuses what ReadFile refuses")
		})
	}
}

func TestReadFile_ReadsARegularFileUpToTheLimit(t *testing.T) {
	kind := safefile.Kind{Name: "runbook", MaxBytes: 5}
	dir := t.TempDir()
	p := filepath.Join(dir, "rb.md")
	require.NoError(t, os.WriteFile(p, []byte("12345"), 0o600))
	data, err := safefile.ReadFile(p, kind)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(data))
	require.NoError(t, safefile.Check(p, kind))

	// A symlink to a regular file is that file.
	link := filepath.Join(dir, "link.md")
	require.NoError(t, os.Symlink(p, link))
	data, err = safefile.ReadFile(link, kind)
	require.NoError(t, err)
	assert.Equal(t, "12345", string(data))
}
