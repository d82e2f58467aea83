package scenarios

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLockWait: spec.target.lockWait defaults to DefaultLockWait, and an
// explicit 0s stays 0 (refuse at once), which a zero default could not
// tell apart.
func TestLockWait(t *testing.T) {
	base := `apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: lock-wait}
spec:
  disaster: {summary: test, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 1h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target:
    kubeconfig: /dev/null
`
	for name, tt := range map[string]struct {
		line string
		want time.Duration
	}{
		"unset":   {"", 15 * time.Minute},
		"0s":      {"    lockWait: 0s\n", 0},
		"0":       {"    lockWait: 0\n", 0},
		"written": {"    lockWait: 2m\n", 2 * time.Minute},
	} {
		t.Run(name, func(t *testing.T) {
			sc, err := Parse(testEnv(), "lock.yaml", []byte(base+tt.line))
			require.NoError(t, err)
			assert.Equal(t, tt.want, time.Duration(sc.Spec.Target.LockWait))
		})
	}
}

func TestLockWait_Invalid(t *testing.T) {
	_, err := Parse(testEnv(), "lock.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: lock-wait}
spec:
  disaster: {summary: test, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 1h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary: {endpoint: http://127.0.0.1:1, bucket: velero-backups, objectLock: {mode: COMPLIANCE}}
  target:
    kubeconfig: /dev/null
    lockWait: -1m
`))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `lock.yaml:12: spec.target.lockWait: "-1m" must not be negative`)
}
