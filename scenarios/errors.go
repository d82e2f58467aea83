package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ValidationError is one problem in a scenario file.
type ValidationError struct {
	// File is the file as it was named (or "catalog/NAME.yaml" for the built-in catalog).
	File string
	// Line is 1-based.
	Line int
	// Path is the field path, e.g. "spec.checks[2].http.url"; empty for
	// problems of the document as a whole (YAML syntax).
	Path string
	// Message says what is wrong; it never repeats a secret.
	Message string
}

// Error formats e as "FILE:LINE: field.path: message".
func (e *ValidationError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Message)
	}
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Path, e.Message)
}

// ValidationErrors are all the problems of one scenario file, in line order.
// Use errors.As with a *ValidationErrors target to get them from a wrapped error.
type ValidationErrors []*ValidationError

// Error is one line per problem.
func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find a single *ValidationError.
func (es ValidationErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// File is the file the errors are about.
func (es ValidationErrors) File() string {
	if len(es) == 0 {
		return ""
	}
	return es[0].File
}

func (es ValidationErrors) sorted() ValidationErrors {
	slices.SortStableFunc(es, func(a, b *ValidationError) int { return cmp.Compare(a.Line, b.Line) })
	return es
}

// NotFoundError is returned by Find when no source has a scenario of that name.
type NotFoundError struct {
	Name string
	// Suggestions are up to three known names close to Name.
	Suggestions []string
}

// Error says which name is unknown and suggests close ones.
func (e *NotFoundError) Error() string {
	msg := fmt.Sprintf("no scenario named %q", e.Name)
	if len(e.Suggestions) > 0 {
		msg += "; did you mean " + quoteList(e.Suggestions, "or") + "?"
	}
	return msg
}

// AmbiguousError is returned by Find when one source holds two files with
// the same scenario name.
type AmbiguousError struct {
	Name   string
	Source Source
	Files  []string
}

// Error names the files that share the name.
func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("scenario name %q is ambiguous in %s: it is defined by both %s", e.Name, e.Source, strings.Join(e.Files, " and "))
}

func quoteList(items []string, conj string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	default:
		return strings.Join(q[:len(q)-1], ", ") + " " + conj + " " + q[len(q)-1]
	}
}
