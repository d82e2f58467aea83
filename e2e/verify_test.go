//go:build e2e

package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerify_LabScenarioPasses runs `firedrill verify` on the lab's own
// scenario: the seeded backups are locked, the canary is refused on MinIO,
// and both copies (MinIO and Versity) match.
func TestVerify_LabScenarioPasses(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 3*time.Minute)
	res := firedrill(t, ctx, nil, "verify", l.Scenario, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var out struct {
		Backup   string `json:"backup"`
		Findings []struct {
			ID, Severity, Status, Subject, Message string
		} `json:"findings"`
		Copies []struct {
			Name       string `json:"name"`
			Comparison struct {
				Same, Missing, Extra, Differs, Errors int
				Objects                               []struct{ Key, Status string }
			} `json:"comparison"`
		} `json:"copies"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out))
	assert.Equal(t, l.LatestBackup, out.Backup, "the latest backup of the schedule, found in the bucket")
	ids := map[string]string{}
	for _, f := range out.Findings {
		ids[f.ID] = f.Status
	}
	for _, id := range []string{"protection.bucket.object-lock", "protection.canary.delete", "protection.backup.retention", "protection.repository.retention"} {
		assert.Equal(t, "pass", ids[id], "finding %s", id)
	}
	// A copy holding kopia's deleted blobs besides every object is a
	// warning (checked below), never a failure.
	for _, id := range []string{"protection.copy.offsite", "protection.copy.offcloud"} {
		assert.Contains(t, []string{"pass", "warn"}, ids[id], "finding %s", id)
	}
	require.Len(t, out.Copies, 2)
	for _, c := range out.Copies {
		assert.Greater(t, c.Comparison.Same, 0, "copy %s", c.Name)
		assert.Zero(t, c.Comparison.Missing+c.Comparison.Differs+c.Comparison.Errors, "copy %s", c.Name)
		// Only repository blobs kopia deleted on the primary may remain on
		// a replica: replication does not carry delete markers by default.
		for _, o := range c.Comparison.Objects {
			assert.True(t, o.Status == "extra" && strings.HasPrefix(o.Key, "kopia/"), "copy %s: %+v", c.Name, o)
		}
	}
	assert.NotContains(t, res.stdout+res.stderr, l.Stores["primary"].SecretKey, "no secret in the output")
}

// TestVerify_BadCredentialsEndClearlyWithoutTheSecret: a wrong secret key
// is an error naming endpoint and bucket, exit 1, and the secret never
// appears.
func TestVerify_BadCredentialsEndClearlyWithoutTheSecret(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 2*time.Minute)
	const wrong = "definitely-not-the-secret-0451"
	res := firedrill(t, ctx, []string{"FIREDRILL_LAB_PRIMARY_SECRET_KEY=" + wrong}, "verify", l.Scenario, "--log-level", "warn")
	assert.Equal(t, 1, res.code, res.stderr)
	assert.Contains(t, res.stderr, "velero-backups")
	assert.Contains(t, res.stderr, l.Stores["primary"].Endpoint)
	assert.NotContains(t, res.stdout+res.stderr, wrong)
}

// TestVerify_DamagedCopyExitsThree points the off-site copy at a prefix
// that does not hold the backup: every object is missing on the copy, the
// finding fails and the exit code is 3.
func TestVerify_DamagedCopyExitsThree(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 2*time.Minute)
	file, _ := drillScenario(t, l, "e2e-verify-copy", "        prefix: lab\n        pathStyle: true\n        credentials: {accessKeyIDEnv: FIREDRILL_LAB_OFFSITE",
		"        prefix: not-there\n        pathStyle: true\n        credentials: {accessKeyIDEnv: FIREDRILL_LAB_OFFSITE")
	res := firedrill(t, ctx, nil, "verify", file, "-o", "json", "--log-level", "warn")
	assert.Equal(t, 3, res.code, res.stderr)
	assert.Contains(t, res.stderr, "protection checks failed")
	var out struct {
		Copies []struct {
			Name       string
			Comparison struct{ Same, Missing int }
		}
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out))
	require.NotEmpty(t, out.Copies)
	assert.Equal(t, "offsite", out.Copies[0].Name)
	assert.Zero(t, out.Copies[0].Comparison.Same)
	assert.Greater(t, out.Copies[0].Comparison.Missing, 0)
}
