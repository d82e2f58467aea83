package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// fleetOutput is fleet's -o: wide adds the drill count, the error budget
// and the last drill's id; html is one page to publish.
var fleetOutput = output{formatTable, formatJSON, formatYAML, formatWide, formatHTML}

// noClusterName is how the drills of the unprefixed history (no
// --cluster) are named in the table and in --cluster.
const noClusterName = "-"

func (a *app) fleetCommand() *cli.Command {
	var flags []cli.Flag
	for _, f := range historyFlags() {
		// --cluster is fleet's filter here, not one cluster's folder.
		if f.Names()[0] != "cluster" {
			flags = append(flags, f)
		}
	}
	return &cli.Command{
		Name:      "fleet",
		Usage:     "one row per cluster and scenario of a shared history: last drill, RTO, RPO, trend, forecast, due; exit 3 when one is failing or overdue",
		UsageText: "firedrill fleet --history s3://BUCKET/PREFIX [--cluster NAME]... [--scenario NAME]... [--state failing|overdue|due|ok]... [-o table|wide|json|yaml|html]\nfiredrill fleet --history s3://BUCKET/PREFIX --reindex",
		Description: `Shows every cluster's drills of a shared history at once. Each drill run
with --cluster NAME and --history s3://BUCKET/PREFIX (or rendered by
'firedrill schedule render --cluster NAME') keeps its record under
PREFIX/clusters/NAME/ and, when it ends, one small entry in the fleet index
PREFIX/index/v1/: its summary in the entry's key, so this command reads the
whole fleet with LIST requests, never one object per drill. Drills without
--cluster (PREFIX/drills/) are the cluster "-".

One row per cluster × scenario, sorted by cluster and scenario:

  failing  the last drill did not pass (fail, error, interrupted, died)
  overdue  no drill passed within the cadence (or none ever passed)
  due      the last pass gets older than the cadence within --due-soon
  ok       the last drill passed and the next is not due soon

The cadence is that of 'firedrill due': the strictest of --max-age and of
the compliance frameworks the last drill recorded (dora and pci-dss: 12
months; --cadence soc2=180d sets your policy's). 'firedrill due', which
reads the scenario files, also says when one changed since its last pass.

RTO and RPO are the last drill's, against its objectives; TREND is its RTO
against the drill before it; FORECAST is when the RTO would miss its
objective if the trend of recovery time against restored size, and of size
against time, holds ("-" with too few drills or too poor a fit; -o json
says why); ERROR BUDGET (-o wide) is the share of drills that met RTO and
RPO within the scenario's objectives.errorBudget window, against its
target, as the last drill recorded them (as 'firedrill history' shows;
0.75 over 365d for drills recorded before firedrill kept them).

A history written before the index (or by an older firedrill) shows no
rows: 'firedrill fleet --reindex' reads every record once and writes the
missing entries. A drill whose process died has no entry until then.
--from-records reads every record instead of the index, writing nothing.

-o html writes one self-contained page (no scripts, nothing loaded from
the network) a team can publish; -o json carries schema
firedrill.dev/fleet/v1.

A --cluster or --scenario value that names no drill of the index is an
error that suggests the closest name: a typo never shows an empty fleet.

Exit codes: 0 no row shown is failing or overdue, 3 at least one is, 1 the
history could not be read or a --cluster or --scenario names nothing in
it, 2 usage. Credentials as for 'firedrill history'.

Examples:
  firedrill fleet --history s3://dr-drills/platform
  firedrill fleet --history s3://dr-drills/platform --state failing --state overdue
  firedrill fleet --history s3://dr-drills/platform --cluster eu-1 -o wide
  firedrill fleet --history s3://dr-drills/platform -o html > fleet.html
  firedrill fleet --history s3://dr-drills/platform --reindex`,
		Flags: append([]cli.Flag{
			fleetOutput.flag(),
			&cli.StringSliceFlag{Name: "cluster", Usage: "only cluster `NAME` (repeatable; - for drills without --cluster)"},
			&cli.StringSliceFlag{Name: "scenario", Usage: "only scenario `NAME` (repeatable)"},
			&cli.StringSliceFlag{Name: "state", Usage: "only rows in `STATE`: failing, overdue, due, ok (repeatable)"},
			&cli.StringFlag{Name: "max-age", Value: defaultMaxAge, Usage: "a row is overdue when its last passing drill is older than `AGE` (90d, 12w, 2160h)"},
			&cli.StringFlag{Name: "cadence", Usage: "your policy's cadence per compliance framework, `FRAMEWORK=AGE,...` (soc2=180d,hipaa=26w), as for 'firedrill due'"},
			&cli.StringFlag{Name: "due-soon", Value: "14d", Usage: "a row is due when its last pass gets older than the cadence within `AGE`"},
			&cli.BoolFlag{Name: "reindex", Usage: "first (re)build the fleet index from every drill record (one read per drill), then show the fleet"},
			&cli.BoolFlag{Name: "from-records", Usage: "read every drill record instead of the index (one read per drill: slow on a large fleet; to check the index)"},
		}, flags...),
		Action: a.fleet,
	}
}

// fleetDoc is `fleet -o json` and `-o yaml`, schema firedrill.dev/fleet/v1:
// rows of drill.FleetRow. A row of the drills recorded without --cluster
// has no "cluster" key (the table shows "-", as --cluster - selects them);
// every other key of a row is always there, null when it has no value.
type fleetDoc struct {
	Schema string `json:"schema"`
	// History is s3://BUCKET/PREFIX.
	History     string `json:"history"`
	GeneratedAt string `json:"generated_at"`
	// MaxAgeSeconds and DueSoonSeconds are --max-age and --due-soon.
	MaxAgeSeconds  float64          `json:"max_age_seconds"`
	DueSoonSeconds float64          `json:"due_soon_seconds"`
	Rows           []drill.FleetRow `json:"rows"`
}

// fleetView writes fleetDoc in every format of -o.
type fleetView struct {
	doc  fleetDoc
	wide bool
}

// WriteJSON writes what encodeJSON(v.doc) would, byte for byte, one row
// at a time: a fleet of 10,000 rows is 20 MB of JSON, which need not be
// in memory twice.
func (v fleetView) WriteJSON(w io.Writer) error {
	head := v.doc
	rows := head.Rows
	head.Rows = nil
	var buf bytes.Buffer
	if err := encodeJSON(&buf, head); err != nil {
		return err
	}
	// The head ends with `"rows": null` and "\n}\n": the rows go there.
	b, ok := bytes.CutSuffix(buf.Bytes(), []byte("null\n}\n"))
	if !ok {
		return fmt.Errorf("write JSON: unexpected end of the fleet document")
	}
	bw := bufio.NewWriter(w)
	bw.Write(b)
	if len(rows) == 0 {
		bw.WriteString("[]\n}\n")
		return bw.Flush()
	}
	bw.WriteString("[")
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	for i, r := range rows {
		buf.Reset()
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write JSON: %w", err)
		}
		if i > 0 {
			bw.WriteString(",")
		}
		bw.WriteString("\n    ")
		bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	}
	bw.WriteString("\n  ]\n}\n")
	return bw.Flush()
}
func (v fleetView) WriteYAML(w io.Writer) error { return encodeYAML(w, v.doc) }
func (v fleetView) WriteHTML(w io.Writer) error { return writeFleetHTML(w, v.doc) }

func (v fleetView) WriteTable(w io.Writer) error {
	if len(v.doc.Rows) == 0 {
		fmt.Fprintf(w, "No drills in the fleet index of %s (or none the filters keep).\n", v.doc.History)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := "CLUSTER\tSCENARIO\tSTATE\tLAST DRILL\tRESULT\tRTO\tRPO\tTREND\tFORECAST\tDUE"
	if v.wide {
		header += "\tDRILLS\tERROR BUDGET\tDRILL"
	}
	fmt.Fprintln(tw, header)
	for _, r := range v.doc.Rows {
		c := fleetCells(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", c.cluster, r.Scenario, r.State, c.started, r.LastDrill.Result,
			c.rto, c.rpo, c.trend, c.forecast, c.due)
		if v.wide {
			fmt.Fprintf(tw, "\t%d\t%s\t%s", r.Drills, c.budget, r.LastDrill.ID)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	counts := map[drill.FleetState]int{}
	for _, r := range v.doc.Rows {
		counts[r.State]++
	}
	var parts []string
	for _, s := range drill.FleetStates {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	fmt.Fprintf(w, "%s: %s; max age %s; history in %s.\n", count(len(v.doc.Rows), "row"), strings.Join(parts, ", "),
		scenarios.Duration(time.Duration(v.doc.MaxAgeSeconds*float64(time.Second))), v.doc.History)
	return nil
}

// fleetCellText are a row's cells for people, in the table and the page.
type fleetCellText struct {
	cluster, started, rto, rpo, trend, forecast, due, budget string
}

func fleetCells(r drill.FleetRow) fleetCellText {
	d := r.LastDrill
	c := fleetCellText{cluster: r.Cluster, started: d.StartedAt.UTC().Format("2006-01-02 15:04"),
		rto:   summaryObjective(d.RTOSeconds, d.RTOObjectiveSeconds, d.RTOStatus),
		rpo:   summaryObjective(d.RPOSeconds, d.RPOObjectiveSeconds, d.RPOStatus),
		trend: "-", forecast: orDash(r.ForecastText), budget: orDash(r.ErrorBudgetText), due: "-"}
	if c.cluster == "" {
		c.cluster = noClusterName
	}
	if t := drill.RTOTrendText(r.RTOTrendSeconds); t != "" {
		c.trend = t
	}
	switch {
	case dueNow(r.Due):
		// Due now, whenever the last pass would get too old: due_at is
		// the evaluation time.
		c.due = "now (" + string(r.Due.State) + ")"
	case r.Due.DueAt != nil && r.Due.State == drill.DueOverdue:
		c.due = "overdue since " + r.Due.DueAt.UTC().Format(time.DateOnly)
	case r.Due.DueAt != nil:
		c.due = r.Due.DueAt.UTC().Format(time.DateOnly)
	}
	return c
}

// summaryObjective is objectiveCell for a DrillSummary's numbers.
func summaryObjective(measured *float64, objective float64, status string) string {
	if measured == nil {
		return "-"
	}
	mark := "ok"
	if status == drill.ObjectiveMissed {
		mark = "MISSED"
	}
	return fmt.Sprintf("%s of %s %s", drill.FormatSeconds(*measured), drill.FormatSeconds(objective), mark)
}

func (a *app) fleet(c *cli.Context) error {
	format, err := fleetOutput.format(c)
	if err != nil {
		return err
	}
	if c.NArg() > 0 {
		return usageErrorf(helpHint(c), "fleet takes no arguments, got %q: filter with --cluster, --scenario and --state", c.Args().First())
	}
	maxAge, err := scenarios.ParseDuration(c.String("max-age"))
	if err != nil || maxAge <= 0 {
		return usageErrorf(helpHint(c), "invalid --max-age %q: want a duration greater than zero such as 90d, 12w or 2160h", c.String("max-age"))
	}
	dueSoon, err := scenarios.ParseDuration(c.String("due-soon"))
	if err != nil || dueSoon < 0 {
		return usageErrorf(helpHint(c), "invalid --due-soon %q: want a duration such as 14d, 2w or 336h", c.String("due-soon"))
	}
	policy, err := duePolicy(c, time.Duration(maxAge))
	if err != nil {
		return err
	}
	filter := drill.FleetFilter{Scenarios: c.StringSlice("scenario")}
	for _, name := range c.StringSlice("cluster") {
		if name == noClusterName {
			name = ""
		} else if err := drill.CheckClusterName(name); err != nil {
			return usageErrorf(helpHint(c), "--cluster: %v", err)
		}
		filter.Clusters = append(filter.Clusters, name)
	}
	for _, s := range c.StringSlice("state") {
		st, ok := drill.ParseFleetState(s)
		if !ok {
			return usageErrorf(helpHint(c), "invalid --state %q: want one of failing, overdue, due, ok", s)
		}
		filter.States = append(filter.States, st)
	}
	h, err := a.sharedHistory(c, nil)
	if err != nil {
		return err
	}
	if h == nil {
		return usageErrorf("name the shared history the drills write to: --history s3://BUCKET/PREFIX or $FIREDRILL_HISTORY",
			"fleet reads a shared history; none given")
	}
	if c.Bool("reindex") {
		n, err := h.Reindex(c.Context, 16)
		fmt.Fprintf(a.env.Stderr, "Reindexed %s: %d index entries written.\n", h.URL("", ""), n)
		if err != nil {
			// A record that cannot be read is named; the others are
			// indexed and shown.
			a.log.Warn("some drill records could not be indexed", "err", err)
		}
	}
	now := time.Now()
	opts := drill.FleetOptions{Now: now, Due: drill.PolicyDue(policy), DueSoon: time.Duration(dueSoon),
		Estimate: drill.FleetOutlook()}
	rows := []drill.FleetRow{}
	drills := 0
	seen := fleetNames{clusters: map[string]bool{}, scenarios: map[string]bool{}}
	keep := func(all []drill.FleetRow) {
		for _, r := range all {
			seen.clusters[r.Cluster] = true
			seen.scenarios[r.Scenario] = true
		}
		rows = append(rows, filter.Keep(all)...)
	}
	if c.Bool("from-records") {
		var sums []drill.DrillSummary
		sums, err = h.ScanRecords(c.Context, 16)
		drills = len(sums)
		keep(drill.Fleet(sums, opts))
	} else {
		// One cluster × scenario at a time: memory follows the rows, not
		// the drills.
		err = h.EachIndexGroup(c.Context, func(group []drill.DrillSummary) {
			drills += len(group)
			keep(drill.Fleet(group, opts))
		})
	}
	if err != nil && drills == 0 {
		return err
	}
	drill.SortFleet(rows)
	if err != nil {
		// A drill that could not be read may be the one a filter names:
		// its value is not called unknown.
		a.log.Warn("some drills could not be read", "err", err)
	} else if err := seen.check(filter, h.URL("", ""), !c.Bool("from-records")); err != nil {
		return err
	}
	if drills == 0 && !c.Bool("from-records") {
		fmt.Fprintf(peopleOut(format, a.env.Stdout, a.env.Stderr), "Hint: the fleet index of %s is empty; if drills were recorded there before the index, run 'firedrill fleet --history %s --reindex'.\n",
			h.URL("", ""), h.URL("", ""))
	}
	doc := fleetDoc{Schema: schemaFleet, History: h.URL("", ""), GeneratedAt: now.UTC().Format(time.RFC3339),
		MaxAgeSeconds: time.Duration(maxAge).Seconds(), DueSoonSeconds: time.Duration(dueSoon).Seconds(), Rows: rows}
	if err := writeOutput(a.env.Stdout, format, fleetView{doc: doc, wide: format == formatWide}); err != nil {
		return err
	}
	var bad []string
	for _, r := range rows {
		if r.State == drill.FleetFailing || r.State == drill.FleetOverdue {
			bad = append(bad, fleetCells(r).cluster+"/"+r.Scenario+" "+string(r.State))
		}
	}
	if len(bad) > 0 {
		return failedf("%s of %d failing or overdue: %s", count(len(bad), "row"), len(rows), strings.Join(bad, ", "))
	}
	return nil
}

// fleetNames are the clusters and scenarios of the drills read, before
// the filters.
type fleetNames struct {
	clusters, scenarios map[string]bool
}

// fleetNamesListed is how many known names an unknown filter value's
// hint lists; more are left to the table.
const fleetNamesListed = 10

// check returns an error naming the first --cluster or --scenario value
// that names no drill read, with the close ones ("did you mean") and,
// when they are few, all of them: a typo in a filter would otherwise show
// an empty fleet and exit 0. fromIndex says the names came from the
// fleet index, which --reindex may fill.
func (n fleetNames) check(f drill.FleetFilter, where string, fromIndex bool) error {
	for _, cl := range f.Clusters {
		if !n.clusters[cl] {
			if cl == "" {
				cl = noClusterName
			}
			return n.unknown("cluster", cl, n.clusters, where, fromIndex)
		}
	}
	for _, sc := range f.Scenarios {
		if !n.scenarios[sc] {
			return n.unknown("scenario", sc, n.scenarios, where, fromIndex)
		}
	}
	return nil
}

func (n fleetNames) unknown(noun, value string, known map[string]bool, where string, fromIndex bool) error {
	var names []string
	for k := range known {
		if k == "" {
			k = noClusterName
		}
		names = append(names, k)
	}
	sort.Strings(names)
	source := "the fleet index of " + where
	if !fromIndex {
		source = "the drill records of " + where
	}
	msg := fmt.Sprintf("--%s %q names no %s of %s", noun, value, noun, source)
	if close := suggestions(value, names); len(close) > 0 {
		for i, c := range close {
			close[i] = strconv.Quote(c)
		}
		msg += "; " + strings.TrimSpace(didYouMean(close))
	}
	var hint string
	switch {
	case len(names) == 0 && fromIndex:
		hint = fmt.Sprintf("the fleet index is empty; if drills were recorded there before the index, run 'firedrill fleet --history %s --reindex'", where)
	case len(names) == 0:
		hint = "no drill is recorded there"
	case len(names) <= fleetNamesListed:
		hint = fmt.Sprintf("the %ss there: %s", noun, strings.Join(names, ", "))
	default:
		hint = fmt.Sprintf("%d %ss there; 'firedrill fleet --history %s' lists them", len(names), noun, where)
	}
	return withHint(errors.New(msg), hint)
}
