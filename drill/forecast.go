package drill

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/plural"
)

// The rules of Forecast. A forecast from fewer drills, from drills all
// within a few days, or from a poor fit would be a guess: Forecast says
// "no forecast" and why instead.
const (
	// ForecastMinDrills is the fewest drills with a measured recovery
	// time a forecast is made from.
	ForecastMinDrills = 4
	// ForecastMinSpan is the least time between the first and the last of
	// those drills: a trend over one afternoon says nothing about a year.
	ForecastMinSpan = 14 * 24 * time.Hour
	// ForecastMinR2 is the least coefficient of determination (R²) each of
	// the two fits must reach.
	ForecastMinR2 = 0.6
	// ForecastSteadyShare: when the restored size varies by no more than
	// this share of its mean, it is steady and there is no trend to follow.
	ForecastSteadyShare = 0.05
)

// ForecastState says what Forecast could tell.
type ForecastState string

// The values of RTOForecast.State.
const (
	// ForecastNone: too few drills, too short a span or too poor a fit;
	// Reason says which. No number is given.
	ForecastNone ForecastState = "none"
	// ForecastSteady: what the drills restore is not growing, so the
	// trend does not reach the objective.
	ForecastSteady ForecastState = "steady"
	// ForecastTrend: the size grows and the recovery time with it;
	// DaysToObjective says when the trend reaches the RTO objective (0
	// when it already has).
	ForecastTrend ForecastState = "trend"
)

// The values of RTOForecast.Size.
const (
	SizeRestoredBytes = "restored_bytes"
	SizeRestoredItems = "restored_items"
)

// RTOForecast is when a scenario's recovery time will exceed its RTO
// objective if the trend of its drills holds.
type RTOForecast struct {
	State ForecastState `json:"state"`
	// Reason says, in words, why there is no forecast or what the trend
	// is.
	Reason string `json:"reason"`
	// Drills is how many drills the fit used: those that ended pass or
	// fail with a measured recovery time.
	Drills int `json:"drills"`
	// Size is what the recovery time was fitted against: restored_bytes
	// (volume data) or restored_items.
	Size string `json:"size,omitempty"`
	// SecondsPerUnit and R2Size are the fit of the recovery time (seconds)
	// against Size: its slope and its R².
	SecondsPerUnit float64 `json:"seconds_per_unit,omitempty"`
	R2Size         float64 `json:"r2_size,omitempty"`
	// UnitsPerDay and R2Time are the fit of Size against time: its growth
	// per day and its R².
	UnitsPerDay float64 `json:"units_per_day,omitempty"`
	R2Time      float64 `json:"r2_time,omitempty"`
	// ObjectiveSeconds is the RTO objective of the newest drill.
	ObjectiveSeconds float64 `json:"objective_seconds"`
	// PredictedRTOSeconds is the recovery time the two fits give for now;
	// nil without a forecast.
	PredictedRTOSeconds *float64 `json:"predicted_rto_seconds,omitempty"`
	// SecondsToObjective is how long from now until the predicted
	// recovery time reaches the objective, in seconds, 0 when it already
	// has; nil unless State is trend.
	SecondsToObjective *float64 `json:"seconds_to_objective"`
	// DaysToObjective is SecondsToObjective in days, for people's text
	// and the metric firedrill_rto_forecast_days_to_objective; not in
	// JSON.
	DaysToObjective *float64 `json:"-"`
	// MissAt is now plus DaysToObjective.
	MissAt *time.Time `json:"miss_at,omitempty"`
}

// Forecast fits a scenario's drills (history: its summaries, any order)
// and says when its recovery time will exceed the RTO objective if the
// trend holds.
//
// How the fit is made: the drills used are those that ended pass or fail
// with a measured recovery time (a drill in error, interrupted or that
// died did not recover, or measured a lower bound only). With fewer than
// ForecastMinDrills of them, or spanning less than ForecastMinSpan, there
// is no forecast. Two ordinary least-squares lines are fitted (the few
// lines of linearFit, no library: two sums of squares need none):
//
//  1. the recovery time (seconds) against the restored size, once with
//     the volume data bytes and once with the items restored; the one
//     with the higher R² is kept (the size that explains the time);
//  2. that size against the drill's start time (days).
//
// If the size varies by no more than ForecastSteadyShare of its mean, or
// its fitted growth is not positive, the state is steady: no miss is
// forecast. Otherwise each fit must reach ForecastMinR2, else there is no
// forecast (noise is not a trend). The predicted recovery time at time t
// is a + b·size(t) with size(t) = c + d·t; it reaches the objective O at
// t* = ((O − a)/b − c)/d, and DaysToObjective is t* − now in days (0 when
// it already has). A recovery time that does not grow with the size
// (b ≤ 0) is steady too.
func Forecast(history []DrillSummary, now time.Time) RTOForecast {
	var used []DrillSummary
	for _, s := range history {
		if (s.Result == ResultPass || s.Result == ResultFail) && s.RTOSeconds != nil && s.RTOStatus != ObjectiveNotMeasured {
			used = append(used, s)
		}
	}
	slices.SortFunc(used, func(a, b DrillSummary) int { return a.StartedAt.Compare(b.StartedAt) })
	f := RTOForecast{State: ForecastNone, Drills: len(used)}
	if len(history) > 0 {
		newest := slices.MaxFunc(history, func(a, b DrillSummary) int { return a.StartedAt.Compare(b.StartedAt) })
		f.ObjectiveSeconds = newest.RTOObjectiveSeconds
	}
	if len(used) < ForecastMinDrills {
		f.Reason = fmt.Sprintf("no forecast: %d %s with a measured recovery time, at least %d needed", len(used), plural.Of(len(used), "drill", "drills"), ForecastMinDrills)
		return f
	}
	if span := used[len(used)-1].StartedAt.Sub(used[0].StartedAt); span < ForecastMinSpan {
		f.Reason = fmt.Sprintf("no forecast: the drills span %s, at least %s needed", fmtSeconds(span.Seconds()), fmtSeconds(ForecastMinSpan.Seconds()))
		return f
	}
	if f.ObjectiveSeconds <= 0 {
		f.Reason = "no forecast: the newest drill has no RTO objective"
		return f
	}
	rto := make([]float64, len(used))
	days := make([]float64, len(used))
	bytes := make([]float64, len(used))
	items := make([]float64, len(used))
	t0 := used[0].StartedAt
	for i, s := range used {
		rto[i] = *s.RTOSeconds
		days[i] = s.StartedAt.Sub(t0).Hours() / 24
		bytes[i] = float64(s.RestoredBytes)
		items[i] = float64(s.RestoredItems)
	}
	// The size that explains the recovery time best.
	size, name := items, SizeRestoredItems
	fit, ok := linearFit(items, rto)
	if bf, bok := linearFit(bytes, rto); bok && (!ok || bf.r2 > fit.r2) {
		size, name, fit, ok = bytes, SizeRestoredBytes, bf, bok
	}
	f.Size = name
	if steady(size) {
		f.State = ForecastSteady
		f.Reason = fmt.Sprintf("steady: the %s of the last %s varies by no more than %g%% of its mean, so the recovery time has no trend to follow", sizeWords(name), plural.Count(len(used), "drill", "drills"), ForecastSteadyShare*100)
		return f
	}
	growth, gok := linearFit(days, size)
	f.UnitsPerDay, f.R2Time = round(growth.slope), round(growth.r2)
	if !ok || !gok {
		f.Reason = "no forecast: the drills' sizes or times do not vary enough to fit"
		return f
	}
	f.SecondsPerUnit, f.R2Size = fit.slope, round(fit.r2)
	if growth.slope <= 0 {
		f.State = ForecastSteady
		f.Reason = fmt.Sprintf("steady: the %s is not growing", sizeWords(name))
		return f
	}
	if fit.r2 < ForecastMinR2 || growth.r2 < ForecastMinR2 {
		f.Reason = fmt.Sprintf("no forecast: the fits are too poor to follow (R² of recovery time against %s %.2f, of %s against time %.2f; at least %.2f needed)",
			sizeWords(name), fit.r2, sizeWords(name), growth.r2, ForecastMinR2)
		return f
	}
	if fit.slope <= 0 {
		f.State = ForecastSteady
		f.Reason = fmt.Sprintf("steady: the recovery time does not grow with the %s", sizeWords(name))
		return f
	}
	nowDays := now.Sub(t0).Hours() / 24
	predicted := fit.at(growth.at(nowDays))
	f.PredictedRTOSeconds = ptrFloat(round(predicted))
	reach := ((f.ObjectiveSeconds-fit.intercept)/fit.slope - growth.intercept) / growth.slope
	left := max(reach-nowDays, 0)
	f.State = ForecastTrend
	f.DaysToObjective = ptrFloat(round(left))
	f.SecondsToObjective = ptrFloat(math.Round(left * 86400))
	at := now.Add(time.Duration(left * 24 * float64(time.Hour))).UTC()
	f.MissAt = &at
	if left == 0 {
		f.Reason = fmt.Sprintf("the trend has reached the RTO objective: %s predicted against %s", fmtSeconds(predicted), fmtSeconds(f.ObjectiveSeconds))
	} else {
		f.Reason = fmt.Sprintf("the trend reaches the RTO objective (%s) in %.0f days, on %s: the %s grows and the recovery time with it",
			fmtSeconds(f.ObjectiveSeconds), left, at.Format(time.DateOnly), sizeWords(name))
	}
	return f
}

// UnmarshalJSON reads an RTOForecast as MarshalJSON writes it, and the
// days_to_objective of records written before seconds_to_objective;
// DaysToObjective follows SecondsToObjective.
func (f *RTOForecast) UnmarshalJSON(b []byte) error {
	type plain RTOForecast
	var v struct {
		plain
		LegacyDays *float64 `json:"days_to_objective"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = RTOForecast(v.plain)
	if f.SecondsToObjective == nil && v.LegacyDays != nil {
		f.SecondsToObjective = ptrFloat(*v.LegacyDays * 86400)
	}
	if f.SecondsToObjective != nil {
		f.DaysToObjective = ptrFloat(round(*f.SecondsToObjective / 86400))
	}
	return nil
}

// line is y = intercept + slope·x with its coefficient of determination.
type line struct{ intercept, slope, r2 float64 }

func (l line) at(x float64) float64 { return l.intercept + l.slope*x }

// linearFit is the ordinary least-squares line of y against x; false when
// x does not vary (no line fits). R² is 1 − SSres/SStot, and 1 when y
// does not vary (the line passes through every point).
func linearFit(x, y []float64) (line, bool) {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxx, sxy, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	if sxx == 0 {
		return line{}, false
	}
	slope := sxy / sxx
	l := line{intercept: my - slope*mx, slope: slope, r2: 1}
	if syy > 0 {
		var ssres float64
		for i := range x {
			r := y[i] - l.at(x[i])
			ssres += r * r
		}
		l.r2 = 1 - ssres/syy
	}
	return l, true
}

// steady reports whether v varies by no more than ForecastSteadyShare of
// its mean.
func steady(v []float64) bool {
	lo, hi := slices.Min(v), slices.Max(v)
	var sum float64
	for _, x := range v {
		sum += x
	}
	mean := sum / float64(len(v))
	return hi-lo <= ForecastSteadyShare*math.Abs(mean)
}

func sizeWords(name string) string {
	if name == SizeRestoredBytes {
		return "volume data restored"
	}
	return "number of items restored"
}

// round keeps four decimals: the fits are estimates, not measurements.
func round(f float64) float64 { return math.Round(f*1e4) / 1e4 }

func ptrFloat(f float64) *float64 { return &f }

// Summary is the forecast in a few words, for tables and the report:
// "RTO objective reached in 150d (2027-04-30)", "steady, no miss
// forecast", "none (3 drills with a measured recovery time, at least 4
// needed)".
func (f RTOForecast) Summary() string {
	switch {
	case f.State == ForecastTrend && (f.DaysToObjective == nil || f.MissAt == nil):
		return "trend, no date recorded"
	case f.State == ForecastTrend && *f.DaysToObjective == 0:
		return "the trend has reached the RTO objective"
	case f.State == ForecastTrend:
		return fmt.Sprintf("RTO objective reached in %.0fd (%s)", *f.DaysToObjective, f.MissAt.Format(time.DateOnly))
	case f.State == ForecastSteady:
		return "steady, no miss forecast"
	default:
		return "none (" + strings.TrimPrefix(f.Reason, "no forecast: ") + ")"
	}
}
