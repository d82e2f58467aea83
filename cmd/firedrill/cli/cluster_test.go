package cli

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every command that talks to the target cluster takes kubectl's
// --kubeconfig and --context; those that act on a scenario's clusters take
// the source's too (issue 19, conventions 1).
func TestClusterFlags_OnEveryCommandThatTalksToACluster(t *testing.T) {
	a := &app{}
	root := a.newApp()
	want := map[string][]string{
		"run":     {"kubeconfig", "context", "source-kubeconfig", "source-context"},
		"restore": {"kubeconfig", "context", "source-kubeconfig", "source-context"},
		"cleanup": {"kubeconfig", "context", "source-kubeconfig", "source-context"},
		"plan":    {"kubeconfig", "context", "source-kubeconfig", "source-context"},
		"version": {"kubeconfig", "context", "namespace", "n"},
	}
	for name, flags := range want {
		cmd := findCommand(root.Commands, name)
		require.NotNil(t, cmd, name)
		var have []string
		for _, f := range cmd.Flags {
			have = append(have, f.Names()...)
		}
		for _, f := range flags {
			assert.True(t, slices.Contains(have, f), "%s has --%s", name, f)
		}
	}
	render := findCommand(findCommand(root.Commands, "schedule").Subcommands, "render")
	var ns []string
	for _, f := range render.Flags {
		if slices.Contains(f.Names(), "namespace") {
			ns = f.Names()
		}
	}
	assert.Equal(t, []string{"namespace", "n"}, ns, "schedule render -n")
}

// The flags replace the scenario's clusters; a flag not given leaves the
// scenario's value. plan shows what run would do with the same flags.
func TestClusterFlags_OverrideTheScenario(t *testing.T) {
	work, err := filepath.Abs("testdata/work")
	require.NoError(t, err)
	scratch := filepath.Join(work, "..", "home", ".kube", "scratch.kubeconfig")
	tests := []struct {
		name  string
		args  []string
		wants []string
	}{
		{"scenario's", nil, []string{`reach the target cluster (kubeconfig testdata/home/.kube/scratch.kubeconfig, the current context)`}},
		{"context only", []string{"--context", "kind-scratch"}, []string{`reach the target cluster (kubeconfig testdata/home/.kube/scratch.kubeconfig, context "kind-scratch")`}},
		{"kubeconfig relative to the working directory", []string{"--kubeconfig", "../home/.kube/firedrill-scratch.yaml", "--context", "c1"},
			[]string{`reach the target cluster (kubeconfig ` + filepath.Join(work, "../home/.kube/firedrill-scratch.yaml") + `, context "c1")`}},
		{"empty kubeconfig is kubectl's default", []string{"--kubeconfig", ""}, []string{`reach the target cluster (kubeconfig $KUBECONFIG or ~/.kube/config, the current context)`}},
		{"source", []string{"--source-kubeconfig", scratch, "--source-context", "prod"}, []string{`(kubeconfig ` + scratch + `, context "prod")`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, context.Background(), nil, append([]string{"plan", "shop-namespace"}, tt.args...)...)
			require.Equal(t, ExitOK, got.code, "%s", got)
			for _, w := range tt.wants {
				assert.Contains(t, got.stdout, w)
			}
		})
	}
}

// A kubeconfig flag naming no file fails before anything is contacted,
// and the error names the flag, not the scenario's field.
func TestClusterFlags_BadKubeconfig(t *testing.T) {
	for _, cmd := range []string{"run", "restore", "plan"} {
		got := run(t, context.Background(), nil, cmd, "shop-namespace", "--kubeconfig", "nope.yaml")
		assert.Equal(t, ExitError, got.code, "%s", got)
		assert.Contains(t, got.stderr, "Error: --kubeconfig nope.yaml: kubeconfig ")
		assert.Contains(t, got.stderr, "Hint: point --kubeconfig at a kubeconfig file")
		assert.NotContains(t, got.stderr, "spec.target.kubeconfig")
	}
	got := run(t, context.Background(), nil, "run", "shop-namespace", "--source-kubeconfig", "/dev/zero")
	assert.Equal(t, ExitError, got.code, "%s", got)
	assert.Contains(t, got.stderr, "Error: --source-kubeconfig /dev/zero: ")
}
