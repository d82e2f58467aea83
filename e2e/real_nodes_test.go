//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// checkReport is one check of a drill's report.json.
type checkReport struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
}

func readChecks(t *testing.T, state, id string) []checkReport {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, "drills", id, "report.json"))
	require.NoError(t, err)
	var r struct {
		Checks []checkReport `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	return r.Checks
}

func checkNamed(t *testing.T, checks []checkReport, name string) checkReport {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "check missing", "no check %q in %+v", name, checks)
	return checkReport{}
}

// TestRealNodes_RestoredShopServes: the lab's drill restores the shop onto
// the scratch cluster's real node, where its containers run, web is Ready
// only because it reaches api through the restored Service (DNS, kube-proxy
// and the restored NetworkPolicies all work), the HTTP check answers
// through the restored Service, and the restored ServiceAccount
// authenticates.
func TestRealNodes_RestoredShopServes(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 6*time.Minute)
	file, targets := drillScenario(t, l, "e2e-real", "cleanup: {policy: always}", "cleanup: {policy: never}")
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))

	checks := readChecks(t, state, rep.DrillID)
	web := checkNamed(t, checks, "shop-web-serves")
	assert.True(t, web.Passed, web.Message)
	assert.Contains(t, web.Message, "200")
	sa := checkNamed(t, checks, "shop-api-identity")
	assert.True(t, sa.Passed, sa.Message)

	// Independently of firedrill: the pods are real containers on the
	// real node, started by containerd, and web answers through its
	// Service via the API server's proxy.
	shop := targets[0]
	pods, err := cs.CoreV1().Pods(shop).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.NotEmpty(t, pods.Items)
	for _, p := range pods.Items {
		assert.Equal(t, corev1.PodRunning, p.Status.Phase, p.Name)
		require.NotEmpty(t, p.Status.ContainerStatuses, p.Name)
		st := p.Status.ContainerStatuses[0]
		assert.True(t, st.Ready, "%s ready", p.Name)
		assert.True(t, strings.HasPrefix(st.ContainerID, "containerd://"), "%s runs in containerd: %q", p.Name, st.ContainerID)
		require.NotNil(t, st.State.Running, p.Name)
		node, err := cs.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
		require.NoError(t, err)
		assert.Contains(t, node.Status.NodeInfo.ContainerRuntimeVersion, "containerd://", "node %s is a real node", node.Name)
		assert.Empty(t, node.Annotations["kwok.x-k8s.io/node"], "node %s is not simulated", node.Name)
	}
	body, err := cs.CoreV1().Services(shop).ProxyGet("http", "web", "80", "/healthz", nil).DoRaw(ctx)
	require.NoError(t, err, "GET web /healthz through the restored Service")
	assert.Equal(t, "ok", string(body))
	page, err := cs.CoreV1().Services(shop).ProxyGet("http", "web", "80", "/", nil).DoRaw(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(page), "<html")
}

// brokenApp is a namespace of the source cluster holding what goes wrong
// after real restores: a web front end whose NetworkPolicy towards its api
// was lost, a worker that crashes on start, and a Deployment whose image
// the node does not have. It is backed up by Velero like any namespace.
func brokenApp(ns string) []byte {
	return []byte(fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: %[1]s}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-dns-egress, namespace: %[1]s}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web-egress, namespace: %[1]s}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 9090, protocol: TCP}]}]
---
# allow-web-to-api (api's ingress from web) is what was lost.
apiVersion: v1
kind: ServiceAccount
metadata: {name: ci-deployer, namespace: %[1]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: %[2]s
        imagePullPolicy: Never
        command: [/shop, web]
        env: [{name: API_URL, value: "http://api:9090"}]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 2, failureThreshold: 1}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: api
        image: %[2]s
        imagePullPolicy: Never
        command: [/shop, api]
        env: [{name: DB_ADDR, value: "db:5432"}]
        readinessProbe: {httpGet: {path: /livez, port: 9090}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: %[1]s}
spec: {selector: {app: api}, ports: [{port: 9090}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: worker}}
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: worker
        image: %[2]s
        imagePullPolicy: Never
        command: [/shop, no-such-role]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: %[1]s}
spec:
  replicas: 1
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers:
      - name: legacy
        image: localhost/firedrill-lab/never-built:1.0
        imagePullPolicy: Never
`, ns, shopImage))
}

// shopImage is the lab's application image, present on both nodes.
const shopImage = "localhost/firedrill-lab/shop:lab"

// TestRealNodes_FailingWorkloadsSayWhy: a restore whose workloads never
// become Ready fails its checks with kubelet's reasons (a readiness probe
// failing because a NetworkPolicy was lost, CrashLoopBackOff with the exit
// code, an image the node does not have), and a ServiceAccount the backup
// does not hold fails the identity check by name, while one it holds
// authenticates.
func TestRealNodes_FailingWorkloadsSayWhy(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 8*time.Minute)
	src, _ := kubeClients(t, l.SourceKubeconfig)
	scratch, _ := kubeClients(t, l.ScratchKubeconfig)
	suffix := time.Now().UTC().Format("150405")
	ns := "e2e-broken-" + suffix
	target := ns + "-r"
	backup := "e2e-broken-" + suffix
	t.Cleanup(func() {
		deleteNamespaces(t, src, ns)
		deleteNamespaces(t, scratch, target)
	})
	applyYAML(t, ctx, l.SourceKubeconfig, brokenApp(ns))
	// api is Ready in the source: its image runs there too.
	require.NoError(t, waitFor(ctx, func() error { return deploymentReady(ctx, src, ns, "api") }))
	// The schedule's TTL, within the buckets' one-day lock: a backup with
	// Velero's default 30-day TTL would outlive the lock and the lab
	// scenario's maxRetention, and fail the recovery window of every
	// later drill that looks at the whole bucket.
	l.velero(t, ctx, l.SourceKubeconfig, "backup", "create", backup, "--include-namespaces", ns, "--ttl", "12h", "--wait")

	scenario := fmt.Sprintf(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: e2e-broken}
spec:
  disaster: {summary: a namespace is lost, lost: [namespace], lostNamespaces: [%[1]s], detection: e2e, lead: e2e}
  objectives: {rto: 30m, rpo: 24h}
  source: {kubeconfig: %[3]q}
  backups:
    veleroNamespace: %[4]s
    backupName: %[2]s
    includedNamespaces: [%[1]s]
  storage:
    primary:
      endpoint: %[5]s
      region: %[10]s
      bucket: %[6]s
      prefix: %[7]s
      pathStyle: true
      credentials: {accessKeyIDEnv: FIREDRILL_LAB_PRIMARY_ACCESS_KEY, secretAccessKeyEnv: FIREDRILL_LAB_PRIMARY_SECRET_KEY}
      objectLock: {mode: COMPLIANCE}
  target:
    kubeconfig: %[8]q
    context: %[9]s
    namespaceMapping: {%[1]s: %[1]s-r}
  checks:
    - name: workloads
      timeout: 40s
      workloads: {namespace: %[1]s}
    - name: deployer-identity
      serviceAccount: {namespace: %[1]s, name: ci-deployer}
    - name: lost-identity
      timeout: 10s
      serviceAccount: {namespace: %[1]s, name: release-bot}
  cleanup: {policy: always}
`, ns, backup, l.SourceKubeconfig, l.VeleroNamespace, l.Stores["primary"].Endpoint, l.Stores["primary"].Bucket,
		l.Stores["primary"].Prefix, l.ScratchKubeconfig, os.Getenv("FIREDRILL_LAB_SCRATCH_CONTEXT"), l.Stores["primary"].Region)
	file := filepath.Join(t.TempDir(), "e2e-broken.yaml")
	require.NoError(t, os.WriteFile(file, []byte(scenario), 0o644))
	state := t.TempDir()
	res := firedrill(t, ctx, drillEnv(), "run", file, "--state-dir", state, "-o", "json", "--log-level", "warn")
	require.NotEqual(t, 0, res.code, "the drill must fail:\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep), res.stdout)
	assert.NotEqual(t, "pass", rep.Result)
	checks := readChecks(t, state, rep.DrillID)

	w := checkNamed(t, checks, "workloads")
	assert.False(t, w.Passed)
	t.Logf("workloads check: %s", w.Message)
	// kubelet's words, per workload.
	assert.Contains(t, w.Message, "deployment "+target+"/web")
	assert.Contains(t, w.Message, "Readiness probe failed", "web's probe fails: the lost policy blocks web -> api")
	assert.Contains(t, w.Message, "deployment "+target+"/worker")
	// Waiting in CrashLoopBackOff or, between two back-offs, terminated
	// with its restarts counted: either way the exit code and the log.
	assert.Regexp(t, `CrashLoopBackOff|crash loop`, w.Message)
	assert.Contains(t, w.Message, "exit 2")
	assert.Contains(t, w.Message, `container worker last logged:`)
	assert.Contains(t, w.Message, "deployment "+target+"/legacy")
	assert.Contains(t, w.Message, "ErrImageNeverPull")
	assert.Contains(t, w.Message, "never-built:1.0")
	assert.NotContains(t, w.Message, "deployment "+target+"/api:", "api itself is Ready")

	ok := checkNamed(t, checks, "deployer-identity")
	assert.True(t, ok.Passed, ok.Message)
	lost := checkNamed(t, checks, "lost-identity")
	assert.False(t, lost.Passed)
	assert.Contains(t, lost.Message, "release-bot")
	assert.Contains(t, lost.Message, "is not in the target")
	assertNamespacesGone(t, l, []string{target})
}

func deploymentReady(ctx context.Context, cs kubernetes.Interface, ns, name string) error {
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !available(d) || d.Status.ReadyReplicas < 1 {
		return fmt.Errorf("deployment %s/%s not ready", ns, name)
	}
	return nil
}

// applyYAML applies manifests with the lab's kubectl.
func applyYAML(t *testing.T, ctx context.Context, kubeconfig string, manifests []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "manifests.yaml")
	require.NoError(t, os.WriteFile(f, manifests, 0o644))
	cmd := exec.CommandContext(ctx, filepath.Join(os.Getenv("FIREDRILL_LAB_BIN"), "kubectl"), "--kubeconfig", kubeconfig, "apply", "-f", f)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl apply:\n%s", out)
}
