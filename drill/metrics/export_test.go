package metrics

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewFile_NeedsItsDirectory(t *testing.T) {
	dir := t.TempDir()
	f, err := NewFile(filepath.Join(dir, "firedrill.prom"))
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "firedrill.prom"), f.String())

	_, err = NewFile(filepath.Join(dir, "no", "firedrill.prom"))
	assert.EqualError(t, err, "no directory "+filepath.Join(dir, "no")+" to write it in")
}

func TestPushgateway_StringHasNoCredentials(t *testing.T) {
	assert.Equal(t, "the Pushgateway at http://gw:9091", Pushgateway{URL: "http://user:pgw-s3cret@gw:9091"}.String())
	assert.Equal(t, "the Pushgateway", Pushgateway{URL: "gw:9091?token=pgw-s3cret"}.String())
}
