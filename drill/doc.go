// Package drill runs a disaster-recovery drill: the ordered steps from
// loading the scenario to cleaning up, which of them count toward the RTO,
// the timeline and report of a run, its record in the state directory and
// the shared history, and its evidence. NewPlan says what a drill would do
// from the scenario alone; Run does it, whole: after the record, the
// signed evidence bundle and its push, the metrics and the notifications,
// behind small interfaces (MetricsExporter, Notifier) that drill/metrics
// and drill/notify implement. The command line only fills Options.
//
// Drill records are read and written through one interface, Records, with
// a local implementation (LocalRecords, the state directory) and an S3 one
// (S3Records, a team's shared history); ListReports, AuditRows and RTOTrend
// work on either. drill/recordtest is their conformance suite. A drill
// reads the earlier drills of its scenario from the history it writes to
// for its report's trend (NewTrend: against the median) and next steps
// (NextSteps).
//
// The folders show the layers, imports pointing down only:
//
//	cmd/firedrill, cmd/firedrill/cli    the command line: flags in, output out
//	drill/metrics, drill/notify,        outputs of a drill (metrics file and
//	drill/schedule                      Pushgateway, webhook, rendered CronJobs)
//	drill                               the drill itself
//	backup, restore, runbooks, scenarios  what a drill is made of
//	internal/...                        what they stand on (object storage,
//	                                    Kubernetes clients, evidence bundles,
//	                                    findings, secrets, safe file reads)
//
// Check it with:
//
//	go list -f '{{.ImportPath}}: {{join .Imports " "}}' ./...
package drill
