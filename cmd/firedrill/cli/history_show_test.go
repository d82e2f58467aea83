package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixtureState is a state directory holding the committed records of
// earlier versions (drill/recordtest/testdata), so the output of reading
// them is checked against what firedrill really wrote.
func fixtureState(t *testing.T) string {
	t.Helper()
	state := t.TempDir()
	for _, v := range []string{"v0.1", "v0.2"} {
		src := filepath.Join("..", "..", "..", "drill", "recordtest", "testdata", v)
		require.NoError(t, os.CopyFS(filepath.Join(state, "drills"), os.DirFS(src)))
	}
	return state
}

// TestHistoryShow_Golden: the description of a drill from a committed
// record: summary, timeline, findings and where its files and its pushed
// evidence are (issue 19, item 5).
func TestHistoryShow_Golden(t *testing.T) {
	state := fixtureState(t)
	dir := filepath.Join(state, "drills", "fd-20261122-174512-3f9a")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.html"), []byte("<html>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "retrospective.md"), []byte("# r"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "runbook"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "runbook", "01-Fail_over.log"), []byte("ok"), 0o644))

	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "history", "show", "fd-20261122-174512-3f9a")
	require.Equal(t, ExitOK, res.code, res.String())
	golden(t, "history-show", strings.ReplaceAll(res.stdout, state, "STATE"))

	// The parent's flags reach the subcommand, and describe is its alias.
	res2 := run(t, context.Background(), nil, "history", "--state-dir", state, "describe", "fd-20261122-174512-3f9a")
	require.Equal(t, ExitOK, res2.code, res2.String())
	assert.Equal(t, res.stdout, res2.stdout)
}

// TestHistoryShow_JSONIsTheRecord: -o json carries the schema, the record
// as written and where its files are.
func TestHistoryShow_JSONIsTheRecord(t *testing.T) {
	state := fixtureState(t)
	res := run(t, context.Background(), nil, "history", "show", "fd-20261124-101500-7e21", "--state-dir", state, "-o", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	var doc struct {
		Schema string         `json:"schema"`
		Record map[string]any `json:"record"`
		Files  map[string]any `json:"files"`
		Evid   []any          `json:"evidence"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	assert.Equal(t, "firedrill.dev/drill/v1", doc.Schema)
	assert.Equal(t, "fd-20261124-101500-7e21", doc.Record["drill_id"])
	assert.Equal(t, "failed-upgrade-rollback", doc.Record["scenario"])
	assert.Equal(t, 345.25, doc.Record["rto"].(map[string]any)["measured_seconds"])
	assert.Equal(t, filepath.Join(state, "drills", "fd-20261124-101500-7e21"), doc.Files["folder"])
	assert.NotContains(t, doc.Files, "report", "the fixture has no report.html")
	assert.Empty(t, doc.Evid)

	yml := run(t, context.Background(), nil, "history", "show", "fd-20261124-101500-7e21", "--state-dir", state, "-o", "yaml")
	require.Equal(t, ExitOK, yml.code, yml.String())
	assert.Contains(t, yml.stdout, "schema: firedrill.dev/drill/v1\n")
}

func TestHistoryShow_UnknownDrill(t *testing.T) {
	state := fixtureState(t)
	res := run(t, context.Background(), nil, "history", "show", "fd-20990101-000000-ffff", "--state-dir", state)
	assert.Equal(t, ExitError, res.code, res.String())
	assert.Contains(t, res.stderr, "Error: drill fd-20990101-000000-ffff: no record of the drill in "+state)
	assert.Contains(t, res.stderr, "Hint: list the drills with 'firedrill history'")

	res = run(t, context.Background(), nil, "history", "show", "--state-dir", state)
	assert.Equal(t, ExitUsage, res.code, res.String())
}

// TestHistory_WideShowsWhereEachReportIs: -o wide adds the REPORT column,
// "-" for a drill without report.html, as 'history show' says "none".
func TestHistory_WideShowsWhereEachReportIs(t *testing.T) {
	state := fixtureState(t)
	const with, without = "fd-20261122-174512-3f9a", "fd-20261124-101500-7e21"
	html := filepath.Join(state, "drills", with, "report.html")
	require.NoError(t, os.WriteFile(html, []byte("<html>"), 0o644))
	res := run(t, context.Background(), nil, "history", "--state-dir", state, "-o", "wide")
	require.Equal(t, ExitOK, res.code, res.String())
	lines := strings.Split(res.stdout, "\n")
	head := strings.Fields(lines[0])
	assert.Equal(t, []string{"DRILL", "REPORT"}, head[len(head)-2:])
	assert.Regexp(t, without+` +-$`, lines[1])
	assert.Regexp(t, "(?m)"+with+" +"+regexp.QuoteMeta(html)+"$", res.stdout)
	show := run(t, context.Background(), nil, "history", "show", without, "--state-dir", state)
	assert.Regexp(t, `(?m)^  Report: +none$`, show.stdout)
	show = run(t, context.Background(), nil, "history", "show", with, "--state-dir", state)
	assert.Regexp(t, `(?m)^  Report: +`+regexp.QuoteMeta(html)+`$`, show.stdout)

	res = run(t, context.Background(), nil, "history", "--state-dir", state)
	assert.NotContains(t, res.stdout, "REPORT")
}
