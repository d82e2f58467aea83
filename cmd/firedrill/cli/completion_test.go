package cli

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// complete runs `firedrill __complete WORDS...` as the completion scripts
// do and returns the candidates.
func complete(t *testing.T, env map[string]string, words ...string) []string {
	t.Helper()
	res := run(t, context.Background(), env, append([]string{completeCommand}, words...)...)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Empty(t, res.stderr)
	if res.stdout == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
}

// TestCompletion_Candidates: what a partial command line completes to:
// commands, flags, scenario names (from the scenario directories), drill
// ids (from the state directory, newest first) and the values of -o and
// --log-format (issue 19, item 3).
func TestCompletion_Candidates(t *testing.T) {
	state := writeHistory(t)
	env := map[string]string{"FIREDRILL_STATE_DIR": state}
	ids := []string{"fd-20261103-090000-cccc", "fd-20261102-090000-bbbb", "fd-20261101-090000-aaaa"}

	assert.Equal(t, []string{"plan"}, complete(t, env, "pl"))
	assert.Equal(t, []string{"scenarios", "schedule"}, complete(t, env, "sc"))
	hist := complete(t, env, "history", "")
	require.Greater(t, len(hist), 2)
	assert.Equal(t, []string{"show", "prune"}, hist[:2], "subcommands, then scenarios")
	assert.Contains(t, hist, "region-loss")
	assert.Equal(t, []string{"region-loss"}, complete(t, env, "plan", "region"))
	assert.Equal(t, []string{"region-loss"}, complete(t, env, "--log-level", "debug", "run", "reg"))
	assert.Equal(t, ids, complete(t, env, "history", "show", ""))
	assert.Equal(t, ids[1:2], complete(t, nil, "history", "show", "--state-dir", state, "fd-20261102"))
	assert.Equal(t, ids[:1], complete(t, env, "evidence", "export", "fd-20261103"))
	assert.Equal(t, []string{"table", "json", "yaml", "wide"}, complete(t, env, "history", "-o", ""))
	assert.Equal(t, []string{"json"}, complete(t, env, "plan", "region-loss", "--output", "j"))
	assert.Equal(t, []string{"text", "json"}, complete(t, env, "--log-format", ""))
	assert.Equal(t, []string{"--keep"}, complete(t, env, "history", "prune", "--k"))
	assert.Contains(t, complete(t, env, "history", "prune", "--"), "--log-format", "global flags too")
	assert.Nil(t, complete(t, env, "plan", "region-loss", ""), "one scenario only")
	assert.Nil(t, complete(t, env, "evidence", "verify", "--public-key", ""), "the shell completes file names")
	assert.Nil(t, complete(t, env, "validate", ""), "files")
}

// TestCompletion_Scripts: each shell's script asks `firedrill __complete`;
// the bash one, run in bash, passes the words up to the cursor and offers
// what it prints, filtered by the word under the cursor.
func TestCompletion_Scripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		res := run(t, context.Background(), nil, "completion", sh)
		require.Equal(t, ExitOK, res.code, res.String())
		assert.Contains(t, res.stdout, "__complete", sh)
	}
	res := run(t, context.Background(), nil, "completion", "powershell")
	assert.Equal(t, ExitUsage, res.code, res.String())
	assert.Contains(t, res.stderr, "completion needs one shell: bash, zsh, fish")

	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to run the script in")
	}
	script := run(t, context.Background(), nil, "completion", "bash").stdout
	// firedrill is a function here: it records its arguments and answers
	// as `firedrill __complete` would.
	prog := script + `
firedrill() { printf '%s|' "$@" >"$ARGS"; printf 'history\nhelp\nplan\n'; }
COMP_WORDS=(firedrill --log-level debug h); COMP_CWORD=3
_firedrill
printf '%s\n' "${COMPREPLY[@]}"
cat "$ARGS"
`
	cmd := exec.Command(bash, "--norc", "-c", prog)
	cmd.Env = append(cmd.Environ(), "ARGS="+filepath.Join(t.TempDir(), "args"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, "history\nhelp\n__complete|--log-level|debug|h|", string(out))
}
