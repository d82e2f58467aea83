package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRun_RefusesHistoryInABackupBucket: `--history s3://velero-backups/team`
// on the backup bucket's own server would write drill records into the
// backup bucket (issue 15, section 2; case
// security/scenarios/history-into-backup.yaml). It is refused before the
// drill starts, whichever way the server is written, and from the
// environment as from the flag.
func TestRun_RefusesHistoryInABackupBucket(t *testing.T) {
	const file = "../security/history-into-backup.yaml"
	cases := map[string]struct {
		args []string
		env  map[string]string
	}{
		"same endpoint":          {args: []string{"--history", "s3://velero-backups/team", "--history-endpoint", "http://127.0.0.1:27999"}},
		"localhost, slash":       {args: []string{"--history", "s3://velero-backups/team", "--history-endpoint", "http://LOCALHOST:27999/"}},
		"AWS default endpoint":   {args: []string{"--history", "s3://velero-backups/"}},
		"from the environment":   {env: map[string]string{"FIREDRILL_HISTORY": "s3://velero-backups/team", "FIREDRILL_HISTORY_ENDPOINT": "http://127.0.0.1:27999"}},
		"canary prefix included": {args: []string{"--history", "s3://velero-backups/firedrill-canary", "--history-endpoint", "http://127.0.0.1:27999"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			res := run(t, context.Background(), env, append([]string{"run", file}, tc.args...)...)
			assert.Equal(t, ExitUsage, res.code, res.String())
			assert.Contains(t, res.stderr, "is the backup bucket of scenario shop-test (spec.storage.primary): a drill never writes into a backup bucket")
			assert.Contains(t, res.stderr, "Hint: keep drill records in a bucket of their own")
			assert.NotContains(t, res.stderr, "[load]", "refused before the drill starts")
		})
	}
}
