package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/runbooks"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// The secrets of a drill, one of each kind the policy knows.
const (
	restoredValue = `p@ss/w0rd+x="y"`                       // a restored Secret's value
	kubeToken     = "kube-token-scratch-0123456789"         // the target kubeconfig's token
	s3Key         = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLE" // the scenario's S3 secret key
	webhookURL    = "https://hooks.example.com/services/T0/B0/hooktoken0123"
	pushgateway   = "https://metrics:pgw-password-42@pushgateway.example.com"
	keyFile       = "/etc/firedrill/evidence-signing.key"
)

// leakyRecovery is a drill's recovery that restores a Secret and gives
// the steps a kubeconfig with a token, as the real one does.
type leakyRecovery struct {
	secrets    *secret.Set
	kubeconfig string
}

func (f *leakyRecovery) Preflight(context.Context, time.Time) error {
	f.secrets.Add(kubeToken) // the real recovery adds its kubeconfig's credentials
	return nil
}
func (f *leakyRecovery) RecoveryPoint(context.Context) (*drill.BackupRef, *drill.RecoveryPointChoice, error) {
	return &drill.BackupRef{Name: "b1", Started: time.Now().Add(-time.Hour)}, nil, nil
}
func (f *leakyRecovery) Restore(context.Context, *drill.BackupRef, io.Writer) (drill.RestoreOutcome, error) {
	return drill.RestoreOutcome{SecretValues: []string{restoredValue},
		Restores: []drill.RestoreRef{{Name: "r1", VeleroPhase: "Completed"}}}, nil
}
func (f *leakyRecovery) Verify(context.Context) (drill.VerifyOutcome, error) {
	return drill.VerifyOutcome{}, nil
}
func (f *leakyRecovery) RunbookEnv() []string {
	return []string{"KUBECONFIG=" + f.kubeconfig, "FIREDRILL_SCENARIO=leaky"}
}
func (f *leakyRecovery) Evidence(context.Context) (drill.Collected, error) {
	return drill.Collected{SecretValues: []string{restoredValue}}, nil
}
func (f *leakyRecovery) Cleanup(context.Context, bool) error { return nil }

// A runbook step that prints everything it can reach, the way a careless
// step does: its environment, its kubeconfig, a Secret as kubectl shows
// it (base64), in a URL and JSON-escaped; its last line (base64) goes into
// the failed finding, and so into the notification.
const leakyRunbook = "```sh firedrill-step name=\"leak\" timeout=10s\n" +
	"env\n" +
	"cat \"$KUBECONFIG\"\n" +
	"printf '%s' \"$KUBECONFIG\" >/dev/null\n" +
	"echo \"url: https://app.example.com/login?pw=URLENC\"\n" +
	"echo 'json: JSONENC'\n" +
	"printf 'kube token: '; printf '%s' '" + kubeToken + "' | base64\n" +
	"printf 'user:%s' 'RESTORED' | base64\n" +
	"exit 1\n" +
	"```\n"

func TestDrillLeaksNoSecret_FilesAndNotification(t *testing.T) {
	for name, value := range map[string]string{
		"FIREDRILL_NOTIFY_WEBHOOK": webhookURL, "FIREDRILL_PUSHGATEWAY": pushgateway,
		"AWS_SECRET_ACCESS_KEY": s3Key, "SHOP_S3_SECRET": s3Key, "FIREDRILL_EVIDENCE_KEY_FILE": keyFile,
	} {
		t.Setenv(name, value)
	}
	secrets := secret.New(s3Key, keyFile)
	secrets.AddURL(webhookURL)
	secrets.AddURL(pushgateway)

	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: "+kubeToken+"}}]\n"), 0o600))
	jsonValue, err := json.Marshal(restoredValue)
	require.NoError(t, err)
	md := strings.NewReplacer("URLENC", url.QueryEscape(restoredValue), "JSONENC", string(jsonValue[1:len(jsonValue)-1]),
		"RESTORED", restoredValue).Replace(leakyRunbook)
	rb, err := runbooks.Parse("leaky.md", []byte(md))
	require.NoError(t, err)
	sc, err := scenarios.Parse(scenarios.Env{}, "leaky.yaml", []byte(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: leaky}
spec:
  disaster: {summary: test, lost: [sourceCluster], detection: test, lead: tester}
  objectives: {rto: 4h, rpo: 24h}
  backups: {schedule: daily, includedNamespaces: [shop]}
  storage:
    primary:
      endpoint: http://127.0.0.1:1
      bucket: velero-backups
      objectLock: {mode: COMPLIANCE}
      credentials: {accessKeyIDEnv: SHOP_S3_ID, secretAccessKeyEnv: SHOP_S3_SECRET}
  target: {kubeconfig: /dev/null}
`))
	require.NoError(t, err)

	state := t.TempDir()
	out, err := drill.Run(context.Background(), sc, drill.Options{StateDir: state, DrillID: "fd-leaky",
		Recovery: &leakyRecovery{secrets: secrets, kubeconfig: kubeconfig}, Runbook: rb, Secrets: secrets})
	require.NoError(t, err)
	rep := out.Report
	require.Len(t, rep.Runbook, 1)
	require.Equal(t, runbooks.StepFailed, rep.Runbook[0].Status, "the step ran to its end: %s", rep.Runbook[0].Error)
	assert.Contains(t, rep.Runbook[0].Output, "FIREDRILL_SCENARIO=leaky", "the step printed its environment")
	assert.Contains(t, rep.Runbook[0].Output, "token: [redacted]", "and its kubeconfig")

	leaks := map[string]string{}
	for _, v := range []string{restoredValue, kubeToken, s3Key, webhookURL, "hooktoken0123", "pgw-password-42", keyFile} {
		leaks[v] = v
		leaks["base64 of "+v] = middle(base64.StdEncoding.EncodeToString([]byte(v)))
		leaks["base64 after user: of "+v] = middle(base64.StdEncoding.EncodeToString([]byte("user:" + v)))
		leaks["URL-encoded "+v] = url.QueryEscape(v)
		j, _ := json.Marshal(v)
		leaks["JSON-escaped "+v] = string(j[1 : len(j)-1])
	}
	files := 0
	require.NoError(t, filepath.WalkDir(filepath.Join(state, "drills", "fd-leaky"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		for what, leak := range leaks {
			assert.NotContains(t, string(b), leak, "%s in %s", what, p)
		}
		return nil
	}))
	assert.GreaterOrEqual(t, files, 6, "report.json/md/html, retrospective.md, scenario.yaml, the step's log")

	h, hookURL := newHook(t, http.StatusOK)
	for _, f := range []Format{FormatJSON, FormatSlack} {
		w := fast(hookURL, f)
		w.Secrets = secrets
		require.NoError(t, w.Send(context.Background(), NewSummary(rep, filepath.Join(state, "report.html"), "")))
	}
	require.Equal(t, 2, h.attempts())
	for i, body := range h.bodies {
		assert.Contains(t, string(body), "runbook.out-of-date", "the finding carrying the step's last line is notified")
		for what, leak := range leaks {
			assert.NotContains(t, string(body), leak, "%s in notification %d", what, i)
		}
	}
}

// middle is the middle of an encoded value: what must be gone, whatever
// the characters at its edges share with what surrounds it.
func middle(s string) string { return s[len(s)/2-4 : len(s)/2+4] }
