package metrics

import (
	"bytes"
	_ "embed"
	"fmt"
	"text/template"
)

// AlertOptions are the settings of the PrometheusRule.
type AlertOptions struct {
	// ForecastHorizonDays: FiredrillRTOForecastBreach fires when the RTO
	// forecast (ForecastDaysToObjective) is less than this many days;
	// DefaultForecastHorizonDays when zero.
	ForecastHorizonDays float64
}

// DefaultForecastHorizonDays is the default forecast horizon: one quarter,
// so one quarterly drill still sees the warning before the miss.
const DefaultForecastHorizonDays = 90

//go:embed alerts/prometheusrule.yaml.tmpl
var prometheusRuleTemplate string

var ruleTemplate = template.Must(template.New("prometheusrule").Delims("[[", "]]").Option("missingkey=error").Parse(prometheusRuleTemplate))

// RenderPrometheusRule is the PrometheusRule (monitoring.coreos.com/v1)
// with P2 alerts on these metrics, with opts: a drill overdue, the last
// drill failed, the RTO objective missed; of the recovery window: shorter
// than objectives.retention, a gap between backups longer than the RPO,
// data kept past objectives.maxRetention; the RTO forecast within the
// horizon, the error budget used up. None of them pages at night. It
// returns an error for a horizon that is not greater than zero.
func RenderPrometheusRule(opts AlertOptions) ([]byte, error) {
	if opts.ForecastHorizonDays == 0 {
		opts.ForecastHorizonDays = DefaultForecastHorizonDays
	}
	if opts.ForecastHorizonDays < 0 {
		return nil, fmt.Errorf("forecast horizon %g days: want more than zero", opts.ForecastHorizonDays)
	}
	var b bytes.Buffer
	if err := ruleTemplate.Execute(&b, opts); err != nil {
		return nil, fmt.Errorf("render the PrometheusRule: %w", err)
	}
	return b.Bytes(), nil
}

// PrometheusRule is RenderPrometheusRule with the defaults: the content
// of alerts/prometheusrule.yaml.
var PrometheusRule = func() []byte {
	b, err := RenderPrometheusRule(AlertOptions{})
	if err != nil {
		panic(err)
	}
	return b
}()
