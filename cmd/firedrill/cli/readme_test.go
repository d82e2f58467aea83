package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// warnsMarker, on the last non-blank line before a README code block, says
// the block is an example of a warning: it must be valid and warn.
const warnsMarker = "<!-- firedrill validate: warns -->"

// readmeBlock is one ```yaml (or ```yml) block of a Markdown file.
type readmeBlock struct {
	line  int // of the opening fence
	text  string
	warns bool // preceded by warnsMarker
}

// yamlBlocks returns the ```yaml and ```yml blocks of a Markdown
// document, indented ones (in a list) too, without their indentation.
func yamlBlocks(t *testing.T, doc string) []readmeBlock {
	t.Helper()
	fence := regexp.MustCompile("^( *)(```+)[ \t]*(yaml|yml)[ \t]*$")
	var (
		blocks   []readmeBlock
		open     *readmeBlock
		indent   string
		closing  string
		lastText string // the last non-blank line outside a block
		body     strings.Builder
	)
	sc := bufio.NewScanner(strings.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if open != nil {
			if strings.TrimSpace(line) == closing {
				open.text = body.String()
				blocks = append(blocks, *open)
				open = nil
				continue
			}
			body.WriteString(strings.TrimPrefix(line, indent))
			body.WriteByte('\n')
			continue
		}
		if m := fence.FindStringSubmatch(line); m != nil {
			open = &readmeBlock{line: n, warns: strings.TrimSpace(lastText) == warnsMarker}
			indent, closing = m[1], m[2]
			body.Reset()
			continue
		}
		if strings.TrimSpace(line) != "" {
			lastText = line
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, open, "README code block from line %d is never closed", func() int {
		if open == nil {
			return 0
		}
		return open.line
	}())
	return blocks
}

// missingFileWarning is the one warning a README scenario may show
// unmarked: a kubeconfig, CA or credentials file it names does not exist.
// Those files exist where the drill runs, not beside the README, and
// validate warns of them for that reason.
var missingFileWarning = regexp.MustCompile(`^spec\.((source|target)\.kubeconfig|(storage\.primary|storage\.copies\[\d+\]|evidence\.push)\.(caFile|credentials\.file))$`)

// TestREADME_ScenariosValidate validates every ```yaml block of README.md
// that is a firedrill scenario (apiVersion firedrill.dev/..., kind
// Scenario), as `firedrill validate` does, each in a file of its own:
//
//   - an error fails the test;
//   - a warning fails it too, except that a kubeconfig, CA or credentials
//     file the scenario names does not exist (missingFileWarning): those
//     files are the reader's;
//   - a block the README marks as an example of a warning, with the HTML
//     comment warnsMarker on the last non-blank line before its fence
//     (invisible when rendered), must be valid and must warn;
//   - a runbook file the scenario names (spec.runbook.file, relative) is
//     written as a stub of one step beside it, since a missing runbook is
//     an error; built-in runbooks (spec.runbook.name) are read as they are.
func TestREADME_ScenariosValidate(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(t, err)
	scenarios := 0
	for _, b := range yamlBlocks(t, string(readme)) {
		var head struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Spec       struct {
				Runbook struct {
					File string `yaml:"file"`
				} `yaml:"runbook"`
			} `yaml:"spec"`
		}
		if err := yaml.Unmarshal([]byte(b.text), &head); err != nil ||
			!strings.HasPrefix(head.APIVersion, "firedrill.dev/") || head.Kind != "Scenario" {
			continue
		}
		scenarios++
		t.Run(fmt.Sprintf("README.md:%d", b.line), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "readme.yaml")
			require.NoError(t, os.WriteFile(file, []byte(b.text), 0o600))
			if rb := head.Spec.Runbook.File; rb != "" {
				require.True(t, filepath.IsLocal(rb), "README.md:%d: spec.runbook.file %q: write a path relative to the scenario, inside its directory", b.line, rb)
				require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.Dir(rb)), 0o700))
				require.NoError(t, os.WriteFile(filepath.Join(dir, rb), []byte("# Stub\n\n```sh firedrill-step name=\"stub\"\ntrue\n```\n"), 0o600))
			}
			res := run(t, context.Background(), nil, "validate", "-o", "json", file)
			var out validateDoc
			require.NoError(t, json.Unmarshal([]byte(res.stdout), &out), res.String())
			require.Len(t, out.Files, 1, res.String())
			got := out.Files[0]
			// The scenario's problems at the README's lines; its runbook's
			// (File set) at the runbook's.
			at := func(e validateError) string {
				if e.File != "" {
					return e.Text
				}
				return fmt.Sprintf("README.md:%d: %s: %s", b.line+e.Line, e.Path, e.Message)
			}
			for _, e := range got.Errors {
				t.Error(at(e))
			}
			var unmarked []string
			for _, w := range got.Warnings {
				if w.File != "" || !missingFileWarning.MatchString(w.Path) || !strings.Contains(w.Message, " does not exist") {
					unmarked = append(unmarked, at(w))
				}
			}
			if b.warns {
				assert.NotEmpty(t, unmarked, "README.md:%d is marked %s but does not warn", b.line, warnsMarker)
			} else {
				assert.Empty(t, unmarked, "README.md:%d warns; fix the example, or mark it %s if it shows a warning on purpose", b.line, warnsMarker)
			}
			assert.Equal(t, ExitOK, res.code, res.String())
		})
	}
	assert.NotZero(t, scenarios, "README.md has a scenario example")
}
