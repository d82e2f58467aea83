package drill

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestProtectionSpec_FromScenario: the copies' replication lag bound
// comes from the scenario (issue 14, item 2), and the primary's client
// writes only under the canary prefix: its write guard refuses any other
// key before a request is sent (issue 15, section 2).
func TestProtectionSpec_FromScenario(t *testing.T) {
	yaml := `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: unit}
spec:
  disaster: {summary: test disaster, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {backupName: daily-1, includedNamespaces: [shop]}
  storage:
    primary:
      endpoint: http://127.0.0.1:1
      bucket: velero-backups
      prefix: lab
      objectLock: {mode: COMPLIANCE}
      credentials: {accessKeyIDEnv: AK, secretAccessKeyEnv: SK}
    copies:
      - {name: offsite, kind: offsite, endpoint: http://127.0.0.1:2, bucket: velero-offsite, maxReplicationLag: 15m}
      - {name: offcloud, kind: offcloud, endpoint: http://127.0.0.1:3, bucket: velero-offcloud}
  target: {kubeconfig: /dev/null}
`
	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", []byte(yaml))
	require.NoError(t, err)
	ctx := context.Background()
	// The canary's write below is sent: with the credentials named, not
	// the SDK's default chain, which ends at the EC2 instance metadata
	// service (a unit test reaches no network).
	env := map[string]string{"AK": "firedrill", "SK": "unit-secret"}
	spec, err := ProtectionSpec(ctx, sc, nil, ProtectionOptions{Getenv: func(k string) string { return env[k] }})
	require.NoError(t, err)
	require.Len(t, spec.Copies, 2)
	assert.Equal(t, 15*time.Minute, spec.Copies[0].MaxReplicationLag)
	assert.Zero(t, spec.Copies[1].MaxReplicationLag, "left to backup.DefaultMaxReplicationLag")
	assert.Equal(t, time.Duration(scenarios.DefaultMaxReplicationLag), backup.DefaultMaxReplicationLag)
	assert.Equal(t, "firedrill-canary/", spec.Canary.Prefix)

	_, err = spec.Primary.Store.PutObject(ctx, "velero-backups", "lab/backups/daily-1/planted.txt", []byte("x"), objectstore.PutOptions{})
	assert.ErrorIs(t, err, objectstore.ErrWriteRefused)
	err = spec.Primary.Store.DeleteVersion(ctx, "velero-backups", "lab/backups/daily-1/daily-1.tar.gz", "v1")
	assert.ErrorIs(t, err, objectstore.ErrWriteRefused)
	_, err = spec.Primary.Store.PutObject(ctx, "velero-backups", "firedrill-canary/x.txt", []byte("x"), objectstore.PutOptions{})
	assert.NotErrorIs(t, err, objectstore.ErrWriteRefused, "the canary's prefix is let through (the server is unreachable here)")
}

// TestProtectionSpec_Window: the recovery window is checked when the
// scenario declares retention or maxRetention (issue 22), with the
// scenario's cron expression and objectives and the CLI's sample; the
// disaster loses the source, so no cluster is read for the cron.
func TestProtectionSpec_Window(t *testing.T) {
	yaml := func(objectives, backups string) []byte {
		return []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: unit}
spec:
  disaster: {summary: test disaster, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h` + objectives + `}
  backups: {backupName: daily-1, includedNamespaces: [shop]` + backups + `}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, prefix: lab, objectLock: {mode: COMPLIANCE}}
  target: {kubeconfig: /dev/null}
`)
	}
	ctx := context.Background()
	opts := ProtectionOptions{Getenv: func(string) string { return "" }, WindowSample: 5, WindowSeed: 9}

	sc, err := scenarios.Parse(scenarios.Env{}, "unit.yaml", yaml("", ""))
	require.NoError(t, err)
	spec, err := ProtectionSpec(ctx, sc, nil, opts)
	require.NoError(t, err)
	assert.Nil(t, spec.Window, "no retention objective, no window check")

	sc, err = scenarios.Parse(scenarios.Env{}, "unit.yaml", yaml(", retention: 7d", ""))
	require.NoError(t, err)
	spec, err = ProtectionSpec(ctx, sc, nil, opts)
	require.NoError(t, err)
	require.NotNil(t, spec.Window)
	assert.Empty(t, spec.Window.Cron)
	assert.Contains(t, spec.Window.CronUnknown, "names no spec.backups.schedule, so the window holds every backup in the bucket")

	// A window pick among one schedule's backups: the window check
	// keeps to that schedule too.
	withSchedule := func(b []byte) []byte {
		return []byte(strings.Replace(string(b), "backupName: daily-1", "schedule: daily, window: {pick: random}", 1))
	}
	sc, err = scenarios.Parse(scenarios.Env{}, "unit.yaml", withSchedule(yaml(", retention: 7d, maxRetention: 30d", `, scheduleCron: "CRON_TZ=Europe/Berlin 0 3 * * *"`)))
	require.NoError(t, err)
	w := windowSpec(ctx, sc, opts)
	require.NotNil(t, w)
	assert.Equal(t, backup.WindowSpec{
		Schedule: "daily", Cron: "CRON_TZ=Europe/Berlin 0 3 * * *", CronSource: "scenario",
		Retention: 7 * 24 * time.Hour, MaxRetention: 30 * 24 * time.Hour, RPO: 24 * time.Hour, Sample: 5, Seed: 9,
	}, *w)
}
