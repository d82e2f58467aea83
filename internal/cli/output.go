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

// exactArgs checks the number of arguments of a command.
func exactArgs(c *cli.Context, n int, what string) error {
	if c.NArg() != n {
		return usageErrorf(helpHint(c), "%s needs %s, got %d argument(s)", c.Command.Name, what, c.NArg())
	}
	return nil
}
