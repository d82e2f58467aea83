package runbooks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/safefile"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// DefaultStepTimeout bounds a step that does not say otherwise.
const DefaultStepTimeout = 2 * time.Minute

// stepMarker marks a fenced code block as an executable step.
const stepMarker = "firedrill-step"

// manualMarker marks a fenced code block as a manual step: work no tool
// does (a DNS cut-over, a change approval), whose body is the instruction
// to the operator.
const manualMarker = "firedrill-manual"

// Runbook is a parsed runbook.
type Runbook struct {
	// Name is the built-in name, or empty for a runbook read from a file.
	Name string
	// File names the runbook for the user: "catalog/NAME.md" or a path.
	File string
	// Title is the text of the first "# " heading, if any.
	Title string
	// Steps are the steps, executable and manual, in document order.
	Steps []Step
	// RetroQuestions are the runbook's own questions for the drill's
	// retrospective: the list items under a heading "Retrospective
	// questions" (any level, any case), up to the next heading.
	RetroQuestions []string
	// Markdown is the whole document.
	Markdown []byte
	// Warnings are problems that do not stop the runbook from running,
	// at FILE:LINE, in the block Where names: a firedrill-step block inside
	// an HTML comment or other raw HTML, which is not run (see Parse).
	Warnings []*ParseError
}

// Step is one step of a runbook: a command step (a firedrill-step block,
// run in a shell) or, when Manual, a manual step (a firedrill-manual
// block, done by a person).
type Step struct {
	Name string
	// Timeout bounds a command step; zero for a manual step, which the
	// operator ends.
	Timeout time.Duration
	// Shell is "sh" or "bash"; empty for a manual step.
	Shell string
	// Script is the body of the fenced block: the commands of a command
	// step, the instruction to the operator of a manual step.
	Script string
	// Line is the line of the opening fence.
	Line int
	// Manual marks a manual step.
	Manual bool
	// Estimate is how long a manual step takes, as the runbook declares
	// it (estimate=, required, positive): what the drill counts toward
	// RTO when nobody times the step (RunOptions.Operator is nil).
	Estimate time.Duration
}

// Commands counts the command steps: those that run programs.
func (rb *Runbook) Commands() int {
	n := 0
	for _, s := range rb.Steps {
		if !s.Manual {
			n++
		}
	}
	return n
}

// ParseError is one problem in a runbook, at FILE:LINE of the runbook
// (where the fix goes), in the block Where names.
type ParseError struct {
	File string
	Line int
	// Where names the runbook's part the problem is in, as a scenario's
	// problem names its field: `step "NAME"` or `manual step "NAME"`, a
	// `firedrill-step block` or `firedrill-manual block` whose name is not
	// known, a `code block`, `manual steps` (all of them), or `runbook`.
	Where   string
	Message string
}

// Error formats e as "FILE:LINE: where: message", the form of a
// scenario's problems (FILE:LINE: field.path: message).
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Where, e.Message)
}

// Warning formats e as a warning: "FILE:LINE: warning: where: message".
func (e *ParseError) Warning() string {
	return fmt.Sprintf("%s:%d: warning: %s: %s", e.File, e.Line, e.Where, e.Message)
}

// stepWhere names a step of a runbook as ParseError.Where does: by its
// name when it has one, else by its marker.
func stepWhere(s Step) string {
	switch named := strings.TrimSpace(s.Name) != ""; {
	case named && s.Manual:
		return fmt.Sprintf("manual step %q", s.Name)
	case named:
		return fmt.Sprintf("step %q", s.Name)
	case s.Manual:
		return manualMarker + " block"
	}
	return stepMarker + " block"
}

// ParseErrors are all the problems of one runbook.
type ParseErrors []*ParseError

// Error is one line per problem.
func (es ParseErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// LoadFile reads and parses the runbook in path. Only a regular file of at
// most 1 MiB is read (see safefile): a device or FIFO is a *safefile.Error.
func LoadFile(path string) (*Runbook, error) {
	data, err := safefile.ReadFile(path, safefile.Runbook)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// Parse reads the steps of a runbook document; file names it in errors.
// It reports every problem at once, as ParseErrors.
//
// A step is a fenced code block as a Markdown reader sees it (CommonMark
// 0.31, which GitHub and GitLab follow): a fence inside an HTML comment
// (<!-- ... -->) or another raw HTML block (<script>, <details>, <div
// hidden> and the others of section 4.6) is not a code block. It may be
// hidden from whoever reviews the rendered runbook, so it is never run;
// each such firedrill-step block is a warning. Lines end at LF, CR or
// CRLF, as they do for the renderer.
func Parse(file string, data []byte) (*Runbook, error) {
	rb := &Runbook{File: file, Markdown: data}
	var errs ParseErrors
	errorf := func(line int, where, format string, args ...any) {
		errs = append(errs, &ParseError{File: file, Line: line, Where: where, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}

	var (
		open     *fence
		openLine int
		step     *Step
		body     strings.Builder
		lineNo   int
		sc       = bufio.NewScanner(bytes.NewReader(data))
		html     *htmlBlock // the raw HTML block the line is in
		htmlLine int
		// para says the previous line is paragraph text, which an HTML
		// block of kind 7 cannot interrupt. When unsure it says no: a
		// visible step taken for hidden is a warning, the reverse would
		// run a step nobody reviewed.
		para bool
		// inRetro says the line is in the section of the retrospective
		// questions.
		inRetro bool
	)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	sc.Split(scanMarkdownLines)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t")
		if open == nil && html == nil {
			if html = startsHTMLBlock(line, para); html != nil {
				htmlLine = lineNo
			}
		}
		if html != nil {
			if f, ok := parseFence(line); ok {
				for _, marker := range []string{stepMarker, manualMarker} {
					if strings.Contains(f.info, marker) {
						rb.Warnings = append(rb.Warnings, &ParseError{File: file, Line: lineNo, Where: marker + " block", Message: fmt.Sprintf(
							"is inside %s (from line %d), hidden from readers of the rendered runbook: it is not run; move it out to run it, or delete it",
							html.what, htmlLine)})
						break
					}
				}
			}
			if html.ends(line) {
				html, para = nil, false
			}
			continue
		}
		if open == nil {
			f, ok := parseFence(line)
			if !ok {
				if rb.Title == "" && strings.HasPrefix(line, "# ") {
					rb.Title = strings.TrimSpace(line[2:])
				}
				if h, ok := atxHeading(line); ok {
					inRetro = strings.EqualFold(h, retroHeading)
				} else if q, ok := listItem(line); ok && inRetro {
					rb.RetroQuestions = append(rb.RetroQuestions, q)
				}
				para = continuesParagraph(line, para)
				continue
			}
			para = false
			open, openLine = &f, lineNo
			body.Reset()
			step = nil
			if s, isStep, err := parseInfo(f.info); err != nil {
				errorf(lineNo, stepWhere(s), "%v", err)
			} else if isStep {
				if first, dup := seen[s.Name]; dup {
					errorf(lineNo, stepWhere(s), "is defined twice (first on line %d)", first)
				}
				seen[s.Name] = lineNo
				s.Line = lineNo
				step = &s
			}
			continue
		}
		if open.closes(line) {
			if step != nil {
				step.Script = body.String()
				switch {
				case strings.TrimSpace(step.Script) != "":
				case step.Manual:
					errorf(step.Line, stepWhere(*step), "has no instruction for the operator")
				default:
					errorf(step.Line, stepWhere(*step), "has no commands")
				}
				rb.Steps = append(rb.Steps, *step)
			}
			open, step = nil, nil
			continue
		}
		body.WriteString(sc.Text())
		body.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		errorf(lineNo+1, "runbook", "cannot be read: %v", err)
	}
	if open != nil {
		errorf(openLine, "code block", "is never closed")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rb, nil
}

// retroHeading is the heading of a runbook's retrospective questions.
const retroHeading = "Retrospective questions"

var (
	atxHeadingPattern = regexp.MustCompile(`^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	listItemPattern   = regexp.MustCompile(`^ {0,3}(?:[-*+]|[0-9]{1,9}[.)])[ \t]+(.*\S)`)
)

// atxHeading returns the text of an ATX heading line ("## Text ##").
func atxHeading(line string) (string, bool) {
	m := atxHeadingPattern.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return strings.TrimSpace(m[1]), true
}

// listItem returns the text of a bullet or ordered list item's first line.
func listItem(line string) (string, bool) {
	m := listItemPattern.FindStringSubmatch(line)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// scanMarkdownLines splits lines as Markdown does (CommonMark 0.31,
// section 2.1): at LF, CR or CRLF. A bare CR is a line ending to the
// renderer, so a parser that did not split at it would see a fence or an
// HTML comment where the reviewer sees none, or none where they see one.
func scanMarkdownLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\n' {
			return i + 1, data[:i], nil
		}
		if i+1 < len(data) {
			if data[i+1] == '\n' {
				return i + 2, data[:i], nil
			}
			return i + 1, data[:i], nil
		}
		if atEOF {
			return i + 1, data[:i], nil
		}
		return 0, nil, nil // a CR at the end of the buffer: is an LF next?
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// htmlBlock is a raw HTML block (CommonMark 0.31, section 4.6): kinds 1
// to 5 run until a line holding one of their end markers, the line that
// opens them included; kinds 6 and 7 run until a blank line. what names
// it in warnings.
type htmlBlock struct {
	end  []string // any of these, in lower case; none: a blank line
	what string
}

func (h *htmlBlock) ends(line string) bool {
	if len(h.end) == 0 {
		return strings.TrimSpace(line) == ""
	}
	line = strings.ToLower(line)
	for _, m := range h.end {
		if strings.Contains(line, m) {
			return true
		}
	}
	return false
}

// blockTags are the tags that open an HTML block of kind 6.
var blockTags = strings.Fields(`address article aside base basefont blockquote body caption center col
	colgroup dd details dialog dir div dl dt fieldset figcaption figure footer form frame frameset
	h1 h2 h3 h4 h5 h6 head header hr html iframe legend li link main menu menuitem nav noframes ol
	optgroup option p param search section summary table tbody td tfoot th thead title tr track ul`)

// wholeTag is a line holding only one complete open or closing tag, the
// start of an HTML block of kind 7.
var wholeTag = regexp.MustCompile(`^(?:<[A-Za-z][A-Za-z0-9-]*(?:[ \t]+[A-Za-z_:][A-Za-z0-9_.:-]*(?:[ \t]*=[ \t]*(?:[^ \t"'=<>` + "`" + `]+|'[^']*'|"[^"]*"))?)*[ \t]*/?>|</[A-Za-z][A-Za-z0-9-]*[ \t]*>)[ \t]*$`)

// startsHTMLBlock returns the raw HTML block line opens, if any; para
// says the line would continue a paragraph.
func startsHTMLBlock(line string, para bool) *htmlBlock {
	trimmed := strings.TrimLeft(line, " ")
	if len(line)-len(trimmed) > 3 || !strings.HasPrefix(trimmed, "<") {
		return nil
	}
	lower := strings.ToLower(trimmed)
	for _, tag := range []string{"script", "pre", "style", "textarea"} {
		if rest, ok := strings.CutPrefix(lower, "<"+tag); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '>') {
			return &htmlBlock{[]string{"</script>", "</pre>", "</style>", "</textarea>"}, "a <" + tag + "> element"}
		}
	}
	switch {
	case strings.HasPrefix(trimmed, "<!--"):
		return &htmlBlock{[]string{"-->"}, "an HTML comment"}
	case strings.HasPrefix(trimmed, "<![CDATA["):
		return &htmlBlock{[]string{"]]>"}, "a CDATA section"}
	case strings.HasPrefix(trimmed, "<?"):
		return &htmlBlock{[]string{"?>"}, "an HTML processing instruction"}
	case len(trimmed) > 2 && trimmed[1] == '!' && (trimmed[2] >= 'a' && trimmed[2] <= 'z' || trimmed[2] >= 'A' && trimmed[2] <= 'Z'):
		return &htmlBlock{[]string{">"}, "an HTML declaration"}
	}
	name := strings.TrimPrefix(lower[1:], "/")
	for _, tag := range blockTags {
		if rest, ok := strings.CutPrefix(name, tag); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '>' || strings.HasPrefix(rest, "/>")) {
			return &htmlBlock{nil, "a <" + tag + "> HTML block"}
		}
	}
	if !para && wholeTag.MatchString(trimmed) {
		return &htmlBlock{nil, "an HTML block"}
	}
	return nil
}

// continuesParagraph says whether line, outside code blocks and HTML, is
// paragraph text, given whether the line before it was.
func continuesParagraph(line string, para bool) bool {
	trimmed := strings.TrimLeft(line, " ")
	switch {
	case trimmed == "":
		return false
	case len(line)-len(trimmed) > 3:
		return para // an indented code block, unless it continues a paragraph
	case strings.TrimLeft(trimmed, "#") != trimmed && (strings.TrimLeft(trimmed, "#") == "" || strings.HasPrefix(strings.TrimLeft(trimmed, "#"), " ")):
		return false // an ATX heading
	case strings.Trim(trimmed, "-*_= \t") == "":
		return false // a thematic break or a setext heading's underline
	}
	return true
}

// fence is an opening code fence: ``` or ~~~ (or longer), and its info string.
type fence struct {
	char byte
	n    int
	info string
}

func parseFence(line string) (fence, bool) {
	trimmed := strings.TrimLeft(line, " ")
	inset := len(line) - len(trimmed)
	if inset > 3 || len(trimmed) < 3 || (trimmed[0] != '`' && trimmed[0] != '~') {
		return fence{}, false
	}
	c := trimmed[0]
	n := 0
	for n < len(trimmed) && trimmed[n] == c {
		n++
	}
	info := strings.TrimSpace(trimmed[n:])
	if n < 3 || (c == '`' && strings.Contains(info, "`")) {
		return fence{}, false
	}
	return fence{char: c, n: n, info: info}, true
}

func (f *fence) closes(line string) bool {
	trimmed := strings.TrimLeft(line, " ")
	if len(line)-len(trimmed) > 3 {
		return false
	}
	n := 0
	for n < len(trimmed) && trimmed[n] == f.char {
		n++
	}
	return n >= f.n && strings.TrimSpace(trimmed[n:]) == ""
}

// parseInfo reads an info string such as
// `sh firedrill-step name="check velero" timeout=2m` or
// `text firedrill-manual name="dns-cutover" estimate=20m`. isStep is false
// for ordinary code blocks. On an error, s has the step's name when the
// info string gives one (and Manual), so that the error can name it; its
// message follows that name ("timeout ... is not ...").
func parseInfo(info string) (s Step, isStep bool, err error) {
	words, err := splitWords(info)
	if err != nil {
		// Only a step's broken info string is the runbook's problem.
		s.Manual = strings.Contains(info, manualMarker)
		if strings.Contains(info, stepMarker) || s.Manual {
			return s, true, err
		}
		return s, false, nil
	}
	if i := slices.Index(words, manualMarker); i >= 0 {
		return parseManual(words, i)
	}
	i := slices.Index(words, stepMarker)
	if i < 0 {
		return s, false, nil
	}
	s.Timeout = DefaultStepTimeout
	// Every attribute is read before the first problem is returned, so
	// that the problem names the step whatever the attributes' order.
	var first error
	fail := func(format string, args ...any) {
		if first == nil {
			first = fmt.Errorf(format, args...)
		}
	}
	if i != 1 {
		fail("%s must follow the language, as in: sh %s name=\"...\"", stepMarker, stepMarker)
	} else if s.Shell = words[0]; s.Shell != "sh" && s.Shell != "bash" {
		fail("language %q is not sh or bash", s.Shell)
	}
	for _, w := range words[i+1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			fail("attribute %q is not key=value", w)
			continue
		}
		switch k {
		case "name":
			s.Name = v
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				fail("timeout %q is not a positive duration such as 30s or 5m", v)
				continue
			}
			s.Timeout = d
		default:
			fail("unknown attribute %q; valid attributes are name and timeout", k)
		}
	}
	if first != nil {
		return s, true, first
	}
	if strings.TrimSpace(s.Name) == "" {
		return s, true, errors.New(`has no name; write name="..."`)
	}
	return s, true, nil
}

// parseManual reads the words of a manual step's info string, the marker
// at words[i]: `text firedrill-manual name="dns-cutover" estimate=20m`.
// The language is the reader's (text, md, ...) and may be left out.
func parseManual(words []string, i int) (s Step, isStep bool, err error) {
	s.Manual = true
	var first error
	fail := func(format string, args ...any) {
		if first == nil {
			first = fmt.Errorf(format, args...)
		}
	}
	if i > 1 {
		fail("%s must come first or follow the language, as in: text %s name=\"...\" estimate=10m", manualMarker, manualMarker)
	}
	hasEstimate := false
	for _, w := range words[i+1:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			fail("attribute %q is not key=value", w)
			continue
		}
		switch k {
		case "name":
			s.Name = v
		case "estimate":
			// The scenario's duration syntax, so a step that takes days
			// (provisioning hardware, a change board) reads as in the scenario.
			d, err := scenarios.ParseDuration(v)
			if err != nil || d <= 0 {
				fail("estimate %q is not a positive duration such as 30s, 20m, 1h30m or 2d", v)
				hasEstimate = true // the problem is said
				continue
			}
			s.Estimate, hasEstimate = time.Duration(d), true
		default:
			fail("unknown attribute %q; valid attributes are name and estimate", k)
		}
	}
	switch {
	case first != nil:
		return s, true, first
	case strings.TrimSpace(s.Name) == "":
		return s, true, errors.New(`has no name; write name="..."`)
	case !hasEstimate:
		return s, true, errors.New("has no estimate; write estimate=20m (how long it takes: counted toward RTO when nobody times it)")
	}
	return s, true, nil
}

// splitWords splits on spaces, keeping "double quoted" words together.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			inWord = true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inQuote {
		return nil, errors.New("unterminated quote in the code block's info string")
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
