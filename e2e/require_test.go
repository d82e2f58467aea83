//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRequire_MissingLabFails runs one lab test in a child `go test` with
// the lab's variables removed and FIREDRILL_E2E=require: it must fail, not
// skip, or CI could pass having tested nothing.
func TestRequire_MissingLabFails(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the e2e package again")
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FIREDRILL_LAB_") && !strings.HasPrefix(kv, "FIREDRILL_E2E=") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command("go", "test", "-tags", "e2e", "-count=1", "-run", "^TestLab_BucketsLockedByDefault$", ".")
	cmd.Env = append(env, "FIREDRILL_E2E=require")
	out, err := cmd.CombinedOutput()
	assert.Error(t, err, "child go test must fail without a lab:\n%s", out)
	assert.Contains(t, string(out), "lab not running")
	assert.Contains(t, string(out), "--- FAIL: TestLab_BucketsLockedByDefault")
}
