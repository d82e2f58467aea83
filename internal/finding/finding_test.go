package finding

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFinding_JSONFieldNames(t *testing.T) {
	f := Fail("protection.bucket.versioning", SeverityFail, "s3://b", "versioning is off").
		With("Enabled", "Suspended", "enable versioning")
	b, err := json.Marshal(f)
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":"protection.bucket.versioning","severity":"fail","status":"fail",
		"subject":"s3://b","expected":"Enabled","actual":"Suspended","message":"versioning is off",
		"hint":"enable versioning"}`, string(b))
}

func TestFailed(t *testing.T) {
	fs := []Finding{Pass("a", "s", "ok"), Warn("b", "s", "meh")}
	assert.False(t, Failed(fs))
	assert.Equal(t, map[Status]int{StatusPass: 1, StatusWarn: 1}, Count(fs))
	fs = append(fs, Fail("c", SeverityCritical, "s", "bad"))
	assert.True(t, Failed(fs))
}

func TestWith_KeepsValuesForEmptyArguments(t *testing.T) {
	f := Pass("a", "s", "m").With("e", "a", "h").With("", "a2", "")
	assert.Equal(t, "e", f.Expected)
	assert.Equal(t, "a2", f.Actual)
	assert.Equal(t, "h", f.Hint)
}

func TestBySeverityCountsWhatDidNotPass(t *testing.T) {
	fs := []Finding{Pass("a", "s", "ok"), Warn("b", "s", "w"), Fail("c", SeverityFail, "s", "f"), Fail("d", SeverityCritical, "s", "c"), Fail("e", SeverityCritical, "s", "c")}
	got := BySeverity(fs)
	if got[SeverityWarn] != 1 || got[SeverityFail] != 1 || got[SeverityCritical] != 2 || got[SeverityInfo] != 0 {
		t.Fatalf("BySeverity: %v", got)
	}
}
