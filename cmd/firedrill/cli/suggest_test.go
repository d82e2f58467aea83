package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/firedrill-dev/firedrill/internal/version"
)

// noCluster is the Env.Kube of the command-line tests: no cluster is
// reachable.
func noCluster(string, string) (kubernetes.Interface, error) {
	return nil, errors.New("no cluster in tests")
}

// Mistyped commands and flags get kubectl's "did you mean", and a flag is
// named as it was typed (issue 19, conventions 4).
func TestRun_DidYouMean(t *testing.T) {
	tests := []struct {
		args       []string
		wantStderr string
	}{
		{[]string{"scenarois"}, "Error: unknown command \"scenarois\"\nHint: did you mean 'scenarios'? run 'firedrill --help'\n"},
		{[]string{"scenarios", "lsit"}, "Error: unknown command \"lsit\"\nHint: did you mean 'list'? run 'firedrill scenarios --help'\n"},
		{[]string{"histroy"}, "Error: unknown command \"histroy\"\nHint: did you mean 'history'? run 'firedrill --help'\n"},
		// Nothing close: no suggestion rather than a wild one.
		{[]string{"xyzzy"}, "Error: unknown command \"xyzzy\"\nHint: run 'firedrill --help'\n"},
		{[]string{"plan", "region-loss", "--outptu", "json"}, "Error: unknown flag --outptu\nHint: did you mean --output? run 'firedrill plan --help'\n"},
		{[]string{"plan", "region-loss", "-outptu", "json"}, "Error: unknown flag -outptu\nHint: did you mean --output? run 'firedrill plan --help'\n"},
		{[]string{"plan", "region-loss", "--outptu=json"}, "Error: unknown flag --outptu\nHint: did you mean --output? run 'firedrill plan --help'\n"},
		// A global flag is offered too.
		{[]string{"plan", "region-loss", "--scenario-dri", "x"}, "Error: unknown flag --scenario-dri\nHint: did you mean --scenario-dir? run 'firedrill plan --help'\n"},
		{[]string{"run", "region-loss", "--step-timeout", "abc"}, "Error: invalid value \"abc\" for flag --step-timeout: parse error\nHint: run 'firedrill run --help'\n"},
	}
	for _, tt := range tests {
		t.Run(tt.args[len(tt.args)-1], func(t *testing.T) {
			got := run(t, context.Background(), nil, tt.args...)
			assert.Equal(t, ExitUsage, got.code)
			assert.Equal(t, tt.wantStderr, got.stderr)
		})
	}
}

// Help for a command that is not one is the same usage error as the
// command itself (exit 2, with the hint), not urfave/cli's "No help
// topic" (exit 1, no hint).
func TestRun_HelpOfAnUnknownCommand(t *testing.T) {
	for _, args := range [][]string{
		{"report", "--help"}, {"report", "-h"}, {"help", "report"},
		{"evidence", "report", "--help"}, {"evidence", "help", "report"},
		{"scenarios", "lsit", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			without := slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "--help" || a == "-h" || a == "help" })
			want := run(t, context.Background(), nil, without...)
			require.Equal(t, ExitUsage, want.code, want.String())
			got := run(t, context.Background(), nil, args...)
			assert.Equal(t, ExitUsage, got.code, got.String())
			assert.Equal(t, want.stderr, got.stderr)
			assert.Contains(t, got.stderr, "\nHint: ")
			assert.Empty(t, got.stdout)
		})
	}
}

func TestSuggestions(t *testing.T) {
	names := []string{"scenarios", "validate", "plan", "run", "restore", "verify", "history", "cleanup"}
	assert.Equal(t, []string{"validate"}, suggestions("valdate", names))
	assert.Equal(t, []string{"run"}, suggestions("rnu", names))
	assert.Equal(t, []string{"restore"}, suggestions("rest", names), "a prefix")
	assert.Empty(t, suggestions("x", names), "one letter is not a prefix worth offering")
	assert.Empty(t, suggestions("deploy", names))
}

func TestRun_VersionFlag(t *testing.T) {
	got := run(t, context.Background(), nil, "--version")
	require.Equal(t, ExitOK, got.code, got.stderr)
	assert.Equal(t, run(t, context.Background(), nil, "version", "--client").stdout, got.stdout)
	assert.Contains(t, got.stdout, "firedrill "+version.Get().Version+"\n")
}

// version reads the Velero version of the target cluster the flags
// select; without a cluster it still succeeds and says why there is none.
func TestRun_VersionVeleroServer(t *testing.T) {
	velero := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: "backup-system"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "velero", Image: "registry.local:5000/velero/velero:v1.18.3@sha256:0123"},
		}}}},
	}
	var asked [2]string
	env := Env{Kube: func(kubeconfig, context string) (kubernetes.Interface, error) {
		asked = [2]string{kubeconfig, context}
		return fake.NewClientset(velero), nil
	}}
	got := runEnv(t, env, "version", "--kubeconfig", "/k/scratch.yaml", "--context", "scratch", "-n", "backup-system", "-o", "json")
	require.Equal(t, ExitOK, got.code, got.stderr)
	assert.Equal(t, [2]string{"/k/scratch.yaml", "scratch"}, asked)
	var doc versionDoc
	require.NoError(t, json.Unmarshal([]byte(got.stdout), &doc))
	require.NotNil(t, doc.VeleroServer)
	assert.Equal(t, veleroServer{Version: "v1.18.3", Image: "registry.local:5000/velero/velero:v1.18.3@sha256:0123", Namespace: "backup-system"}, *doc.VeleroServer)

	text := runEnv(t, env, "version", "-n", "backup-system")
	assert.Contains(t, text.stdout, "velero:   v1.18.3 (image registry.local:5000/velero/velero:v1.18.3@sha256:0123 in namespace backup-system of the target)\n")

	// No velero in the namespace asked: said, exit 0.
	missing := runEnv(t, env, "version")
	require.Equal(t, ExitOK, missing.code, missing.stderr)
	assert.Contains(t, missing.stdout, "velero:   unknown (read Deployment velero/velero: ")

	// No cluster at all: said, exit 0.
	none := run(t, context.Background(), nil, "version")
	require.Equal(t, ExitOK, none.code, none.stderr)
	assert.Contains(t, none.stdout, "velero:   unknown (no cluster in tests)\n")

	client := run(t, context.Background(), nil, "version", "--client", "-o", "json")
	assert.NotContains(t, client.stdout, "velero_server")
}

func TestImageTag(t *testing.T) {
	for image, want := range map[string]string{
		"velero/velero:v1.18.3":                   "v1.18.3",
		"localhost:5000/velero/velero":            "",
		"localhost:5000/velero/velero:v1.2@sha:1": "v1.2",
		"velero/velero":                           "",
	} {
		assert.Equal(t, want, imageTag(image), image)
	}
}

// runEnv is run with env's Kube and Getenv (nil: empty), the rest as run
// sets it.
func runEnv(t *testing.T, env Env, args ...string) result {
	t.Helper()
	work, err := filepath.Abs("testdata/work")
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr, env.WorkDir, env.HomeDir = &stdout, &stderr, work, testHome
	if env.Kube == nil {
		env.Kube = noCluster
	}
	code := Run(context.Background(), append([]string{"firedrill"}, args...), env)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}
