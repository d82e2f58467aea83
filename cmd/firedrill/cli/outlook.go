package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/drill"
)

// forecastCell is an RTO forecast in a few words, for tables.
func forecastCell(f drill.RTOForecast) string {
	switch {
	case f.State == drill.ForecastTrend && *f.DaysToObjective == 0:
		return "the trend has reached the RTO objective"
	case f.State == drill.ForecastTrend:
		return fmt.Sprintf("RTO objective reached in %.0fd (%s)", *f.DaysToObjective, f.MissAt.Format(time.DateOnly))
	case f.State == drill.ForecastSteady:
		return "steady, no miss forecast"
	default:
		return "none (" + strings.TrimPrefix(f.Reason, "no forecast: ") + ")"
	}
}

// budgetCell is an error budget in a few words, for tables.
func budgetCell(b drill.ErrorBudget) string {
	window := fmt.Sprintf("the last %.0fd", b.WindowSeconds/86400)
	if b.Drills == 0 {
		return "no drill in " + window
	}
	return fmt.Sprintf("%d of %d drills in %s met RTO and RPO (%.0f%%), target %.0f%%: %.0f%% of the budget left",
		b.Met, b.Drills, window, *b.MetRatio*100, b.Target*100, *b.BudgetRemainingRatio*100)
}

// writeOutlook writes one line per scenario under a table: its RTO
// forecast and its error budget.
func writeOutlook(w io.Writer, outlooks []drill.Outlook) {
	if len(outlooks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nOutlook per scenario:")
	for _, o := range outlooks {
		fmt.Fprintf(w, "  %s: RTO forecast: %s; error budget: %s\n", o.Scenario, forecastCell(o.RTOForecast), budgetCell(o.ErrorBudget))
	}
}
