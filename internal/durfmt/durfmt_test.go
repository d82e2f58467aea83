package durfmt_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/internal/durfmt"
)

func TestSeconds(t *testing.T) {
	for in, want := range map[float64]string{
		0: "0ms", 0.85: "850ms", 42.34: "42.3s", 187: "3m07s", 3599.4: "59m59s", 3599.6: "1h00m",
		7500: "2h05m", 23*3600 + 59*60: "23h59m", 24*3600 - 10: "1d", 24 * 3600: "1d", 47 * 3600: "1d23h",
		3*86400 + 9*3600: "3d09h", 3*86400 + 9*3600 + 59*60: "3d10h", 7 * 86400: "7d", 30 * 86400: "30d", -90: "-1m30s",
	} {
		assert.Equal(t, want, durfmt.Seconds(in), "%v", in)
	}
}

// TestSeconds_UnitBoundaries: a value just below a unit's end is written
// in that unit while it rounds below the end, and in the next unit once it
// rounds up to it (59.97s is 1m00s, never 60.0s).
func TestSeconds_UnitBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   float64
		want string
	}{
		{"ms stays ms", 0.9994, "999ms"},
		{"ms rounds up to s", 0.9996, "1.0s"},
		{"s stays s", 59.94, "59.9s"},
		{"s rounds up to m", 59.97, "1m00s"},
		{"s rounds up to m at the half", 59.95, "1m00s"},
		{"m stays m", 3599.4, "59m59s"},
		{"m rounds up to h", 3599.6, "1h00m"},
		{"h stays h", 86400 - 31, "23h59m"},
		{"h rounds up to d", 86400 - 29, "1d"},
		{"d rounds up to the next d", 2*86400 - 1, "2d"},
		{"negative rounds up alike", -59.97, "-1m00s"},
		{"negative ms rounds up to s", -0.9996, "-1.0s"},
		{"negative rounds to nothing", -0.0004, "0ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, durfmt.Seconds(tc.in))
		})
	}
}
