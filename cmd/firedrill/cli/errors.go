package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"

	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// usageError is a mistake in the command line itself: exit code 2.
type usageError struct {
	msg  string
	hint string
}

func (e *usageError) Error() string { return e.msg }

func usageErrorf(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// failedError says the command ran to the end and what it proves did not
// hold (a protection check, an objective, a check after a restore): exit
// code 3. The details are already on stdout.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

func failedf(format string, args ...any) error {
	return &failedError{msg: fmt.Sprintf(format, args...)}
}

func exitCode(ctx context.Context, err error) int {
	var usage *usageError
	var failed *failedError
	switch {
	case err == nil:
		return ExitOK
	case ctx.Err() != nil:
		return ExitInterrupted
	case errors.As(err, &usage):
		return ExitUsage
	case errors.As(err, &failed):
		return ExitDrillFailed
	case scratchInUse(err):
		return ExitScratchInUse
	default:
		return ExitError
	}
}

// printError is the only place errors become output.
func printError(w io.Writer, err error, code int) {
	if code == ExitInterrupted {
		fmt.Fprintln(w, "Error: interrupted")
		return
	}
	var verrs scenarios.ValidationErrors
	var rerrs runbooks.ParseErrors
	var files *filesError
	switch {
	case errors.As(err, &files):
		fmt.Fprintf(w, "Error: scenario %s names files that cannot be used here (%s); nothing has been touched:\n", files.scenario, count(len(files.errs), "problem"))
		for _, e := range files.errs {
			fmt.Fprintf(w, "  %s\n", e)
		}
	case errors.As(err, &verrs):
		fmt.Fprintf(w, "Error: %s is not a valid scenario (%s):\n", verrs.File(), count(len(verrs), "problem"))
		for _, e := range verrs {
			fmt.Fprintf(w, "  %s\n", e)
		}
	case errors.As(err, &rerrs):
		fmt.Fprintf(w, "Error: runbook %s is not valid (%s):\n", rerrs[0].File, count(len(rerrs), "problem"))
		for _, e := range rerrs {
			fmt.Fprintf(w, "  %s\n", e)
		}
	default:
		fmt.Fprintf(w, "Error: %v\n", err)
	}
	if h := hint(err); h != "" {
		fmt.Fprintf(w, "Hint: %s\n", h)
	}
}

// hint suggests a fix for the errors that have one.
func hint(err error) string {
	var (
		usage    *usageError
		notFound *scenarios.NotFoundError
		amb      *scenarios.AmbiguousError
		dir      *scenarios.DirError
		verrs    scenarios.ValidationErrors
		rerrs    runbooks.ParseErrors
	)
	var files *filesError
	switch {
	case scratchInUse(err):
		return scratchInUseHint
	case errors.As(err, &files):
		return "fix each field above, or run where those files are; 'firedrill validate FILE' lists them as warnings"
	case errors.As(err, &usage):
		return usage.hint
	case errors.As(err, &notFound):
		return "run 'firedrill scenarios list' to see every scenario and where it comes from"
	case errors.As(err, &amb):
		return "give one of them another metadata.name, or name the file itself instead of the scenario"
	case errors.As(err, &dir):
		return "--scenario-dir must name an existing directory"
	case errors.As(err, &verrs):
		return "fix the lines above; 'firedrill validate FILE' checks a file without touching anything"
	case errors.As(err, &rerrs):
		return "a step block starts with ```sh firedrill-step name=\"...\" timeout=2m and ends with ```"
	case errors.Is(err, syscall.ENOSPC):
		return "the disk of the path above is full: free space on it, or point --state-dir ($FIREDRILL_STATE_DIR) at another disk; the record keeps the last version written whole"
	}
	// Errors of the library that know their fix (the scratch guard, an
	// existing target namespace) say it themselves.
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// count is plural.Count of a noun whose plural takes an s.
func count(n int, noun string) string { return plural.Count(n, noun, noun+"s") }

// hinted adds a fix to an error of the library that does not know it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }
func (h *hinted) Hint() string  { return h.hint }

func withHint(err error, hint string) error { return &hinted{err: err, hint: hint} }
