package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/scenarios"
)

func (a *app) scenariosCommand() *cli.Command {
	return &cli.Command{
		Name:      "scenarios",
		Usage:     "list and show the scenarios firedrill can find",
		UsageText: "firedrill scenarios command [command options] [arguments...]",
		Action:    unknownCommand,
		Subcommands: []*cli.Command{
			{
				Name:      "list",
				Usage:     "list every scenario, where it comes from and its objectives",
				UsageText: "firedrill scenarios list [-o table|wide|json|yaml]",
				Description: `Lists the scenarios of every search location (--scenario-dir,
$FIREDRILL_SCENARIOS, ./scenarios, the built-in catalog), sorted by name.
When two locations hold the same name, the first one wins and the other is
marked "(shadowed)". Files that are not valid scenarios are listed as
INVALID; 'firedrill validate FILE' shows why. -o wide prints each summary
whole and the file of each scenario.

Examples:
  firedrill scenarios list
  firedrill --scenario-dir ./drills scenarios list -o json`,
				Flags:  []cli.Flag{listOutput.flag()},
				Action: a.scenariosList,
			},
			{
				Name:      "show",
				Usage:     "print a scenario with every default filled in",
				UsageText: "firedrill scenarios show NAME|FILE [-o yaml|json]",
				Description: `Prints the scenario as firedrill will run it: defaults filled in (restore
phases, excluded resources, timeouts, cleanup policy) and file paths
resolved. Copy a built-in scenario as a starting point for your own:

Examples:
  firedrill scenarios show region-loss
  firedrill scenarios show region-loss > scenarios/my-region-loss.yaml
  firedrill scenarios show ./drills/shop.yaml -o json`,
				Flags:  []cli.Flag{showOutput.flag()},
				Action: a.scenariosShow,
			},
		},
	}
}

// listItem is one row of `scenarios list -o json`.
type listItem struct {
	Name        string          `json:"name"`
	Source      string          `json:"source"`
	SourceKind  string          `json:"source_kind"`
	File        string          `json:"file"`
	Valid       bool            `json:"valid"`
	Shadowed    bool            `json:"shadowed"`
	Summary     string          `json:"summary,omitempty"`
	Description string          `json:"description,omitempty"`
	Lost        []string        `json:"lost,omitempty"`
	Objectives  *listObjectives `json:"objectives,omitempty"`
	Errors      []string        `json:"errors,omitempty"`
	// Ambiguous lists the files of one source that share this name.
	Ambiguous []string `json:"ambiguous,omitempty"`
}

type listObjectives struct {
	RTOSeconds float64 `json:"rto_seconds"`
	RPOSeconds float64 `json:"rpo_seconds"`
	Tier       string  `json:"tier,omitempty"`
}

func (a *app) scenariosList(c *cli.Context) error {
	format, err := listOutput.format(c)
	if err != nil {
		return err
	}
	if err := exactArgs(c, 0, "no arguments"); err != nil {
		return err
	}
	entries, err := scenarios.List(c.Context, a.scenarioEnv())
	if err != nil {
		return err
	}
	items := make([]listItem, 0, len(entries))
	for _, e := range entries {
		items = append(items, toListItem(e))
	}
	return writeOutput(a.env.Stdout, format, document{
		doc:   scenariosDoc{Schema: schemaScenarios, Scenarios: items},
		table: func(w io.Writer) error { return writeListTable(w, items, format == formatWide) },
	})
}

func toListItem(e scenarios.Entry) listItem {
	it := listItem{
		Name:       e.Name,
		Source:     e.Source.String(),
		SourceKind: string(e.Source.Kind),
		File:       e.File,
		Valid:      e.Scenario != nil,
		Shadowed:   e.Shadowed,
	}
	if sc := e.Scenario; sc != nil {
		o := sc.Spec.Objectives
		it.Summary = sc.Spec.Disaster.Summary
		it.Description = sc.Metadata.Description
		for _, l := range sc.Spec.Disaster.Lost {
			it.Lost = append(it.Lost, string(l))
		}
		it.Objectives = &listObjectives{RTOSeconds: time.Duration(o.RTO).Seconds(), RPOSeconds: time.Duration(o.RPO).Seconds(), Tier: o.Tier}
		return it
	}
	var (
		verrs scenarios.ValidationErrors
		amb   *scenarios.AmbiguousError
	)
	if errors.As(e.Err, &amb) {
		it.Ambiguous = amb.Files
	}
	if errors.As(e.Err, &verrs) {
		for _, ve := range verrs {
			it.Errors = append(it.Errors, ve.Error())
		}
	} else if e.Err != nil {
		it.Errors = []string{e.Err.Error()}
	}
	return it
}

const maxSummary = 64

func writeListTable(w io.Writer, items []listItem, wide bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if wide {
		fmt.Fprintln(tw, "NAME\tSOURCE\tRTO\tRPO\tFILE\tSUMMARY")
	} else {
		fmt.Fprintln(tw, "NAME\tSOURCE\tRTO\tRPO\tSUMMARY")
	}
	for _, it := range items {
		source := it.Source
		if it.Shadowed {
			source += " (shadowed)"
		}
		rto, rpo, summary := "-", "-", it.Summary
		switch {
		case it.Objectives != nil:
			rto, rpo = durationText(it.Objectives.RTOSeconds), durationText(it.Objectives.RPOSeconds)
		case len(it.Ambiguous) > 0:
			summary = "AMBIGUOUS: defined by both " + strings.Join(it.Ambiguous, " and ")
		default:
			summary = fmt.Sprintf("INVALID (%s): firedrill validate %s", count(len(it.Errors), "problem"), it.File)
		}
		if wide {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", it.Name, source, rto, rpo, it.File, summary)
			continue
		}
		if len([]rune(summary)) > maxSummary && it.Objectives != nil {
			summary = string([]rune(summary)[:maxSummary-1]) + "…"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", it.Name, source, rto, rpo, summary)
	}
	return tw.Flush()
}

func (a *app) scenariosShow(c *cli.Context) error {
	sc, format, err := a.scenarioArg(c, showOutput)
	if err != nil {
		return err
	}
	return writeOutput(a.env.Stdout, format, scenarioWriter{sc})
}

// showOutput is scenarios show's -o: the scenario file is YAML first.
var showOutput = output{formatYAML, formatJSON}

// scenarioWriter writes a scenario as a scenario file: its own
// apiVersion, kind and camelCase keys (scenarios.MarshalYAML), not a
// document of firedrill's output.
type scenarioWriter struct{ sc *scenarios.Scenario }

// WriteTable writes the YAML: a scenario has no table.
func (s scenarioWriter) WriteTable(out io.Writer) error { return s.WriteYAML(out) }

// WriteYAML writes the scenario file with a comment on where it is from.
func (s scenarioWriter) WriteYAML(out io.Writer) error {
	data, err := scenarios.MarshalYAML(s.sc)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "# %s from %s (%s), with defaults filled in\n", s.sc.Metadata.Name, s.sc.Origin.Source, strings.TrimSpace(s.sc.Origin.File))
	_, err = out.Write(data)
	return err
}

// WriteJSON writes the scenario as JSON with the keys of the file.
func (s scenarioWriter) WriteJSON(out io.Writer) error {
	data, err := scenarios.MarshalJSON(s.sc)
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}
