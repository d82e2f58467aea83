package drill

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

// readOnly makes dir read-only for this process: mode 0555 for a user,
// a read-only bind mount for root (whom modes do not stop). It skips the
// test where neither is possible.
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		require.NoError(t, os.Chmod(dir, 0o555))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("mount", "--bind", "-o", "ro", dir, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only as root: %v: %s", dir, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	if f, err := os.CreateTemp(dir, "probe"); err == nil {
		f.Close()
		_ = os.Remove(f.Name())
		t.Skipf("the bind mount of %s is not read-only", dir)
	}
}

// TestKeepEvidence_ReadOnlyDrillDir: an auditor exporting from a read-only
// copy of the state directory gets the bundle elsewhere (a file, standard
// output, a push) without an error, told the export is not recorded; a
// bundle for the read-only directory itself is refused before anything
// is written or pushed.
func TestKeepEvidence_ReadOnlyDrillDir(t *testing.T) {
	ctx := context.Background()
	_, dir := runDrill(t, ctx, testScenario(t, "4h"), &fakeRecovery{}, &fakeProtection{}, nil)
	d, err := OpenDir(filepath.Dir(filepath.Dir(dir)), "fd-test")
	require.NoError(t, err)
	before, err := os.ReadDir(d.Path)
	require.NoError(t, err)
	readOnly(t, d.Path)
	st := memstore.New()
	require.NoError(t, st.CreateBucket(ctx, "evidence", true))
	target := &EvidenceTarget{Store: st, Bucket: "evidence", Prefix: "team"}

	_, err = KeepEvidence(ctx, d, KeepOptions{ExportOptions: *testKey(t), Target: target})
	require.ErrorIs(t, err, ErrDrillDirReadOnly)
	assert.Empty(t, st.Writes(), "nothing pushed")

	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	k, err := KeepEvidence(ctx, d, KeepOptions{ExportOptions: *testKey(t), Out: out, Target: target})
	require.NoError(t, err)
	assert.Equal(t, out, k.File)
	assert.Contains(t, k.NotRecorded, "the drill directory cannot be written")
	require.NotNil(t, k.Pushed, "the push still happens")
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, k.Size, len(b))

	var stdout bytes.Buffer
	k, err = KeepEvidence(ctx, d, KeepOptions{ExportOptions: *testKey(t), Out: "-", W: &stdout})
	require.NoError(t, err)
	assert.Equal(t, k.Size, stdout.Len())
	assert.NotEmpty(t, k.NotRecorded)

	after, err := os.ReadDir(d.Path)
	require.NoError(t, err)
	assert.Equal(t, len(before), len(after), "the drill directory is unchanged")
	_, err = os.Stat(d.File(EvidenceRecordFile))
	assert.ErrorIs(t, err, os.ErrNotExist)
}
