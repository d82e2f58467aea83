package cli

import (
	"fmt"
	"io"

	"github.com/firedrill-dev/firedrill/drill"
)

// writeOutlook writes one line per scenario under a table: its RTO
// forecast and its error budget.
func writeOutlook(w io.Writer, outlooks []drill.Outlook) {
	if len(outlooks) == 0 {
		return
	}
	fmt.Fprintln(w, "\nOutlook per scenario:")
	for _, o := range outlooks {
		fmt.Fprintf(w, "  %s: RTO forecast: %s; error budget: %s\n", o.Scenario, o.RTOForecast.Summary(), o.ErrorBudget.Summary())
	}
}
