package drill

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
)

// TestReadmeSections_Exist reads ../README.md: every section the next
// steps point at is one of its headings.
func TestReadmeSections_Exist(t *testing.T) {
	f, err := os.Open("../README.md")
	require.NoError(t, err)
	defer f.Close()
	headings := map[string]bool{}
	sc := bufio.NewScanner(f)
	fence := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "```") {
			fence = !fence
		}
		if h, ok := strings.CutPrefix(strings.TrimLeft(line, "#"), " "); ok && !fence && strings.HasPrefix(line, "#") {
			headings[headingAnchor(h)] = true
		}
	}
	require.NoError(t, sc.Err())
	for _, s := range readmeSections {
		assert.True(t, headings[headingAnchor(s.section)], "README.md has no section %q (for %q)", s.section, s.prefix)
	}
}

func TestHeadingAnchor(t *testing.T) {
	assert.Equal(t, "recovery-point-and-restore-findings", headingAnchor("Recovery point and restore findings"))
	assert.Equal(t, "the-report-context-trend-next-steps", headingAnchor("The report: context, trend, next steps"))
}

func TestReadmeSection_LongestPrefix(t *testing.T) {
	assert.Equal(t, "A drill that dies", readmeSection("preflight.dead-drill"))
	assert.Equal(t, "Protection findings", readmeSection("protection.copy.offsite"))
	assert.Equal(t, "A drill", readmeSection("something.new"))
}

func TestNextSteps_Order(t *testing.T) {
	r := thisDrill(300, 20*3600) // RTO worse than the median; RPO 20h of 24h: 83%
	r.Findings = []finding.Finding{
		finding.Pass("protection.bucket.object-lock", "bucket", "locked"),
		finding.Warn("recovery-point.skipped", "backup b2", "newer backup PartiallyFailed"),
		finding.Fail("protection.backup.object-retention", finding.SeverityFail, "v1", "no retention"),
		finding.Fail("protection.backup.object-retention", finding.SeverityFail, "v2", "no retention"),
		finding.Fail("scope.claim", finding.SeverityFail, "shop-data/data-db-0", "not in the backup"),
	}
	data := Measure(time.Hour, 2*time.Hour)
	r.RPOData = &data
	r.Trend = NewTrend(r, sampleHistory("region-loss", r.StartedAt, []float64{100, 100}, []float64{3600, 3600}), "state", nil)
	steps := NextSteps(r)
	var got []string
	for _, s := range steps {
		got = append(got, s.Kind+" "+s.Finding+" "+s.Anchor)
	}
	assert.Equal(t, []string{
		"failed rpo-data #objectives",
		"failed protection.backup.object-retention #finding-2",
		"failed scope.claim #finding-4",
		"near rpo #objectives",
		"warning recovery-point.skipped #finding-1",
		"trend trend.rto #trend",
	}, got)
	assert.Contains(t, steps[1].Text, "and 1 more protection.backup.object-retention", "one step for a finding id")
	assert.Equal(t, "Protection findings", steps[1].ReadmeSection)
	assert.Equal(t, "protection-findings", steps[1].ReadmeAnchor)
	assert.Contains(t, steps[3].Text, "83%")
	assert.NotContains(t, got, "trend trend.rpo #trend", "the RPO is worse than the median, but near its objective: one step, not two")
}

func TestNextSteps_NearObjectiveThreshold(t *testing.T) {
	for _, tt := range []struct {
		rto  float64
		near bool
	}{{0.8 * 4 * 3600, false}, {0.8*4*3600 + 1, true}, {4 * 3600, true}} {
		r := thisDrill(tt.rto, 60)
		got := NextSteps(r)
		if tt.near {
			require.Len(t, got, 1, "RTO %v", tt.rto)
			assert.Equal(t, NextStepNear, got[0].Kind)
		} else {
			assert.Empty(t, got, "RTO %v", tt.rto)
		}
	}
}

// TestNextSteps_DeclaredManualTimeCounts: the margin left and a miss are
// those of the RTO judged, measured plus declared manual time: 1h
// measured is a quarter of 4h, 1h + 2h40m declared is 92% of it.
func TestNextSteps_DeclaredManualTimeCounts(t *testing.T) {
	r := thisDrill(3600, 60)
	r.RTO = WithDeclaredManual(r.RTO, 9600)
	got := NextSteps(r)
	require.Len(t, got, 1)
	assert.Equal(t, NextStepNear, got[0].Kind)
	assert.Equal(t, "RTO used 92% of its objective (3h40m (1h00m measured + 2h40m declared manual) of 4h00m): little margin left", got[0].Text)

	r.RTO = WithDeclaredManual(Measure(4*time.Hour, time.Hour), 4*3600)
	got = NextSteps(r)
	require.NotEmpty(t, got)
	assert.Equal(t, "RTO missed: 5h00m (1h00m measured + 4h00m declared manual) against 4h00m", got[0].Text)
}

func TestNextSteps_ErrorFirst(t *testing.T) {
	r := thisDrill(-1, 60)
	r.Result, r.ErrorStep, r.Error = ResultError, StepRestore, "restore fd-1 failed\nmore detail"
	r.Findings = []finding.Finding{finding.Fail("restore.phase.workloads", finding.SeverityFail, "fd-1", "PartiallyFailed")}
	got := NextSteps(r)
	require.Len(t, got, 2)
	assert.Equal(t, "Make step restore run to the end: restore fd-1 failed", got[0].Text)
	assert.Equal(t, "#error", got[0].Anchor)
	assert.Equal(t, "#finding-0", got[1].Anchor)
}

func TestNextSteps_AtMostMax(t *testing.T) {
	r := thisDrill(60, 60)
	for _, id := range []string{"a.1", "a.2", "a.3", "a.4", "a.5", "a.6", "a.7", "a.8", "a.9", "a.10"} {
		r.Findings = append(r.Findings, finding.Warn(id, "s", "m"))
	}
	assert.Len(t, NextSteps(r), maxNextSteps)
}

// TestNextSteps_NeverCutMidSentence: a long message is cut after its
// last sentence that fits, or kept whole when no sentence ends early
// enough; a hint's later lines are dropped. Nothing ends in "…".
func TestNextSteps_NeverCutMidSentence(t *testing.T) {
	long := strings.Repeat("extra kopia/shop-data/s0bee9d15: only on the copy; ", 10)
	tests := []struct {
		name, message, want string
	}{
		{"short: whole", "1 object missing on the copy", "copy offsite: 1 object missing on the copy — check the replication rule"},
		{"no sentence end: whole", long, "copy offsite: " + strings.TrimSpace(long) + " — check the replication rule"},
		{"cut after the last sentence that fits",
			"3 objects differ. " + strings.Repeat("The copy lags behind the primary by hours. ", 5),
			"copy offsite: 3 objects differ. The copy lags behind the primary by hours. The copy lags behind the primary by hours. The copy lags behind the primary by hours. — check the replication rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := thisDrill(60, 60)
			r.Findings = []finding.Finding{finding.Warn("protection.copy.offsite", "copy offsite", tt.message).With("", "", "check the replication rule\nsecond line")}
			got := NextSteps(r)
			require.Len(t, got, 1)
			assert.Equal(t, tt.want, got[0].Text)
			assert.NotContains(t, got[0].Text, "…")
		})
	}
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{"done": "done.", "done.": "done.", "why?": "why?", "": ""} {
		assert.Equal(t, want, sentence(in), "%q", in)
	}
}

// TestRetroQuestion_PerMeasure: the retrospective asks about a worse or
// nearly missed RPO as an older recovery point (data at risk), never as
// something slower; about the RTO as time.
func TestRetroQuestion_PerMeasure(t *testing.T) {
	tests := []struct {
		kind, code, want string
	}{
		{NextStepTrend, "trend.rto", "What got slower since the last drills?"},
		{NextStepTrend, "trend.rpo", "Why is the recovery point older than in the last drills: what puts more data at risk now?"},
		{NextStepNear, "rto", "Which step took longest, and what would we lose on a worse day?"},
		{NextStepNear, "rpo", "Why was the recovery point this old, and how much more data would a late or failed backup put at risk?"},
		{NextStepNear, "rpo-data", "Why was the recovery point this old, and how much more data would a late or failed backup put at risk?"},
		{NextStepFailed, "rpo", "Why did it happen, and why did nothing tell us before the drill?"},
		{NextStepWarning, "window.missed-run", "Is this a risk we accept, and who decides?"},
		{NextStepStopped, "error", "What would have told us before the drill, and what would a real recovery have done here?"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.code, func(t *testing.T) {
			got := retroQuestion(NextStep{Kind: tt.kind, Finding: tt.code})
			assert.Equal(t, tt.want, got)
			if strings.Contains(tt.code, "rpo") {
				assert.NotContains(t, got, "slower")
				assert.NotContains(t, got, "step took longest")
			}
		})
	}
}
