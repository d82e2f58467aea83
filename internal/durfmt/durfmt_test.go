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
