package drill

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// thisDrill is a drill of region-loss at t0 that measured rto and rpo
// seconds (negative: not measured) against 4h and 24h.
func thisDrill(rto, rpo float64) *Report {
	h := sampleHistory("region-loss", t0.Add(24*time.Hour), []float64{rto}, []float64{rpo})[0]
	h.DrillID = "fd-this"
	return h
}

func TestNewTrend(t *testing.T) {
	tests := []struct {
		name            string
		rto, rpo        float64
		rtos, rpos      []float64 // earlier drills, newest first
		wantRTO         string
		wantRPO         string
		wantRTOMedian   float64 // 0: none
		wantRTODrills   int
		wantPreviousLen int
	}{
		{name: "worsening", rto: 200, rpo: 5000, rtos: []float64{100, 90, 80}, rpos: []float64{3600, 3600, 3500},
			wantRTO: TrendWorse, wantRPO: TrendWorse, wantRTOMedian: 90, wantRTODrills: 3, wantPreviousLen: 3},
		{name: "improving", rto: 60, rpo: 1800, rtos: []float64{100, 120, 90, 110}, rpos: []float64{3600, 3600, 3600, 3600},
			wantRTO: TrendBetter, wantRPO: TrendBetter, wantRTOMedian: 105, wantRTODrills: 4, wantPreviousLen: 4},
		{name: "within the tolerance is the same", rto: 104, rpo: 3300, rtos: []float64{100, 95}, rpos: []float64{3600, 3600},
			wantRTO: TrendSame, wantRPO: TrendSame, wantRTOMedian: 97.5, wantRTODrills: 2, wantPreviousLen: 2},
		{name: "no history", rto: 100, rpo: 3600,
			wantRTO: TrendTooFew, wantRPO: TrendTooFew, wantRTODrills: 0, wantPreviousLen: 0},
		{name: "one previous drill is too few", rto: 300, rpo: 3600, rtos: []float64{100}, rpos: []float64{3600},
			wantRTO: TrendTooFew, wantRPO: TrendTooFew, wantRTOMedian: 100, wantRTODrills: 1, wantPreviousLen: 1},
		{name: "earlier drills that did not measure RTO do not count", rto: 300, rpo: 3600, rtos: []float64{-1, -1, 100}, rpos: []float64{3600, 3600, 3600},
			wantRTO: TrendTooFew, wantRPO: TrendSame, wantRTOMedian: 100, wantRTODrills: 1, wantPreviousLen: 3},
		{name: "this drill did not measure RTO", rto: -1, rpo: 3600, rtos: []float64{100, 100}, rpos: []float64{3600, 3600},
			wantRTO: TrendNotMeasured, wantRPO: TrendSame, wantRTOMedian: 100, wantRTODrills: 2, wantPreviousLen: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := thisDrill(tt.rto, tt.rpo)
			tr := NewTrend(r, sampleHistory("region-loss", r.StartedAt, tt.rtos, tt.rpos), "state", nil)
			assert.Equal(t, tt.wantRTO, tr.RTO.Verdict, "RTO")
			assert.Equal(t, tt.wantRPO, tr.RPO.Verdict, "RPO")
			assert.Equal(t, tt.wantRTODrills, tr.RTO.Drills)
			assert.Len(t, tr.Previous, tt.wantPreviousLen)
			if tt.wantRTOMedian == 0 {
				assert.Nil(t, tr.RTO.MedianSeconds)
			} else {
				require.NotNil(t, tr.RTO.MedianSeconds)
				assert.InDelta(t, tt.wantRTOMedian, *tr.RTO.MedianSeconds, 1e-9)
			}
		})
	}
}

func TestNewTrend_OnlyEarlierDrillsOfTheScenario(t *testing.T) {
	r := thisDrill(100, 3600)
	history := sampleHistory("region-loss", r.StartedAt, []float64{100, 100, 100}, []float64{3600, 3600, 3600})
	later := sampleHistory("region-loss", r.StartedAt.Add(48*time.Hour), []float64{1}, []float64{1})[0]
	later.DrillID = "fd-later"
	other := sampleHistory("namespace-deletion", r.StartedAt, []float64{1}, []float64{1})[0]
	running := sampleHistory("region-loss", r.StartedAt, []float64{1}, []float64{1})[0]
	running.DrillID, running.Result = "fd-running", ResultRunning
	self := *r
	history = append(history, later, other, running, &self)
	tr := NewTrend(r, history, "state", nil)
	require.Len(t, tr.Previous, 3)
	for i, p := range tr.Previous {
		assert.Equal(t, history[i].DrillID, p.DrillID, "newest first")
	}
	assert.Equal(t, TrendSame, tr.RTO.Verdict)
}

func TestNewTrend_AtMostTrendDrills(t *testing.T) {
	rtos := make([]float64, TrendDrills+5)
	rpos := make([]float64, TrendDrills+5)
	for i := range rtos {
		rtos[i], rpos[i] = 100, 3600
	}
	rtos[TrendDrills] = 1 // the 11th drill back is out of the trend
	r := thisDrill(100, 3600)
	tr := NewTrend(r, sampleHistory("region-loss", r.StartedAt, rtos, rpos), "state", nil)
	assert.Len(t, tr.Previous, TrendDrills)
	assert.Equal(t, TrendDrills, tr.RTO.Drills)
}

func TestTrendSVG_DrawsEveryDrill(t *testing.T) {
	r := thisDrill(200, -1)
	r.Trend = NewTrend(r, sampleHistory("region-loss", r.StartedAt, []float64{100, -1, 80}, []float64{30000, 30000, 30000}), "state", nil)
	svg := string(trendSVG(r, "rto"))
	assert.Equal(t, 3, countOf(svg, "<circle"), "two earlier drills and this one measured RTO")
	assert.Equal(t, 1, countOf(svg, `class="nm"`), "one earlier drill did not")
	assert.Contains(t, svg, "objective 4h00m: far above", "an objective 70 times the RTO is named, not drawn")
	rpo := string(trendSVG(r, "rpo"))
	assert.Contains(t, rpo, `class="objective"`, "the RPO objective (24h) is within 3x of the RPOs (8h20m): drawn")
	assert.Equal(t, 1, countOf(rpo, `class="nm"`), "this drill did not measure RPO")
}

func countOf(s, sub string) int {
	n := 0
	for i := 0; ; {
		j := indexFrom(s, sub, i)
		if j < 0 {
			return n
		}
		n++
		i = j + len(sub)
	}
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestParagraphs(t *testing.T) {
	assert.Equal(t, []string{"At 03:10 the status page reports the region as unavailable.", "The team restores the shop."},
		paragraphs("At 03:10 the status page reports\nthe region as unavailable.\n\n  \nThe team restores\r\nthe shop.\n"))
	assert.Empty(t, paragraphs(" \n"))
}
