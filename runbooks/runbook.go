package runbooks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/safefile"
)

// DefaultStepTimeout bounds a step that does not say otherwise.
const DefaultStepTimeout = 2 * time.Minute

// stepMarker marks a fenced code block as an executable step.
const stepMarker = "firedrill-step"

// Runbook is a parsed runbook.
type Runbook struct {
	// Name is the built-in name, or empty for a runbook read from a file.
	Name string
	// File names the runbook for the user: "catalog/NAME.md" or a path.
	File string
	// Title is the text of the first "# " heading, if any.
	Title string
	// Steps are the executable steps, in document order.
	Steps []Step
	// Markdown is the whole document.
	Markdown []byte
}

// Step is one executable step of a runbook.
type Step struct {
	Name    string
	Timeout time.Duration
	// Shell is "sh" or "bash".
	Shell string
	// Script is the body of the fenced block.
	Script string
	// Line is the line of the opening fence.
	Line int
}

// ParseError is one problem in a runbook, at FILE:LINE.
type ParseError struct {
	File    string
	Line    int
	Message string
}

// Error formats e as "FILE:LINE: message".
func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message) }

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
func Parse(file string, data []byte) (*Runbook, error) {
	rb := &Runbook{File: file, Markdown: data}
	var errs ParseErrors
	errorf := func(line int, format string, args ...any) {
		errs = append(errs, &ParseError{File: file, Line: line, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}

	var (
		open     *fence
		openLine int
		step     *Step
		body     strings.Builder
		lineNo   int
		sc       = bufio.NewScanner(bytes.NewReader(data))
	)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if open == nil {
			f, ok := parseFence(line)
			if !ok {
				if rb.Title == "" && strings.HasPrefix(line, "# ") {
					rb.Title = strings.TrimSpace(line[2:])
				}
				continue
			}
			open, openLine = &f, lineNo
			body.Reset()
			step = nil
			if s, isStep, err := parseInfo(f.info); err != nil {
				errorf(lineNo, "%v", err)
			} else if isStep {
				if first, dup := seen[s.Name]; dup {
					errorf(lineNo, "step %q is defined twice (first on line %d)", s.Name, first)
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
				if strings.TrimSpace(step.Script) == "" {
					errorf(step.Line, "step %q has no commands", step.Name)
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
		errorf(lineNo+1, "read runbook: %v", err)
	}
	if open != nil {
		errorf(openLine, "code block is never closed")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return rb, nil
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
// `sh firedrill-step name="check velero" timeout=2m`. isStep is false for
// ordinary code blocks.
func parseInfo(info string) (s Step, isStep bool, err error) {
	words, err := splitWords(info)
	if err != nil {
		// Only a step's broken info string is the runbook's problem.
		if strings.Contains(info, stepMarker) {
			return s, true, err
		}
		return s, false, nil
	}
	switch i := slices.Index(words, stepMarker); {
	case i < 0:
		return s, false, nil
	case i != 1:
		return s, true, fmt.Errorf("%s must follow the language, as in: sh %s name=\"...\"", stepMarker, stepMarker)
	}
	s.Shell = words[0]
	if s.Shell != "sh" && s.Shell != "bash" {
		return s, true, fmt.Errorf("step language %q is not sh or bash", s.Shell)
	}
	s.Timeout = DefaultStepTimeout
	for _, w := range words[2:] {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return s, true, fmt.Errorf("step attribute %q is not key=value", w)
		}
		switch k {
		case "name":
			s.Name = v
		case "timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return s, true, fmt.Errorf("step timeout %q is not a positive duration such as 30s or 5m", v)
			}
			s.Timeout = d
		default:
			return s, true, fmt.Errorf("unknown step attribute %q; valid attributes are name and timeout", k)
		}
	}
	if strings.TrimSpace(s.Name) == "" {
		return s, true, errors.New(`step has no name; write name="..."`)
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
