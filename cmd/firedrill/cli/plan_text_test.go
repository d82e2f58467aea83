package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/durfmt"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// durationToken is anything that reads as a duration: "1h", "24h", "30m0s",
// "850ms", "42.3s", "1h00m", "3d09h".
var durationToken = regexp.MustCompile(`\b\d+(\.\d+)?(ms|[dhms])(\d+(\.\d+)?(ms|[hms]))*\b`)

// notDurfmt returns the duration tokens of line that durfmt would write
// otherwise ("24h" is 1d, "30m" is 30m00s, "20s" is 20.0s).
func notDurfmt(t *testing.T, line string) []string {
	var bad []string
	for _, tok := range durationToken.FindAllString(line, -1) {
		days, rest := 0, tok
		if i := strings.Index(tok, "d"); i > 0 {
			n, err := strconv.Atoi(tok[:i])
			require.NoError(t, err, tok)
			days, rest = n, tok[i+1:]
		}
		d := time.Duration(days) * 24 * time.Hour
		if rest != "" {
			r, err := time.ParseDuration(rest)
			require.NoError(t, err, tok)
			d += r
		}
		if durfmt.Seconds(d.Seconds()) != tok {
			bad = append(bad, tok)
		}
	}
	return bad
}

// TestPlanText_OneDurationStyle: the plan writes the objectives, a manual
// step's estimate and every other duration as reports and messages do
// (internal/durfmt), not as the scenario and the runbook spell them: the
// RPO objective written 24h is 1d in the plan as in the report.
func TestPlanText_OneDurationStyle(t *testing.T) {
	minimal, err := os.ReadFile("../../../scenarios/testdata/valid-minimal.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	scenario := strings.NewReplacer("rpo: 6h", "rpo: 24h\n    retention: 168h\n    maxRetention: 35d").Replace(string(minimal)) +
		"    lockWait: 15m\n  cleanup:\n    timeout: 90s\n  runbook:\n    file: rb.md\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(scenario), 0o600))
	rb := "# Runbook\n\n```sh firedrill-step name=\"check\" timeout=1m30s\ntrue\n```\n\n" +
		"```text firedrill-manual name=\"tell\" estimate=30m\nTell the shop team.\n```\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rb.md"), []byte(rb), 0o600))
	sc, err := scenarios.LoadFile(context.Background(), scenarios.Env{WorkDir: dir}, "s.yaml")
	require.NoError(t, err)
	p, err := drill.NewPlan(sc)
	require.NoError(t, err)

	var b bytes.Buffer
	writePlanText(&b, p)
	text := b.String()
	for _, want := range []string{
		"Objectives: RTO 1h00m, RPO 1d, retention 7d, maxRetention 35d\n",
		"RPO = disaster time - the backup's status.startTimestamp; objective 1d\n",
		"against 1h00m, RPO against 1d\n",
		"1 manual step, estimated at 30m00s",
		`manual step "tell" (estimate 30m00s)`,
		`step "check" (within 1m30s)`,
		"wait up to 15m00s (spec.target.lockWait)",
		"within 1m30s, even after Ctrl-C",
	} {
		assert.Contains(t, text, want)
	}
	// Names are quoted as the user wrote them (Schedule "every-6h"); the
	// plan's own words use the one style.
	quoted := regexp.MustCompile(`"[^"]*"`)
	for _, line := range strings.Split(text, "\n") {
		assert.Empty(t, notDurfmt(t, quoted.ReplaceAllString(line, `""`)), "a duration not in the durfmt style in:\n%s", line)
	}
}
