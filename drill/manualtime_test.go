package drill

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestNewPlan_ManualTimeAgainstRTO: manual steps whose declared estimates
// alone exceed the RTO objective, or use more than NearObjective of it,
// are a warning at the runbook's line of the largest estimate; the plan's
// line gives the total in the same duration style as the steps' list.
func TestNewPlan_ManualTimeAgainstRTO(t *testing.T) {
	tests := []struct {
		name      string
		rto       string
		estimates []string
		warning   string // "" for none; else the whole warning
		line      string // the plan's line on the manual steps, up to its colon
	}{
		{"well within", "1h", []string{"10m"}, "", "1 manual step, estimated at 10m00s"},
		{"80% is not near", "1h", []string{"40m", "8m"}, "", "2 manual steps, estimated at 48m00s in all"},
		{"near", "1h", []string{"30m", "20m"},
			`rb.md:6: manual steps: the declared manual time alone (50m00s) is 83% of the RTO objective 1h00m, leaving 10m00s for the restore, the checks and the runbook's commands: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO; manual step "m0", here, declares the largest estimate, 30m00s: correct the estimates if the work is quicker, move work that is not part of the recovery out of the runbook, or raise spec.objectives.rto`,
			"2 manual steps, estimated at 50m00s in all (alone 83% of the RTO objective 1h00m)"},
		{"all of it", "1h", []string{"1h"},
			`rb.md:6: manual steps: the declared manual time alone (1h00m) is all of the RTO objective 1h00m: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO, so it misses the RTO whatever the restore takes; manual step "m0", here, is the only one: correct the estimates`,
			"1 manual step, estimated at 1h00m (alone all of the RTO objective 1h00m)"},
		{"two weeks against an hour", "1h", []string{"2w", "15m", "10m"},
			`rb.md:6: manual steps: the declared manual time alone (14d) exceeds the RTO objective 1h00m: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO, so it misses the RTO whatever the restore takes; manual step "m0", here, declares the largest estimate, 14d: correct the estimates if the work is quicker, move work that is not part of the recovery out of the runbook, or raise spec.objectives.rto`,
			"3 manual steps, estimated at 14d in all (alone more than the RTO objective 1h00m)"},
		{"the largest is later", "4h", []string{"5m", "3h", "2h"},
			`rb.md:9: manual steps: the declared manual time alone (5h05m) exceeds the RTO objective 4h00m: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO, so it misses the RTO whatever the restore takes; manual step "m1", here, declares the largest estimate, 3h00m`,
			"3 manual steps, estimated at 5h05m in all (alone more than the RTO objective 4h00m)"},
	}
	minimal, err := os.ReadFile("../scenarios/testdata/valid-minimal.yaml")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			scenario := strings.Replace(string(minimal), "rto: 1h", "rto: "+tt.rto, 1) + "  runbook:\n    file: rb.md\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(scenario), 0o600))
			rb := "# Runbook\n\n```sh firedrill-step name=\"check\" timeout=1m\ntrue\n```\n"
			for i, e := range tt.estimates {
				// The manual blocks open at lines 6, 9, 12, ...
				rb = strings.TrimSuffix(rb, "\n") + fmt.Sprintf("\n```text firedrill-manual name=\"m%d\" estimate=%s\nDo it.\n```\n", i, e)
			}
			require.NoError(t, os.WriteFile(filepath.Join(dir, "rb.md"), []byte(rb), 0o600))
			sc, err := scenarios.LoadFile(context.Background(), scenarios.Env{WorkDir: dir}, "s.yaml")
			require.NoError(t, err)

			p, err := NewPlan(sc)
			require.NoError(t, err)
			if tt.warning == "" {
				assert.Empty(t, p.Warnings)
			} else if assert.Len(t, p.Warnings, 1) {
				assert.True(t, strings.HasPrefix(p.Warnings[0], tt.warning), "warning:\n%s\nwant it to start with:\n%s", p.Warnings[0], tt.warning)
			}
			actions := strings.Join(stepOf(t, p, StepRunbook).Actions, "\n")
			assert.Contains(t, actions, "\n"+tt.line+": at a terminal each is shown")
		})
	}
}
