package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// auditorBlocks are the shell blocks of the README's Auditors section an
// auditor runs without firedrill, in order; those that call firedrill or
// cosign (not installed here) are left out.
func auditorBlocks(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Auditors\n")
	require.True(t, ok, "README has an Auditors section")
	section, _, _ = strings.Cut(section, "\n## ")
	var blocks []string
	for _, part := range strings.Split(section, "```sh\n")[1:] {
		block, _, ok := strings.Cut(part, "```")
		require.True(t, ok, "a closed code block")
		if strings.Contains(block, "firedrill ") || strings.Contains(block, "cosign ") {
			continue
		}
		blocks = append(blocks, block)
	}
	return blocks
}

// TestReadme_AuditorCommandsAsWritten runs the README's commands for
// checking a bundle without firedrill, as written (BUNDLE and DRILL_ID
// their placeholders), in a directory holding a bundle and the public key
// as an auditor receives them; then again on a changed file, which they
// must reject.
func TestReadme_AuditorCommandsAsWritten(t *testing.T) {
	for _, tool := range []string{"bash", "tar", "openssl", "jq", "sha256sum", "base64", "stat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: the README's auditor commands need it", tool)
		}
	}
	blocks := auditorBlocks(t)
	require.Len(t, blocks, 2, "the manifest check and the DSSE check with openssl")
	require.Contains(t, blocks[0], "tar xzf BUNDLE && cd DRILL_ID")

	state := writeHistory(t)
	key, pub := keyPair(t)
	const id = "fd-20261101-090000-aaaa"
	auditor := t.TempDir()
	bundle := filepath.Join(auditor, id+".evidence.tar.gz")
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "evidence", "export", id, "--key", key, "-f", bundle)
	require.Equal(t, ExitOK, res.code, res.String())
	b, err := os.ReadFile(pub)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(auditor, "firedrill-evidence.pub"), b, 0o644))

	script := strings.Join(blocks, "\n")
	script = strings.ReplaceAll(strings.ReplaceAll(script, "BUNDLE", filepath.Base(bundle)), "DRILL_ID", id)
	sh := func() (string, error) {
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
		cmd.Dir = auditor
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := sh()
	require.NoError(t, err, "%s\n%s", script, out)
	assert.Equal(t, 2, strings.Count(out, "Signature Verified Successfully"), out)
	assert.Contains(t, out, "report.json: OK")

	// The same commands over a changed report.json fail (without the tar
	// step, which would extract the bundle again over the change).
	require.NoError(t, os.WriteFile(filepath.Join(auditor, id, "report.json"), []byte(`{"result":"pass"}`), 0o644))
	script = strings.Replace(script, "tar xzf "+filepath.Base(bundle)+" && ", "", 1)
	out, err = sh()
	assert.Error(t, err, "a changed report.json must fail the README's check:\n%s", out)
	assert.Contains(t, out, "report.json: FAILED")
}
