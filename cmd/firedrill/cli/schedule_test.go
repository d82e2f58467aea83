package cli

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/version"
)

func TestSchedule_Golden(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"help-schedule", []string{"schedule"}, ExitOK},
		{"help-schedule-render", []string{"schedule", "render", "--help"}, ExitOK},
		{"schedule-render-bad-options", []string{"schedule", "render", "--scenario", "region-loss", "--cron", "0 25 * * *"}, ExitUsage},
		{"schedule-render-unknown-scenario", []string{"schedule", "render", "--scenario", "region-los", "--cadence", "weekly", "--history", "s3://b/p"}, ExitError},
		{"schedule-render-argument", []string{"schedule", "render", "region-loss"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, context.Background(), nil, tt.args...)
			assert.Equal(t, tt.wantCode, got.code, "%s", got)
			golden(t, tt.name, "$ firedrill "+strings.Join(tt.args, " ")+"\n"+got.String())
		})
	}
}

// The manifests go to stdout, warnings to stderr; $FIREDRILL_HISTORY is
// the default shared history, as for 'firedrill run'.
func TestSchedule_RenderUsesTheHistoryFromTheEnvironment(t *testing.T) {
	got := run(t, context.Background(), map[string]string{"FIREDRILL_HISTORY": "s3://dr-drills/from-env"},
		"schedule", "render", "--scenario", "namespace-deletion", "--cadence", "monthly", "--image", "example.com/firedrill:v1")
	require.Equal(t, ExitOK, got.code, "%s", got)
	assert.Contains(t, got.stdout, "kind: CronJob")
	assert.Contains(t, got.stdout, "schedule: 0 6 1 * *")
	assert.Contains(t, got.stdout, "- s3://dr-drills/from-env")
	assert.Contains(t, got.stdout, "image: example.com/firedrill:v1")
	assert.NotContains(t, got.stdout, "level=WARN")
	assert.Contains(t, got.stderr, "namespace-deletion: this scenario has", "runbook steps need more than the image")
}

// Without --image, a scenario with runbook steps runs in the runner image
// of this version, and the warning names the image.
func TestSchedule_RenderDefaultsToTheRunnerImage(t *testing.T) {
	got := run(t, context.Background(), nil,
		"schedule", "render", "--scenario", "namespace-deletion", "--cadence", "monthly", "--history", "s3://dr-drills/team")
	require.Equal(t, ExitOK, got.code, "%s", got)
	assert.Contains(t, got.stdout, "image: ghcr.io/firedrill-dev/firedrill-runner:"+version.Get().Version+"\n")
	assert.Contains(t, got.stderr, "image=ghcr.io/firedrill-dev/firedrill-runner:")

	got = run(t, context.Background(), nil, "schedule", "render", "--scenario", "namespace-deletion", "--cadence", "monthly",
		"--history", "s3://dr-drills/team", "--image", "registry.example.com/dr/firedrill-runner:v1")
	require.Equal(t, ExitOK, got.code, "%s", got)
	assert.Contains(t, got.stdout, "image: registry.example.com/dr/firedrill-runner:v1\n")
	assert.NotContains(t, got.stdout, "ghcr.io")
}

// A scenario that cannot be scheduled as written (a fixed declaredAt) is
// invalid input, exit 1 as validate's, not a misused command (exit 2);
// with an option missing as well, it is usage again, both problems named.
func TestSchedule_RenderRefusesAFixedDeclaredAtAsInvalidInput(t *testing.T) {
	got := run(t, context.Background(), nil,
		"schedule", "render", "--scenario", "../files/warnings.yaml", "--cadence", "monthly", "--history", "s3://dr-drills/team", "--image", "example.com/firedrill:v1")
	assert.Equal(t, ExitError, got.code, "%s", got)
	assert.Contains(t, got.stderr, "sets spec.disaster.declaredAt")
	assert.Empty(t, got.stdout)

	got = run(t, context.Background(), nil,
		"schedule", "render", "--scenario", "../files/warnings.yaml", "--history", "s3://dr-drills/team", "--image", "example.com/firedrill:v1")
	assert.Equal(t, ExitUsage, got.code, "%s", got)
	assert.Contains(t, got.stderr, "sets spec.disaster.declaredAt")
	assert.Contains(t, got.stderr, "one of --cron or --cadence is required")
}
