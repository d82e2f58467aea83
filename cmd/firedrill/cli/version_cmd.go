package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/internal/version"
)

func (a *app) versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print firedrill's version, commit and Go version",
		UsageText: "firedrill version [-o text|json]",
		Description: `Prints the version set at build time (make build stamps it from git
describe), the commit, and the Go version. Include it in bug reports.

Examples:
  firedrill version
  firedrill version -o json`,
		Flags:  []cli.Flag{outputFlag("text", "json")},
		Action: a.version,
	}
}

func (a *app) version(c *cli.Context) error {
	format, err := outputFormat(c, "text", "json")
	if err != nil {
		return err
	}
	if err := exactArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	info := version.Get()
	if format == "json" {
		return writeJSON(a.env.Stdout, info)
	}
	fmt.Fprintf(a.env.Stdout, "firedrill %s\n", info.Version)
	if info.Commit != "" {
		modified := ""
		if info.Modified {
			modified = " (modified)"
		}
		fmt.Fprintf(a.env.Stdout, "commit:   %s%s\n", info.Commit, modified)
	}
	fmt.Fprintf(a.env.Stdout, "go:       %s\nplatform: %s\n", info.GoVersion, info.Platform)
	return nil
}
