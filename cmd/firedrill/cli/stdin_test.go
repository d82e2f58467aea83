package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// - reads the scenario from standard input for validate, plan and run;
// errors name <stdin>, and its relative paths are relative to the working
// directory (issue 19, conventions 6).
func TestStdin_Scenario(t *testing.T) {
	data, err := os.ReadFile("testdata/work/scenarios/shop-namespace.yaml")
	require.NoError(t, err)
	valid := string(data)
	invalid := strings.Replace(valid, "rto: 1h", "rto: soon", 1)
	// Relative to the working directory, testdata/work.
	relative := strings.Replace(valid, "kubeconfig: ~/.kube/scratch.kubeconfig", "kubeconfig: ../home/.kube/scratch.kubeconfig", 1)
	work, err := filepath.Abs("testdata/work")
	require.NoError(t, err)
	const badRTO = `<stdin>:14: spec.objectives.rto: "soon" is not a duration (write e.g. 4h, 30m, 1h30m, 7d, 2w or 7y)`

	tests := []struct {
		name       string
		stdin      string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"validate", valid, []string{"validate", "-"}, ExitOK, "<stdin>: ok (shop-namespace)\n", ""},
		{"validate invalid", invalid, []string{"validate", "-"}, ExitError, badRTO + "\n", "Error: 1 of 1 scenario file is invalid\n"},
		{"validate with files", valid, []string{"validate", "scenarios/broken.yaml", "-"}, ExitError, "<stdin>: ok (shop-namespace)\n", "Error: 1 of 2 scenario files is invalid\n"},
		{"plan", relative, []string{"plan", "-"}, ExitOK,
			"reach the target cluster (kubeconfig " + filepath.Join(work, "../home/.kube/scratch.kubeconfig") + ", the current context)", ""},
		{"plan invalid", invalid, []string{"plan", "-"}, ExitError, "", "  " + badRTO + "\n"},
		{"run invalid", invalid, []string{"run", "-", "--state-dir", t.TempDir()}, ExitError, "", "  " + badRTO + "\n"},
		{"empty", "", []string{"plan", "-"}, ExitError, "", "<stdin>"},
		{"twice", valid, []string{"validate", "-", "-"}, ExitUsage, "", "Error: - (standard input) given 2 times: it holds one scenario\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runEnv(t, Env{Stdin: strings.NewReader(tt.stdin)}, tt.args...)
			assert.Equal(t, tt.wantCode, got.code, "%s", got)
			assert.Contains(t, got.stdout, tt.wantStdout)
			assert.Contains(t, got.stderr, tt.wantStderr)
		})
	}
}
