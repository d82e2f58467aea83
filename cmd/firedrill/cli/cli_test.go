package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// result is what one run of the command line produced.
type result struct {
	code   int
	stdout string
	stderr string
}

// run runs the command line the way main does, in testdata/work (whose
// scenarios/ directory is the project's), with the home directory
// testdata/home (relative, so that outputs do not depend on where the
// repository is; its .kube holds the kubeconfigs the scenarios name) and
// the given environment.
func run(t *testing.T, ctx context.Context, env map[string]string, args ...string) result {
	t.Helper()
	work, err := filepath.Abs("testdata/work")
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	code := Run(ctx, append([]string{"firedrill"}, args...), Env{
		Stdout:  &stdout,
		Stderr:  &stderr,
		Getenv:  func(k string) string { return env[k] },
		WorkDir: work,
		HomeDir: testHome,
		Kube:    noCluster,
		Now:     func() time.Time { return testNow },
	})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// testNow is the clock of the command-line tests' outlook (history).
var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// testHome is the home directory of the command-line tests.
const testHome = "testdata/home"

func (r result) String() string {
	return "exit: " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

// golden compares got with testdata/NAME.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run 'go test ./cmd/firedrill/cli -update' to create %s", path)
	assert.Equal(t, string(want), got)
}

func TestRun_Golden(t *testing.T) {
	withEnvDir := map[string]string{"FIREDRILL_SCENARIOS": "../env"}
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
	}{
		// Help teaches.
		{"help", nil, []string{"--help"}, ExitOK},
		{"help-no-args", nil, nil, ExitOK},
		{"help-scenarios", nil, []string{"scenarios"}, ExitOK},
		{"help-scenarios-list", nil, []string{"scenarios", "list", "--help"}, ExitOK},
		{"help-scenarios-show", nil, []string{"scenarios", "show", "-h"}, ExitOK},
		{"help-validate", nil, []string{"validate", "--help"}, ExitOK},
		{"help-plan", nil, []string{"help", "plan"}, ExitOK},
		{"help-version", nil, []string{"version", "--help"}, ExitOK},
		{"help-due", nil, []string{"due", "--help"}, ExitOK},
		{"help-evidence", nil, []string{"evidence"}, ExitOK},
		{"help-evidence-export", nil, []string{"evidence", "export", "--help"}, ExitOK},
		{"help-evidence-summary", nil, []string{"evidence", "summary", "--help"}, ExitOK},

		// scenarios list and show.
		{"scenarios-list", nil, []string{"scenarios", "list"}, ExitOK},
		{"scenarios-list-env", withEnvDir, []string{"scenarios", "list"}, ExitOK},
		{"scenarios-list-json", nil, []string{"scenarios", "list", "-o", "json"}, ExitOK},
		{"scenarios-show", nil, []string{"scenarios", "show", "ransomware-backup-storage"}, ExitOK},
		{"scenarios-show-json", nil, []string{"scenarios", "show", "namespace-deletion", "-o", "json"}, ExitOK},
		{"scenarios-show-not-found", nil, []string{"scenarios", "show", "region-los"}, ExitError},
		{"scenarios-show-invalid", nil, []string{"scenarios", "show", "broken"}, ExitError},
		{"scenarios-show-ambiguous", withEnvDir, []string{"scenarios", "show", "twin"}, ExitError},
		{"scenarios-missing-dir", nil, []string{"--scenario-dir", "no-such-dir", "scenarios", "list"}, ExitError},

		// validate.
		{"validate-valid", nil, []string{"validate", "../files/valid.yaml"}, ExitOK},
		{"validate-warn-crd-order", nil, []string{"validate", "../files/warn-crd-order.yaml"}, ExitOK},
		{"plan-warn-crd-order", nil, []string{"plan", "../files/warn-crd-order.yaml"}, ExitOK},
		{"validate-invalid", nil, []string{"validate", "../files/valid.yaml", "../files/invalid-two-problems.yaml", "../files/invalid-governance.yaml", "../files/missing.yaml"}, ExitError},
		{"validate-runbook", nil, []string{"validate", "../files/broken-runbook.yaml"}, ExitError},
		{"validate-scenario-and-runbook", nil, []string{"validate", "../files/broken-both.yaml"}, ExitError},
		{"validate-dir-json", nil, []string{"validate", "-o", "json", "scenarios"}, ExitError},
		{"validate-warnings", nil, []string{"validate", "../files/warnings.yaml", "../files/valid.yaml"}, ExitOK},
		{"validate-warnings-strict", nil, []string{"validate", "--strict", "../files/warnings.yaml", "../files/valid.yaml"}, ExitError},
		{"validate-warnings-json", nil, []string{"validate", "-o", "json", "../files/warnings.yaml"}, ExitOK},
		{"validate-secret-as-envname", nil, []string{"validate", "../files/secret-as-envname.yaml"}, ExitError},
		{"validate-endpoint-path", nil, []string{"validate", "../files/endpoint-path.yaml"}, ExitError},
		{"validate-profile-without-file", nil, []string{"validate", "../files/profile-without-file.yaml"}, ExitOK},
		{"validate-kubeconfig-devzero", nil, []string{"validate", "../../../../../scenarios/testdata/security/kubeconfig-devzero.yaml"}, ExitOK},

		// plan: every built-in scenario, a project one, and the JSON form.
		{"plan-region-loss", nil, []string{"plan", "../../../../../scenarios/catalog/region-loss.yaml"}, ExitOK},
		{"plan-ransomware-backup-storage", nil, []string{"plan", "ransomware-backup-storage"}, ExitOK},
		{"plan-namespace-deletion", nil, []string{"plan", "namespace-deletion"}, ExitOK},
		{"plan-observability-loss", nil, []string{"plan", "observability-loss"}, ExitOK},
		{"plan-failed-upgrade-rollback", nil, []string{"plan", "failed-upgrade-rollback"}, ExitOK},
		{"plan-random-restore-audit", nil, []string{"plan", "random-restore-audit"}, ExitOK},
		{"plan-project", nil, []string{"plan", "shop-namespace"}, ExitOK},
		{"plan-json", nil, []string{"plan", "namespace-deletion", "-o", "json"}, ExitOK},
		{"plan-invalid-file", nil, []string{"plan", "../files/invalid-two-problems.yaml"}, ExitError},
		// Files the drill needs are checked before anything is touched.
		{"plan-missing-files", nil, []string{"plan", "../files/warnings.yaml"}, ExitError},
		{"verify-missing-files", nil, []string{"verify", "../files/warnings.yaml"}, ExitError},
		{"run-missing-files", nil, []string{"run", "../files/warnings.yaml"}, ExitError},
		{"verify-secret-as-envname", nil, []string{"verify", "../files/secret-as-envname.yaml"}, ExitError},
		{"plan-profile-without-file", nil, []string{"plan", "../files/profile-without-file.yaml"}, ExitError},
		{"verify-profile-without-file", nil, []string{"verify", "../files/profile-without-file.yaml"}, ExitError},
		{"plan-kubeconfig-devzero", nil, []string{"plan", "../../../../../scenarios/testdata/security/kubeconfig-devzero.yaml"}, ExitError},

		// Usage errors.
		{"usage-unknown-command", nil, []string{"drill"}, ExitUsage},
		{"usage-unknown-subcommand", nil, []string{"scenarios", "remove"}, ExitUsage},
		{"usage-unknown-flag", nil, []string{"plan", "--dry-run", "region-loss"}, ExitUsage},
		{"usage-bad-output", nil, []string{"plan", "region-loss", "-o", "xml"}, ExitUsage},
		{"usage-plan-no-args", nil, []string{"plan"}, ExitUsage},
		{"usage-validate-no-args", nil, []string{"validate"}, ExitUsage},
		{"usage-log-level", nil, []string{"--log-level", "loud", "scenarios", "list"}, ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, context.Background(), tt.env, tt.args...)
			assert.Equal(t, tt.wantCode, got.code, "%s", got)
			golden(t, tt.name, "$ firedrill "+strings.Join(tt.args, " ")+"\n"+got.String())
		})
	}
}

// The plan of the built-in region-loss is the same whether it is named or
// given as the catalog file; only where it came from differs.
func TestRun_PlanByNameOrFile(t *testing.T) {
	byName := run(t, context.Background(), nil, "plan", "region-loss", "-o", "json")
	require.Equal(t, ExitOK, byName.code, byName.stderr)
	byFile := run(t, context.Background(), nil, "plan", "-o", "json", "../../../../../scenarios/catalog/region-loss.yaml")
	require.Equal(t, ExitOK, byFile.code, byFile.stderr)

	var a, b map[string]any
	require.NoError(t, json.Unmarshal([]byte(byName.stdout), &a))
	require.NoError(t, json.Unmarshal([]byte(byFile.stdout), &b))
	// The project's scenarios/region-loss.yaml shadows the built-in one.
	assert.Equal(t, "scenarios/region-loss.yaml", a["file"])
	assert.Equal(t, "../../../../../scenarios/catalog/region-loss.yaml", b["file"])
}

func TestRun_FlagsAfterArguments(t *testing.T) {
	before := run(t, context.Background(), nil, "--scenario-dir", "../env", "plan", "-o", "json", "audit-from-env")
	after := run(t, context.Background(), nil, "plan", "audit-from-env", "-o", "json", "--scenario-dir", "../env")
	require.Equal(t, ExitOK, before.code, before.stderr)
	assert.Equal(t, before, after)
	assert.True(t, json.Valid([]byte(after.stdout)))
}

func TestRun_ScenarioDir(t *testing.T) {
	// Only --scenario-dir (or $FIREDRILL_SCENARIOS) finds what is in ../env.
	missing := run(t, context.Background(), nil, "plan", "audit-from-env")
	assert.Equal(t, ExitError, missing.code)
	assert.Contains(t, missing.stderr, `Error: no scenario named "audit-from-env"`)
	assert.Contains(t, missing.stderr, "Hint: run 'firedrill scenarios list'")

	for _, args := range [][]string{
		{"--scenario-dir", "../env", "plan", "audit-from-env"},
		{"--scenario-dir", "../files", "--scenario-dir", "../env", "plan", "audit-from-env"},
	} {
		found := run(t, context.Background(), nil, args...)
		assert.Equal(t, ExitOK, found.code, found.stderr)
		assert.Contains(t, found.stdout, "Plan for scenario audit-from-env (../env: ../env/audit-from-env.yaml)")
	}
}

func TestRun_Interrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got := run(t, ctx, nil, "scenarios", "list")
	assert.Equal(t, ExitInterrupted, got.code)
	assert.Equal(t, "Error: interrupted\n", got.stderr)
}

func TestRun_Version(t *testing.T) {
	got := run(t, context.Background(), nil, "version", "-o", "json")
	require.Equal(t, ExitOK, got.code, got.stderr)
	var info version.Info
	require.NoError(t, json.Unmarshal([]byte(got.stdout), &info))
	assert.Equal(t, version.Get(), info)
	assert.Contains(t, got.stdout, `"go_version": "`+info.GoVersion+`"`)

	text := run(t, context.Background(), nil, "version")
	require.Equal(t, ExitOK, text.code)
	assert.True(t, strings.HasPrefix(text.stdout, "firedrill "+info.Version+"\n"), text.stdout)
	assert.Contains(t, text.stdout, "go:       "+info.GoVersion)
}

func TestRun_LogsGoToStderr(t *testing.T) {
	got := run(t, context.Background(), nil, "--log-level", "debug", "--log-format", "json", "plan", "shop-namespace")
	require.Equal(t, ExitOK, got.code, got.stderr)
	require.NotEmpty(t, got.stderr)
	for _, line := range strings.Split(strings.TrimSpace(got.stderr), "\n") {
		assert.True(t, json.Valid([]byte(line)), "log line is JSON: %s", line)
	}
	assert.Contains(t, got.stderr, `"msg":"searched for scenario"`)
	assert.NotContains(t, got.stdout, "searched for scenario")
}

// A runbook step hidden in an HTML comment is not run; validate and plan
// say so, and the scenario stays valid (issue 15, section 7). Like a
// scenario's, the warning is FILE:LINE: warning: where: message, at the
// runbook's line (where the fix goes), naming the runbook's block.
func TestRun_HiddenRunbookStepIsAWarning(t *testing.T) {
	const (
		at      = "hidden-step.md:8: "
		where   = "firedrill-step block"
		message = "is inside an HTML comment (from line 7), hidden from readers of the rendered runbook: it is not run; move it out to run it, or delete it"
	)
	v := run(t, context.Background(), nil, "validate", "../files/hidden-step.yaml")
	require.Equal(t, ExitOK, v.code, v.String())
	assert.Equal(t, "../files/"+at+"warning: "+where+": "+message+"\n../files/hidden-step.yaml: ok (hidden-step), 1 warning\n", v.stdout)

	j := run(t, context.Background(), nil, "validate", "-o", "json", "../files/hidden-step.yaml")
	require.Equal(t, ExitOK, j.code, j.String())
	var doc validateDoc
	require.NoError(t, json.Unmarshal([]byte(j.stdout), &doc))
	require.Len(t, doc.Files, 1)
	assert.Equal(t, []validateError{{File: "../files/hidden-step.md", Line: 8, Path: where, Message: message,
		Text: "../files/" + at + "warning: " + where + ": " + message}}, doc.Files[0].Warnings, "the runbook's file, line and block")

	p := run(t, context.Background(), nil, "plan", "../files/hidden-step.yaml")
	require.Equal(t, ExitOK, p.code, p.String())
	assert.Contains(t, p.stdout, "Warning:    ../files/"+at+where+": "+message+"\n")
	assert.Contains(t, p.stdout, `step "velero-ready"`)
	assert.NotContains(t, p.stdout, "exfiltrate")
}

// A runbook's errors, as its warnings, name the runbook's file, line and
// block: in the text (FILE:LINE: where: message) and in -o json.
func TestRun_ValidateRunbookErrorsJSON(t *testing.T) {
	res := run(t, context.Background(), nil, "validate", "-o", "json", "../files/broken-runbook.yaml")
	require.Equal(t, ExitError, res.code, res.String())
	var doc validateDoc
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	require.Len(t, doc.Files, 1)
	assert.Equal(t, []validateError{
		{File: "../files/broken-runbook.md", Line: 3, Path: "firedrill-step block", Message: `has no name; write name="..."`,
			Text: `../files/broken-runbook.md:3: firedrill-step block: has no name; write name="..."`},
		{File: "../files/broken-runbook.md", Line: 7, Path: `step "wait"`, Message: `timeout "soon" is not a positive duration such as 30s or 5m`,
			Text: `../files/broken-runbook.md:7: step "wait": timeout "soon" is not a positive duration such as 30s or 5m`},
	}, doc.Files[0].Errors)
}

// Manual steps whose estimates alone exceed the RTO objective: validate
// and plan name the runbook's line of the largest estimate, and the plan
// writes the total and each estimate in one duration style.
func TestRun_ManualTimeOverRTOIsAWarning(t *testing.T) {
	const warning = `manual-time.md:7: manual steps: the declared manual time alone (14d) exceeds the RTO objective 1h00m: a drill nobody times (CI, a scheduled drill, --yes) counts the estimates toward RTO, so it misses the RTO whatever the restore takes; manual step "change-approval", here, declares the largest estimate, 14d: correct the estimates if the work is quicker, move work that is not part of the recovery out of the runbook, or raise spec.objectives.rto`
	v := run(t, context.Background(), nil, "validate", "../files/manual-time.yaml")
	require.Equal(t, ExitOK, v.code, v.String())
	assert.Equal(t, "../files/"+strings.Replace(warning, ": ", ": warning: ", 1)+"\n../files/manual-time.yaml: ok (manual-time), 1 warning\n", v.stdout)

	p := run(t, context.Background(), nil, "plan", "../files/manual-time.yaml")
	require.Equal(t, ExitOK, p.code, p.String())
	assert.Contains(t, p.stdout, "Warning:    ../files/"+warning+"\n")
	assert.Contains(t, p.stdout, "   - 3 manual steps, estimated at 14d in all (alone more than the RTO objective 1h00m): ")
	assert.Contains(t, p.stdout, "   - manual step \"change-approval\" (estimate 14d)\n   - manual step \"dns-cutover\" (estimate 15m00s)\n")
}

// TestRun_SecretAsEnvNameNeverEchoed is the case secret-as-envname.yaml of
// issue 15 (section 1): a secret key written where the name of a variable
// belongs is refused by every command, and no output repeats it.
func TestRun_SecretAsEnvNameNeverEchoed(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1"
	file := "../files/secret-as-envname.yaml"
	for _, args := range [][]string{
		{"validate", file}, {"validate", "-o", "json", file}, {"verify", file}, {"plan", file},
		{"run", file, "--state-dir", t.TempDir()}, {"restore", file}, {"scenarios", "show", file},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			got := run(t, context.Background(), map[string]string{"AWS_ACCESS_KEY_ID": "id"}, args...)
			assert.Equal(t, ExitError, got.code, "%s", got)
			assert.Contains(t, got.stdout+got.stderr, "spec.storage.primary.credentials.secretAccessKeyEnv")
			assert.NotContains(t, got.stdout+got.stderr, secret)
		})
	}
}

// TestRun_UnusableProfileStopsBeforeTheDrill is issue 14, item 8 for a
// profile named without a credentials file: run and restore stop before
// touching anything (no drill is recorded), naming the field and line,
// instead of passing the preflight and failing at the first S3 request.
func TestRun_UnusableProfileStopsBeforeTheDrill(t *testing.T) {
	for _, cmd := range []string{"run", "restore"} {
		t.Run(cmd, func(t *testing.T) {
			state := t.TempDir()
			got := run(t, context.Background(), map[string]string{"FIREDRILL_STATE_DIR": state}, cmd, "../files/profile-without-file.yaml")
			assert.Equal(t, ExitError, got.code, "%s", got)
			assert.Contains(t, got.stderr, "nothing has been touched:\n  ../files/profile-without-file.yaml:24: spec.storage.primary.credentials.profile: profile half in credentials file testdata/home/.aws/credentials (the AWS SDK's default) has aws_access_key_id but no aws_secret_access_key")
			assert.Contains(t, got.stderr, "../files/profile-without-file.yaml:33: spec.storage.copies[0].credentials.profile: profile \"backup\" is in neither of the files the AWS SDK reads")
			assert.NotContains(t, got.String(), "test-key-id", "no value of the shared files is printed")
			entries, err := os.ReadDir(state)
			require.NoError(t, err)
			assert.Empty(t, entries, "no drill is recorded")
		})
	}
}
