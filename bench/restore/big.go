package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/internal/kube"
)

// runBig generates a namespace of n objects in the source cluster (one
// NetworkPolicy, one Deployment, ConfigMaps for the rest), backs it up with
// the lab's Velero, and runs `firedrill restore` of that backup into the
// scratch cluster as a child process, reporting wall time and the child's
// peak RSS (getrusage maxrss). The namespace is removed from the source
// afterwards; the backup stays in the (object-locked) bucket.
func runBig(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("big", flag.ContinueOnError)
	n := fs.Int("objects", 2000, "objects in the namespace")
	bin := fs.String("firedrill", "bin/firedrill", "firedrill binary")
	if err := fs.Parse(args); err != nil {
		return err
	}
	src, err := kube.New(os.Getenv("FIREDRILL_LAB_SOURCE_KUBECONFIG"), "")
	if err != nil {
		return err
	}
	stamp := time.Now().UTC().Format("150405")
	ns := "fd-bench-big-" + stamp
	fmt.Printf("generating %d objects in namespace %s of the source cluster\n", *n, ns)
	t0 := time.Now()
	if err := generate(ctx, src, ns, *n); err != nil {
		return err
	}
	defer func() {
		_ = src.Kube.CoreV1().Namespaces().Delete(context.WithoutCancel(ctx), ns, metav1.DeleteOptions{})
	}()
	fmt.Printf("generated in %v\n", time.Since(t0).Round(time.Millisecond))

	backup := "fd-bench-big-" + stamp
	t0 = time.Now()
	cmd := exec.CommandContext(ctx, os.Getenv("FIREDRILL_LAB_VELERO"), "backup", "create", backup,
		"--include-namespaces", ns, "--wait", "--namespace", os.Getenv("FIREDRILL_LAB_VELERO_NAMESPACE"))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+os.Getenv("FIREDRILL_LAB_SOURCE_KUBECONFIG"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("velero backup create: %v\n%s", err, out)
	}
	fmt.Printf("backup %s taken in %v\n", backup, time.Since(t0).Round(time.Millisecond))

	dir, err := os.MkdirTemp("", "fd-bench-big")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(file, []byte(scenarioYAML(ns, backup)), 0o600); err != nil {
		return err
	}
	run := exec.CommandContext(ctx, *bin, "restore", file, "-o", "json")
	run.Stderr = os.Stderr
	t0 = time.Now()
	out, err := run.Output()
	wall := time.Since(t0)
	if err != nil {
		return fmt.Errorf("firedrill restore: %v\n%s", err, out)
	}
	var res struct {
		Restores []struct {
			Phase         string
			Status        string
			ItemsRestored int64   `json:"items_restored"`
			Seconds       float64 `json:"duration_seconds"`
		}
		Checks []struct {
			Name    string
			Passed  bool
			Seconds float64 `json:"duration_seconds"`
		}
		Passed bool
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return err
	}
	ru := run.ProcessState.SysUsage().(*syscall.Rusage)
	fmt.Printf("firedrill restore of %d objects: passed=%v wall %v (includes waiting for Velero's backup sync and cleanup), peak RSS %.1f MiB, user %v sys %v\n",
		*n, res.Passed, wall.Round(time.Millisecond), float64(ru.Maxrss)/1024,
		time.Duration(ru.Utime.Nano()).Round(time.Millisecond), time.Duration(ru.Stime.Nano()).Round(time.Millisecond))
	for _, r := range res.Restores {
		fmt.Printf("  phase %s: %s, %d items in %.2fs\n", r.Phase, r.Status, r.ItemsRestored, r.Seconds)
	}
	for _, c := range res.Checks {
		fmt.Printf("  check %s: passed=%v in %.2fs\n", c.Name, c.Passed, c.Seconds)
	}
	return nil
}

func generate(ctx context.Context, c *kube.Clients, ns string, n int) error {
	cs := c.Kube
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "default-deny"},
		Spec:       networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	one := int32(1)
	labels := map[string]string{"app": "big"}
	if _, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "big"},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				// The lab's nodes are real and reach no registry: the
				// shop image is the one every node has.
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "localhost/firedrill-lab/shop:lab",
					ImagePullPolicy: corev1.PullNever, Command: []string{"/shop", "db"}, Env: []corev1.EnvVar{{Name: "DATA_DIR", Value: "/tmp/data"}}}}}}},
	}, metav1.CreateOptions{}); err != nil {
		return err
	}
	jobs := make(chan int)
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%05d", i)},
					Data: map[string]string{"value": fmt.Sprintf("object %d of the bench namespace", i)}}
				if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range n - 2 {
		select {
		case jobs <- i:
		case err := <-errs:
			close(jobs)
			wg.Wait()
			return err
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	return nil
}

func scenarioYAML(ns, backup string) string {
	e := os.Getenv
	return fmt.Sprintf(`apiVersion: firedrill.dev/v1alpha1
kind: Scenario
metadata: {name: bench-big}
spec:
  disaster: {summary: bench, lost: [namespace], lostNamespaces: [%[1]s], detection: bench, lead: bench}
  objectives: {rto: 1h, rpo: 24h}
  source: {kubeconfig: %[3]q}
  backups:
    veleroNamespace: %[4]s
    backupName: %[2]s
    includedNamespaces: [%[1]s]
  storage:
    primary:
      endpoint: %[5]s
      bucket: %[6]s
      prefix: %[7]s
      pathStyle: true
      objectLock: {mode: COMPLIANCE}
  target:
    kubeconfig: %[8]q
    namespaceMapping: {%[1]s: %[1]s-r}
  checks:
    - name: workloads
      workloads: {namespace: %[1]s}
  cleanup: {policy: always}
`, ns, backup, e("FIREDRILL_LAB_SOURCE_KUBECONFIG"), e("FIREDRILL_LAB_VELERO_NAMESPACE"), e("FIREDRILL_LAB_PRIMARY_ENDPOINT"),
		e("FIREDRILL_LAB_PRIMARY_BUCKET"), e("FIREDRILL_LAB_PRIMARY_PREFIX"), e("FIREDRILL_LAB_SCRATCH_KUBECONFIG"))
}
