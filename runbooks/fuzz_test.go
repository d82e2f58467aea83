package runbooks

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the runbook parser: it must never
// panic; every failure is ParseErrors naming the file and a line of the
// document; and every step it returns is well formed: a name, sh or bash,
// a positive timeout, a body, unique names, and the line of its opening
// fence, which holds the step marker (lines ending at LF, CR or CRLF); a
// manual step has a positive estimate and no shell.
func FuzzParse(f *testing.F) {
	files, err := fs.Glob(catalogFS, "catalog/*.md")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := fs.ReadFile(catalogFS, file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("```text firedrill-manual name=\"dns cutover\" estimate=20m\nCut over.\n```\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Lines end at LF, CR or CRLF, as Parse (and a Markdown renderer)
		// reads them.
		lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n"), "\n")
		rb, err := Parse("fuzz.md", data)
		if err != nil {
			var perrs ParseErrors
			if !errors.As(err, &perrs) || len(perrs) == 0 {
				t.Fatalf("want ParseErrors, got %T: %v", err, err)
			}
			for _, e := range perrs {
				if e.File != "fuzz.md" || e.Line < 1 || e.Line > len(lines)+1 {
					t.Fatalf("error without a line of the document (%d lines): %q", len(lines), e.Error())
				}
			}
			return
		}
		if rb == nil || string(rb.Markdown) != string(data) {
			t.Fatal("a parsed runbook keeps its document")
		}
		names := map[string]bool{}
		prev := 0
		for _, s := range rb.Steps {
			if s.Manual {
				switch {
				case strings.TrimSpace(s.Name) == "" || names[s.Name]:
					t.Fatalf("manual step %q at line %d: no name, or twice", s.Name, s.Line)
				case s.Estimate <= 0 || s.Shell != "" || s.Timeout != 0:
					t.Fatalf("manual step %q: estimate %s, shell %q, timeout %s", s.Name, s.Estimate, s.Shell, s.Timeout)
				case strings.TrimSpace(s.Script) == "":
					t.Fatalf("manual step %q without instruction", s.Name)
				case s.Line <= prev || s.Line > len(lines) || !strings.Contains(lines[s.Line-1], manualMarker):
					t.Fatalf("manual step %q at line %d, after line %d, of %d", s.Name, s.Line, prev, len(lines))
				}
				names[s.Name] = true
				prev = s.Line
				continue
			}
			switch {
			case strings.TrimSpace(s.Name) == "":
				t.Fatalf("step without a name at line %d", s.Line)
			case names[s.Name]:
				t.Fatalf("step %q twice", s.Name)
			case s.Shell != "sh" && s.Shell != "bash":
				t.Fatalf("step %q with shell %q", s.Name, s.Shell)
			case s.Timeout <= 0:
				t.Fatalf("step %q with timeout %s", s.Name, s.Timeout)
			case strings.TrimSpace(s.Script) == "":
				t.Fatalf("step %q without commands", s.Name)
			case s.Line <= prev || s.Line > len(lines):
				t.Fatalf("step %q at line %d, after line %d, of %d", s.Name, s.Line, prev, len(lines))
			case !strings.Contains(lines[s.Line-1], stepMarker):
				t.Fatalf("step %q: line %d is not its fence: %q", s.Name, s.Line, lines[s.Line-1])
			}
			names[s.Name] = true
			prev = s.Line
		}
	})
}
