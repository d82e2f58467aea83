package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
	secretpkg "github.com/firedrill-dev/firedrill/internal/secret"
)

// TestRun_ErroredDrillSaysWhyInEveryFile drives drills that cannot run to
// the end and checks that every file of the record, and the copy in the
// shared history, names the step and its error (issue 14, item 11).
func TestRun_ErroredDrillSaysWhyInEveryFile(t *testing.T) {
	tests := []struct {
		name string
		rec  *fakeRecovery
		prot *fakeProtection
		step StepName
		err  string
	}{
		{"unreachable backup store", &fakeRecovery{}, &fakeProtection{Err: errors.New(`read object lock configuration of bucket "velero-backups": dial tcp 127.0.0.1:1: connection refused`)},
			StepProtection, "connection refused"},
		{"missing backup", &fakeRecovery{RecoveryErr: errors.New(`no Completed backup of schedule "daily" in storage location "default"`)}, &fakeProtection{},
			StepRecoveryPoint, `no Completed backup of schedule "daily"`},
		{"unreachable cluster", &fakeRecovery{PreflightErr: errors.New("reach the target cluster: dial tcp 10.0.0.1:6443: i/o timeout")}, &fakeProtection{},
			StepPreflight, "i/o timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st := sharedHistory(t)
			state := t.TempDir()
			clock := &fakeClock{t: t0}
			out, err := Run(context.Background(), testScenario(t, "4h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now,
				Recovery: tt.rec, Protection: tt.prot, History: h})
			require.NoError(t, err)
			rep := out.Report
			dir := filepath.Join(state, "drills", "fd-test")

			require.Equal(t, ResultError, rep.Result, "phases: %+v", rep.Phases)
			assert.Equal(t, tt.step, rep.ErrorStep)
			require.Contains(t, rep.Error, tt.err)
			full := rep.Error

			for _, src := range []string{"local", "shared history"} {
				read := func(name string) string {
					if src == "local" {
						b, err := os.ReadFile(filepath.Join(dir, name))
						require.NoError(t, err)
						return string(b)
					}
					var b bytes.Buffer
					_, err := st.ReadObject(context.Background(), "team-drills", "team/drills/fd-test/"+name, "", &b)
					require.NoError(t, err, name)
					return b.String()
				}
				var j map[string]any
				require.NoError(t, json.Unmarshal([]byte(read("report.json")), &j))
				assert.Equal(t, "error", j["result"], src)
				assert.Equal(t, string(tt.step), j["error_step"], "%s report.json", src)
				assert.Contains(t, j["error"], tt.err, "%s report.json", src)

				md := read("report.md")
				assert.Contains(t, md, "**ERROR** in step `"+string(tt.step)+"`: "+mdText(full), "%s report.md", src)
				assert.Contains(t, md, "## Error\n\nStep `"+string(tt.step)+"` could not run to the end: "+mdText(full)+"\n", "%s report.md", src)
				assert.Contains(t, md, "\n"+noFindingsText(&Report{Error: "x"})+"\n", "%s report.md", src)

				html := read("report.html")
				assert.Contains(t, html, "Error in step <code>"+string(tt.step)+"</code>: "+htmlText(full), "%s report.html", src)

				retro := read("retrospective.md")
				assert.Contains(t, retro, "**ERROR** in step `"+string(tt.step)+"` ("+mdText(full)+")", "%s retrospective.md result", src)
				assert.Contains(t, retro, "\n1. Make step "+string(tt.step)+" run to the end: "+mdText(firstLine(full))+". What would have told us", "%s retrospective.md improvement", src)
				assert.Contains(t, retro, "- [ ] Improvement 1: ____ · owner: ____ · due: ____", "%s retrospective.md action item", src)
			}
		})
	}
}

// TestRun_InterruptedDrillNamesTheStep: an interruption is not an error of
// a step, but the record still says where it happened.
func TestRun_InterruptedDrillNamesTheStep(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rep, dir := runDrill(t, ctx, testScenario(t, "4h"), &fakeRecovery{OnRestore: cancel}, &fakeProtection{}, nil)
	require.Equal(t, ResultInterrupted, rep.Result)
	assert.Equal(t, ErrInterrupted.Error(), rep.Error)
	assert.Equal(t, StepRestore, rep.ErrorStep)
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "**INTERRUPTED** in step `restore`: drill interrupted")
	assert.Contains(t, string(md), "## Interrupted\n\nThe drill was interrupted in step `restore`; cleanup still ran.")
	assert.Contains(t, string(md), "\nNo finding failed, but not every step ran to the end")
}

func mdText(s string) string { return mdInline(s) }
func htmlText(s string) string {
	return strings.NewReplacer(`"`, "&#34;", "'", "&#39;", "<", "&lt;", ">", "&gt;", "&", "&amp;").Replace(s)
}

// A credential in an error message must not reach report.md, report.html
// or retrospective.md in its escaped form, which the scrubbing of the
// drill's files and uploads (raw and JSON forms) would not find: the
// report is scrubbed before it is rendered. Every version uploaded to a
// versioned shared history is checked, not only the last.
func TestRun_EscapedCredentialIsNeverRendered(t *testing.T) {
	const secret = "s3cr3t_key&<more>|x"
	h, st := sharedHistory(t)
	require.NoError(t, st.SetVersioning(context.Background(), "team-drills", true))
	state := t.TempDir()
	clock := &fakeClock{t: t0}
	out, err := Run(context.Background(), testScenario(t, "4h"), Options{StateDir: state, DrillID: "fd-test", Now: clock.Now,
		Recovery: &fakeRecovery{}, Protection: &fakeProtection{Err: errors.New("signature with key " + secret + " refused")},
		Secrets: secretpkg.New(secret), History: h})
	require.NoError(t, err)
	rep := out.Report
	require.Equal(t, ResultError, rep.Result)
	forms := []string{secret, mdInline(secret), htmlText(secret), "s3cr3t"}

	dir := filepath.Join(state, "drills", "fd-test")
	for _, name := range reportFiles {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		for _, f := range forms {
			assert.NotContains(t, string(b), f, "local %s", name)
		}
	}
	page, err := st.ListVersions(context.Background(), "team-drills", objectstore.VersionsRequest{Prefix: "team/drills/fd-test/"})
	require.NoError(t, err)
	require.False(t, page.IsTruncated)
	require.Greater(t, len(page.Versions), len(reportFiles))
	for _, v := range page.Versions {
		var b bytes.Buffer
		_, err := st.ReadObject(context.Background(), "team-drills", v.Key, v.VersionID, &b)
		require.NoError(t, err)
		for _, f := range forms {
			assert.NotContains(t, b.String(), f, "shared %s version %s", v.Key, v.VersionID)
		}
	}
}
