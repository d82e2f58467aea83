package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
)

func TestFleet_UsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"no history":  {[]string{"fleet"}, "fleet reads a shared history; none given"},
		"bad state":   {[]string{"fleet", "--history", "s3://b/p", "--state", "late"}, `invalid --state "late"`},
		"bad cluster": {[]string{"fleet", "--history", "s3://b/p", "--cluster", "EU_1"}, `--cluster: cluster name "EU_1"`},
		"argument":    {[]string{"fleet", "--history", "s3://b/p", "eu-1"}, "fleet takes no arguments"},
		"bad format":  {[]string{"fleet", "--history", "s3://b/p", "-o", "csv"}, `invalid -o "csv"`},
	} {
		t.Run(name, func(t *testing.T) {
			res := run(t, context.Background(), map[string]string{"FIREDRILL_HISTORY": ""}, tc.args...)
			require.Equal(t, ExitUsage, res.code, res.String())
			assert.Contains(t, res.stderr, tc.want)
		})
	}
}

// Read-only commands: --cluster selects drills in a shared history; on
// the state directory it would be silently ignored.
func TestReadCommands_ClusterNeedsHistory(t *testing.T) {
	for _, args := range [][]string{{"history"}, {"due"}, {"evidence", "summary"}} {
		res := run(t, context.Background(), map[string]string{"FIREDRILL_HISTORY": ""}, append(args, "--cluster", "eu-1")...)
		require.Equal(t, ExitUsage, res.code, "%v: %s", args, res.String())
		assert.Contains(t, res.stderr, "--cluster selects drills in a shared history; none given", args)
	}
	res := run(t, context.Background(), map[string]string{"FIREDRILL_HISTORY": ""}, "history", "--help")
	assert.Contains(t, res.stdout, "only the drills of cluster NAME in the shared history")
	res = run(t, context.Background(), map[string]string{"FIREDRILL_HISTORY": ""}, "run", "--help")
	assert.Contains(t, res.stdout, "the drill's cluster NAME: recorded with the drill")
}

// The exit codes each help names are those its code paths return: every
// code of the README's table is in firedrill --help, with the same
// commands; due's 3 covers changed; evidence export without a key is 2.
func TestHelp_ExitCodes(t *testing.T) {
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	res := run(t, context.Background(), nil, "--help")
	_, top, ok := strings.Cut(words(res.stdout), "Exit codes: ")
	require.True(t, ok, res.stdout)
	top, _, _ = strings.Cut(top, "COMMANDS:")
	assert.Contains(t, top, "a fleet row is failing or overdue (fleet)")
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "\n### Exit codes\n")
	require.True(t, ok, "README has an exit codes table")
	table, _, _ = strings.Cut(table, "\n\n#")
	codes := 0
	for _, row := range regexp.MustCompile("(?m)^\\| ([0-9]+) \\| (.*) \\|$").FindAllStringSubmatch(table, -1) {
		codes++
		assert.Regexp(t, "(^| )"+row[1]+" ", top, "exit code %s of the README is in firedrill --help", row[1])
		for _, cmd := range regexp.MustCompile("\\(`([a-z ]+)`(?:, `([a-z ]+)`)*\\)").FindAllString(row[2], -1) {
			assert.Contains(t, top, strings.ReplaceAll(cmd, "`", ""), "exit code %s", row[1])
		}
	}
	assert.Equal(t, 6, codes, "0, 1, 2, 3, 4 and 130 in the README's table")

	res = run(t, context.Background(), nil, "verify", "--help")
	assert.Contains(t, words(res.stdout), "3 a check failed, 1 the checks could not run, 2 usage.")
	res = run(t, context.Background(), nil, "due", "--help")
	assert.Contains(t, words(res.stdout), "3 at least one is overdue, changed, never passed or never ran")
	// TestEvidence_Errors: export without a key exits 2.
	res = run(t, context.Background(), nil, "evidence", "export", "--help")
	assert.Contains(t, words(res.stdout), "2 usage (no key given")
}

func TestRun_ClusterNameIsChecked(t *testing.T) {
	res := run(t, context.Background(), map[string]string{"FIREDRILL_CLUSTER": "Not/A/Name"}, "history")
	require.Equal(t, ExitUsage, res.code, res.String())
	assert.Contains(t, res.stderr, `--cluster: cluster name "Not/A/Name"`)
}

// history and fleet say an RTO change in one text: within half a second
// is the same, minutes read as minutes.
func TestFleetCells_Trend(t *testing.T) {
	for change, want := range map[float64]string{0.3: "same", 150: "slower by 2m30s", -12: "faster by 12.0s"} {
		r := sampleFleetDoc().Rows[0]
		r.RTOTrendSeconds = &change
		assert.Equal(t, want, fleetCells(r).trend, change)
	}
}

func sampleFleetDoc() fleetDoc {
	started := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	rto, rpo, trend := 312.0, 95.0, -12.0
	due := started.Add(90 * 24 * time.Hour)
	return fleetDoc{Schema: schemaFleet, History: "s3://dr/platform", GeneratedAt: "2026-12-01T00:00:00Z", MaxAgeSeconds: 90 * 86400,
		Rows: []drill.FleetRow{
			{Cluster: "eu-1", Scenario: "region-loss", State: drill.FleetOK, Drills: 3, RTOTrendSeconds: &trend,
				LastDrill: &drill.DrillSummary{ID: "fd-1", Scenario: "region-loss", Cluster: "eu-1", StartedAt: started, Result: drill.ResultPass,
					RTOSeconds: &rto, RTOObjectiveSeconds: 3600, RTOStatus: drill.ObjectiveMet, RPOSeconds: &rpo, RPOObjectiveSeconds: 60, RPOStatus: drill.ObjectiveMissed},
				Due:          drill.DueStatus{Scenario: "region-loss", State: drill.DueFresh, DueAt: &due},
				ForecastText: "<b>in 40 days</b>", Forecast: map[string]any{"seconds_to_objective": 40 * 86400}},
			{Cluster: "", Scenario: "ns-deletion", State: drill.FleetFailing, Drills: 1,
				LastDrill: &drill.DrillSummary{ID: "fd-2", Scenario: "ns-deletion", StartedAt: started, Result: drill.ResultFail},
				Due:       drill.DueStatus{Scenario: "ns-deletion", State: drill.DueNeverPassed}},
		}}
}

func TestFleetView_Table(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, fleetView{doc: sampleFleetDoc(), wide: true}.WriteTable(&b))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 4, b.String())
	assert.Regexp(t, `^CLUSTER +SCENARIO +STATE +LAST DRILL +RESULT +RTO +RPO +TREND +FORECAST +DUE +DRILLS +ERROR BUDGET +DRILL$`, lines[0])
	assert.Regexp(t, `^eu-1 +region-loss +ok +2026-11-20 06:00 +pass +5m12s of 1h00m ok +1m35s of 1m00s MISSED +faster by 12.0s +<b>in 40 days</b> +2027-02-18 +3 +- +fd-1$`, lines[1])
	assert.Regexp(t, `^- +ns-deletion +failing +.* fail +- +- +- +- +now \(never-passed\) +1 +- +fd-2$`, lines[2])
	assert.Equal(t, "2 rows: 1 failing, 1 ok; max age 90d; history in s3://dr/platform.", lines[3])
}

func TestFleetView_JSON(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, fleetView{doc: sampleFleetDoc()}.WriteJSON(&b))
	var got map[string]any
	require.NoError(t, json.Unmarshal(b.Bytes(), &got))
	assert.Equal(t, "firedrill.dev/fleet/v1", got["schema"])
	row := got["rows"].([]any)[0].(map[string]any)
	assert.Equal(t, "eu-1", row["cluster"])
	assert.Equal(t, -12.0, row["rto_trend_seconds"])
	assert.Equal(t, 312.0, row["last_drill"].(map[string]any)["rto_seconds"])
	assert.Equal(t, "2027-02-18T06:00:00Z", row["due"].(map[string]any)["due_at"])
	assert.Equal(t, 40.0*86400, row["forecast"].(map[string]any)["seconds_to_objective"])
	assert.Equal(t, "fd-1", row["last_drill"].(map[string]any)["drill_id"], "as due -o json names it")
	assert.Nil(t, got["rows"].([]any)[1].(map[string]any)["forecast"])
	assert.NotContains(t, got["rows"].([]any)[1], "cluster", "drills without --cluster: no key, not \"\" (the table's -)")
	assert.NotContains(t, b.String(), "ForecastText")

	// Streamed row by row, the same bytes as the document encoded whole.
	for _, doc := range []fleetDoc{sampleFleetDoc(), {Schema: schemaFleet, Rows: []drill.FleetRow{}}} {
		var whole, streamed bytes.Buffer
		require.NoError(t, encodeJSON(&whole, doc))
		require.NoError(t, fleetView{doc: doc}.WriteJSON(&streamed))
		assert.Equal(t, whole.String(), streamed.String())
	}
}

func TestFleetView_HTMLIsSelfContainedAndEscaped(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, fleetView{doc: sampleFleetDoc()}.WriteHTML(&b))
	page := b.String()
	assert.Contains(t, page, "&lt;b&gt;in 40 days&lt;/b&gt;")
	assert.NotContains(t, page, "<b>")
	for _, loads := range []string{"<script", "src=", "href=", "@import", "url("} {
		assert.NotContains(t, page, loads)
	}
	assert.Contains(t, page, `<td class="state failing">failing</td>`)
	assert.Contains(t, page, `<span class="failing">1 failing</span>`)
}

// A --cluster or --scenario value that names nothing read is an error
// (exit 1, as 'due regionloss'), not an empty fleet that exits 0.
func TestFleetNames_UnknownFilterValue(t *testing.T) {
	seen := fleetNames{clusters: map[string]bool{"eu-1": true, "": true}, scenarios: map[string]bool{"region-loss": true, "ns-deletion": true}}
	onlyEU := fleetNames{clusters: map[string]bool{"eu-1": true}}
	for name, tc := range map[string]struct {
		names     fleetNames
		filter    drill.FleetFilter
		fromIndex bool
		want      string
		wantHint  string
	}{
		"scenario typo": {seen, drill.FleetFilter{Scenarios: []string{"regionloss"}}, true,
			`--scenario "regionloss" names no scenario of the fleet index of s3://b/p; did you mean "region-loss"?`,
			"the scenarios there: ns-deletion, region-loss"},
		"unknown cluster": {seen, drill.FleetFilter{Clusters: []string{"eu-1", "nope"}}, false,
			`--cluster "nope" names no cluster of the drill records of s3://b/p`, "the clusters there: -, eu-1"},
		"no unprefixed drills": {onlyEU, drill.FleetFilter{Clusters: []string{""}}, true,
			`--cluster "-" names no cluster of the fleet index of s3://b/p`, "the clusters there: eu-1"},
		"empty index": {fleetNames{}, drill.FleetFilter{Scenarios: []string{"a"}}, true,
			`--scenario "a" names no scenario of the fleet index of s3://b/p`, "the fleet index is empty; if drills were recorded there before the index, run 'firedrill fleet --history s3://b/p --reindex'"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.names.check(tc.filter, "s3://b/p", tc.fromIndex)
			require.Error(t, err)
			assert.Equal(t, ExitError, exitCode(context.Background(), err))
			assert.Equal(t, tc.want, err.Error())
			assert.Equal(t, tc.wantHint, hint(err))
		})
	}
	assert.NoError(t, seen.check(drill.FleetFilter{Clusters: []string{"", "eu-1"}, Scenarios: []string{"ns-deletion"}}, "s3://b/p", true))
	assert.NoError(t, fleetNames{}.check(drill.FleetFilter{}, "s3://b/p", true), "an empty index without filters is no error")
}
