//go:build e2e

package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubeconfigSteps switch the scenario's kubeconfig file to another
// context mid-drill, as someone in another terminal would, then show
// where the next step's kubectl goes.
func kubeconfigSteps(original string) string {
	return "\n```sh firedrill-step name=\"switch-context\" timeout=1m\n" +
		"kubectl config use-context decoy --kubeconfig '" + original + "'\n" +
		"```\n" +
		"\n```sh firedrill-step name=\"where\" timeout=1m\n" +
		"echo \"current: $(kubectl config current-context)\"\n" +
		"kubectl config get-contexts -o name | sed 's/^/context: /'\n" +
		"echo \"decoy mentions: $(kubectl config view --raw | grep -c decoy || true)\"\n" +
		"echo \"key: $(kubectl config view --raw -o jsonpath='{.users[0].user.client-key-data}')\"\n" +
		"echo \"scratch label: $(kubectl get namespace kube-system -o jsonpath='{.metadata.labels.firedrill\\.dev/scratch}')\"\n" +
		"```\n"
}

// TestRun_StepsGetAPrivateKubeconfigOfTheTargetAlone runs a drill whose
// target kubeconfig also holds the source cluster's context ("decoy"),
// with the target's context current (so steps used to get the user's live
// file). A step switches that file to the decoy mid-drill; the next step
// still reaches the scratch cluster, through a kubeconfig holding its
// context alone, and the client key it prints is redacted.
func TestRun_StepsGetAPrivateKubeconfigOfTheTargetAlone(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 6*time.Minute)

	scratch, err := clientcmd.LoadFromFile(l.ScratchKubeconfig)
	require.NoError(t, err)
	source, err := clientcmd.LoadFromFile(l.SourceKubeconfig)
	require.NoError(t, err)
	require.NoError(t, clientcmdapi.FlattenConfig(scratch))
	require.NoError(t, clientcmdapi.FlattenConfig(source))
	sctx := source.Contexts[source.CurrentContext]
	require.NotNil(t, sctx, "the lab's source kubeconfig has a current context")
	scratch.Clusters["decoy"] = source.Clusters[sctx.Cluster]
	scratch.AuthInfos["decoy"] = source.AuthInfos[sctx.AuthInfo]
	scratch.Contexts["decoy"] = &clientcmdapi.Context{Cluster: "decoy", AuthInfo: "decoy"}
	scratch.CurrentContext = "lab-scratch"
	merged := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*scratch, merged))

	file, _ := drillScenario(t, l, "e2e-kubeconfig", "kubeconfig: \""+l.ScratchKubeconfig+"\"", "kubeconfig: \""+merged+"\"")
	rb := filepath.Join(filepath.Dir(file), l.Scenario+".md")
	text, err := os.ReadFile(rb)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(rb, append(text, []byte(kubeconfigSteps(merged))...), 0o644))

	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)

	after, err := clientcmd.LoadFromFile(merged)
	require.NoError(t, err)
	assert.Equal(t, "decoy", after.CurrentContext, "the step did switch the original file")

	logs, err := filepath.Glob(filepath.Join(state, "drills", "*", "runbook", "*-where.log"))
	require.NoError(t, err)
	require.Len(t, logs, 1)
	b, err := os.ReadFile(logs[0])
	require.NoError(t, err)
	where := string(b)
	assert.Contains(t, where, "current: lab-scratch\n")
	var contexts []string
	for _, line := range strings.Split(where, "\n") {
		if c, ok := strings.CutPrefix(line, "context: "); ok {
			contexts = append(contexts, c)
		}
	}
	assert.Equal(t, []string{"lab-scratch"}, contexts, "no other context")
	assert.Contains(t, where, "decoy mentions: 0\n", "nothing of the other context, its cluster or user")
	assert.Contains(t, where, "scratch label: true\n", "kubectl reached the scratch cluster")
	key := base64.StdEncoding.EncodeToString(scratch.AuthInfos[scratch.Contexts["lab-scratch"].AuthInfo].ClientKeyData)
	require.Greater(t, len(key), 100, "the lab's scratch user has a client key")
	assert.Contains(t, where, "key: [redacted]", "the client key the step printed is replaced")
	assert.NotContains(t, where, key[len(key)/2-8:len(key)/2+8])
}
