package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
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

Exit codes: 0 listed (invalid files too, marked INVALID), 1 a search
location cannot be read (a --scenario-dir that does not exist), 2 usage.

Examples:
  firedrill scenarios list
  firedrill --scenario-dir ./drills scenarios list -o json`,
				Flags:  []cli.Flag{listOutput.flag()},
				Action: a.scenariosList,
			},
			{
				Name:      "show",
				Usage:     "print a scenario with every default filled in",
				UsageText: "firedrill scenarios show NAME|FILE|- [-o yaml|json] [--resolve-paths]",
				Description: `Prints the scenario as firedrill will run it: defaults filled in (restore
phases, excluded resources, timeouts, cleanup policy). File paths (kubeconfig,
caFile, credentials file, runbook) are printed as the file wrote them ("~",
relative to the scenario file), so the output is portable; --resolve-paths
prints the paths firedrill opens instead.

Exit codes: 0 printed, 1 the scenario is not found, ambiguous or invalid,
2 usage.

Examples:
  firedrill scenarios show region-loss
  firedrill scenarios show ./drills/shop.yaml -o json
  firedrill scenarios show ./drills/shop.yaml --resolve-paths`,
				Flags: []cli.Flag{showOutput.flag(), &cli.BoolFlag{Name: "resolve-paths",
					Usage: "print file paths as firedrill opens them (\"~\" expanded, relative paths made absolute)"}},
				Action: a.scenariosShow,
			},
			{
				Name:      "new",
				Usage:     "start a scenario of your own from a built-in one",
				UsageText: "firedrill scenarios new NAME --from BUILTIN [-f FILE]",
				Description: `Prints a new scenario file named NAME, copied from the built-in scenario
BUILTIN (see 'firedrill scenarios list'): its disaster, objectives, checks
and runbook, with the values only you know left empty and marked
"FILL IN": the source and target (scratch) clusters, and each bucket's
endpoint, region, name and prefix. Credentials stay references: the names
of the environment variables that hold the keys, or a profile. The file
holds no path of this machine. 'firedrill validate' refuses it until the
marked values are filled in.

-f writes the file instead of standard output; it never overwrites one.

Exit codes: 0 written, 1 FILE exists or cannot be written, 2 usage (no
--from, no such built-in scenario, a bad NAME).

Examples:
  firedrill scenarios new shop-region-loss --from region-loss -f scenarios/shop-region-loss.yaml
  firedrill validate scenarios/shop-region-loss.yaml`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "from", Usage: "copy the built-in scenario `BUILTIN`"},
					&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "write the scenario to `FILE` (never overwritten; default standard output)"},
				},
				Action: a.scenariosNew,
			},
		},
	}
}

func (a *app) scenariosNew(c *cli.Context) error {
	if err := exactArgs(c, 1, "the new scenario's NAME"); err != nil {
		return err
	}
	from := c.String("from")
	if from == "" {
		return usageErrorf("pick one with 'firedrill scenarios list' (SOURCE built-in), e.g. --from region-loss", "--from BUILTIN is required")
	}
	data, err := scenarios.New(c.Args().First(), from)
	var nf *scenarios.NewFromCatalogError
	if errors.As(err, &nf) {
		return usageErrorf("the built-in scenarios are "+strings.Join(nf.Names, ", "), "--from: %v", err)
	}
	if err != nil {
		return usageErrorf(helpHint(c), "%v", err)
	}
	file := c.String("file")
	if file == "" || file == "-" {
		_, err := a.env.Stdout.Write(data)
		return err
	}
	f, err := os.OpenFile(a.abs(file), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return withHint(fmt.Errorf("%s exists: firedrill never overwrites a scenario", file), "choose another -f FILE, or move the existing file away")
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Fprintf(a.env.Stdout, "wrote %s: fill in the values marked FILL IN, then run 'firedrill validate %s'\n", file, file)
	return nil
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
	if !c.Bool("resolve-paths") {
		sc = sc.AsWritten()
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
