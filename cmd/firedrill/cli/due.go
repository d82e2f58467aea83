package cli

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// defaultMaxAge is a quarterly cadence, the seeds' recommendation for
// disaster-recovery drills.
const defaultMaxAge = "90d"

func (a *app) dueCommand() *cli.Command {
	return &cli.Command{
		Name:      "due",
		Usage:     "list each scenario with its last passing drill; exit 3 when a drill is overdue",
		UsageText: "firedrill due [SCENARIO...] [--max-age 90d] [--state-dir DIR | --history s3://BUCKET/PREFIX] [-o table|json|yaml]",
		Description: `Reads the drill history and says, for each scenario, when it last passed a
drill and whether that is recent enough:

  fresh         the last passing drill started within the cadence
  overdue       the last passing drill is older than the cadence
  changed       the scenario file, its runbook or the target changed
                since the last passing drill (a major change)
  never-passed  drills ran, none passed
  never-run     no drill of the scenario is recorded

The cadence is the strictest of --max-age and of the frameworks the
scenario names in spec.compliance: dora (DORA Art. 11(6), RTS 2024/1774
Art. 40) and pci-dss (PCI DSS v4.0 12.10.2) at least every 12 months;
soc2, iso27001, nis2 and hipaa leave it to your policy, firedrill's
default is 12 months, set yours with --cadence soc2=180d. --cadence may
tighten dora and pci-dss (dora=180d), never loosen them (a usage error).
All of them combine with --max-age, strictest wins: with the default
--max-age 90d the organisation's 90 days apply before any framework's 12
months; raise --max-age (say 365d) to be held to the frameworks alone. The
RULE column says which rule applies (max-age, a framework, changed).

Only a passing drill counts: a scenario whose latest drill failed stays
fresh until its last pass gets too old, and the LAST DRILL column shows the
failure. Drills still running are not counted.

Without SCENARIO arguments the scenarios of --scenario-dir,
$FIREDRILL_SCENARIOS and ./scenarios are listed ('firedrill scenarios
list'), and every scenario of the history, so one whose file went away is
not forgotten ("history only"). The built-in scenarios are examples: one is
listed once it has been drilled, or when named. With arguments only the
scenarios named are listed.

The history is the state directory, or with --history (or
$FIREDRILL_HISTORY) the history a team shares in an S3 bucket, as for
'firedrill history'. --max-age is a Go duration or whole days or weeks
(90d, 12w, 2160h).

Exit codes: 0 every scenario listed is fresh, 3 at least one is overdue,
changed, never passed or never ran, 1 the history could not be read or a
SCENARIO is neither found nor recorded, 2 usage. A CI job or a CronJob can
run it on its own schedule and alert on exit code 3.

Examples:
  firedrill due
  firedrill due region-loss namespace-deletion --max-age 12w
  firedrill due --history s3://dr-drills/team-shop -o json | jq -r '.scenarios[] | select(.state != "fresh") | .scenario'`,
		Flags: append([]cli.Flag{
			tableOutput.flag(),
			stateDirFlag(),
			&cli.StringFlag{Name: "max-age", Value: defaultMaxAge, Usage: "a scenario is overdue when its last passing drill is older than `AGE` (90d, 12w, 2160h)"},
			&cli.StringFlag{Name: "cadence", Usage: "your policy's cadence per compliance framework, `FRAMEWORK=AGE,...` (soc2=180d,hipaa=26w); dora and pci-dss may only be tightened below 12 months; strictest of these and --max-age wins"},
		}, historyFlags()...),
		Action: a.due,
	}
}

// dueRow is one scenario as `due -o json` prints it. Its due_at says what
// the table's DUE column says (dueCell): the evaluation time for a
// scenario due now, see drill.DueStatus.DueAt.
type dueRow struct {
	drill.DueStatus
	// Known is false for a scenario found only in the history.
	Known bool `json:"known"`
}

func (a *app) due(c *cli.Context) error {
	format, err := tableOutput.format(c)
	if err != nil {
		return err
	}
	maxAge, err := scenarios.ParseDuration(c.String("max-age"))
	if err != nil || maxAge <= 0 {
		return usageErrorf(helpHint(c), "invalid --max-age %q: want a duration greater than zero such as 90d, 12w or 2160h", c.String("max-age"))
	}
	stores, err := a.recordStores(c, nil)
	if err != nil {
		return err
	}
	where := stores.history().URL("", "")
	reports, err := drill.ListReports(c.Context, stores.history(), "")
	if err != nil && len(reports) == 0 {
		return err
	}
	if err != nil {
		// A record that cannot be read may hide a pass: the answer errs
		// toward "due", never toward "fresh".
		a.log.Warn("some drill records could not be read", "err", err)
	}
	known, err := a.knownScenarios(c, reports)
	if err != nil {
		return err
	}
	names := c.Args().Slice()
	if len(names) == 0 {
		names = known.names
	}
	policy, err := duePolicy(c, time.Duration(maxAge))
	if err != nil {
		return err
	}
	statuses := drill.Due(reports, a.dueScenarios(names, known), policy, time.Now())
	if c.NArg() > 0 {
		statuses = onlyNamed(statuses, names)
	}
	rows := make([]dueRow, 0, len(statuses))
	var due []string
	for _, s := range statuses {
		rows = append(rows, dueRow{DueStatus: s, Known: known.has[s.Scenario]})
		if s.IsDue() {
			note := string(s.State)
			if t := diedText(s.LastDrill); t != "" {
				note += "; " + t
			}
			due = append(due, fmt.Sprintf("%s (%s)", s.Scenario, note))
		}
	}
	if err := writeOutput(a.env.Stdout, format, document{
		doc:   dueDoc{Schema: schemaDue, MaxAgeSeconds: time.Duration(maxAge).Seconds(), Scenarios: rows},
		table: func(w io.Writer) error { return writeDueTable(w, rows, maxAge, where) },
	}); err != nil {
		return err
	}
	if len(due) > 0 {
		return failedf("%s of %d due: %s", count(len(due), "scenario"), len(rows), strings.Join(due, ", "))
	}
	return nil
}

// knownScenarioSet is the scenarios firedrill can find.
type knownScenarioSet struct {
	// names are those of the user's own locations: --scenario-dir,
	// $FIREDRILL_SCENARIOS and ./scenarios.
	names []string
	// has holds every name, built-in ones too.
	has map[string]bool
	// loaded are the scenarios that load, by name (the one Find returns).
	loaded map[string]*scenarios.Scenario
}

// duePolicy is --max-age and --cadence.
func duePolicy(c *cli.Context, maxAge time.Duration) (drill.DuePolicy, error) {
	p := drill.DuePolicy{MaxAge: maxAge, Cadences: map[string]time.Duration{}}
	for _, v := range strings.Split(c.String("cadence"), ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		name, age, ok := strings.Cut(v, "=")
		if _, known := drill.CadenceOf(name); !ok || !known {
			msg := fmt.Sprintf("invalid --cadence %q: want FRAMEWORK=AGE with FRAMEWORK one of %s", v, strings.Join(scenarios.Frameworks, ", "))
			if close := suggestions(name, scenarios.Frameworks); ok && len(close) > 0 {
				msg += "; " + strings.TrimSpace(didYouMean(close))
			}
			return p, usageErrorf(helpHint(c), "%s", msg)
		}
		d, err := scenarios.ParseDuration(age)
		if err != nil || d <= 0 {
			return p, usageErrorf(helpHint(c), "invalid --cadence %q: want an age greater than zero such as 180d, 26w or 4320h", v)
		}
		if err := drill.CheckPolicyCadence(name, time.Duration(d)); err != nil {
			return p, usageErrorf(helpHint(c), "invalid --cadence %q: %v", v, err)
		}
		p.Cadences[name] = time.Duration(d)
	}
	return p, nil
}

// dueScenarios are the scenarios named, with the compliance frameworks
// and fingerprint of those that load. The target's hash is left to the
// records when the scenario names no kubeconfig: the cluster then depends
// on the environment of whoever runs the drill, not on the file.
func (a *app) dueScenarios(names []string, known knownScenarioSet) []drill.DueScenario {
	out := make([]drill.DueScenario, 0, len(names))
	for _, name := range names {
		ds := drill.DueScenario{Name: name}
		if sc := known.loaded[name]; sc != nil {
			ds.Compliance = append([]string{}, sc.Spec.Compliance...)
			rb, err := drill.ScenarioRunbook(sc)
			if err != nil {
				a.log.Warn("runbook not read: a change to it shows after the next drill", "scenario", name, "err", err)
			} else {
				fp := drill.FingerprintOf(sc, rb)
				if sc.Spec.Target.Kubeconfig == "" {
					fp.TargetSHA256 = ""
				}
				ds.Current = &fp
			}
		}
		out = append(out, ds)
	}
	return out
}

// knownScenarios lists the scenarios of every search location. A name
// given as an argument must be one of them or have a drill in the
// history: a typo gets the close matches of 'scenarios show', not a
// "never-run" line.
func (a *app) knownScenarios(c *cli.Context, reports []*drill.Report) (knownScenarioSet, error) {
	entries, err := scenarios.List(c.Context, a.scenarioEnv())
	if err != nil {
		return knownScenarioSet{}, err
	}
	set := knownScenarioSet{has: map[string]bool{}, loaded: map[string]*scenarios.Scenario{}}
	for _, e := range entries {
		if set.has[e.Name] {
			continue
		}
		if e.Scenario != nil && !e.Shadowed {
			set.loaded[e.Name] = e.Scenario
		}
		set.has[e.Name] = true
		// The built-in scenarios are examples to copy: one counts once it
		// has been drilled (it is in the history) or is named.
		if e.Source.Kind != scenarios.SourceBuiltin {
			set.names = append(set.names, e.Name)
		}
	}
	inHistory := map[string]bool{}
	for _, r := range reports {
		inHistory[r.Scenario] = true
	}
	for _, name := range c.Args().Slice() {
		if set.has[name] || inHistory[name] {
			continue
		}
		if _, err := scenarios.Find(c.Context, a.scenarioEnv(), name); err != nil {
			var nf *scenarios.NotFoundError
			if errors.As(err, &nf) {
				return knownScenarioSet{}, &unrecordedError{nf}
			}
			return knownScenarioSet{}, err
		}
	}
	return set, nil
}

// unrecordedError is a scenario name that is neither found nor in the
// history. It wraps the *scenarios.NotFoundError, whose hint it keeps, and
// says both in one sentence, the close names last.
type unrecordedError struct{ nf *scenarios.NotFoundError }

func (e *unrecordedError) Unwrap() error { return e.nf }

func (e *unrecordedError) Error() string {
	msg := fmt.Sprintf("no scenario named %q, and no drill of it is recorded", e.nf.Name)
	quoted := make([]string, len(e.nf.Suggestions))
	for i, s := range e.nf.Suggestions {
		quoted[i] = strconv.Quote(s)
	}
	if d := didYouMean(quoted); d != "" {
		msg += "; " + strings.TrimSpace(d)
	}
	return msg
}

// onlyNamed keeps the statuses of the scenarios named, dropping the other
// scenarios of the history.
func onlyNamed(statuses []drill.DueStatus, names []string) []drill.DueStatus {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	out := statuses[:0]
	for _, s := range statuses {
		if keep[s.Scenario] {
			out = append(out, s)
		}
	}
	return out
}

func writeDueTable(w io.Writer, rows []dueRow, maxAge scenarios.Duration, where string) error {
	if len(rows) == 0 {
		fmt.Fprintf(w, "No scenarios found and no drills recorded in %s.\n", where)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tSTATE\tRULE\tLAST PASS\tAGE\tDUE\tLAST DRILL")
	for _, r := range rows {
		name := r.Scenario
		if !r.Known {
			name += " (history only)"
		}
		lastPass, age, lastDrill := "-", "-", "-"
		if r.LastPass != nil {
			lastPass = r.LastPass.StartedAt.UTC().Format(time.RFC3339)
			age = formatAge(time.Duration(*r.AgeSeconds * float64(time.Second)))
		}
		if r.LastDrill != nil {
			lastDrill = fmt.Sprintf("%s %s%s", r.LastDrill.StartedAt.UTC().Format(time.RFC3339), r.LastDrill.Result, diedNote(r.LastDrill))
		}
		rule := r.Rule
		if r.State == drill.DueChanged {
			rule = "changed: " + strings.Join(r.Changed, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", name, r.State, rule, lastPass, age, dueCell(r.DueStatus), lastDrill)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Max age %s, or the strictest cadence of the scenario's compliance frameworks (RULE); history in %s.\n", maxAge, where)
	return nil
}

// dueCell is the DUE column: when the last pass gets too old (a past date
// for an overdue scenario), or "now" for a scenario due whatever that
// date (changed, never passed, never run), as its state says and as
// due_at, the evaluation time then, says in -o json.
func dueCell(s drill.DueStatus) string {
	if dueNow(s) {
		return "now"
	}
	if s.DueAt == nil {
		return "-"
	}
	return s.DueAt.UTC().Format(time.DateOnly)
}

// dueNow reports whether s is due whatever the date of its last pass.
func dueNow(s drill.DueStatus) bool {
	return s.State != "" && s.State != drill.DueFresh && s.State != drill.DueOverdue
}

// diedNote says in which step the drill died, for a drill whose process
// died; "" for any other.
func diedNote(d *drill.DrillRef) string {
	if t := diedText(d); t != "" {
		return " (" + t + ")"
	}
	return ""
}

// diedText is diedNote without its parentheses.
func diedText(d *drill.DrillRef) string {
	if d == nil || d.Result != drill.ResultDied {
		return ""
	}
	return fmt.Sprintf("last drill %s died at step %s", d.DrillID, d.ErrorStep)
}

// formatAge is an age as people say it: whole days from two days up, else
// hours and minutes.
func formatAge(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return scenarios.Duration(d.Round(time.Minute)).String()
}
