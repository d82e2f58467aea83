package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/firedrill-dev/firedrill/drill"
)

// writeDueHistory records drills dated relative to the clock `due` reads,
// so each scenario's state holds whenever the test runs (90-day max age):
//
//	region-loss         passed 10 days ago                        fresh
//	namespace-deletion  passed 120 days ago                       overdue
//	shop-namespace      passed 30 days ago, failed yesterday      fresh (the last pass counts)
//	retired-scenario    passed 5 days ago, no file any more       fresh, history only
//
// testdata/work/scenarios also holds broken, never drilled: never-run.
func writeDueHistory(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	now := time.Now()
	day := 24 * time.Hour
	for _, d := range []struct {
		id, scenario string
		ago          time.Duration
		result       drill.Result
	}{
		{"fd-due-a", "region-loss", 10 * day, drill.ResultPass},
		{"fd-due-b", "namespace-deletion", 120 * day, drill.ResultPass},
		{"fd-due-c", "shop-namespace", 30 * day, drill.ResultPass},
		{"fd-due-d", "shop-namespace", day, drill.ResultFail},
		{"fd-due-e", "retired-scenario", 5 * day, drill.ResultPass},
	} {
		dir, err := drill.CreateDir(state, d.id)
		require.NoError(t, err)
		require.NoError(t, dir.WriteReport(&drill.Report{DrillID: d.id, Scenario: d.scenario, StartedAt: now.Add(-d.ago), Result: d.result}))
	}
	return state
}

func TestDue_ExitCodes(t *testing.T) {
	state := writeDueHistory(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   []string
		stderr   string
	}{
		{"fresh", []string{"region-loss"}, ExitOK, []string{"region-loss", "fresh", "10d", "pass"}, ""},
		{"overdue", []string{"namespace-deletion"}, ExitDrillFailed, []string{"namespace-deletion", "overdue", "120d"},
			"Error: 1 scenario of 1 due: namespace-deletion (overdue)"},
		{"never run", []string{"broken"}, ExitDrillFailed, []string{"broken", "never-run"},
			"Error: 1 scenario of 1 due: broken (never-run)"},
		{"a failed drill after a pass: the pass counts", []string{"shop-namespace"}, ExitOK, []string{"shop-namespace", "fresh", "30d", "fail"}, ""},
		{"a longer max age makes the overdue one fresh", []string{"namespace-deletion", "--max-age", "20w"}, ExitOK, []string{"fresh", "Max age 140d"}, ""},
		{"one due among fresh ones", []string{"region-loss", "namespace-deletion", "shop-namespace"}, ExitDrillFailed, []string{"overdue"},
			"Error: 1 scenario of 3 due: namespace-deletion (overdue)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, append([]string{"due"}, tt.args...)...)
			require.Equal(t, tt.wantCode, res.code, res.String())
			for _, s := range tt.stdout {
				assert.Contains(t, res.stdout, s)
			}
			if tt.stderr == "" {
				assert.Empty(t, res.stderr)
			} else {
				assert.Equal(t, tt.stderr+"\n", res.stderr)
			}
		})
	}
}

func TestDue_AllScenariosJSON(t *testing.T) {
	res := run(t, context.Background(), nil, "due", "-o", "json", "--state-dir", writeDueHistory(t))
	require.Equal(t, ExitDrillFailed, res.code, res.String())

	var doc struct {
		Schema        string  `json:"schema"`
		MaxAgeSeconds float64 `json:"max_age_seconds"`
		Scenarios     []struct {
			Scenario  string          `json:"scenario"`
			State     drill.DueState  `json:"state"`
			Known     bool            `json:"known"`
			LastPass  *drill.DrillRef `json:"last_pass"`
			LastDrill *drill.DrillRef `json:"last_drill"`
			Age       *float64        `json:"age_seconds"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, "firedrill.dev/due/v1", doc.Schema)
	assert.Equal(t, 90*24*3600.0, doc.MaxAgeSeconds, "the default --max-age, 90d")
	rows := doc.Scenarios
	got := map[string]drill.DueState{}
	known := map[string]bool{}
	for _, r := range rows {
		got[r.Scenario] = r.State
		known[r.Scenario] = r.Known
	}
	// The project's scenarios and those of the history; built-in examples
	// only once drilled (namespace-deletion), not the others.
	assert.Equal(t, map[string]drill.DueState{
		"broken":             drill.DueNeverRun,
		"namespace-deletion": drill.DueOverdue,
		"region-loss":        drill.DueFresh,
		"retired-scenario":   drill.DueFresh,
		"shop-namespace":     drill.DueFresh,
	}, got)
	assert.False(t, known["retired-scenario"], "a scenario without a file is marked")
	assert.True(t, known["namespace-deletion"], "a built-in scenario is known")
	for _, r := range rows {
		if r.Scenario == "shop-namespace" {
			require.NotNil(t, r.LastPass)
			require.NotNil(t, r.LastDrill)
			assert.Equal(t, "fd-due-c", r.LastPass.DrillID)
			assert.Equal(t, "fd-due-d", r.LastDrill.DrillID)
			assert.Equal(t, drill.ResultFail, r.LastDrill.Result)
		}
	}
	assert.Contains(t, res.stderr, "2 scenarios of 5 due")
	assert.Contains(t, res.stderr, "broken (never-run), namespace-deletion (overdue)")
}

func TestDue_HistoryOnlyScenarioIsMarkedInTheTable(t *testing.T) {
	res := run(t, context.Background(), nil, "due", "retired-scenario", "--state-dir", writeDueHistory(t))
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "retired-scenario (history only)")
}

func TestDue_EmptyHistoryEverythingIsNeverRun(t *testing.T) {
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()}, "due")
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Contains(t, res.stderr, "3 scenarios of 3 due")
	assert.Contains(t, res.stderr, "broken (never-run), region-loss (never-run), shop-namespace (never-run)")
}

func TestDue_UnknownScenarioGetsCloseMatches(t *testing.T) {
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()}, "due", "region-los")
	require.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, `Error: no scenario named "region-los", and no drill of it is recorded; did you mean "region-loss"?`+"\n")
	assert.Contains(t, res.stderr, "Hint: run 'firedrill scenarios list'")
	assert.Empty(t, res.stdout)
}

func TestDue_InvalidMaxAgeIsUsage(t *testing.T) {
	for _, age := range []string{"soon", "0d", "-5h"} {
		res := run(t, context.Background(), nil, "due", "--max-age", age)
		assert.Equal(t, ExitUsage, res.code, res.String())
		assert.Contains(t, res.stderr, "invalid --max-age")
		assert.Contains(t, res.stderr, "Hint: run 'firedrill due --help'")
	}
}

func TestDue_ComplianceCadenceAndMajorChange(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/work/scenarios/region-loss.yaml")
	require.NoError(t, err)
	file := strings.Replace(string(src), "  backups:\n", "  compliance: [pci-dss, soc2]\n  backups:\n", 1)
	file = strings.Replace(file, "name: region-loss", "name: payments", 1)
	path := filepath.Join(dir, "payments.yaml")
	require.NoError(t, os.WriteFile(path, []byte(file), 0o644))
	sum := sha256.Sum256([]byte(file))

	state := t.TempDir()
	d, err := drill.CreateDir(state, "fd-pay")
	require.NoError(t, err)
	require.NoError(t, d.WriteReport(&drill.Report{DrillID: "fd-pay", Scenario: "payments", Result: drill.ResultPass,
		StartedAt: time.Now().Add(-200 * 24 * time.Hour), ScenarioSHA256: hex.EncodeToString(sum[:]), Compliance: []string{"pci-dss", "soc2"}}))
	due := func(args ...string) result {
		return run(t, context.Background(), nil, append([]string{"due", "payments", "--state-dir", state, "--scenario-dir", dir}, args...)...)
	}

	// The organisation's 90 days are stricter than PCI DSS's 12 months.
	res := due()
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Regexp(t, `payments\s+overdue\s+max-age\s`, res.stdout)

	// With a two-year policy, the frameworks' 12 months apply.
	res = due("--max-age", "730d")
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Regexp(t, `payments\s+fresh\s+pci-dss, soc2\s`, res.stdout)

	// Your policy for soc2 is stricter still.
	res = due("--max-age", "730d", "--cadence", "soc2=180d,hipaa=26w", "-o", "json")
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	var doc struct {
		Scenarios []drill.DueStatus `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	require.Len(t, doc.Scenarios, 1)
	assert.Equal(t, drill.DueOverdue, doc.Scenarios[0].State)
	assert.Equal(t, "soc2", doc.Scenarios[0].Rule)
	assert.Equal(t, 180*24*3600.0, doc.Scenarios[0].MaxAgeSeconds)

	// A major change: the scenario file is edited after its last pass.
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(file, "rto: 1h", "rto: 30m", 1)), 0o644))
	res = due("--max-age", "730d")
	require.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Regexp(t, `payments\s+changed\s+changed: scenario\s`, res.stdout)
	assert.Regexp(t, `payments\s+changed\s.*\s+now\s+\S+ pass\n`, res.stdout, "due now, not when the last pass gets too old")
	assert.Equal(t, "Error: 1 scenario of 1 due: payments (changed)\n", res.stderr)
	assertDueFormatsAgree(t, due, "--max-age", "730d")

	for _, bad := range []string{"soc-2=180d", "soc2", "soc2=soon", "soc2=0d"} {
		res = due("--cadence", bad)
		assert.Equal(t, ExitUsage, res.code, res.String())
		assert.Contains(t, res.stderr, "invalid --cadence")
	}
	assert.Contains(t, due("--cadence", "soc-2=180d").stderr, "did you mean soc2?")

	// A policy cannot loosen a regulation's cadence.
	res = due("--cadence", "dora=3y,pci-dss=3y", "--max-age", "3y")
	require.Equal(t, ExitUsage, res.code, res.String())
	assert.Contains(t, res.stderr, "dora fixes at most 365d between tests (DORA Art. 11(6)")
}

// The table's DUE column, due_at in -o json and in -o yaml say the same of
// every scenario: every state (never-run broken, overdue, fresh) of the
// history, and (TestDue_ComplianceCadenceAndMajorChange) a changed one.
func TestDue_TableJSONAndYAMLAgree(t *testing.T) {
	state := writeDueHistory(t)
	assertDueFormatsAgree(t, func(args ...string) result {
		return run(t, context.Background(), nil, append([]string{"due", "--state-dir", state}, args...)...)
	})
}

// assertDueFormatsAgree runs due (args added) as a table, as json and as
// yaml: a scenario due now has due_at the time of its run in both
// documents, any other the date of its DUE column.
func assertDueFormatsAgree(t *testing.T, due func(...string) result, args ...string) {
	t.Helper()
	table := due(args...)
	before := time.Now().Truncate(time.Second)
	asJSON := due(append(args, "-o", "json")...)
	asYAML := due(append(args, "-o", "yaml")...)
	after := time.Now()
	cells := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(table.stdout), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 7 || strings.HasPrefix(line, "Max age") {
			continue
		}
		// SCENARIO STATE RULE... LAST PASS AGE DUE LAST DRILL...: DUE is
		// the column before LAST DRILL ("-" or a time and a result).
		due := f[len(f)-3]
		if f[len(f)-1] == "-" {
			due = f[len(f)-2]
		}
		cells[f[0]] = due
	}
	require.NotEmpty(t, cells, table.String())
	var docs [2]struct {
		Scenarios []struct {
			Scenario string     `json:"scenario"`
			DueAt    *time.Time `json:"due_at"`
		} `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal([]byte(asJSON.stdout), &docs[0]), asJSON.String())
	require.NoError(t, yaml.Unmarshal([]byte(asYAML.stdout), &docs[1]), asYAML.String())
	for i, doc := range docs {
		require.Len(t, doc.Scenarios, len(cells), "%s", []string{"json", "yaml"}[i])
		for _, r := range doc.Scenarios {
			cell := cells[r.Scenario]
			require.NotNil(t, r.DueAt, "%s: due_at of a scenario whose DUE is %q", r.Scenario, cell)
			if cell == "now" {
				assert.False(t, r.DueAt.Before(before) || r.DueAt.After(after),
					"%s: DUE now, due_at %s is the time of the run", r.Scenario, r.DueAt)
				continue
			}
			assert.Equal(t, cell, r.DueAt.UTC().Format(time.DateOnly), r.Scenario)
		}
	}
}

// The DUE column says "now" for every state due whatever the date of the
// last pass, a date for fresh and overdue ones.
func TestDueCell_AsTheState(t *testing.T) {
	at := time.Date(2027, 2, 23, 0, 0, 0, 0, time.UTC)
	for state, want := range map[drill.DueState]string{
		drill.DueFresh: "2027-02-23", drill.DueOverdue: "2027-02-23",
		drill.DueChanged: "now", drill.DueNeverPassed: "now", drill.DueNeverRun: "now",
	} {
		assert.Equal(t, want, dueCell(drill.DueStatus{State: state, DueAt: &at}), state)
	}
	r := sampleFleetDoc().Rows[0]
	r.Due.State = drill.DueChanged
	assert.Equal(t, "now (changed)", fleetCells(r).due, "fleet's DUE column too")
}
