package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
	"sigs.k8s.io/yaml"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// The formats of -o. The format for people is named "table" or "text"
// by the command (a table of rows, or lines of prose); JSON and YAML carry
// the same document with the same keys (YAML through sigs.k8s.io/yaml,
// which encodes the JSON); csv is evidence summary's spreadsheet.
const (
	formatTable = "table"
	formatText  = "text"
	formatJSON  = "json"
	formatYAML  = "yaml"
	formatCSV   = "csv"
	formatWide  = "wide"
	formatHTML  = "html"
)

// outputWriter is what a command prints, in each format of -o, modelled on
// helm's pkg/cli/output.Writer. WriteTable writes the format for people
// (table or text). Each method writes the whole document to out and
// returns the first error writing it.
type outputWriter interface {
	WriteTable(out io.Writer) error
	WriteJSON(out io.Writer) error
	WriteYAML(out io.Writer) error
}

// csvWriter is an outputWriter that also writes -o csv.
type csvWriter interface {
	WriteCSV(out io.Writer) error
}

// htmlWriter is an outputWriter that also writes -o html: one
// self-contained page (fleet).
type htmlWriter interface {
	WriteHTML(out io.Writer) error
}

// output is the -o flag of a command that prints a document: the format
// for people first (the default), then json and yaml, then any other.
type output []string

var (
	tableOutput = output{formatTable, formatJSON, formatYAML}
	textOutput  = output{formatText, formatJSON, formatYAML}
)

// flag is the command's -o flag.
func (o output) flag() *cli.StringFlag {
	f := o.namedFlag("output")
	f.Aliases = []string{"o"}
	return f
}

// namedFlag is the flag of the output format under the name given.
func (o output) namedFlag(name string) *cli.StringFlag {
	return &cli.StringFlag{
		Name:  name,
		Value: o[0],
		Usage: "print as `FORMAT`: " + strings.Join(o, ", "),
	}
}

// format reads -o; a format the command does not have is a usage error
// that lists those it has.
func (o output) format(c *cli.Context) (string, error) {
	return o.formatOf(c, "output")
}

// formatOf reads the format from the flag name.
func (o output) formatOf(c *cli.Context, name string) (string, error) {
	f := c.String(name)
	if !slices.Contains(o, f) {
		flag := "--" + name
		if name == "output" {
			flag = "-o"
		}
		return "", usageErrorf(helpHint(c), "invalid %s %q: want one of %s", flag, f, strings.Join(o, ", "))
	}
	return f, nil
}

// writeOutput writes w to out in format, one of what output.format
// returns.
func writeOutput(out io.Writer, format string, w outputWriter) error {
	switch format {
	case formatJSON:
		return w.WriteJSON(out)
	case formatYAML:
		return w.WriteYAML(out)
	case formatCSV:
		cw, ok := w.(csvWriter)
		if !ok {
			return fmt.Errorf("this command has no csv output")
		}
		return cw.WriteCSV(out)
	case formatHTML:
		hw, ok := w.(htmlWriter)
		if !ok {
			return fmt.Errorf("this command has no html output")
		}
		return hw.WriteHTML(out)
	default:
		return w.WriteTable(out)
	}
}

// peopleOut is where a command that prints a document writes its lines
// for people: stdout with the format for people, stderr when stdout
// carries JSON or YAML for a machine.
func peopleOut(format string, stdout, stderr io.Writer) io.Writer {
	if format == formatTable || format == formatText {
		return stdout
	}
	return stderr
}

// document is the outputWriter of most commands: doc encoded as it is in
// JSON and YAML, and table for people.
type document struct {
	doc   any
	table func(out io.Writer) error
}

func (d document) WriteTable(out io.Writer) error { return d.table(out) }
func (d document) WriteJSON(out io.Writer) error  { return encodeJSON(out, d.doc) }
func (d document) WriteYAML(out io.Writer) error  { return encodeYAML(out, d.doc) }

// encodeJSON writes v indented, with <, > and & as they are.
func encodeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// encodeYAML writes v as YAML with the keys of its JSON encoding.
func encodeYAML(w io.Writer, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("write YAML: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// scenarioArg reads what every command that acts on one scenario starts
// with: its -o format (one of o) and its only argument, a scenario
// name or file, found as `firedrill scenarios list` shows.
func (a *app) scenarioArg(c *cli.Context, o output) (*scenarios.Scenario, string, error) {
	format, err := o.format(c)
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
	if err := a.selectClusters(c, sc); err != nil {
		return nil, "", err
	}
	a.secrets.Add(drill.Secrets(sc, a.env.getenv)...)
	return sc, format, nil
}

// drillScenarioArg is scenarioArg for the commands that act on a drill's
// buckets and clusters (run, verify, restore): it prints the scenario's
// warnings to stderr, and stops before anything is touched when a file the
// drill needs is missing or unusable here (scenarios.CheckFiles).
func (a *app) drillScenarioArg(c *cli.Context, o output) (*scenarios.Scenario, string, error) {
	return a.usableScenarioArg(c, true, o)
}

// usableScenarioArg is drillScenarioArg that prints the warnings only when
// warn is set or the files stop it: plan lists them in the plan itself.
func (a *app) usableScenarioArg(c *cli.Context, warn bool, o output) (*scenarios.Scenario, string, error) {
	sc, format, err := a.scenarioArg(c, o)
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
		return usageErrorf(helpHint(c), "%s needs %s, got %s", c.Command.Name, what, plural.Count(c.NArg(), "argument", "arguments"))
	}
	return nil
}
