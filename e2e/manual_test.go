//go:build e2e

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// labManualStep is the manual step of the lab's runbook, as
// e2e/lab/scenario.go writes it (a module of its own, so copied here).
const labManualStep = "```text firedrill-manual name=\"tell-shop-team\" estimate=5m\n" +
	"Post in the incident channel that the shop is restored, from which backup\n" +
	"(and so with which RPO), and that orders are being taken again.\n```\n"

// labRunbookWithManualStep gives the runbook of a lab started before the
// lab's runbook had its manual step the same step, so the tests drill
// what the lab runbook now says whichever lab runs.
func labRunbookWithManualStep(t *testing.T, path string) {
	t.Helper()
	text, err := os.ReadFile(path)
	require.NoError(t, err)
	if strings.Contains(string(text), "firedrill-manual") {
		return
	}
	require.NoError(t, os.WriteFile(path, append(text, []byte("\n"+labManualStep)...), 0o644))
}

// assertDeclaredManualRTO checks the report.json of a drill of the lab
// scenario run without a terminal: its manual step declared at its 5m
// estimate, the RTO judged on measured + declared, and the budget's
// segments adding up to it against the 15m objective.
func assertDeclaredManualRTO(t *testing.T, state, id string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "drills", id, "report.json"))
	require.NoError(t, err)
	var rep struct {
		RTO struct {
			Objective float64  `json:"objective_seconds"`
			Measured  *float64 `json:"measured_seconds"`
			Declared  *float64 `json:"declared_manual_seconds"`
			Total     *float64 `json:"total_seconds"`
			Margin    *float64 `json:"margin_seconds"`
			Status    string   `json:"status"`
		} `json:"rto"`
		ManualSteps []struct {
			Name     string   `json:"name"`
			Status   string   `json:"status"`
			Estimate float64  `json:"estimate_seconds"`
			Took     *float64 `json:"took_seconds"`
			Source   string   `json:"source"`
		} `json:"manual_steps"`
		Budget *struct {
			Objective float64 `json:"objective_seconds"`
			Total     float64 `json:"total_seconds"`
			Margin    float64 `json:"margin_seconds"`
			Segments  []struct {
				Step    string  `json:"step"`
				Seconds float64 `json:"seconds"`
				Share   float64 `json:"share"`
				Source  string  `json:"source"`
			} `json:"segments"`
		} `json:"rto_budget"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))

	require.Len(t, rep.ManualSteps, 1)
	m := rep.ManualSteps[0]
	assert.Equal(t, "tell-shop-team", m.Name)
	assert.Equal(t, "declared", m.Status, "no terminal: nobody was asked")
	assert.Equal(t, "declared", m.Source)
	assert.Equal(t, 300.0, m.Estimate)
	assert.Nil(t, m.Took)

	assert.Equal(t, 900.0, rep.RTO.Objective, "the lab scenario's 15m")
	require.NotNil(t, rep.RTO.Measured)
	require.NotNil(t, rep.RTO.Declared)
	require.NotNil(t, rep.RTO.Total)
	assert.Equal(t, 300.0, *rep.RTO.Declared)
	assert.InDelta(t, *rep.RTO.Measured+300, *rep.RTO.Total, 1e-6, "RTO judged = measured + declared")
	assert.InDelta(t, 900-*rep.RTO.Total, *rep.RTO.Margin, 1e-6)
	assert.Equal(t, "met", rep.RTO.Status)

	require.NotNil(t, rep.Budget)
	assert.Equal(t, 900.0, rep.Budget.Objective)
	assert.InDelta(t, *rep.RTO.Total, rep.Budget.Total, 1e-6)
	assert.InDelta(t, *rep.RTO.Margin, rep.Budget.Margin, 1e-6)
	var steps []string
	sum := 0.0
	for _, s := range rep.Budget.Segments {
		steps = append(steps, s.Step+"/"+s.Source)
		sum += s.Seconds
		assert.InDelta(t, s.Seconds/900, s.Share, 1e-9, "share of the objective, %s", s.Step)
	}
	assert.Equal(t, []string{"before-recovery/measured", "restore/measured", "verify/measured", "runbook/measured", "tell-shop-team/declared"}, steps)
	assert.InDelta(t, rep.Budget.Total, sum, 1e-3, "the segments add up to the RTO")
	last := rep.Budget.Segments[len(rep.Budget.Segments)-1]
	assert.Equal(t, 300.0, last.Seconds)

	md, err := os.ReadFile(filepath.Join(state, "drills", id, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "## RTO budget")
	assert.Contains(t, string(md), "| `tell-shop-team` | 5m00s | 33% | declared |")
	assert.Contains(t, string(md), "measured + 5m00s declared manual")
}
