package scenarios_test

import (
	"io/fs"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestCatalog_EveryScenarioValidates loads every built-in scenario with the
// real runbook catalog, so a built-in scenario naming a runbook that does
// not exist fails here.
func TestCatalog_EveryScenarioValidates(t *testing.T) {
	files, err := fs.Glob(scenarios.Catalog(), "*.yaml")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5, "the catalog must hold at least five scenarios")
	env := scenarios.Env{RunbookExists: runbooks.Exists}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			data, err := fs.ReadFile(scenarios.Catalog(), f)
			require.NoError(t, err)
			sc, err := scenarios.Parse(env, "catalog/"+f, data)
			require.NoError(t, err)
			assert.Equal(t, f, sc.Metadata.Name+".yaml", "a catalog file is named after its scenario")
			require.NotNil(t, sc.Spec.Runbook)
			assert.Equal(t, sc.Metadata.Name, sc.Spec.Runbook.Name, "each built-in scenario has its own runbook")
			assert.Empty(t, sc.RestoreOrderWarnings(), "custom resources are restored after their CRDs")
		})
	}
}

// TestCatalog_RandomRestoreAuditSpansRetention: the audit scenario draws
// its recovery point at random from the whole retention window (its
// window has no within of its own, so it defaults to objectives.retention).
func TestCatalog_RandomRestoreAuditSpansRetention(t *testing.T) {
	data, err := fs.ReadFile(scenarios.Catalog(), "random-restore-audit.yaml")
	require.NoError(t, err)
	sc, err := scenarios.Parse(scenarios.Env{RunbookExists: runbooks.Exists}, "catalog/random-restore-audit.yaml", data)
	require.NoError(t, err)
	o, w := sc.Spec.Objectives, sc.Spec.Backups.Window
	require.NotNil(t, w)
	require.NotZero(t, o.Retention)
	assert.Equal(t, scenarios.PickRandom, w.Pick)
	assert.Equal(t, "shop-nightly", sc.Spec.Backups.Schedule, "the pick and the window check keep to one schedule's backups")
	assert.Equal(t, o.Retention, w.Within)
	assert.GreaterOrEqual(t, o.MaxRetention, o.Retention)

	require.NoError(t, sc.SetWindowSeed(42))
	require.NotNil(t, w.Seed)
	assert.Equal(t, int64(42), *w.Seed)
}
