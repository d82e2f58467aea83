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
