package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// outputFlag is the -o flag of a command that prints data; the first format
// is the default.
func outputFlag(formats ...string) *cli.StringFlag {
	return &cli.StringFlag{
		Name:    "output",
		Aliases: []string{"o"},
		Value:   formats[0],
		Usage:   "print as `FORMAT`: " + strings.Join(formats, " or "),
	}
}

// outputFormat reads the -o flag and rejects formats the command does not have.
func outputFormat(c *cli.Context, formats ...string) (string, error) {
	f := c.String("output")
	if !slices.Contains(formats, f) {
		return "", usageErrorf(helpHint(c), "invalid -o %q: want %s", f, strings.Join(formats, " or "))
	}
	return f, nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// scenarioArg reads what every command that acts on one scenario starts
// with: its -o format (one of formats) and its only argument, a scenario
// name or file, found as `firedrill scenarios list` shows.
func (a *app) scenarioArg(c *cli.Context, formats ...string) (*scenarios.Scenario, string, error) {
	format, err := outputFormat(c, formats...)
	if err != nil {
		return nil, "", err
	}
	if err := exactArgs(c, 1, "one scenario name or file"); err != nil {
		return nil, "", err
	}
	sc, err := scenarios.Find(c.Context, a.scenarioEnv(), c.Args().First())
	if err != nil {
		return nil, "", err
	}
	a.secrets.Add(drill.Secrets(sc, a.env.getenv)...)
	return sc, format, nil
}

// drillScenarioArg is scenarioArg for the commands that act on a drill's
// buckets and clusters (run, verify, restore): it prints the scenario's
// warnings to stderr, and stops before anything is touched when a file the
// drill needs is missing or unusable here (scenarios.CheckFiles).
func (a *app) drillScenarioArg(c *cli.Context, formats ...string) (*scenarios.Scenario, string, error) {
	return a.usableScenarioArg(c, true, formats...)
}

// usableScenarioArg is drillScenarioArg that prints the warnings only when
// warn is set or the files stop it: plan lists them in the plan itself.
func (a *app) usableScenarioArg(c *cli.Context, warn bool, formats ...string) (*scenarios.Scenario, string, error) {
	sc, format, err := a.scenarioArg(c, formats...)
	if err != nil {
		return nil, "", err
	}
	errs := sc.CheckFiles()
	if warn || len(errs) > 0 {
		for _, w := range sc.Warnings() {
			fmt.Fprintf(a.env.Stderr, "Warning: %s\n", w)
		}
	}
	if len(errs) > 0 {
		return nil, "", &filesError{scenario: sc.Metadata.Name, errs: errs}
	}
	return sc, format, nil
}

// filesError says which files a scenario names cannot be used where the
// command runs (exit code 1).
type filesError struct {
	scenario string
	errs     scenarios.ValidationErrors
}

func (e *filesError) Error() string {
	return fmt.Sprintf("scenario %s names files that cannot be used here:\n%v", e.scenario, e.errs)
}

// exactArgs checks the number of arguments of a command.
func exactArgs(c *cli.Context, n int, what string) error {
	if c.NArg() != n {
		return usageErrorf(helpHint(c), "%s needs %s, got %d argument(s)", c.Command.Name, what, c.NArg())
	}
	return nil
}
