// Package metrics turns the drill history into Prometheus metrics, so the
// alerting a platform team already has can say when a drill is overdue or
// failed instead of someone having to remember.
//
// The metrics are gauges per scenario, computed from every drill recorded
// (not counters kept by a process): a drill is a short-lived process, run
// from a laptop or a CronJob, and whatever writes the metrics next must
// arrive at the same values. They reach Prometheus through node-exporter's
// textfile collector (WriteFile) or a Pushgateway (Push). alerts/ holds a
// PrometheusRule over them (PrometheusRule; RenderPrometheusRule for another
// forecast horizon).
package metrics
