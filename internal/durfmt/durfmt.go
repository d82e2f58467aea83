// Package durfmt is the one way firedrill writes a duration for people,
// in every report, retrospective, finding and message: an RPO objective
// and the finding that measures a gap against it read alike ("RPO 1d"
// in both, not "24h00m" in one and "1d" in the other). Machine-readable
// documents keep seconds.
package durfmt

import (
	"fmt"
	"math"
)

// Seconds writes s seconds for people, to the precision that matters at
// its size: 850ms, 42.3s, 3m07s, 2h05m, then days and hours: 1d, 3d09h,
// 30d (a zero hour part is left out, as retention is written: 7d).
// Minutes and seconds are rounded to the nearest, as the drill's progress
// lines round (time.Duration.Round): one figure for one measurement.
//
// The unit is chosen by the value as it will be written, after rounding:
// 59.97s rounds to a minute and is written 1m00s, not 60.0s, and 0.9996s
// is 1.0s, not 1000ms.
func Seconds(s float64) string {
	neg := ""
	if s < 0 {
		neg, s = "-", -s
	}
	switch ms, tenths := math.Round(s*1000), math.Round(s*10); {
	case ms == 0:
		return "0ms" // no sign on what rounds to nothing
	case ms < 1000:
		return fmt.Sprintf("%s%dms", neg, int(ms))
	case tenths < 600:
		return fmt.Sprintf("%s%.1fs", neg, tenths/10)
	case math.Round(s) < 3600:
		r := int(math.Round(s))
		return fmt.Sprintf("%s%dm%02ds", neg, r/60, r%60)
	case math.Round(s/60) < 24*60:
		m := int(math.Round(s / 60))
		return fmt.Sprintf("%s%dh%02dm", neg, m/60, m%60)
	}
	h := int(math.Round(s / 3600))
	if h%24 == 0 {
		return fmt.Sprintf("%s%dd", neg, h/24)
	}
	return fmt.Sprintf("%s%dd%02dh", neg, h/24, h%24)
}
