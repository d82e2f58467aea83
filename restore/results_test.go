package restore

import (
	"bytes"
	"compress/gzip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

	ph := PhaseResult{PlannedRestore: PlannedRestore{Phase: "all"}, Status: PhasePartiallyFailed, Errors: 1, Results: &res}
	assert.Contains(t, ph.Reason(), "phase all ended PartiallyFailed")
	assert.Contains(t, ph.Reason(), "shop-x: error restoring deployments.apps/shop-x/web")
}

func TestParseResults_NotGzip(t *testing.T) {
	_, err := ParseResults(bytes.NewReader([]byte("{}")))
	assert.Error(t, err)
}
