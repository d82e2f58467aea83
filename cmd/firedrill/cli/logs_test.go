package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// jsonStderr parses every line of stderr as a JSON object with time,
// level and msg, failing on the first that is not, and returns them.
func jsonStderr(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %d of stderr is not JSON: %q", i+1, line)
		for _, k := range []string{"time", "level", "msg"} {
			require.Contains(t, m, k, "line %d: %s", i+1, line)
		}
		out = append(out, m)
	}
	return out
}

func kinds(lines []map[string]any) map[string]int {
	k := map[string]int{}
	for _, l := range lines {
		if s, ok := l["kind"].(string); ok {
			k[s]++
		}
	}
	return k
}

// TestLogs_JSONEveryStderrLine: with --log-format json every line on
// stderr of a drill is JSON: its progress, a warning, the final error
// (issue 19, item 7). The drill ends in error at preflight (the project's
// scenario shop-namespace has no scratch cluster here).
func TestLogs_JSONEveryStderrLine(t *testing.T) {
	state, _ := stateWithAPass(t)
	_, hookSrv := newRecorder(t, http.StatusForbidden)
	res := run(t, context.Background(), nil, "--log-format", "json", "run", "shop-namespace", "--state-dir", state,
		"--notify-webhook", hookSrv.URL+"/services/"+hookToken)
	require.Equal(t, ExitError, res.code, res.String())
	lines := jsonStderr(t, res.stderr)
	k := kinds(lines)
	assert.Greater(t, k["progress"], 5, res.stderr)
	assert.Equal(t, 1, k["warning"], res.stderr)
	assert.Equal(t, 1, k["error"], res.stderr)
	last := lines[len(lines)-1]
	assert.Equal(t, "ERROR", last["level"])
	assert.Contains(t, last["msg"], "could not run to the end: step preflight")
	assert.NotContains(t, res.stderr, "s3cret")
}

// TestLogs_JSONUsageErrorAndHint: an error before the command runs (an
// unknown flag) and its hint are JSON too, whereever --log-format is.
func TestLogs_JSONUsageErrorAndHint(t *testing.T) {
	res := run(t, context.Background(), nil, "plan", "region-loss", "--no-such-flag", "--log-format=json")
	require.Equal(t, ExitUsage, res.code, res.String())
	lines := jsonStderr(t, res.stderr)
	assert.Equal(t, map[string]int{"error": 1, "hint": 1}, kinds(lines))
}

// TestLogs_JSONLoggerWarningAndMultiLineError: a warning of the logger
// stays the logger's JSON; an error with a list of problems is one JSON
// line per problem, each of kind error.
func TestLogs_JSONLoggerWarningAndMultiLineError(t *testing.T) {
	state := fixtureState(t)
	require.NoError(t, os.WriteFile(filepath.Join(state, "drills", "fd-20261123-090000-0b1c", "report.json"), []byte("{"), 0o644))
	res := run(t, context.Background(), nil, "history", "--state-dir", state, "--log-format", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	lines := jsonStderr(t, res.stderr)
	require.Len(t, lines, 1)
	assert.Equal(t, "WARN", lines[0]["level"])
	assert.Equal(t, "some drill records could not be read", lines[0]["msg"])

	res = run(t, context.Background(), nil, "--log-format", "json", "plan", "../files/invalid-two-problems.yaml")
	require.Equal(t, ExitError, res.code, res.String())
	lines = jsonStderr(t, res.stderr)
	require.Len(t, lines, 4, res.stderr)
	assert.Equal(t, map[string]int{"error": 3, "hint": 1}, kinds(lines))
	assert.Contains(t, lines[1]["msg"], "spec.objectives.rto", "the indent of a problem is dropped")
}

// TestLogs_RestoreProgressJSON: a watched Restore's progress is a
// restore_progress line with its fields.
func TestLogs_RestoreProgressJSON(t *testing.T) {
	var out bytes.Buffer
	j := newJSONLines(&out)
	j.now = func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	drawRestore(newProgressLines(j))
	require.NoError(t, j.Flush())
	assert.Equal(t, `{"time":"2026-12-01T12:00:00Z","level":"INFO","msg":"restore 1/1 all: InProgress, 1/3 items restored","kind":"restore_progress","restore":"1/1 all","phase":"InProgress","items_restored":1,"total_items":3}
{"time":"2026-12-01T12:00:00Z","level":"INFO","msg":"check shop-ready passed","kind":"progress"}
{"time":"2026-12-01T12:00:00Z","level":"INFO","msg":"restore 1/1 all: InProgress, 2/3 items restored","kind":"restore_progress","restore":"1/1 all","phase":"InProgress","items_restored":2,"total_items":3}
{"time":"2026-12-01T12:00:00Z","level":"INFO","msg":"restore 1/1 all: Completed, 3/3 items restored","kind":"restore_progress","restore":"1/1 all","phase":"Completed","items_restored":3,"total_items":3}
{"time":"2026-12-01T12:00:00Z","level":"INFO","msg":"[12.0s] verify ...","kind":"progress"}
`, out.String())
}

// TestLogs_OneWarningStyleInText: a warning of the logger reads as every
// other warning, "Warning: MESSAGE: ERR", not slog's key=value line.
func TestLogs_OneWarningStyleInText(t *testing.T) {
	state := fixtureState(t)
	require.NoError(t, os.WriteFile(filepath.Join(state, "drills", "fd-20261123-090000-0b1c", "report.json"), []byte("{"), 0o644))
	res := run(t, context.Background(), nil, "history", "--state-dir", state)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.True(t, strings.HasPrefix(res.stderr, "Warning: some drill records could not be read: read drill record "), res.stderr)
	assert.NotContains(t, res.stderr, "level=")
	assert.Equal(t, 1, strings.Count(res.stderr, "\n"), res.stderr)
}

// TestLogs_QuietPrintsOnlyTheResult: -q drops the drill's progress; the
// result (stdout), warnings and the error stay.
func TestLogs_QuietPrintsOnlyTheResult(t *testing.T) {
	state, _ := stateWithAPass(t)
	loud := run(t, context.Background(), nil, "run", "shop-namespace", "--state-dir", state)
	require.Equal(t, ExitError, loud.code, loud.String())
	require.Contains(t, loud.stderr, "preflight ...", "the drill shows progress without -q")

	quiet := run(t, context.Background(), nil, "run", "shop-namespace", "--state-dir", state, "-q")
	require.Equal(t, ExitError, quiet.code, quiet.String())
	assert.True(t, strings.HasPrefix(quiet.stderr, "Error: drill fd-"), quiet.stderr)
	assert.Equal(t, 1, strings.Count(quiet.stderr, "\n"), quiet.stderr)
	assert.Contains(t, quiet.stdout, "of shop-namespace: error\n", "the result is still printed")
}

// TestLogs_APIServerWarningIsJSON: a Warning header of the scratch
// cluster's API server (client-go logs it through klog by default) is a
// JSON warning line with --log-format json.
func TestLogs_APIServerWarningIsJSON(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Warning", `299 - "scratch API: this version is deprecated"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":"forbidden","reason":"Forbidden","code":403}`))
	}))
	t.Cleanup(srv.Close)
	dir, state := t.TempDir(), t.TempDir()
	kubeconfig := filepath.Join(dir, "scratch.kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: scratch, cluster: {server: "`+srv.URL+`", insecure-skip-tls-verify: true}}]
users: [{name: drill, user: {token: not-a-secret}}]
contexts: [{name: scratch, context: {cluster: scratch, user: drill}}]
current-context: scratch
`), 0o600))
	valid, err := os.ReadFile("testdata/files/valid.yaml")
	require.NoError(t, err)
	scenario := filepath.Join(dir, "warned.yaml")
	require.NoError(t, os.WriteFile(scenario, []byte(strings.Replace(string(valid), "~/.kube/scratch.kubeconfig", kubeconfig, 1)), 0o644))

	res := run(t, context.Background(), nil, "--log-format", "json", "run", scenario, "--state-dir", state)
	require.Equal(t, ExitError, res.code, res.String())
	var warned bool
	for _, l := range jsonStderr(t, res.stderr) {
		if l["level"] == "WARN" && l["warning"] == "scratch API: this version is deprecated" {
			warned = true
		}
	}
	assert.True(t, warned, res.stderr)
}
