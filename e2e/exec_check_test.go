//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVolumeData_ExecChecksThatCannotPassEndAtOnce: exec checks and a file
// data canary that waiting cannot make pass, run against the restored
// back end through the scratch API server's real pods/exec (containerd and
// runc answer), each with five minutes to run. Every one ends on the
// class of its failure, not its timeout: a program not in the image, a
// container not in the pod, stdout past 64 KiB (the stream is ended, not
// read forever from /dev/zero), a file canary in an image without cat
// (said once, with the advice to give command), and a command that exits
// non-zero in the Ready pod (twice). client-go's own error lines (a
// stream copy's "Unhandled Error", a closed WebSocket's ping) stay off
// the drill's stderr.
func TestVolumeData_ExecChecksThatCannotPassEndAtOnce(t *testing.T) {
	l := lab(t)
	d := labDataOf(t)
	ctx := testContext(t, 10*time.Minute)
	in := fmt.Sprintf("namespace: %s, pod: %s, container: %s", d.Namespace, d.Pod, d.Container)
	failing := fmt.Sprintf(`    - name: no-such-program
      timeout: 5m
      exec: {%[1]s, command: [nosuch-program]}
    - name: no-such-container
      timeout: 5m
      exec: {namespace: %[2]s, pod: %[3]s, container: nosuch, command: [/shop, cat, %[4]s]}
    - name: too-much-output
      timeout: 5m
      exec: {%[1]s, command: [/shop, cat, /dev/zero]}
    - name: canary-without-cat
      timeout: 5m
      dataCanary: {%[1]s, file: %[5]s}
    - name: exits-non-zero
      timeout: 5m
      exec: {%[1]s, command: [/shop, cat, /data/no-such-file]}
    - name: data-canary
`, in, d.Namespace, d.Pod, d.OrdersFile, d.CanaryFile)
	file, targets := drillScenario(t, l, "e2e-execfinal", "    - name: data-canary\n", failing)
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json")
	t.Logf("stderr:\n%s", res.stderr)
	require.Equal(t, 3, res.code, "the drill fails on its checks\nstdout:\n%s", res.stdout)
	var top drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &top), res.stdout)
	rep := readVolumeReport(t, state, top.DrillID)

	var ns string // the back end's namespace as the drill mapped it
	for _, n := range targets {
		if strings.HasPrefix(n, d.Namespace+"-e2e-execfinal-") {
			ns = n
		}
	}
	require.NotEmpty(t, ns, "mapped namespace of %s in %v", d.Namespace, targets)
	want := map[string]string{
		"no-such-program":    `nosuch-program in pod ` + ns + `/` + d.Pod + ` container ` + d.Container + ` could not start: exec: "nosuch-program": executable file not found in $PATH`,
		"no-such-container":  d.Pod + " has no container nosuch (its containers: ",
		"too-much-output":    "/shop cat /dev/zero in pod " + ns + "/" + d.Pod + " container " + d.Container + ": stdout is longer than 65536 bytes",
		"canary-without-cat": "read file " + d.CanaryFile + " in pod " + ns + "/" + d.Pod + " container " + d.Container + `: the image has no cat (exec: "cat": executable file not found in $PATH): use command: [PROGRAM, ARGS...] instead of file`,
		"exits-non-zero":     "/shop cat /data/no-such-file in pod " + ns + "/" + d.Pod + " container " + d.Container + " exited 1: ",
	}
	seen := 0
	for _, c := range rep.Checks {
		msg, ok := want[c.Name]
		if !ok {
			assert.True(t, c.Passed, "the lab's own check %s: %s", c.Name, c.Message)
			continue
		}
		seen++
		assert.False(t, c.Passed, c.Name)
		assert.Contains(t, c.Message, msg, c.Name)
		assert.NotContains(t, c.Message, "not passed within", "%s ended by its class, not its 5m timeout", c.Name)
		assert.NotContains(t, c.Message, "Internal error occurred", c.Name)
	}
	assert.Equal(t, len(want), seen, "every failing check ran")
	assert.NotContains(t, res.stderr, "Unhandled Error")
	assert.NotContains(t, res.stderr, "Websocket Ping failed")
	assert.NotRegexp(t, regexp.MustCompile(`(?m)^[EWI]\d{4} `), res.stderr, "no klog line")
	assertNamespacesGone(t, l, targets)
}
