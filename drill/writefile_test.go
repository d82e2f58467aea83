package drill

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/secret"
)

// tmpFiles are the temporary files WriteFileAtomic may leave in dir.
func tmpFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp"))
	require.NoError(t, err)
	return m
}

// TestWriteFileAtomic_FailedWriteKeepsTheFile: a write that fails leaves
// the file as it was and no temporary file behind; one that is refused
// (a directory or a device in the file's place) touches nothing.
func TestWriteFileAtomic_FailedWriteKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	require.NoError(t, WriteFileAtomic(path, []byte(`{"result":"pass"}`)))
	assert.Empty(t, tmpFiles(t, dir))

	// A directory in the file's place is refused, not replaced.
	other := filepath.Join(dir, "other.json")
	require.NoError(t, os.MkdirAll(filepath.Join(other, "x"), 0o755))
	err := WriteFileAtomic(other, []byte(`{}`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "write "+other+": ")
	assert.Contains(t, err.Error(), "not a regular file")
	assert.DirExists(t, filepath.Join(other, "x"))

	// A link to a device: the device stays.
	null := filepath.Join(dir, "null.csv")
	require.NoError(t, os.Symlink(os.DevNull, null))
	require.ErrorContains(t, WriteFileAtomic(null, []byte("a,b\n")), "not a regular file")
	info, err := os.Stat(os.DevNull)
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&os.ModeDevice)

	// A directory that does not exist.
	require.ErrorContains(t, WriteFileAtomic(filepath.Join(dir, "missing", "x.json"), []byte(`{}`)), "write "+filepath.Join(dir, "missing", "x.json")+": ")

	assert.Empty(t, tmpFiles(t, dir))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.JSONEq(t, `{"result":"pass"}`, string(b))
}

// TestWriteFileAtomic_LeavesTheUsersFilesAlone: the temporary file is a
// new one (a FILE.tmp of the user's survives), the file keeps its mode,
// a new file gets the mode os.WriteFile would give it, and a symbolic link
// is written through, not replaced.
func TestWriteFileAtomic_LeavesTheUsersFilesAlone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.csv")

	t.Run("FILE.tmp is the user's", func(t *testing.T) {
		require.NoError(t, os.WriteFile(path+".tmp", []byte("mine"), 0o644))
		require.NoError(t, WriteFileAtomic(path, []byte("a,b\n")))
		b, err := os.ReadFile(path + ".tmp")
		require.NoError(t, err)
		assert.Equal(t, "mine", string(b))
		assert.Empty(t, tmpFiles(t, dir))
	})

	t.Run("a new file gets the default mode", func(t *testing.T) {
		fresh, byWriteFile := filepath.Join(dir, "new.csv"), filepath.Join(dir, "by-writefile.csv")
		require.NoError(t, WriteFileAtomic(fresh, []byte("a,b\n")))
		require.NoError(t, os.WriteFile(byWriteFile, []byte("a,b\n"), 0o644))
		want, err := os.Stat(byWriteFile)
		require.NoError(t, err)
		got, err := os.Stat(fresh)
		require.NoError(t, err)
		assert.Equal(t, want.Mode(), got.Mode(), "0644 less the umask, as os.WriteFile")
	})

	t.Run("an existing file keeps its mode", func(t *testing.T) {
		for _, mode := range []os.FileMode{0o600, 0o640, 0o664, 0o755} {
			require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
			require.NoError(t, os.Chmod(path, mode))
			require.NoError(t, WriteFileAtomic(path, []byte("a,b\n")))
			info, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, mode, info.Mode().Perm())
		}
	})

	t.Run("a symlink is written through", func(t *testing.T) {
		targets := t.TempDir()
		target := filepath.Join(targets, "real.csv")
		require.NoError(t, os.WriteFile(target, []byte("old"), 0o600))
		link := filepath.Join(dir, "link.csv")
		require.NoError(t, os.Symlink(target, link))
		// A relative link to a link, and a link whose target is not there yet.
		rel := filepath.Join(dir, "rel.csv")
		require.NoError(t, os.Symlink("link.csv", rel))
		dangling := filepath.Join(dir, "dangling.csv")
		require.NoError(t, os.Symlink(filepath.Join(targets, "later.csv"), dangling))

		for _, l := range []string{link, rel} {
			require.NoError(t, WriteFileAtomic(l, []byte("via "+filepath.Base(l))))
			fi, err := os.Lstat(l)
			require.NoError(t, err)
			assert.NotZero(t, fi.Mode()&os.ModeSymlink, "%s is still a link", l)
			b, err := os.ReadFile(target)
			require.NoError(t, err)
			assert.Equal(t, "via "+filepath.Base(l), string(b))
			info, err := os.Stat(target)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the target keeps its mode")
		}
		require.NoError(t, WriteFileAtomic(dangling, []byte("new")))
		b, err := os.ReadFile(filepath.Join(targets, "later.csv"))
		require.NoError(t, err)
		assert.Equal(t, "new", string(b))
		fi, err := os.Lstat(dangling)
		require.NoError(t, err)
		assert.NotZero(t, fi.Mode()&os.ModeSymlink)
		assert.Empty(t, tmpFiles(t, dir))
		assert.Empty(t, tmpFiles(t, targets))
	})
}

// TestScrubDir_LeavesLinksAlone: the drill's files are scrubbed in place;
// a link in the drill's directory to a file elsewhere is not followed, as
// WriteFileAtomic would write through it.
func TestScrubDir_LeavesLinksAlone(t *testing.T) {
	dir, elsewhere := t.TempDir(), filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "step.log"), []byte("token s3cr3t-value\n"), 0o644))
	require.NoError(t, os.WriteFile(elsewhere, []byte("token s3cr3t-value\n"), 0o644))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "notes.txt")))
	n, err := scrubDir(dir, secret.New("s3cr3t-value"))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	b, err := os.ReadFile(filepath.Join(dir, "step.log"))
	require.NoError(t, err)
	assert.NotContains(t, string(b), "s3cr3t-value")
	b, err = os.ReadFile(elsewhere)
	require.NoError(t, err)
	assert.Equal(t, "token s3cr3t-value\n", string(b), "the file outside the drill's directory is not rewritten")
}
