package plural_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/firedrill-dev/firedrill/internal/plural"
)

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 checks", 1: "1 check", 2: "2 checks", -1: "-1 checks"} {
		assert.Equal(t, want, plural.Count(n, "check", "checks"))
	}
	assert.Equal(t, "it", plural.Of(1, "it", "them"))
	assert.Equal(t, "them", plural.Of(3, "it", "them"))
}
