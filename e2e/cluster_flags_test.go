//go:build e2e

package e2e

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestCLI_ClusterFlagsKeepTheScratchMarker: whatever selects the target
// (the scenario, --kubeconfig/--context, $KUBECONFIG), a cluster without
// the scratch marker is refused before anything is created in it (issue
// 19, conventions 1). The lab's source cluster carries no marker.
func TestCLI_ClusterFlagsKeepTheScratchMarker(t *testing.T) {
	l := lab(t)
	bin := cliBinary(t)
	ctx := testContext(t, 3*time.Minute)
	srcCS, _ := kubeClients(t, l.SourceKubeconfig)
	before, err := srcCS.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	srcContext := os.Getenv("FIREDRILL_LAB_SOURCE_CONTEXT")

	// A scenario whose own target is the marked scratch cluster: the flags
	// point it at the source.
	sc, _ := labScenario(t, l, "cf")
	sc.Spec.Source = scenarios.ClusterRef{}
	marked := writeScenario(t, sc)
	// A scenario that names no kubeconfig: $KUBECONFIG decides.
	sc.Metadata.Name += "-default"
	sc.Spec.Target.Kubeconfig, sc.Spec.Target.Context = "", ""
	unnamed := writeScenario(t, sc)

	tests := []struct {
		name string
		args []string
		env  []string
	}{
		{"restore --kubeconfig --context", []string{"restore", marked, "--kubeconfig", l.SourceKubeconfig, "--context", srcContext}, nil},
		{"run --kubeconfig --context", []string{"run", marked, "--kubeconfig", l.SourceKubeconfig, "--context", srcContext, "--state-dir", t.TempDir()}, nil},
		{"restore with $KUBECONFIG", []string{"restore", unnamed}, []string{"KUBECONFIG=" + l.SourceKubeconfig}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(ctx, bin, tt.args...)
			cmd.Env = append(os.Environ(), tt.env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "want an exit code, got %v:\n%s", err, out)
			assert.Equal(t, 1, ee.ExitCode(), "%s", out)
			assert.Contains(t, string(out), "refusing to restore")
			assert.Contains(t, string(out), "kubectl label namespace kube-system firedrill.dev/scratch=true")
		})
	}
	after, err := srcCS.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, len(before.Items), len(after.Items), "nothing created in the unmarked cluster")
}

// TestCLI_VersionShowsVeleroOfTheTarget: version reads the Velero version
// of the cluster --kubeconfig selects, and a cluster it cannot reach does
// not fail it (issue 19, conventions 4).
func TestCLI_VersionShowsVeleroOfTheTarget(t *testing.T) {
	l := lab(t)
	bin := cliBinary(t)
	ctx := testContext(t, time.Minute)
	out, err := exec.CommandContext(ctx, bin, "version", "--kubeconfig", l.ScratchKubeconfig, "-n", l.VeleroNamespace, "-o", "json").Output()
	require.NoError(t, err, "%s", out)
	var doc struct {
		VeleroServer struct{ Version, Image, Error string } `json:"velero_server"`
	}
	require.NoError(t, json.Unmarshal(out, &doc), "%s", out)
	assert.Empty(t, doc.VeleroServer.Error)
	want := os.Getenv("FIREDRILL_LAB_VELERO_IMAGE")
	require.NotEmpty(t, want)
	assert.Equal(t, want, doc.VeleroServer.Image)
	assert.Equal(t, want[strings.LastIndex(want, ":")+1:], doc.VeleroServer.Version)

	// A kubeconfig naming a server nobody listens on.
	kc := t.TempDir() + "/down.kubeconfig"
	require.NoError(t, os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: down, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: down, context: {cluster: down, user: u}}]
current-context: down
`), 0o600))
	text, err := exec.CommandContext(ctx, bin, "version", "--kubeconfig", kc).Output()
	require.NoError(t, err, "%s", text)
	assert.Contains(t, string(text), "velero:   unknown (read Deployment velero/velero: ")
}
