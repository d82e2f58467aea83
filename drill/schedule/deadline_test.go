package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// withRTO is the catalog's region-loss, named name, with its RTO and
// cleanup timeout set.
func withRTO(t *testing.T, name string, rto, cleanup time.Duration) *scenarios.Scenario {
	t.Helper()
	sc := find(t, "region-loss")
	sc.Metadata.Name = name
	sc.Spec.Objectives.RTO = scenarios.Duration(rto)
	sc.Spec.Cleanup.Timeout = scenarios.Duration(cleanup)
	sc.Spec.Cleanup.Policy = scenarios.CleanupAlways
	return sc
}

// The Job's deadline follows the scenario: a drill that meets its RTO is
// never stopped, whatever the RTO; one at a time (issue 14, item 9).
func TestRender_DeadlineFollowsTheScenario(t *testing.T) {
	tests := []struct {
		rto, cleanup time.Duration
		want         time.Duration
	}{
		{time.Hour, 5 * time.Minute, time.Hour + 39*time.Minute},
		{4 * time.Hour, 10 * time.Minute, 4*time.Hour + 44*time.Minute},
		{8 * time.Hour, 5 * time.Minute, 8*time.Hour + 39*time.Minute},
		{90 * time.Second, 45 * time.Second, 37 * time.Minute}, // 36m15s, rounded up to the minute
	}
	for _, tt := range tests {
		t.Run(tt.rto.String(), func(t *testing.T) {
			sc := withRTO(t, "slow", tt.rto, tt.cleanup)
			assert.Equal(t, tt.want, JobDeadline(sc))
			cj := objectsOf(t, options(sc))["CronJob/firedrill-slow"].(*batchv1.CronJob)
			require.NotNil(t, cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds)
			assert.Equal(t, int64(tt.want/time.Second), *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds)
			assert.Greater(t, *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds, int64(tt.rto/time.Second), "longer than the RTO")
			assert.Equal(t, batchv1.ForbidConcurrent, cj.Spec.ConcurrencyPolicy)
			grace := cj.Spec.JobTemplate.Spec.Template.Spec.TerminationGracePeriodSeconds
			require.NotNil(t, grace)
			assert.GreaterOrEqual(t, *grace, int64(tt.cleanup/time.Second), "SIGTERM leaves time to clean up")
		})
	}
}

func TestRender_JobTimeoutNeverShorterThanTheScenarioNeeds(t *testing.T) {
	o := options(withRTO(t, "slow", 8*time.Hour, 10*time.Minute))
	o.JobTimeout = 3 * time.Hour
	err := o.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--job-timeout 3h00m: scenario slow needs 8h44m (RTO 8h00m + cleanup 10m00s + 4m00s after it + 30m00s margin)")

	o.JobTimeout = 12 * time.Hour
	require.NoError(t, o.Validate())
	cj := objectsOf(t, o)["CronJob/firedrill-slow"].(*batchv1.CronJob)
	assert.Equal(t, int64(12*3600), *cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds, "a longer --job-timeout is kept")
}

func TestWarnings(t *testing.T) {
	shopA := withRTO(t, "shop-a", 4*time.Hour, 5*time.Minute)  // deadline 4h39m
	shopB := withRTO(t, "shop-b", 10*time.Minute, time.Minute) // deadline 45m, restores the same namespaces
	short := withRTO(t, "shop-c", 10*time.Minute, time.Minute)
	short.Spec.Target.NamespaceMapping = map[string]string{"shop": "shop-c", "shop-data": "shop-c-data"}
	kept := withRTO(t, "shop-kept", 10*time.Minute, time.Minute)
	kept.Spec.Target.NamespaceMapping = map[string]string{"shop": "kept", "shop-data": "kept-data"}
	kept.Spec.Cleanup.Policy = scenarios.CleanupOnSuccess
	never := withRTO(t, "shop-never", 10*time.Minute, time.Minute)
	never.Spec.Target.NamespaceMapping = map[string]string{"shop": "never", "shop-data": "never-data"}
	never.Spec.Cleanup.Policy = scenarios.CleanupNever

	tests := []struct {
		name string
		o    Options
		want []string
	}{
		{"cadence: the second starts an hour after the first, within its 4h39m", options(shopA, shopB), []string{
			"scenarios shop-a and shop-b both restore into namespace shop, shop-data and their drills can run at the same time " +
				"(shop-a starts at 06:00 and may run 4h39m, shop-b at 07:00 and may run 45m00s)"}},
		{"cadence: the first ends before the second starts", options(shopB, withRTO(t, "shop-z", 4*time.Hour, 5*time.Minute)), nil},
		{"one --cron: they start together", func() Options {
			o := options(shopB, withRTO(t, "shop-z", 10*time.Minute, time.Minute))
			o.Cadence, o.Cron = "", "0 3 * * 1"
			return o
		}(), []string{"scenarios shop-b and shop-z both restore into namespace shop, shop-data and their drills can run at the same time (they start at the same time)"}},
		{"other namespaces", options(shopA, short), nil},
		{"a failed drill's namespaces kept", options(kept), []string{
			"scenario shop-kept keeps the namespaces of a failed drill (kept, kept-data) for investigation (spec.cleanup.policy onSuccess): " +
				"until someone deletes them, its next scheduled drill cannot restore into them"}},
		{"every drill's namespaces kept", options(never), []string{
			"scenario shop-never keeps the namespaces of every drill (never, never-data; spec.cleanup.policy never): every scheduled drill after the first fails"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.NoError(t, tt.o.Validate())
			got := Warnings(tt.o)
			require.Len(t, got, len(tt.want), "%q", got)
			for i, w := range tt.want {
				assert.True(t, strings.HasPrefix(got[i], w), "got %q\nwant %q...", got[i], w)
			}
		})
	}
}
