package cli

import (
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/internal/version"
)

func (a *app) versionCommand() *cli.Command {
	return &cli.Command{
		Name:      "version",
		Usage:     "print firedrill's version, commit and Go version",
		UsageText: "firedrill version [-o text|json|yaml]",
		Description: `Prints the version set at build time (make build stamps it from git
describe), the commit (make build's short hash; "(modified)" when built from
a tree with changes), and the Go version. Include it in bug reports.

Examples:
  firedrill version
  firedrill version -o json`,
		Flags:  []cli.Flag{textOutput.flag()},
		Action: a.version,
	}
}

func (a *app) version(c *cli.Context) error {
	format, err := textOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	info := version.Get()
	return writeOutput(a.env.Stdout, format, document{
		doc: versionDoc{Schema: schemaVersion, Info: info},
		table: func(w io.Writer) error {
			fmt.Fprintf(w, "firedrill %s\n", info.Version)
			if info.Commit != "" {
				modified := ""
				if info.Modified {
					modified = " (modified)"
				}
				fmt.Fprintf(w, "commit:   %s%s\n", info.Commit, modified)
			}
			fmt.Fprintf(w, "go:       %s\nplatform: %s\n", info.GoVersion, info.Platform)
			return nil
		},
	})
}
