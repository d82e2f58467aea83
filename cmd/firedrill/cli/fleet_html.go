package cli

import (
	"fmt"
	"html/template"
	"io"
	"time"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// fleetPage is `fleet -o html`: one self-contained page (inline style, no
// script, nothing loaded from the network); html/template escapes every
// name and text.
var fleetPage = template.Must(template.New("fleet").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Disaster-recovery drills: fleet</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .6em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
.state { font-weight: 600; }
.failing { color: #b00020; } .overdue { color: #b35c00; } .due { color: #7a6a00; } .ok { color: #1e6b1e; }
.summary span { margin-right: 1.2em; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>Disaster-recovery drills: fleet</h1>
<p>History {{.Doc.History}}, generated {{.Doc.GeneratedAt}}; a row is overdue when its last passing drill is older than {{.MaxAge}}.</p>
<p class="summary">{{range .Counts}}<span class="{{.State}}">{{.N}} {{.State}}</span>{{end}}</p>
{{if .Rows}}<table>
<thead><tr><th>Cluster</th><th>Scenario</th><th>State</th><th>Last drill</th><th>Result</th><th>RTO</th><th>RPO</th><th>Trend</th><th>Forecast</th><th>Error budget</th><th>Due</th><th>Drills</th></tr></thead>
<tbody>
{{range .Rows}}<tr><td>{{.Cells.cluster}}</td><td>{{.Row.Scenario}}</td><td class="state {{.Row.State}}">{{.Row.State}}</td><td>{{.Cells.started}} <small>{{.Row.LastDrill.ID}}</small></td><td>{{.Row.LastDrill.Result}}</td><td>{{.Cells.rto}}</td><td>{{.Cells.rpo}}</td><td>{{.Cells.trend}}</td><td>{{.Cells.forecast}}</td><td>{{.Cells.budget}}</td><td>{{.Cells.due}}</td><td>{{.Row.Drills}}</td></tr>
{{end}}</tbody>
</table>{{else}}<p>No drills in the fleet index (or none the filters keep).</p>{{end}}
</body>
</html>
`))

type fleetPageRow struct {
	Row   drill.FleetRow
	Cells map[string]string
}

type fleetPageCount struct {
	State drill.FleetState
	N     int
}

func writeFleetHTML(w io.Writer, doc fleetDoc) error {
	data := struct {
		Doc    fleetDoc
		MaxAge string
		Rows   []fleetPageRow
		Counts []fleetPageCount
	}{Doc: doc, MaxAge: scenarios.Duration(time.Duration(doc.MaxAgeSeconds * float64(time.Second))).String()}
	counts := map[drill.FleetState]int{}
	for _, r := range doc.Rows {
		c := fleetCells(r)
		data.Rows = append(data.Rows, fleetPageRow{Row: r, Cells: map[string]string{"cluster": c.cluster, "started": c.started,
			"rto": c.rto, "rpo": c.rpo, "trend": c.trend, "forecast": c.forecast, "budget": c.budget, "due": c.due}})
		counts[r.State]++
	}
	for _, s := range drill.FleetStates {
		if counts[s] > 0 {
			data.Counts = append(data.Counts, fleetPageCount{s, counts[s]})
		}
	}
	if err := fleetPage.Execute(w, data); err != nil {
		return fmt.Errorf("write the fleet page: %w", err)
	}
	return nil
}
