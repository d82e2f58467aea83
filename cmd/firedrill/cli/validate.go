package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

func (a *app) validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check scenario files and their runbooks without touching anything",
		UsageText: "firedrill validate FILE|DIR|-... [--strict] [-o text|json|yaml]",
		Description: `Checks each scenario file strictly: unknown fields, wrong types, bad
durations, missing required fields, contradictions and inline secrets are
all errors. Every problem of every file is printed, one per line, as
FILE:LINE: field.path: message. A directory stands for the *.yaml and *.yml
files directly in it; - reads one scenario from standard input (named
<stdin> in errors; its relative paths are relative to the working
directory). The scenario's runbook is checked too; its problems are
printed at the runbook's line, with the runbook's block in place of the
field: RUNBOOK:LINE: step "NAME": message (or manual step "NAME",
firedrill-step block, code block, manual steps).

Likely mistakes are warnings, printed as FILE:LINE: warning: field.path:
message, each with its fix; they do not make a file invalid: a check that
names a namespace by its name in the backup although namespaceMapping
renames it (in a shell command line too), an endpoint whose host names
another region or already holds the bucket, an endpoint with a path, a
fixed declaredAt, restore phases that restore custom resources before any
phase restores their CustomResourceDefinitions, a scheduleCron whose runs
are further apart than the RPO, a retention, maxRetention or window.within
shorter than the time between backups (the window then holds none at
times; without scheduleCron that time is unknown, and the RPO stands for
it), a runbook step hidden in HTML (it is never run), runbook manual
steps whose declared estimates alone exceed the RTO objective or use more
than 80% of it (named at the largest estimate's line), and a caFile, kubeconfig or credentials file (or
its profile, also one named without a file and looked up in the AWS SDK's
shared files) that is missing, half-written or unusable here (run,
verify, restore and plan stop on those; validate only warns, since the
files may exist only where the drill runs).

Exit codes: 0 every file is valid, warnings or not; 1 a file is invalid
(or, with --strict, has warnings) or cannot be read; 2 usage (no file, a
bad flag).

Examples:
  firedrill validate scenarios/region-loss.yaml
  firedrill validate --strict scenarios/
  firedrill validate -o json scenarios/*.yaml
  firedrill scenarios show region-loss | firedrill validate -`,
		Flags: []cli.Flag{
			textOutput.flag(),
			&cli.BoolFlag{Name: "strict", Usage: "a file with warnings fails too (exit 1)"},
		},
		Action: a.validate,
	}
}

// validateResult is one file's outcome, as `validate -o json` prints it.
type validateResult struct {
	File string `json:"file"`
	Name string `json:"name,omitempty"`
	// Valid is false when the file has errors, or, with --strict, warnings.
	Valid    bool            `json:"valid"`
	Errors   []validateError `json:"errors,omitempty"`
	Warnings []validateError `json:"warnings,omitempty"`
}

type validateError struct {
	// File is the file the problem is in when it is not the scenario
	// file: the scenario's runbook. Line is of that file.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Path is the scenario's field, or the runbook's part: step "NAME",
	// manual step "NAME", firedrill-step block, ... (runbooks.ParseError).
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
	// Text is the whole line as the text output prints it.
	Text string `json:"text"`
}

func (a *app) validate(c *cli.Context) error {
	format, err := textOutput.format(c)
	if err != nil {
		return err
	}
	if c.NArg() == 0 {
		return usageErrorf(helpHint(c), "validate needs at least one scenario file or directory")
	}
	env := a.scenarioEnv()
	files, err := expandDirs(env, c.Args().Slice())
	if err != nil {
		return err
	}
	if err := stdinOnce(c, files); err != nil {
		return err
	}
	strict := c.Bool("strict")
	results := make([]validateResult, 0, len(files))
	invalid, warned := 0, 0
	for _, f := range files {
		r := validateFile(c, env, f)
		if len(r.Warnings) > 0 {
			warned++
			if strict {
				r.Valid = false
			}
		}
		if !r.Valid {
			invalid++
		}
		results = append(results, r)
	}
	if err := writeOutput(a.env.Stdout, format, document{
		doc:   validateDoc{Schema: schemaValidate, Files: results},
		table: func(w io.Writer) error { writeValidateText(w, results); return nil },
	}); err != nil {
		return err
	}
	if invalid > 0 {
		verb := "are"
		if invalid == 1 {
			verb = "is"
		}
		msg := fmt.Sprintf("%d of %s %s invalid", invalid, count(len(files), "scenario file"), verb)
		if strict && warned > 0 {
			msg += fmt.Sprintf(" (--strict: %d with warnings)", warned)
		}
		return errors.New(msg)
	}
	return nil
}

// writeValidateText writes each problem as FILE:LINE: field.path: message,
// and a line for each valid file.
func writeValidateText(out io.Writer, results []validateResult) {
	for _, r := range results {
		for _, e := range r.Errors {
			fmt.Fprintln(out, e.Text)
		}
		for _, w := range r.Warnings {
			fmt.Fprintln(out, w.Text)
		}
		if r.Valid {
			line := fmt.Sprintf("%s: ok (%s)", r.File, r.Name)
			if len(r.Warnings) > 0 {
				line += ", " + count(len(r.Warnings), "warning")
			}
			fmt.Fprintln(out, line)
		}
	}
}

func validateFile(c *cli.Context, env scenarios.Env, file string) validateResult {
	r := validateResult{File: stdinName(file)}
	sc, warnings, err := scenarios.ValidateFile(c.Context, env, file)
	for _, w := range warnings {
		r.Warnings = append(r.Warnings, validateError{Line: w.Line, Path: w.Path, Message: w.Message, Text: warningText(w)})
	}
	if err == nil {
		r.Name = sc.Metadata.Name
		// The runbook's warnings (a step hidden in HTML is never run,
		// manual estimates against the RTO), at the runbook's lines.
		var rb *runbooks.Runbook
		if rb, err = drill.ScenarioRunbook(sc); err == nil {
			for _, w := range drill.RunbookWarnings(sc, rb) {
				r.Warnings = append(r.Warnings, validateError{File: w.File, Line: w.Line, Path: w.Where, Message: w.Message, Text: w.Warning()})
			}
		}
	}
	r.Valid = err == nil
	r.Errors = validateErrors(err)
	var verrs scenarios.ValidationErrors
	if errors.As(err, &verrs) && sc != nil && sc.Spec.Runbook != nil &&
		!slices.ContainsFunc(verrs, func(e *scenarios.ValidationError) bool { return strings.HasPrefix(e.Path, "spec.runbook") }) {
		// The runbook's errors in the same pass as the scenario's, so
		// one run of validate lists everything to fix.
		_, rerr := drill.ScenarioRunbook(sc)
		r.Errors = append(r.Errors, validateErrors(rerr)...)
	}
	return r
}

// validateErrors lists a scenario's or runbook's errors one by one: each
// of a ValidationErrors or ParseErrors, or err as one; none for nil.
func validateErrors(err error) []validateError {
	var (
		verrs scenarios.ValidationErrors
		verr  *scenarios.ValidationError
		rerrs runbooks.ParseErrors
		out   []validateError
	)
	switch {
	case err == nil:
	case errors.As(err, &verrs):
		for _, e := range verrs {
			out = append(out, validateError{Line: e.Line, Path: e.Path, Message: e.Message, Text: e.Error()})
		}
	case errors.As(err, &verr):
		out = []validateError{{Line: verr.Line, Path: verr.Path, Message: verr.Message, Text: verr.Error()}}
	case errors.As(err, &rerrs):
		for _, e := range rerrs {
			out = append(out, validateError{File: e.File, Line: e.Line, Path: e.Where, Message: e.Message, Text: e.Error()})
		}
	default:
		out = []validateError{{Message: err.Error(), Text: err.Error()}}
	}
	return out
}

// warningText is "FILE:LINE: warning: field.path: message".
func warningText(w *scenarios.ValidationError) string {
	return fmt.Sprintf("%s:%d: warning: %s: %s", w.File, w.Line, w.Path, w.Message)
}

// expandDirs replaces each directory argument with the scenario files
// directly in it.
func expandDirs(env scenarios.Env, args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		abs := arg
		if !filepath.IsAbs(arg) && env.WorkDir != "" {
			abs = filepath.Join(env.WorkDir, arg)
		}
		info, err := os.Stat(abs)
		if err != nil || !info.IsDir() {
			// Missing files are reported by validateFile, with the others.
			files = append(files, arg)
			continue
		}
		var inDir []string
		for _, pattern := range []string{"*.yaml", "*.yml"} {
			m, err := filepath.Glob(filepath.Join(abs, pattern))
			if err != nil {
				return nil, err
			}
			for _, f := range m {
				inDir = append(inDir, filepath.Join(arg, filepath.Base(f)))
			}
		}
		slices.Sort(inDir)
		if len(inDir) == 0 {
			return nil, fmt.Errorf("directory %s holds no *.yaml or *.yml files", arg)
		}
		files = append(files, inDir...)
	}
	return files, nil
}
