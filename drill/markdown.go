package drill

import (
	"fmt"
	"strings"
	"unicode"
)

// Markdown escaping for report.md and retrospective.md. Every value a
// Markdown template prints goes through one of mdInline, mdCode or
// mdBlock (TestMarkdownTemplates_EscapeEveryField holds the templates to
// it), as html/template escapes every value of report.html. The rules are
// CommonMark's (https://spec.commonmark.org/0.31.2/) with GitHub's table
// extension (https://github.github.com/gfm/#tables-extension-): scenario
// fields, step names, error messages and command output cannot start a
// line, so they cannot open a heading, a table row, a list, a quote, an
// HTML block or a code block, nor close one the template opened.

// mdInline makes v (printed with fmt.Sprint) text within one line of
// Markdown, safe in a table cell, a list item or a heading: line endings
// (CR, LF, CRLF) become spaces, other control characters are shown as
// \xNN, and the characters that Markdown or a GitHub table reads as markup
// (\ ` * _ ~ [ ] < > | # &) are escaped with a backslash, as is a first
// character that could start a block (- + = or a number followed by . or
// ")"). Leading and trailing spaces are dropped.
func mdInline(v any) string {
	s := strings.TrimSpace(oneLine(fmt.Sprint(v)))
	var b strings.Builder
	for i, r := range s {
		switch {
		case strings.ContainsRune("\\`*_~[]<>|#&", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case i == 0 && strings.ContainsRune("-+=", r):
			b.WriteByte('\\')
			b.WriteRune(r)
		case (r == '.' || r == ')') && isDigits(s[:i]) && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\t'):
			// "1. " or "1) " at the start of a line opens an ordered list.
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode is v as a code span (`v`) where that is safe everywhere: with a
// backtick fence longer than any run of backticks in v, padded with a
// space when v starts or ends with a backtick. A value holding a pipe is
// escaped text instead (mdInline): a table needs the pipe escaped, and
// elsewhere a code span would show the backslash.
func mdCode(v any) string {
	s := strings.TrimSpace(oneLine(fmt.Sprint(v)))
	if s == "" || strings.ContainsRune(s, '|') || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) {
		return mdInline(s)
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdBlock is s as a fenced code block, on lines of its own: the fence is
// longer than any run of backticks in s (at least three), so no line of s
// can close it, and bare carriage returns become line feeds, as a
// Markdown reader would read them.
func mdBlock(s string) string {
	s = strings.TrimRight(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n")
	fence := strings.Repeat("`", max(3, longestRun(s, '`')+1))
	return fence + "text\n" + s + "\n" + fence
}

// oneLine turns every line ending (CRLF, CR, LF) into a space.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}

func longestRun(s string, c byte) int {
	longest, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] != c {
			n = 0
			continue
		}
		n++
		longest = max(longest, n)
	}
	return longest
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}
