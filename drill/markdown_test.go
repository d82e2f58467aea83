package drill

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func TestMdInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text, 3 workloads Available", "plain text, 3 workloads Available"},
		{"eve |\n| result | **PASS** |", `eve \| \| result \| \*\*PASS\*\* \|`},
		{"a\r## heading\r\nb", `a \#\# heading b`},
		{"<script>alert('x')</script>", `\<script\>alert('x')\</script\>`},
		{"&lt; [link](http://x) `code` _em_ ~del~", `\&lt; \[link\](http://x) \` + "`code\\`" + ` \_em\_ \~del\~`},
		{"- not a list", `\- not a list`},
		{"1. not a list", `1\. not a list`},
		{"1.5s is a number", "1.5s is a number"},
		{"  # trimmed  ", `\# trimmed`},
		{"bell\a and esc\x1b[31m", `bell\\x07 and esc\\x1b\[31m`},
		{`back\slash`, `back\\slash`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mdInline(tt.in), "%q", tt.in)
	}
	assert.Equal(t, "17", mdInline(17))
}

func TestMdCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fd-ab12-1-network-policies", "`fd-ab12-1-network-policies`"},
		{"a`b", "``a`b``"},
		{"`edge``", "``` `edge`` ```"},
		{"pipe | inside", `pipe \| inside`}, // text, as a code span would show the backslash outside a table
		{"<b>\nx", "`<b> x`"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mdCode(tt.in), "%q", tt.in)
	}
}

func TestMdBlock_FenceOutlastsTheContent(t *testing.T) {
	got := mdBlock("a\r## h\r\n```\n````sh\n")
	assert.Equal(t, "`````text\na\n## h\n```\n````sh\n`````", got)
}

// TestMarkdownTemplates_EscapeEveryField holds report.md and
// retrospective.md to one rule: every value printed goes through md,
// mdcode or mdblock, or is a number or time the drill formats itself.
func TestMarkdownTemplates_EscapeEveryField(t *testing.T) {
	safe := map[string]bool{"md": true, "mdcode": true, "mdblock": true, "dur": true, "durp": true, "ts": true, "offset": true, "len": true, "percent": true, "bar": true, "rtoTime": true, "bytes": true, "mdurl": true, "add1": true, "count": true, "mdParts": true}
	seen := map[string]bool{}
	var check func(name string)
	check = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		tmpl := mdTemplates.Lookup(name)
		require.NotNil(t, tmpl, name)
		var walk func(n parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				if n == nil {
					return
				}
				for _, c := range n.Nodes {
					walk(c)
				}
			case *parse.ActionNode:
				if len(n.Pipe.Decl) > 0 {
					return // {{$x := ...}} prints nothing
				}
				last := n.Pipe.Cmds[len(n.Pipe.Cmds)-1]
				id, ok := last.Args[0].(*parse.IdentifierNode)
				assert.True(t, ok && safe[id.Ident], "%s:%s: %s prints a value without md, mdcode or mdblock", name, location(tmpl, n), n)
			case *parse.IfNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.TemplateNode:
				check(n.Name) // a section in a file of its own: held to the same rule
			}
		}
		walk(tmpl.Tree.Root)
	}
	for _, name := range []string{"report.md.tmpl", "retrospective.md.tmpl"} {
		check(name)
	}
	assert.True(t, seen["budget-md"], "the RTO budget section is checked")
}

func location(tmpl interface {
	ErrorContext(parse.Node) (string, string)
}, n parse.Node) string {
	loc, _ := tmpl.ErrorContext(n)
	return loc
}

// TestRun_MarkupInInputsForgesNothing runs a drill of the security case
// scenario-markup.yaml (issue 15, section 7): newlines, table pipes, HTML
// and bare carriage returns in the scenario's fields, a runbook step's name
// and output, an error and finding messages. report.md and
// retrospective.md must keep their own structure and still show it all.
func TestRun_MarkupInInputsForgesNothing(t *testing.T) {
	sc, err := scenarios.LoadFile(context.Background(), scenarios.Env{}, "testdata/markup/scenario-markup.yaml")
	require.NoError(t, err)
	rb, err := ScenarioRunbook(sc)
	require.NoError(t, err)
	require.Len(t, rb.Steps, 1)

	prot := &fakeProtection{Err: errors.New("bucket answered:\n## Injected by an error\r| result | **PASS** |\n<script>alert('error')</script>")}
	rep, dir := runDrill(t, context.Background(), sc, &fakeRecovery{CheckFails: true}, prot, rb)
	require.Equal(t, ResultError, rep.Result)
	rep.Findings = append(rep.Findings, finding.Fail("check.x", finding.SeverityFail, "subject\n# Injected by a subject", "message |\n| forged | row |").
		With("", "", "<img src=x onerror=alert('hint')>"))
	require.NoError(t, (&Dir{Path: dir}).WriteReportFiles(rep))

	for _, name := range []string{"report.md", "retrospective.md"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			doc := string(b)
			assertMarkdownStructure(t, doc)
			// Everything is still there to read.
			for _, want := range []string{`alert('lead')`, `PASS (forged by lead)`, `Heading injected by observer`, `\<img src=x onerror=alert('observer')\>`, `Injected by an error`,
				`alert('detection')`, `Injected by detection`, `\<img src=x onerror=alert('goal')\>`, `Heading injected by goal`} {
				assert.Contains(t, doc, want)
			}
			if name == "retrospective.md" {
				assert.Contains(t, doc, "## Questions from the runbook")
				for _, want := range []string{`alert('question')`, `Injected link`} {
					assert.Contains(t, doc, want)
				}
			}
			if name == "report.md" {
				for _, want := range []string{"Injected by a subject", "\\| forged \\| row \\|", "alert('hint')", `\<script\>alert('step')\</script\> \| tick`,
					"```text\nnormal line\n## Heading injected via CR in step output\n| result | **PASS** |\n<script>alert(\"output\")</script>\n```"} {
					assert.Contains(t, doc, want)
				}
			}
		})
	}
}

// TestRun_MarkupInInputsReportHTML: the same drill's report.html shows the
// scenario's hostile text, new fields included, as text: no element of
// it.
func TestRun_MarkupInInputsReportHTML(t *testing.T) {
	sc, err := scenarios.LoadFile(context.Background(), scenarios.Env{}, "testdata/markup/scenario-markup.yaml")
	require.NoError(t, err)
	rb, err := ScenarioRunbook(sc)
	require.NoError(t, err)
	_, dir := runDrill(t, context.Background(), sc, &fakeRecovery{CheckFails: true}, &fakeProtection{}, rb)
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	require.NoError(t, err)
	doc := string(b)
	for _, forged := range []string{"<script>alert", "<img src=x"} {
		assert.NotContains(t, doc, forged)
	}
	for _, want := range []string{"&lt;script&gt;alert(&#39;detection&#39;)&lt;/script&gt;", "&lt;img src=x onerror=alert(&#39;goal&#39;)&gt;",
		"&lt;script&gt;alert(&#39;lead&#39;)&lt;/script&gt;", `id="context"`, `id="next-steps"`} {
		assert.Contains(t, doc, want)
	}
}

// templateHeadings are the only headings report.md and retrospective.md
// have: anything else was forged by what they print.
var templateHeadings = regexp.MustCompile(`^(# (Drill report|Retrospective): .*|## (Error|Interrupted|Objectives|Timeline|Findings|Recovery point|Recovery window|Restores|Checks|Runbook|The drill|What went well\?|What to improve\?|What action items are needed\?|Context|Next steps|Trend|Files of this drill|Attendees|Questions from the runbook|Sign-off|Outlook)|### (Step .*|Timeline))$`)

// assertMarkdownStructure reads doc as CommonMark does, line by line
// (CR, LF and CRLF end a line), and fails on any line outside a code block
// that the templates do not write: an unknown heading, an HTML block, or a
// table row with more or fewer cells than its header.
func assertMarkdownStructure(t *testing.T, doc string) {
	t.Helper()
	lines := regexp.MustCompile(`\r\n|\r|\n`).Split(doc, -1)
	var fence string
	header := -1 // unescaped pipes of the current table's header
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " ")
		indent := len(line) - len(trimmed)
		if fence != "" {
			if indent <= 3 && strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if m := regexp.MustCompile("^(`{3,}|~{3,})").FindString(trimmed); m != "" && indent <= 3 {
			fence = m
			continue
		}
		if indent <= 3 && strings.HasPrefix(trimmed, "#") {
			assert.Regexp(t, templateHeadings, trimmed, "line %d is a forged heading", i+1)
		}
		assert.False(t, indent <= 3 && strings.HasPrefix(trimmed, "<"), "line %d opens an HTML block: %q", i+1, line)
		assert.NotRegexp(t, `(^|[^\\])<[a-zA-Z/!?]`, stripCodeSpans(line), "line %d holds raw HTML: %q", i+1, line)
		if !strings.HasPrefix(trimmed, "|") {
			header = -1
			continue
		}
		pipes := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(strings.ReplaceAll(line, "||", "| |"), -1))
		if header < 0 {
			header = pipes
			continue
		}
		assert.Equal(t, header, pipes, "line %d has another number of cells than its table's header: %q", i+1, line)
	}
	assert.Empty(t, fence, "a code block is never closed")
}

func stripCodeSpans(s string) string {
	return regexp.MustCompile("(`+)[^`]*?(`+)").ReplaceAllString(s, "")
}
