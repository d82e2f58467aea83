//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
)

var restoreGVR = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "restores"}

// noisyResources are not worth restoring into a scratch cluster: the
// controllers there recreate them.
const noisyResources = "pods,replicasets.apps,endpoints,endpointslices.discovery.k8s.io"

// TestLab_DefaultOrderRestoreRejected proves the trap is real: a plain
// `velero restore create` restores Deployments before NetworkPolicies, and
// the hardened scratch cluster refuses them.
func TestLab_DefaultOrderRestoreRejected(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 4*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	suffix := time.Now().UTC().Format("150405")
	target := "shop-e2e-default-" + suffix
	t.Cleanup(func() { deleteNamespaces(t, cs, target) })

	name := "e2e-default-order-" + suffix
	t.Cleanup(func() { deleteRestores(t, l, name) })
	l.velero(t, ctx, l.ScratchKubeconfig, "restore", "create", name, "--from-backup", l.LatestBackup,
		"--include-namespaces", "shop", "--namespace-mappings", "shop:"+target, "--wait")

	r, err := dyn.Resource(restoreGVR).Namespace(l.VeleroNamespace).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	phase, _, _ := unstructured.NestedString(r.Object, "status", "phase")
	assert.Contains(t, []string{"PartiallyFailed", "Failed"}, phase, "restore %s phase", name)

	details := l.velero(t, ctx, l.ScratchKubeconfig, "restore", "describe", name, "--details")
	assert.Contains(t, details, l.WebhookDeny, "restore errors name the webhook's refusal:\n%s", details)

	_, err = cs.AppsV1().Deployments(target).Get(ctx, "web", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "deployment web must have been refused, got %v", err)
}

// TestLab_NetworkPolicyFirstRestoreSucceeds restores the same backup in two
// Velero restores, namespaces and NetworkPolicies first, and gets the whole
// application back, Available.
func TestLab_NetworkPolicyFirstRestoreSucceeds(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 4*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	suffix := time.Now().UTC().Format("150405")
	var mappings, targets []string
	for _, ns := range l.AppNamespaces {
		mappings = append(mappings, ns+":"+ns+"-e2e-np-"+suffix)
		targets = append(targets, ns+"-e2e-np-"+suffix)
	}
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	common := []string{"--from-backup", l.LatestBackup, "--include-namespaces", strings.Join(l.AppNamespaces, ","),
		"--namespace-mappings", strings.Join(mappings, ","), "--wait"}

	first, second := "e2e-np-first-"+suffix, "e2e-np-rest-"+suffix
	t.Cleanup(func() { deleteRestores(t, l, first, second) })
	l.velero(t, ctx, l.ScratchKubeconfig, append([]string{"restore", "create", first,
		"--include-resources", "namespaces,networkpolicies.networking.k8s.io"}, common...)...)
	// The backup's Storefronts need their CRD, which a namespace-limited
	// Restore does not bring (firedrill's crds phase does): not this
	// test's subject.
	l.velero(t, ctx, l.ScratchKubeconfig, append([]string{"restore", "create", second,
		"--exclude-resources", "networkpolicies.networking.k8s.io,storefronts.shop.example.com," + noisyResources}, common...)...)

	for _, name := range []string{first, second} {
		r, err := dyn.Resource(restoreGVR).Namespace(l.VeleroNamespace).Get(ctx, name, metav1.GetOptions{})
		require.NoError(t, err)
		phase, _, _ := unstructured.NestedString(r.Object, "status", "phase")
		errs, _, _ := unstructured.NestedInt64(r.Object, "status", "errors")
		reason, _, _ := unstructured.NestedString(r.Object, "status", "failureReason")
		assert.Equal(t, "Completed", phase, "restore %s (errors: %d, failure reason: %q)", name, errs, reason)
	}

	require.NoError(t, waitFor(ctx, func() error {
		for _, ns := range targets {
			deps, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			sts, err := cs.AppsV1().StatefulSets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return err
			}
			if len(deps.Items)+len(sts.Items) == 0 {
				return fmt.Errorf("no workloads restored in %s", ns)
			}
			for _, d := range deps.Items {
				if !available(&d) {
					return fmt.Errorf("deployment %s/%s not available", ns, d.Name)
				}
			}
			for _, s := range sts.Items {
				if s.Status.ReadyReplicas < *s.Spec.Replicas {
					return fmt.Errorf("statefulset %s/%s not ready", ns, s.Name)
				}
			}
		}
		return nil
	}), "restored workloads become Available")
}

func available(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// waitFor polls check until it passes or ctx ends.
func waitFor(ctx context.Context, check func() error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// deleteRestores removes a test's Velero Restore objects from the scratch
// cluster (their logs stay in the bucket, under restores/).
func deleteRestores(t *testing.T, l labEnv, names ...string) {
	_, dyn := kubeClients(t, l.ScratchKubeconfig)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, n := range names {
		err := dyn.Resource(restoreGVR).Namespace(l.VeleroNamespace).Delete(ctx, n, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete restore %s: %v", n, err)
		}
	}
}

// deleteNamespaces removes what a test restored and waits until it is gone,
// so the scratch cluster is clean for the next test.
func deleteNamespaces(t *testing.T, cs kubernetes.Interface, names ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, n := range names {
		if err := cs.CoreV1().Namespaces().Delete(ctx, n, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("delete namespace %s: %v", n, err)
		}
	}
	err := waitFor(ctx, func() error {
		for _, n := range names {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, n, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return fmt.Errorf("namespace %s still there", n)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("clean up namespaces: %v", err)
	}
	deleteRestoredCRDs(t, ctx, cs)
}

// deleteRestoredCRDs deletes the CustomResourceDefinitions Velero restored
// into the cluster (label velero.io/restore-name), which a drill that kept
// what it restored (cleanup policy never, or a failed drill's onSuccess)
// leaves behind for the next test's crds phase to find, and waits until
// they are gone. The lab's own CRDs carry no such label.
func deleteRestoredCRDs(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	const crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
	rc := cs.Discovery().RESTClient()
	if err := rc.Delete().AbsPath(crds).Param("labelSelector", velerov1.RestoreNameLabel).Do(ctx).Error(); err != nil {
		t.Errorf("delete the CRDs Velero restored: %v", err)
		return
	}
	err := waitFor(ctx, func() error {
		raw, err := rc.Get().AbsPath(crds).Param("labelSelector", velerov1.RestoreNameLabel).DoRaw(ctx)
		if err != nil {
			return err
		}
		var list struct {
			Items []metav1.PartialObjectMetadata `json:"items"`
		}
		if err := json.Unmarshal(raw, &list); err != nil {
			return err
		}
		if len(list.Items) > 0 {
			return fmt.Errorf("CRD %s still there", list.Items[0].Name)
		}
		return nil
	})
	if err != nil {
		t.Errorf("clean up the CRDs Velero restored: %v", err)
	}
}
