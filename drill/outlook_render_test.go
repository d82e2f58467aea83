package drill

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRender_Outlook(t *testing.T) {
	now := forecastT0.Add(150 * 24 * time.Hour)
	o := OutlookOf("shop", growing(6, 900), now)
	r := &Report{Scenario: "shop", DrillID: "fd-1", Result: ResultPass, StartedAt: now, FinishedAt: now,
		RTO: Measure(900*time.Second, 600*time.Second), RPO: Measure(time.Hour, time.Minute), Outlook: &o,
		Compliance: []string{"dora", "pci-dss"}, ScenarioSHA256: strings.Repeat("a", 64), RunbookSHA256: strings.Repeat("b", 64)}

	md, err := RenderMarkdown(r)
	require.NoError(t, err)
	assertMarkdownStructure(t, string(md))
	assert.Contains(t, string(md), "## Outlook\n\n| | |\n|---|---|\n| RTO forecast | RTO objective reached in 150d (2026-11-01) |\n"+
		"| error budget | 6 of 6 drills in the last 365d met RTO and RPO (100%), target 75%: 100% of the budget left |\n")
	assert.Contains(t, string(md), "Compliance frameworks: dora, pci-dss. Recorded for \"after a major change\" (SHA-256): scenario `"+strings.Repeat("a", 64)+"`, runbook `"+strings.Repeat("b", 64)+"`.")

	html, err := RenderHTML(r)
	require.NoError(t, err)
	assert.Contains(t, string(html), `<th scope="row">RTO forecast</th><td class="s-warn">RTO objective reached in 150d (2026-11-01)</td>`)
	assert.Contains(t, string(html), "Compliance frameworks: dora, pci-dss.")

	// Without an outlook (records of firedrill before it) there is no section.
	r.Outlook, r.Compliance, r.ScenarioSHA256 = nil, nil, ""
	md, err = RenderMarkdown(r)
	require.NoError(t, err)
	assert.NotContains(t, string(md), "Outlook")
	assert.NotContains(t, string(md), "SHA-256")
}
