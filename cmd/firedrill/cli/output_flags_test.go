package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// -o always means the format, on every command (issue 19, conventions 2):
// every -o is --output, and its default is a format for people.
func TestOutputFlag_IsTheFormatEverywhere(t *testing.T) {
	var walk func(path string, cmds []*cli.Command)
	n := 0
	walk = func(path string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := path + c.Name
			for _, f := range c.Flags {
				names := f.Names()
				if slices.Contains(names, "o") || slices.Contains(names, "output") {
					n++
					assert.Equal(t, []string{"output", "o"}, names, name)
					sf, ok := f.(*cli.StringFlag)
					if assert.True(t, ok, name) {
						assert.Contains(t, []string{formatTable, formatText, formatYAML}, sf.Value, "%s: -o defaults to a format", name)
					}
				}
				if slices.Contains(names, "f") {
					assert.Equal(t, []string{"file", "f"}, names, "%s: -f is the destination file", name)
				}
			}
			walk(name+" ", c.Subcommands)
		}
	}
	walk("", (&app{}).newApp().Commands)
	assert.GreaterOrEqual(t, n, 14)
}

// evidence export: -f is the bundle's file, -o the format; the old -o FILE
// and --output-format are usage errors that say what changed, and nothing
// is written.
func TestEvidenceExport_FileAndFormat(t *testing.T) {
	ctx := context.Background()
	state := writeHistory(t)
	key, _ := keyPair(t)
	const id = "fd-20261103-090000-cccc"
	env := map[string]string{"FIREDRILL_STATE_DIR": state}
	work := t.TempDir()
	bundle := filepath.Join(work, "b.tar.gz")

	tests := []struct {
		name       string
		args       []string
		wantStderr string
	}{
		{"old -o FILE", []string{"-o", bundle},
			`Error: invalid -o "` + bundle + `": -o no longer names the bundle's file` + "\n" +
				`Hint: -o is the format (text, json, yaml); the bundle's file is -f (--file): 'firedrill evidence export ` + id + ` -f ` + bundle + `'` + "\n"},
		{"old -o -", []string{"-o", "-"},
			`Error: invalid -o "-": -o no longer names the bundle's file` + "\n" +
				`Hint: -o is the format (text, json, yaml); the bundle's file is -f (--file): 'firedrill evidence export ` + id + ` -f -'` + "\n"},
		{"old --output-format", []string{"--output-format", "json"},
			"Error: --output-format is now -o (--output)\nHint: write -o json; run 'firedrill evidence export --help'\n"},
		{"a format that is not one", []string{"-o", "jsno"},
			"Error: invalid -o \"jsno\": want one of text, json, yaml\nHint: run 'firedrill evidence export --help'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, ctx, env, append([]string{"evidence", "export", id, "--key", key}, tt.args...)...)
			assert.Equal(t, ExitUsage, res.code, res.String())
			assert.Equal(t, tt.wantStderr, res.stderr)
			assert.NoFileExists(t, bundle)
			assert.NoFileExists(t, filepath.Join(state, "drills", id, "evidence.tar.gz"))
		})
	}

	res := run(t, ctx, env, "evidence", "export", id, "--key", key, "-f", bundle, "-o", "yaml")
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "schema: firedrill.dev/evidence-export/v1\n")
	assert.Contains(t, res.stdout, "file: "+bundle+"\n")
	st, err := os.Stat(bundle)
	require.NoError(t, err)
	assert.Positive(t, st.Size())
}

// scenarios list cuts summaries short in its table; -o wide does not.
func TestScenariosList_Wide(t *testing.T) {
	const long = "Kubernetes upgrade in the monthly maintenance window leaves prod-eu-1 unusable"
	table := run(t, context.Background(), nil, "scenarios", "list")
	require.Equal(t, ExitOK, table.code, table.String())
	assert.NotContains(t, table.stdout, long)
	wide := run(t, context.Background(), nil, "scenarios", "list", "-o", "wide")
	require.Equal(t, ExitOK, wide.code, wide.String())
	assert.Contains(t, wide.stdout, long)
	assert.Contains(t, wide.stdout, "catalog/failed-upgrade-rollback.yaml")
	assert.NotContains(t, wide.stdout, "…")
}

// eachCommand calls fn with the words of every command and subcommand
// (["evidence", "export"]) and the command.
func eachCommand(fn func(path []string, c *cli.Command)) {
	var walk func(path []string, cmds []*cli.Command)
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(slices.Clone(path), c.Name)
			fn(p, c)
			walk(p, c.Subcommands)
		}
	}
	walk(nil, (&app{}).newApp().Commands)
}

// The formats a USAGE line offers for -o are those -o accepts.
func TestUsageText_OutputFormats(t *testing.T) {
	usageO := regexp.MustCompile(`\[-o ([a-z|]+)\]`)
	n := 0
	eachCommand(func(path []string, c *cli.Command) {
		for _, f := range c.Flags {
			sf, ok := f.(*cli.StringFlag)
			if !ok || sf.Name != "output" {
				continue
			}
			_, formats, ok := strings.Cut(sf.Usage, "print as `FORMAT`: ")
			require.True(t, ok, sf.Usage)
			want := strings.Split(formats, ", ")
			slices.Sort(want)
			m := usageO.FindAllStringSubmatch(c.UsageText, -1)
			if assert.NotEmpty(t, m, "%v: the USAGE line names -o", path) {
				for _, u := range m {
					got := strings.Split(u[1], "|")
					slices.Sort(got)
					assert.Equal(t, want, got, "%v: USAGE line's -o", path)
					n++
				}
			}
		}
	})
	assert.GreaterOrEqual(t, n, 17)
}

// urfave/cli appends "(default: VALUE)" to a flag's usage: a flag whose
// usage names its default itself sets DefaultText instead, so that its
// help shows one default.
func TestHelp_OneDefaultPerFlag(t *testing.T) {
	twice := regexp.MustCompile(`\(default[ :].*\(default[ :]`)
	n := 0
	eachCommand(func(path []string, c *cli.Command) {
		if c.Name == "help" {
			return
		}
		res := run(t, context.Background(), nil, append(path, "--help")...)
		require.Equal(t, ExitOK, res.code, "%v: %s", path, res.String())
		_, options, _ := strings.Cut(res.stdout, "OPTIONS:")
		for _, line := range strings.Split(options, "\n") {
			n++
			assert.NotRegexp(t, twice, line, "%v", path)
		}
	})
	assert.Greater(t, n, 100)
}
