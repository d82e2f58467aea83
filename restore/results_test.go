package restore

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
)

// A results object as Velero v1.18 writes it for a restore the hardened
// cluster's webhook refused.
const resultsJSON = `{"errors":{"namespaces":{"shop-x":["error restoring deployments.apps/shop-x/web: admission webhook \"deny.lab\" denied the request: hardened cluster: no NetworkPolicy in namespace shop-x"]}},
"warnings":{"velero":["v"],"cluster":["c"],"namespaces":{"shop-x":["could not restore, ConfigMap:kube-root-ca.crt already exists"]}}}`

func TestParseResults(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(resultsJSON))
	require.NoError(t, zw.Close())

	res, err := ParseResults(&buf)
	require.NoError(t, err)
	require.Len(t, res.Errors.Namespaces["shop-x"], 1)
	assert.Contains(t, res.Errors.Namespaces["shop-x"][0], "hardened cluster: no NetworkPolicy")
	assert.Equal(t, []string{"velero: v", "cluster: c", "shop-x: could not restore, ConfigMap:kube-root-ca.crt already exists"}, res.Warnings.Lines())
	assert.False(t, res.Errors.Empty())

	ph := PhaseResult{PlannedRestore: PlannedRestore{Phase: "all"}, Status: velerov1.RestorePhasePartiallyFailed, Errors: 1, Results: &res}
	assert.Contains(t, ph.Reason(), "phase all ended PartiallyFailed")
	assert.Contains(t, ph.Reason(), "shop-x: error restoring deployments.apps/shop-x/web")
}

func TestParseResults_NotGzip(t *testing.T) {
	_, err := ParseResults(bytes.NewReader([]byte("{}")))
	assert.Error(t, err)
}

// TestResultsFinding: a Completed phase whose results hold more than the
// expected kube-root-ca.crt warnings is a finding naming each item.
func TestResultsFinding(t *testing.T) {
	rootCA := `could not restore, ConfigMap:kube-root-ca.crt already exists. Warning: the in-cluster version is different than the backed-up version`
	ph := PhaseResult{PlannedRestore: PlannedRestore{Phase: "workloads", Name: "fd-1-workloads"}, Status: velerov1.RestorePhaseCompleted, Warnings: 3}
	ph.Results = &Results{Warnings: Messages{Namespaces: map[string][]string{
		"shop":      {rootCA, "could not restore, Storefront \"eu\" already exists"},
		"shop-data": {`could not restore, ConfigMap "kube-root-ca.crt" already exists. Warning: the in-cluster version is different than the backed-up version`},
	}}}
	f, ok := resultsFinding(ph)
	require.True(t, ok)
	assert.Equal(t, "restore.results.workloads", f.ID)
	assert.Equal(t, "warn", string(f.Status))
	assert.Equal(t, "Velero restore fd-1-workloads results (restores/fd-1-workloads/restore-fd-1-workloads-results.gz)", f.Subject)
	assert.Contains(t, f.Message, `1 item it did not restore as backed up: shop: could not restore, Storefront "eu" already exists`)
	assert.NotContains(t, f.Message, "kube-root-ca.crt")

	ph.Results.Warnings.Namespaces["shop"] = []string{rootCA, rootCA}
	_, ok = resultsFinding(ph)
	assert.False(t, ok, "only the expected warnings: no finding")

	ph.Results, ph.ResultsError = nil, "DownloadRequest not processed"
	f, ok = resultsFinding(ph)
	require.True(t, ok, "counts without the items still say so")
	assert.Contains(t, f.Message, "3 warnings and 0 errors")

	ph.Status = velerov1.RestorePhasePartiallyFailed
	_, ok = resultsFinding(ph)
	assert.False(t, ok, "a phase that did not complete is the phase finding's to explain")
}
