package drill

import (
	"math"
	"sort"
	"time"
)

// TrendDrills is how many earlier drills of the scenario a trend shows.
const TrendDrills = 10

// TrendMinDrills is how many earlier drills must have measured RTO (or
// RPO) before the drill is called better or worse than their median: one
// earlier drill is an anecdote, not a median.
const TrendMinDrills = 2

// TrendTolerance is the share of the median within which a drill is the
// same as it (0.1: ±10%), so a few seconds of noise are not a trend.
const TrendTolerance = 0.1

// The values of TrendVerdict.Verdict.
const (
	TrendBetter = "better"
	TrendWorse  = "worse"
	TrendSame   = "same"
	// TrendTooFew: fewer than TrendMinDrills earlier drills measured it.
	TrendTooFew = "too-few-drills"
	// TrendNotMeasured: this drill did not measure it.
	TrendNotMeasured = "not-measured"
)

// Trend is how the drill compares with the earlier drills of its
// scenario, from the history the drill keeps its record in (the shared
// history when there is one, else the state directory).
type Trend struct {
	// History is where the earlier drills were read: a path or s3://.
	History string `json:"history"`
	// Error says what of the history could not be read; the trend is
	// made of what could.
	Error string `json:"error,omitempty"`
	// Previous are the earlier drills of the scenario, newest first, at
	// most TrendDrills: those that did not measure RTO or RPO included,
	// with null measurements.
	Previous []TrendPoint `json:"previous"`
	RTO      TrendVerdict `json:"rto"`
	RPO      TrendVerdict `json:"rpo"`
}

// TrendPoint is one drill on the trend: its measurements and objectives
// in seconds (objectives can change between drills).
type TrendPoint struct {
	DrillID   string    `json:"drill_id"`
	StartedAt time.Time `json:"started_at"`
	Result    Result    `json:"result"`
	// RTOSeconds is the RTO the objective was judged on: measured plus
	// declared manual time (Objective.Judged).
	RTOSeconds          *float64 `json:"rto_seconds"`
	RTOObjectiveSeconds float64  `json:"rto_objective_seconds"`
	RPOSeconds          *float64 `json:"rpo_seconds"`
	RPOObjectiveSeconds float64  `json:"rpo_objective_seconds"`
}

// TrendVerdict compares one measurement of this drill with the median of
// the earlier drills that measured it. Lower is better for RTO and RPO.
type TrendVerdict struct {
	// Drills is how many earlier drills measured it.
	Drills        int      `json:"drills"`
	MedianSeconds *float64 `json:"median_seconds"`
	ThisSeconds   *float64 `json:"this_seconds"`
	// Verdict is better, worse, same (within TrendTolerance of the
	// median), too-few-drills or not-measured.
	Verdict string `json:"verdict"`
}

// NewTrend compares r with the earlier drills of its scenario in history
// (any order; r itself, drills of other scenarios and drills started after
// r are left out). where names the history; err is what reading it
// returned, kept in Trend.Error.
func NewTrend(r *Report, history []*Report, where string, err error) *Trend {
	t := &Trend{History: where, Previous: []TrendPoint{}}
	if err != nil {
		t.Error = err.Error()
	}
	earlier := earlierDrills(r, history)
	if len(earlier) > TrendDrills {
		earlier = earlier[:TrendDrills]
	}
	var rtos, rpos []float64
	for _, h := range earlier {
		p := pointOf(h)
		t.Previous = append(t.Previous, p)
		if p.RTOSeconds != nil {
			rtos = append(rtos, *p.RTOSeconds)
		}
		if p.RPOSeconds != nil {
			rpos = append(rpos, *p.RPOSeconds)
		}
	}
	this := pointOf(r)
	t.RTO = verdict(this.RTOSeconds, rtos)
	t.RPO = verdict(this.RPOSeconds, rpos)
	return t
}

func pointOf(r *Report) TrendPoint {
	return TrendPoint{DrillID: r.DrillID, StartedAt: r.StartedAt, Result: r.Result,
		RTOSeconds: r.RTO.Judged(), RTOObjectiveSeconds: r.RTO.ObjectiveSeconds,
		RPOSeconds: r.RPO.MeasuredSeconds, RPOObjectiveSeconds: r.RPO.ObjectiveSeconds}
}

func verdict(this *float64, earlier []float64) TrendVerdict {
	v := TrendVerdict{Drills: len(earlier), ThisSeconds: this}
	if len(earlier) > 0 {
		m := Median(earlier)
		v.MedianSeconds = &m
	}
	switch {
	case this == nil:
		v.Verdict = TrendNotMeasured
	case len(earlier) < TrendMinDrills:
		v.Verdict = TrendTooFew
	case math.Abs(*this-*v.MedianSeconds) <= TrendTolerance**v.MedianSeconds:
		v.Verdict = TrendSame
	case *this < *v.MedianSeconds:
		v.Verdict = TrendBetter
	default:
		v.Verdict = TrendWorse
	}
	return v
}

// Median is the middle of xs, the mean of the two middle values when
// their number is even; xs is not modified and must not be empty.
func Median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// previousDrill is the drill of r's scenario that started last before r,
// or nil.
func previousDrill(r *Report, history []*Report) *Report {
	if e := earlierDrills(r, history); len(e) > 0 {
		return e[0]
	}
	return nil
}

// earlierDrills are the drills r is compared with, newest first: those of
// history (any order, any scenario) of r's scenario that started before r
// and are not running. The trend, the previous drill and RTOChange (the
// change in `history`) all read them, so they agree on which drills came
// before.
func earlierDrills(r *Report, history []*Report) []*Report {
	var earlier []*Report
	for _, h := range history {
		if h.DrillID != r.DrillID && h.Scenario == r.Scenario && h.StartedAt.Before(r.StartedAt) && h.Result != ResultRunning {
			earlier = append(earlier, h)
		}
	}
	sort.SliceStable(earlier, func(i, j int) bool { return earlier[i].StartedAt.After(earlier[j].StartedAt) })
	return earlier
}
