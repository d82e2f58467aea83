package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
)

func (a *app) planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "print what a drill of a scenario would do, step by step, touching nothing",
		UsageText: "firedrill plan NAME|FILE|- [-o text|json|yaml]",
		Description: `Prints the ordered steps a drill of the scenario would take: load,
preflight, protection (which bucket, object lock and copies it checks),
recovery point (how it chooses the backup), restore phases with their
resources and namespace mapping, verify (restore order and each check),
runbook steps, report, evidence and cleanup. Steps marked [RTO] count toward
the measured recovery time.

plan reads the scenario, its runbook and the files the scenario names (CA
and credentials files, kubeconfigs: are they there and usable), and
nothing else: no cluster, no bucket, no network. Auditors can read it as
the written procedure. The scenario's warnings (see 'firedrill validate
--help') are part of the plan.

Exit codes: 0 the plan is printed, 1 the scenario is invalid or a file it
names cannot be used here (each named with its field and line), 2 usage.

Examples:
  firedrill plan region-loss
  firedrill plan ./scenarios/shop.yaml -o json
  envsubst < shop.yaml.tmpl | firedrill plan -     (- reads standard input)`,
		Flags:  append([]cli.Flag{textOutput.flag()}, clusterFlags()...),
		Action: a.plan,
	}
}

func (a *app) plan(c *cli.Context) error {
	sc, format, err := a.usableScenarioArg(c, false, textOutput)
	if err != nil {
		return err
	}
	p, err := drill.NewPlan(sc)
	if err != nil {
		return err
	}
	return writeOutput(a.env.Stdout, format, document{
		doc:   planDoc{Schema: schemaPlan, Plan: p},
		table: func(w io.Writer) error { writePlanText(w, p); return nil },
	})
}

// durationText writes a number of seconds as every report and message
// writes a duration (drill.FormatSeconds, internal/durfmt): "1h00m", "1d"
// and "30m00s" whether the scenario or runbook says 60m, 24h or 30m, so an
// objective in the plan reads as in the report that measures against it.
func durationText(seconds float64) string { return drill.FormatSeconds(seconds) }

func writePlanText(w io.Writer, p *drill.Plan) {
	fmt.Fprintf(w, "Plan for scenario %s (%s: %s)\n", p.Scenario, p.Source, p.File)
	fmt.Fprintf(w, "Disaster:   %s\n", p.Summary)
	fmt.Fprintf(w, "Lost:       %s\n", strings.Join(p.Lost, ", "))
	obj := fmt.Sprintf("RTO %s, RPO %s", durationText(p.Objectives.RTOSeconds), durationText(p.Objectives.RPOSeconds))
	if p.Objectives.RetentionSeconds > 0 {
		obj += ", retention " + durationText(p.Objectives.RetentionSeconds)
	}
	if p.Objectives.MaxRetentionSeconds > 0 {
		obj += ", maxRetention " + durationText(p.Objectives.MaxRetentionSeconds)
	}
	if p.Objectives.Tier != "" {
		obj += ", tier " + p.Objectives.Tier
	}
	fmt.Fprintf(w, "Objectives: %s\n", obj)
	for _, warning := range p.Warnings {
		fmt.Fprintf(w, "Warning:    %s\n", warning)
	}
	fmt.Fprintln(w, "Nothing has been touched. Steps marked [RTO] count toward the measured recovery time.")
	for i, s := range p.Steps {
		rto := ""
		if s.CountsTowardRTO {
			rto = " [RTO]"
		}
		fmt.Fprintf(w, "\n%d. %s%s: %s\n", i+1, s.Name, rto, s.Summary)
		for _, act := range s.Actions {
			fmt.Fprintf(w, "   - %s\n", act)
		}
		for j, ph := range s.Phases {
			fmt.Fprintf(w, "   - phase %d %s, Velero Restore from storage location %q within %s\n", j+1, ph.Name, ph.StorageLocation, durationText(ph.TimeoutSeconds))
			fmt.Fprintf(w, "       namespaces:          %s\n", strings.Join(ph.IncludedNamespaces, ", "))
			included := "all"
			if len(ph.IncludedResources) > 0 {
				included = strings.Join(ph.IncludedResources, ", ")
			}
			fmt.Fprintf(w, "       included resources:  %s\n", included)
			excluded := "none"
			if len(ph.ExcludedResources) > 0 {
				excluded = strings.Join(ph.ExcludedResources, ", ")
			}
			fmt.Fprintf(w, "       excluded resources:  %s\n", excluded)
			if ph.IncludeClusterResources {
				fmt.Fprintln(w, "       cluster-scoped:      the listed cluster-scoped resources too (includeClusterResources)")
			}
			if len(ph.NamespaceMapping) > 0 {
				var pairs []string
				for _, ns := range ph.IncludedNamespaces {
					if to, ok := ph.NamespaceMapping[ns]; ok {
						pairs = append(pairs, ns+" -> "+to)
					}
				}
				fmt.Fprintf(w, "       namespace mapping:   %s\n", strings.Join(pairs, ", "))
			}
		}
		for _, ch := range s.Checks {
			fmt.Fprintf(w, "   - check %s (%s, within %s): %s\n", ch.Name, ch.Kind, durationText(ch.TimeoutSeconds), ch.Does)
		}
		if s.Runbook != nil {
			for _, st := range s.Runbook.Steps {
				if st.Manual {
					fmt.Fprintf(w, "   - manual step %q (estimate %s)\n", st.Name, durationText(st.EstimateSeconds))
					continue
				}
				fmt.Fprintf(w, "   - step %q (within %s)\n", st.Name, durationText(st.TimeoutSeconds))
			}
		}
		for _, f := range s.Findings {
			when := ""
			if f.When != "" {
				when = " when " + f.When
			}
			fmt.Fprintf(w, "   - finding %s%s, on: %s\n", f.ID, when, f.Evidence)
		}
	}
}
