package metrics

import _ "embed"

// PrometheusRule is an example PrometheusRule (monitoring.coreos.com/v1)
// with P2 alerts on these metrics: a drill overdue, the last drill failed,
// the RTO objective missed, and of the recovery window: shorter than
// objectives.retention, a gap between backups longer than the RPO, data
// kept past objectives.maxRetention. None of them pages at night.
//
//go:embed alerts/prometheusrule.yaml
var PrometheusRule []byte
