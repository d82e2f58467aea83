package runbooks

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse_Steps(t *testing.T) {
	doc := strings.Join([]string{
		"# Restore the shop", // 1
		"",                   // 2
		"```sh firedrill-step name=\"check velero\" timeout=30s", // 3
		"kubectl -n velero get deploy velero",                    // 4
		"```",                                                    // 5
		"",                                                       // 6
		"```sh",                                                  // 7
		"echo an example for the reader, never run", // 8
		"```",                               // 9
		"~~~~bash firedrill-step name=wait", // 10
		"```",                               // 11
		"a fence of another kind does not close it", // 12
		"~~~~",                                  // 13
		"   ```sh firedrill-step name=indented", // 14
		"true",                                  // 15
		"   ```",                                // 16
	}, "\n") + "\n"
	rb, err := Parse("shop.md", []byte(doc))
	require.NoError(t, err)
	assert.Equal(t, "Restore the shop", rb.Title)
	require.Len(t, rb.Steps, 3)

	assert.Equal(t, Step{Name: "check velero", Timeout: 30 * time.Second, Shell: "sh", Script: "kubectl -n velero get deploy velero\n", Line: 3}, rb.Steps[0])
	assert.Equal(t, "wait", rb.Steps[1].Name)
	assert.Equal(t, "bash", rb.Steps[1].Shell)
	assert.Equal(t, DefaultStepTimeout, rb.Steps[1].Timeout)
	assert.Equal(t, "```\na fence of another kind does not close it\n", rb.Steps[1].Script)
	assert.Equal(t, 10, rb.Steps[1].Line)
	assert.Equal(t, "indented", rb.Steps[2].Name)
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"no name", "```sh firedrill-step timeout=1m\ntrue\n```\n", []string{`x.md:1: firedrill-step block: has no name; write name="..."`}},
		{"bad timeout", "```sh firedrill-step name=a timeout=soon\ntrue\n```\n", []string{`x.md:1: step "a": timeout "soon" is not a positive duration such as 30s or 5m`}},
		{"unknown attribute", "```sh firedrill-step name=a retries=3\ntrue\n```\n", []string{`x.md:1: step "a": unknown attribute "retries"; valid attributes are name and timeout`}},
		{"not key=value", "```sh firedrill-step name=a fast\ntrue\n```\n", []string{`x.md:1: step "a": attribute "fast" is not key=value`}},
		{"language", "```python firedrill-step name=a\nprint()\n```\n", []string{`x.md:1: step "a": language "python" is not sh or bash`}},
		{"marker in the wrong place", "```firedrill-step sh name=a\ntrue\n```\n", []string{`x.md:1: step "a": firedrill-step must follow the language, as in: sh firedrill-step name="..."`}},
		{"unterminated quote", "```sh firedrill-step name=\"a\ntrue\n```\n", []string{"x.md:1: firedrill-step block: unterminated quote in the code block's info string"}},
		{"duplicate", "```sh firedrill-step name=a\ntrue\n```\n```sh firedrill-step name=a\ntrue\n```\n", []string{`x.md:4: step "a": is defined twice (first on line 1)`}},
		{"empty", "```sh firedrill-step name=a\n\n```\n", []string{`x.md:1: step "a": has no commands`}},
		{"never closed", "text\n```sh firedrill-step name=a\ntrue\n", []string{"x.md:2: code block: is never closed"}},
		// The step is named whatever the order of its attributes.
		{"name after the problem", "```sh firedrill-step timeout=soon name=a\ntrue\n```\n", []string{`x.md:1: step "a": timeout "soon" is not a positive duration such as 30s or 5m`}},
		{"all at once", "```sh firedrill-step\ntrue\n```\n```sh firedrill-step name=b timeout=0s\ntrue\n```\n", []string{
			`x.md:1: firedrill-step block: has no name; write name="..."`,
			`x.md:4: step "b": timeout "0s" is not a positive duration such as 30s or 5m`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.md", []byte(tt.doc))
			var perrs ParseErrors
			require.True(t, errors.As(err, &perrs), "got %v", err)
			got := make([]string, len(perrs))
			for i, e := range perrs {
				got[i] = e.Error()
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParse_OrdinaryBlocksAreIgnored(t *testing.T) {
	rb, err := Parse("x.md", []byte("```yaml\nname=\"unterminated\n```\n```\nplain\n```\n"))
	require.NoError(t, err)
	assert.Empty(t, rb.Steps)
}

func TestBuiltin_EveryRunbookParses(t *testing.T) {
	names := Names()
	require.GreaterOrEqual(t, len(names), 5)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			rb, err := Builtin(name)
			require.NoError(t, err)
			assert.Equal(t, name, rb.Name)
			assert.Equal(t, "catalog/"+name+".md", rb.File)
			assert.NotEmpty(t, rb.Title)
			assert.GreaterOrEqual(t, len(rb.Steps), 2, "a runbook with executable steps")
			assert.Contains(t, string(rb.Markdown), "## Retrospective", "every runbook ends in a retrospective")
		})
	}
}

func TestBuiltin_NotFound(t *testing.T) {
	for _, name := range []string{"no-such-runbook", "", "../catalog/region-loss", "region-loss.md"} {
		assert.False(t, Exists(name), name)
		_, err := Builtin(name)
		assert.ErrorIs(t, err, ErrNotFound, name)
	}
}

func TestLoadFile(t *testing.T) {
	path := t.TempDir() + "/r.md"
	require.NoError(t, os.WriteFile(path, []byte("```sh firedrill-step name=only\ntrue\n```\n"), 0o600))
	rb, err := LoadFile(path)
	require.NoError(t, err)
	assert.Equal(t, path, rb.File)
	assert.Equal(t, "only", rb.Steps[0].Name)

	_, err = LoadFile(t.TempDir() + "/missing.md")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// A firedrill-step block inside an HTML comment is hidden from whoever
// reviews the rendered runbook: it is not run, and it is a warning
// (issue 15, section 7).
func TestParse_StepsHiddenInHTMLAreNotRun(t *testing.T) {
	step := func(name string) string { return "```sh firedrill-step name=" + name + "\necho " + name + "\n```\n" }
	tests := []struct {
		name    string
		doc     string
		steps   []string
		warning []string // FILE:LINE: message prefix of each warning
	}{
		{"in a comment", "# R\n\n<!--\n" + step("hidden") + "-->\n" + step("shown"), []string{"shown"},
			[]string{"x.md:4: firedrill-step block: is inside an HTML comment (from line 3)"}},
		{"in an indented comment that ends on a text line", "   <!-- note\n" + step("hidden") + "end of note -->\n" + step("shown"), []string{"shown"},
			[]string{"x.md:2: firedrill-step block: is inside an HTML comment (from line 1)"}},
		{"a one-line comment hides nothing", "<!-- a note -->\n" + step("shown"), []string{"shown"}, nil},
		{"an empty comment <!--> hides nothing", "<!-->\n" + step("shown"), []string{"shown"}, nil},
		{"a comment inside a code block is code", "```html\n<!--\n```\n" + step("shown"), []string{"shown"}, nil},
		{"a comment opened mid-line is not an HTML block", "text <!--\n" + step("shown") + "-->\n", []string{"shown"}, nil},
		{"a comment opened after a bare CR", "a note\r<!--\n" + step("hidden") + "-->\n" + step("shown"), []string{"shown"},
			[]string{"x.md:3: firedrill-step block: is inside an HTML comment (from line 2)"}},
		{"in a script element", "<script type=\"text/plain\">\n" + step("hidden") + "</script>\n" + step("shown"), []string{"shown"},
			[]string{"x.md:2: firedrill-step block: is inside a <script> element (from line 1)"}},
		{"four spaces is an indented code block, not HTML", "    <!--\n\n" + step("shown"), []string{"shown"}, nil},
		{"in a details block up to its blank line", "<details>\n" + step("hidden") + "\n" + step("shown") + "</details>\n", []string{"shown"},
			[]string{"x.md:2: firedrill-step block: is inside a <details> HTML block (from line 1)"}},
		{"after a tag on a line of its own", "# R\n<span hidden>\n" + step("hidden") + "\n" + step("shown"), []string{"shown"},
			[]string{"x.md:3: firedrill-step block: is inside an HTML block (from line 2)"}},
		{"a tag that continues a paragraph is inline HTML", "Some text\n<span>\n" + step("shown"), []string{"shown"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb, err := Parse("x.md", []byte(tt.doc))
			require.NoError(t, err)
			var names []string
			for _, s := range rb.Steps {
				names = append(names, s.Name)
				assert.NotContains(t, s.Script, "hidden")
			}
			assert.Equal(t, tt.steps, names)
			require.Len(t, rb.Warnings, len(tt.warning))
			for i, w := range tt.warning {
				assert.True(t, strings.HasPrefix(rb.Warnings[i].Error(), w), "%q does not start with %q", rb.Warnings[i].Error(), w)
				assert.Contains(t, rb.Warnings[i].Error(), "it is not run")
			}
		})
	}
}

func TestParse_BareCarriageReturnsEndLines(t *testing.T) {
	rb, err := Parse("x.md", []byte("# R\r\r```sh firedrill-step name=a\recho a\r\n```\r"))
	require.NoError(t, err)
	require.Len(t, rb.Steps, 1)
	assert.Equal(t, Step{Name: "a", Timeout: DefaultStepTimeout, Shell: "sh", Script: "echo a\n", Line: 3}, rb.Steps[0])
}
