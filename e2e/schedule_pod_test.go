//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/firedrill-dev/firedrill/internal/evidence/evidencetest"
	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
)

// runnerImage builds the runner image (firedrill, kubectl, velero, a shell)
// once per test run and imports it into the scratch node's containerd, as
// an operator without a registry would (`ctr images import`).
func runnerImage(t *testing.T, ctx context.Context) string {
	t.Helper()
	const ref = "localhost/firedrill/runner:e2e"
	archive := filepath.Join(t.TempDir(), "runner.tar")
	cmd := exec.CommandContext(ctx, "make", "-s", "-C", "..", "image-runner", "RUNNER_IMAGE_OUT="+archive, "RUNNER_IMAGE_NAME="+ref)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "make image-runner:\n%s", out)
	sock := os.Getenv("FIREDRILL_LAB_SCRATCH_CONTAINERD")
	require.NotEmpty(t, sock, "FIREDRILL_LAB_SCRATCH_CONTAINERD")
	out, err = exec.CommandContext(ctx, "ctr", "-a", sock, "-n", "k8s.io", "images", "import", archive).CombinedOutput()
	require.NoError(t, err, "ctr images import:\n%s", out)
	return ref
}

// podDrill is a scheduled drill of the lab's scenario installed in the
// scratch cluster as an operator would: what `schedule render` printed,
// applied, and the Secrets it names.
type podDrill struct {
	ns, prefix, keys              string
	historyBucket, evidenceBucket string
	cron                          *batchv1.CronJob
	targets                       []string
	keyPEM                        []byte
	primary                       labStore
}

// installScheduledDrill renders the schedule of the lab's scenario as the
// pod sees the lab (S3 through the relay at the scratch node's gateway, a
// command check running sh and kubectl), applies it, creates its Secrets,
// and removes it all at the end of the test.
func installScheduledDrill(t *testing.T, ctx context.Context, l labEnv, name string) podDrill {
	t.Helper()
	image := runnerImage(t, ctx)
	gw := os.Getenv("FIREDRILL_LAB_SCRATCH_POD_GATEWAY")
	require.NotEmpty(t, gw, "FIREDRILL_LAB_SCRATCH_POD_GATEWAY")
	// Endpoints on the machine's loopback move to the gateway; the lab
	// scenario names some (the off-site copy) there already.
	labText, err := os.ReadFile(filepath.Join(os.Getenv("FIREDRILL_SCENARIOS"), l.Scenario+".yaml"))
	require.NoError(t, err)
	var replace []string
	for _, s := range []string{"primary", "offsite", "offcloud"} {
		ep := l.Stores[s].Endpoint
		if strings.Contains(string(labText), "endpoint: "+ep) {
			replace = append(replace, "endpoint: "+ep, "endpoint: "+strings.Replace(ep, "127.0.0.1", gw, 1))
		}
	}
	replace = append(replace, "  runbook: {file:", `    - name: shop-api-deployment
      command: {run: [sh, -c, "kubectl get deployments -A -o name | grep -q deployment.apps/api"]}
  runbook: {file:`)
	file, targets := drillScenario(t, l, name, replace...)
	stamp := time.Now().UTC().Format("150405")
	d := podDrill{ns: "firedrill-" + name + "-" + stamp, prefix: "firedrill-" + name + "-" + stamp, targets: targets,
		primary: l.Stores["primary"], historyBucket: os.Getenv("FIREDRILL_LAB_HISTORY_BUCKET"),
		evidenceBucket: os.Getenv("FIREDRILL_LAB_EVIDENCE_BUCKET")}
	require.NotEmpty(t, d.historyBucket, "FIREDRILL_LAB_HISTORY_BUCKET")
	podEndpoint := strings.Replace(d.primary.Endpoint, "127.0.0.1", gw, 1)
	res := firedrill(t, ctx, nil, "schedule", "render", "--scenario", file, "--cadence", "weekly",
		"--namespace", d.ns, "--image", image,
		"--history", "s3://"+d.historyBucket+"/"+d.prefix, "--history-endpoint", podEndpoint, "--history-path-style",
		"--evidence-push", "s3://"+d.evidenceBucket+"/"+d.prefix, "--evidence-push-endpoint", podEndpoint, "--evidence-push-path-style",
		// The lab's evidence bucket is for tests: a day, not seven years.
		"--run-arg", "--evidence-retention=1d")
	require.Equal(t, 0, res.code, "schedule render:\n%s", res.stderr)

	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	objects := parseManifests(t, res.stdout)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for i := len(objects) - 1; i >= 0; i-- {
			_ = remove(ctx, dyn, mapper, objects[i])
		}
		deleteNamespaces(t, cs, append([]string{d.ns}, targets...)...)
	})
	for _, u := range objects {
		require.NoError(t, apply(t, ctx, dyn, mapper, u, false), "apply %s %s", u.GetKind(), u.GetName())
		if u.GetKind() == "CronJob" {
			d.cron = &batchv1.CronJob{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d.cron))
		}
	}
	require.NotNil(t, d.cron, "render printed a CronJob")

	// The Secrets the manifests refer to, as the README tells an operator.
	d.keys = t.TempDir()
	kg := firedrill(t, ctx, nil, "evidence", "keygen", "--out-dir", d.keys)
	require.Equal(t, 0, kg.code, kg.stderr)
	d.keyPEM, err = os.ReadFile(filepath.Join(d.keys, "firedrill-evidence.key"))
	require.NoError(t, err)
	src, err := os.ReadFile(l.SourceKubeconfig)
	require.NoError(t, err)
	p := d.primary
	secrets := map[string]map[string]string{
		"firedrill-credentials": {
			"FIREDRILL_LAB_PRIMARY_ACCESS_KEY": p.AccessKey, "FIREDRILL_LAB_PRIMARY_SECRET_KEY": p.SecretKey,
			"FIREDRILL_LAB_OFFSITE_ACCESS_KEY": l.Stores["offsite"].AccessKey, "FIREDRILL_LAB_OFFSITE_SECRET_KEY": l.Stores["offsite"].SecretKey,
			"FIREDRILL_LAB_OFFCLOUD_ACCESS_KEY": l.Stores["offcloud"].AccessKey, "FIREDRILL_LAB_OFFCLOUD_SECRET_KEY": l.Stores["offcloud"].SecretKey,
		},
		"firedrill-source-kubeconfig": {"kubeconfig": string(src)},
		"firedrill-history":           {"FIREDRILL_HISTORY_ACCESS_KEY_ID": p.AccessKey, "FIREDRILL_HISTORY_SECRET_ACCESS_KEY": p.SecretKey},
		"firedrill-evidence": {"FIREDRILL_EVIDENCE_KEY": string(d.keyPEM),
			"FIREDRILL_EVIDENCE_ACCESS_KEY_ID": p.AccessKey, "FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY": p.SecretKey},
	}
	for name, data := range secrets {
		_, err := cs.CoreV1().Secrets(d.ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{})
		require.NoError(t, err, "create secret %s", name)
	}
	return d
}

// startJob starts one run now, as `kubectl create job --from=cronjob/NAME`
// makes it, and returns the Job's name.
func (d podDrill) startJob(t *testing.T, ctx context.Context, cs kubernetes.Interface) string {
	t.Helper()
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: d.cron.Name + "-manual", Namespace: d.ns,
			Annotations: map[string]string{"cronjob.kubernetes.io/instantiate": "manual"}, Labels: d.cron.Spec.JobTemplate.Labels},
		Spec: d.cron.Spec.JobTemplate.Spec,
	}
	_, err := cs.BatchV1().Jobs(d.ns).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	return job.Name
}

// waitJob waits until the Job completes or fails.
func (d podDrill) waitJob(ctx context.Context, cs kubernetes.Interface, name string) (*batchv1.Job, error) {
	var done *batchv1.Job
	err := waitFor(ctx, func() error {
		j, err := cs.BatchV1().Jobs(d.ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range j.Status.Conditions {
			if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
				done = j
				return nil
			}
		}
		return fmt.Errorf("job %s still running", j.Name)
	})
	return done, err
}

// TestSchedule_DrillRunsAsPod applies what `firedrill schedule render`
// prints to the scratch cluster, starts a run of the CronJob as a Job, and
// the pod, in the runner image, under the rendered RBAC, with the Secrets
// the manifests name, runs the whole drill against the lab: restore,
// checks (one a command running sh and kubectl), runbook steps calling
// kubectl, its record in the shared history and its signed evidence in the
// evidence bucket, free of the restored Secrets' values.
func TestSchedule_DrillRunsAsPod(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 12*time.Minute)
	d := installScheduledDrill(t, ctx, l, "e2e-pod")
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	start := time.Now()
	job := d.startJob(t, ctx, cs)
	done, err := d.waitJob(ctx, cs, job)
	logs := podLogs(t, ctx, d.ns, job)
	require.NoError(t, err, "the Job ends; pod log:\n%s", logs)
	t.Logf("the scheduled drill took %s as a pod; its log:\n%s", time.Since(start).Round(time.Second), logs)
	require.EqualValues(t, 1, done.Status.Succeeded, "the drill in the pod passed; log:\n%s", logs)
	assert.Contains(t, logs, "runbook: step workloads-available passed", "the runbook's kubectl steps ran in the pod")
	assert.Contains(t, logs, "check shop-web-serves passed")
	assert.Contains(t, logs, "check shop-api-deployment passed", "the command check ran sh and kubectl in the pod")
	assert.NotContains(t, logs, "evidence incomplete", "the pod's identity could read what the evidence needs")

	// Cleanup deleted the CRD its crds phase restored, as the drill's
	// ServiceAccount, admitted by the schedule's .crds policy; that policy
	// refuses the delete of any other CRD.
	assert.Regexp(t, `cleanup: deleted [^\n]*customresourcedefinition/`+regexp.QuoteMeta(storefrontsCRD), logs)
	assert.NotContains(t, logs, "list the CustomResourceDefinitions", "cleanup could list the CRDs it restored")
	id := drillIDInLog.FindString(logs)
	require.NotEmpty(t, id, "the drill's id in its log")
	_, dyn := kubeClients(t, l.ScratchKubeconfig)
	assertNoCRDsOfDrill(t, ctx, dyn, id)
	assertCRDGone(t, ctx, dyn, storefrontsCRD)
	d.assertCRDDeletePolicy(t, ctx, l)

	// Its record is in the shared history, where the schedule says.
	mc := d.primary.minioClient(t)
	var records []string
	for o := range mc.ListObjects(ctx, d.historyBucket, minio.ListObjectsOptions{Prefix: d.prefix + "/", Recursive: true}) {
		require.NoError(t, o.Err)
		records = append(records, o.Key)
	}
	assert.NotEmpty(t, records, "history records under %s/", d.prefix)
	hist := firedrill(t, ctx, []string{"FIREDRILL_HISTORY_ACCESS_KEY_ID=" + d.primary.AccessKey, "FIREDRILL_HISTORY_SECRET_ACCESS_KEY=" + d.primary.SecretKey},
		"history", "-o", "json", "--state-dir", t.TempDir(), "--history", "s3://"+d.historyBucket+"/"+d.prefix,
		"--history-endpoint", d.primary.Endpoint, "--history-path-style")
	require.Equal(t, 0, hist.code, hist.stderr)
	assert.Contains(t, hist.stdout, `"result": "pass"`)

	// Its evidence is in the evidence bucket, intact for the auditor's
	// public key, and holds none of the restored Secrets' values.
	var bundles []string
	for o := range mc.ListObjects(ctx, d.evidenceBucket, minio.ListObjectsOptions{Prefix: d.prefix + "/", Recursive: true}) {
		require.NoError(t, o.Err)
		bundles = append(bundles, o.Key)
	}
	require.Len(t, bundles, 1, "one evidence bundle under %s/", d.prefix)
	obj, err := mc.GetObject(ctx, d.evidenceBucket, bundles[0], minio.GetObjectOptions{})
	require.NoError(t, err)
	bundle, err := io.ReadAll(obj)
	require.NoError(t, err)
	bundleFile := filepath.Join(t.TempDir(), "evidence.tar.gz")
	require.NoError(t, os.WriteFile(bundleFile, bundle, 0o644))
	ver := firedrill(t, ctx, nil, "evidence", "verify", bundleFile, "--public-key", filepath.Join(d.keys, "firedrill-evidence.pub"))
	assert.Equal(t, 0, ver.code, "evidence verify:\n%s\n%s", ver.stdout, ver.stderr)
	plain := evidencetest.Gunzip(t, bundle)
	for _, secret := range []string{"lab-payment-key-0000", "lab-only-not-a-secret", d.primary.SecretKey, string(d.keyPEM)} {
		assert.False(t, bytes.Contains(plain, []byte(secret)), "bundle holds %q", secret)
	}
	assert.Contains(t, string(plain), `"PAYMENT_API_KEY": "[redacted]"`, "the restored Secrets were read, and kept only redacted")
}

// TestSchedule_PodTerminatedMidRestoreCleansUp: the pod of a scheduled
// drill is deleted (kubelet sends SIGTERM, as at the Job's deadline or on
// eviction) while it restores; the drill stops, cleans up the scratch
// cluster within the pod's grace period, and records itself as
// interrupted in the shared history.
func TestSchedule_PodTerminatedMidRestoreCleansUp(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 10*time.Minute)
	d := installScheduledDrill(t, ctx, l, "e2e-sigterm")
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	job := d.startJob(t, ctx, cs)
	var pod string
	require.NoError(t, waitFor(ctx, func() error {
		pods, err := cs.CoreV1().Pods(d.ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
		if err != nil || len(pods.Items) == 0 || len(pods.Items[0].Status.ContainerStatuses) == 0 ||
			pods.Items[0].Status.ContainerStatuses[0].State.Running == nil {
			return fmt.Errorf("drill pod not running yet (%v)", err)
		}
		pod = pods.Items[0].Name
		return nil
	}))
	r, err := cs.CoreV1().Pods(d.ns).GetLogs(pod, &corev1.PodLogOptions{Follow: true}).Stream(ctx)
	require.NoError(t, err)
	defer r.Close()
	var log bytes.Buffer
	buf := make([]byte, 4096)
	deleted := false
	for {
		n, err := r.Read(buf)
		log.Write(buf[:n])
		if !deleted && workloadsPhaseStarted.MatchString(log.String()) {
			require.NoError(t, cs.CoreV1().Pods(d.ns).Delete(ctx, pod, metav1.DeleteOptions{}))
			deleted = true
		}
		if err != nil {
			break
		}
	}
	t.Logf("the drill pod's log:\n%s", log.String())
	require.True(t, deleted, "the drill reached its workloads restore phase")
	assert.Contains(t, log.String(), "interrupted")
	assert.Contains(t, log.String(), "cleanup: deleted")
	assertNamespacesGone(t, l, d.targets)
	hist := firedrill(t, ctx, []string{"FIREDRILL_HISTORY_ACCESS_KEY_ID=" + d.primary.AccessKey, "FIREDRILL_HISTORY_SECRET_ACCESS_KEY=" + d.primary.SecretKey},
		"history", "-o", "json", "--state-dir", t.TempDir(), "--history", "s3://"+d.historyBucket+"/"+d.prefix,
		"--history-endpoint", d.primary.Endpoint, "--history-path-style")
	require.Equal(t, 0, hist.code, hist.stderr)
	assert.Contains(t, hist.stdout, `"result": "interrupted"`)
}

// podLogs is the log of the Job's (last) pod, for failure messages.
func podLogs(t *testing.T, ctx context.Context, ns, job string) string {
	t.Helper()
	cs, _ := kubeClients(t, os.Getenv("FIREDRILL_LAB_SCRATCH_KUBECONFIG"))
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "job-name=" + job})
	if err != nil || len(pods.Items) == 0 {
		return fmt.Sprintf("(no pod: %v)", err)
	}
	p := pods.Items[len(pods.Items)-1]
	r, err := cs.CoreV1().Pods(ns).GetLogs(p.Name, &corev1.PodLogOptions{}).Stream(ctx)
	if err != nil {
		return fmt.Sprintf("(log of %s not read: %v; status %+v)", p.Name, err, p.Status)
	}
	defer r.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, r)
	return b.String()
}
