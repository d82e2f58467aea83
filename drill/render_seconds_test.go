package drill

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// FormatSeconds rounds as the drill's progress lines do
// (time.Duration.Round(time.Second)), so one measurement reads the same in
// the terminal, the checks' messages and the report: a drill once showed
// its RPO as 50m32s in one place and 50m31s in another.
func TestFormatSeconds_RoundsLikeTheProgressLines(t *testing.T) {
	for s, want := range map[float64]string{
		0.4:    "400ms",
		42.34:  "42.3s",
		333.6:  "5m34s",
		3031.5: "50m32s",
		3599.6: "1h00m",
		7530:   "2h06m",
		-90:    "-1m30s",
	} {
		assert.Equal(t, want, FormatSeconds(s), "%v s", s)
	}
	// The progress lines' form of the same RPO.
	assert.Equal(t, "50m32s", time.Duration(3031.5*float64(time.Second)).Round(time.Second).String())
}
