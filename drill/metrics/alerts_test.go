package metrics

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/firedrill-dev/firedrill/drill"
)

type prometheusRule struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Spec       struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	} `yaml:"spec"`
}

// growing is a scenario, payments, whose volume data grows by 1 GB and
// whose recovery time by 60 s a month, drilled monthly up to t3: 600 s
// on t3, the 900 s objective reached 150 days later.
func growing() []*drill.Report {
	var out []*drill.Report
	for i := range 6 {
		out = append(out, &drill.Report{DrillID: fmt.Sprintf("fd-pay-%d", i), Scenario: "payments", Result: drill.ResultPass,
			StartedAt: t3.Add(-time.Duration(150-30*i) * 24 * time.Hour),
			RTO:       drill.Measure(900*time.Second, time.Duration(300+60*i)*time.Second), RPO: drill.Measure(time.Hour, time.Minute),
			Restores: []drill.RestoreRef{{ItemsRestored: 80, PodVolumeRestores: []drill.PodVolumeRestore{{BytesDone: int64(i+1) * 1e9}}}}})
	}
	return out
}

// exported gathers every metric the package exports, with its label names.
func exported(t *testing.T) map[string][]string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(NewCollector(append(history(), growing()...))))
	families, err := reg.Gather()
	require.NoError(t, err)
	out := map[string][]string{}
	for _, mf := range families {
		for _, l := range mf.GetMetric()[0].GetLabel() {
			out[mf.GetName()] = append(out[mf.GetName()], l.GetName())
		}
	}
	return out
}

func TestExported_MatchesTheDocumentedNames(t *testing.T) {
	var names []string
	for n := range exported(t) {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{Findings, LastRunTimestamp, LastSuccessTimestamp, Result, RPO, RPOObjective, RTO, RTOObjective,
		WindowLength, WindowRetentionObjective, WindowWorstGap, WindowPastMaxRetention, WindowPastMaxRetentionB,
		ForecastDaysToObjective, ErrorBudgetRemaining, ErrorBudgetMet}
	slices.Sort(want)
	assert.Equal(t, want, names)
}

// metricRef is a firedrill metric in an expression, with its label matchers.
var metricRef = regexp.MustCompile(`\b(firedrill_[a-z_]+)(?:\{([^}]*)\})?`)
var matcherLabel = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
var byLabels = regexp.MustCompile(`\bby\s*\(([^)]*)\)`)

func TestPrometheusRule_AlertsUseOnlyExportedMetricsAndArePriorityTwo(t *testing.T) {
	var rule prometheusRule
	require.NoError(t, yaml.Unmarshal(PrometheusRule, &rule))
	assert.Equal(t, "monitoring.coreos.com/v1", rule.APIVersion)
	assert.Equal(t, "PrometheusRule", rule.Kind)

	metrics := exported(t)
	var alerts []string
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			t.Run(r.Alert, func(t *testing.T) {
				refs := metricRef.FindAllStringSubmatch(r.Expr, -1)
				require.NotEmpty(t, refs, "the expression uses firedrill's metrics: %s", r.Expr)
				labels := map[string]bool{}
				for _, ref := range refs {
					name, matchers := ref[1], ref[2]
					require.Contains(t, metrics, name, "%s is not a metric this package exports", name)
					for _, l := range metrics[name] {
						labels[l] = true
					}
					for _, m := range matcherLabel.FindAllStringSubmatch(matchers, -1) {
						assert.Contains(t, metrics[name], m[1], "%s has no label %s", name, m[1])
					}
				}
				for _, by := range byLabels.FindAllStringSubmatch(r.Expr, -1) {
					for _, l := range strings.Split(by[1], ",") {
						assert.True(t, labels[strings.TrimSpace(l)], "by (%s): no metric of the expression has label %s", by[1], l)
					}
				}

				// P2: business hours, never a page at night.
				assert.Equal(t, "P2", r.Labels["priority"])
				assert.Equal(t, "warning", r.Labels["severity"])
				assert.NotEmpty(t, r.For, "a blip does not notify anyone")
				for _, a := range []string{"summary", "description", "runbook_url"} {
					assert.NotEmpty(t, r.Annotations[a], "annotation %s", a)
				}
				assert.Contains(t, r.Annotations["summary"], "{{ $labels.scenario }}", "the summary names the scenario")
			})
		}
	}
	assert.Equal(t, []string{"FiredrillDrillOverdue", "FiredrillDrillFailed", "FiredrillRTOObjectiveMissed",
		"FiredrillWindowShorterThanRetention", "FiredrillWindowWorstGapOverRPO", "FiredrillDataKeptPastMaxRetention",
		"FiredrillRTOForecastBreach", "FiredrillErrorBudgetExhausted"}, alerts)
}

var update = flag.Bool("update", false, "rewrite alerts/prometheusrule.yaml")

// The file users apply is the template rendered with the defaults.
func TestPrometheusRule_FileIsTheDefaultRendering(t *testing.T) {
	if *update {
		require.NoError(t, os.WriteFile("alerts/prometheusrule.yaml", PrometheusRule, 0o644))
	}
	file, err := os.ReadFile("alerts/prometheusrule.yaml")
	require.NoError(t, err)
	assert.Equal(t, string(PrometheusRule), string(file), "run go test ./drill/metrics -run TestPrometheusRule_FileIsTheDefault -update")
}

// forecastRule is the expression and description of the forecast alert.
func forecastRule(t *testing.T, b []byte) (expr, description string) {
	t.Helper()
	var rule prometheusRule
	require.NoError(t, yaml.Unmarshal(b, &rule))
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			if r.Alert == "FiredrillRTOForecastBreach" {
				return r.Expr, r.Annotations["description"]
			}
		}
	}
	t.Fatal("no FiredrillRTOForecastBreach")
	return "", ""
}

func TestRenderPrometheusRule_ForecastHorizon(t *testing.T) {
	expr, desc := forecastRule(t, PrometheusRule)
	assert.Equal(t, "min by (scenario) (firedrill_rto_forecast_days_to_objective) < 90\n", expr, "the default horizon, 90 days")
	assert.Contains(t, desc, "within the 90-day horizon")
	assert.Contains(t, desc, "{{ $value | humanize }}", "Prometheus's template is left as is")

	b, err := RenderPrometheusRule(AlertOptions{ForecastHorizonDays: 30})
	require.NoError(t, err)
	expr, desc = forecastRule(t, b)
	assert.Equal(t, "min by (scenario) (firedrill_rto_forecast_days_to_objective) < 30\n", expr)
	assert.Contains(t, desc, "within the 30-day horizon")

	_, err = RenderPrometheusRule(AlertOptions{ForecastHorizonDays: -1})
	assert.ErrorContains(t, err, "forecast horizon -1 days")
}
