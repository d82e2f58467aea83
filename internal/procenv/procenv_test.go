package procenv

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFilterWithholdsFiredrillsOwnCredentials(t *testing.T) {
	env := []string{"PATH=/bin", "FIREDRILL_EVIDENCE_KEY=-----BEGIN PRIVATE KEY-----", "FIREDRILL_HISTORY_SECRET_ACCESS_KEY=s",
		"FIREDRILL_EVIDENCE_KEY_FILE=/k", "SHOP_S3_SECRET=kept: the scenario's own references stay, redacted in output"}
	assert.Equal(t, []string{"PATH=/bin", "FIREDRILL_EVIDENCE_KEY_FILE=/k",
		"SHOP_S3_SECRET=kept: the scenario's own references stay, redacted in output", "KUBECONFIG=/x"}, Filter(env, "KUBECONFIG=/x"))
}
