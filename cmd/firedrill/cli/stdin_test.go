package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
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
		{"restore invalid", invalid, []string{"restore", "-"}, ExitError, "", "  " + badRTO + "\n"},
		{"verify invalid", invalid, []string{"verify", "-"}, ExitError, "", "  " + badRTO + "\n"},
		{"scenarios show", valid, []string{"scenarios", "show", "-"}, ExitOK, "name: shop-namespace\n", ""},
		{"cleanup --stale invalid", invalid, []string{"cleanup", "--stale", "-", "--state-dir", t.TempDir()}, ExitError, "", "  " + badRTO + "\n"},
		{"schedule render invalid", invalid, []string{"schedule", "render", "--scenario", "-", "--cadence", "quarterly", "--history", "s3://b/p"}, ExitError, "", "  " + badRTO + "\n"},
		{"schedule render twice", valid, []string{"schedule", "render", "--scenario", "-", "--scenario", "-", "--cadence", "quarterly", "--history", "s3://b/p"},
			ExitUsage, "", "Error: - (standard input) given 2 times: it holds one scenario\n"},
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

// Every usage line and flag that takes a scenario NAME|FILE says it takes
// - too: each such argument is found with scenarios.Find, which reads
// standard input for - (TestStdin_Scenario runs them).
func TestUsage_ScenarioArgumentsSayStdin(t *testing.T) {
	var walk func(path string, cmds []*cli.Command)
	n := 0
	check := func(where, text string) {
		for i := strings.Index(text, "NAME|FILE"); i >= 0; {
			n++
			rest := text[i+len("NAME|FILE"):]
			assert.True(t, strings.HasPrefix(rest, "|-"), "%s: %q takes - (standard input) too", where, text)
			j := strings.Index(rest, "NAME|FILE")
			if j < 0 {
				break
			}
			i += len("NAME|FILE") + j
		}
		assert.NotContains(t, text, "(or FILE)", where)
	}
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := path + c.Name
			check(name, c.UsageText)
			for _, f := range c.Flags {
				if u, ok := f.(cli.DocGenerationFlag); ok {
					check(name+" --"+f.Names()[0], u.GetUsage())
				}
			}
			walk(name+" ", c.Subcommands)
		}
	}
	walk("", (&app{}).newApp().Commands)
	assert.GreaterOrEqual(t, n, 9, "plan, run, restore, verify, scenarios show, cleanup (twice, and its flag), schedule render (and its flag)")
}
