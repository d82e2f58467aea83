//go:build e2e

package e2e

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/firedrill-dev/firedrill/drill"
)

// The lab application's CRD and its custom resources (e2e/lab/manifests/app.yaml).
const storefrontsCRD = "storefronts.shop.example.com"

var (
	crdGVR        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	storefrontGVR = schema.GroupVersionResource{Group: "shop.example.com", Version: "v1", Resource: "storefronts"}
	// drillIDInLog finds the drill's id in its log (drill.NewDrillID).
	drillIDInLog = regexp.MustCompile(`fd-[0-9]{8}-[0-9]{6}-[0-9a-f]{4}`)
)

// assertNoCRDsOfDrill checks that no CustomResourceDefinition Velero
// restored for drill id (label velero.io/restore-name=<id>-<phase>) is
// left in the cluster, not even one still being deleted: cleanup waits
// until the API server has removed each CRD and its custom resources
// (finalizer customresourcecleanup.apiextensions.k8s.io) before it says
// "deleted".
func assertNoCRDsOfDrill(t *testing.T, ctx context.Context, dyn dynamic.Interface, id string) {
	t.Helper()
	list, err := dyn.Resource(crdGVR).List(ctx, metav1.ListOptions{LabelSelector: velerov1.RestoreNameLabel})
	require.NoError(t, err)
	for _, crd := range list.Items {
		if strings.HasPrefix(crd.GetLabels()[velerov1.RestoreNameLabel], id+"-") {
			t.Errorf("CRD %s that drill %s restored (%s=%s) is still there after cleanup (being deleted: %v)",
				crd.GetName(), id, velerov1.RestoreNameLabel, crd.GetLabels()[velerov1.RestoreNameLabel], crd.GetDeletionTimestamp() != nil)
		}
	}
}

// assertCRDGone checks that CRD name is gone from the cluster, not merely
// being deleted (see assertNoCRDsOfDrill).
func assertCRDGone(t *testing.T, ctx context.Context, dyn dynamic.Interface, name string) {
	t.Helper()
	crd, err := dyn.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		t.Errorf("CRD %s is still in the scratch cluster after cleanup (being deleted: %v; %s=%q): left behind by the drill, or restored again by another drill running at the same time",
			name, crd.GetDeletionTimestamp() != nil, velerov1.RestoreNameLabel, crd.GetLabels()[velerov1.RestoreNameLabel])
		return
	}
	assert.True(t, apierrors.IsNotFound(err), "get CRD %s: %v", name, err)
}

// throwawayCRD creates, as the lab's admin, a CRD of a group of its own,
// probe<id>s.e2e.firedrill.dev, with labels, and deletes it at the end of
// the test if it is still there.
func throwawayCRD(t *testing.T, ctx context.Context, dyn dynamic.Interface, id string, labels map[string]string) string {
	t.Helper()
	group := "e2e.firedrill.dev"
	singular := "probe" + id
	name := singular + "s." + group
	meta := map[string]any{"name": name}
	if len(labels) > 0 {
		l := map[string]any{}
		for k, v := range labels {
			l[k] = v
		}
		meta["labels"] = l
	}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": meta,
		"spec": map[string]any{
			"group": group, "scope": "Namespaced",
			"names": map[string]any{"plural": singular + "s", "singular": singular, "kind": "Probe" + id, "listKind": "Probe" + id + "List"},
			"versions": []any{map[string]any{"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}},
		},
	}}
	_, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{})
	require.NoError(t, err, "create CRD %s", name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := dyn.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("clean up CRD %s: %v", name, err)
		}
	})
	return name
}

// assertCRDDeletePolicy: the drill's ServiceAccount (the lab's admin
// impersonating it) may delete a CRD only when the CRD carries the label
// of a drill's Restore of CRDs; any other CRD is refused by the admission
// policy the schedule renders, though RBAC allows the delete.
func (d podDrill) assertCRDDeletePolicy(t *testing.T, ctx context.Context, l labEnv) {
	t.Helper()
	_, admin := kubeClients(t, l.ScratchKubeconfig)
	rc := rest.CopyConfig(restConfig(t, l.ScratchKubeconfig))
	sa := d.cron.Spec.JobTemplate.Spec.Template.Spec.ServiceAccountName
	require.NotEmpty(t, sa)
	rc.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + d.ns + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + d.ns, "system:authenticated"}}
	asSA, err := dynamic.NewForConfig(rc)
	require.NoError(t, err)
	stamp := time.Now().UTC().Format("150405")
	for _, tt := range []struct {
		name    string
		id      string
		labels  map[string]string
		allowed bool
	}{
		{"without the label", "a", nil, false},
		{"restored by a Restore not a drill's", "b", map[string]string{velerov1.RestoreNameLabel: "my-restore"}, false},
		{"restored by a drill's other phase", "c", map[string]string{velerov1.RestoreNameLabel: "fd-20261201-090000-3f9a-workloads"}, false},
		{"restored by a drill's Restore of CRDs", "d", map[string]string{velerov1.RestoreNameLabel: "fd-20261201-090000-3f9a-crds"}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := throwawayCRD(t, ctx, admin, stamp+tt.id, tt.labels)
			err := asSA.Resource(crdGVR).Delete(ctx, name, metav1.DeleteOptions{})
			if tt.allowed {
				require.NoError(t, err, "the ServiceAccount deletes a CRD a drill's Restore created")
				return
			}
			require.Error(t, err, "the ServiceAccount deleted CRD %s", name)
			assert.True(t, apierrors.IsForbidden(err) || apierrors.IsInvalid(err), "%v", err)
			assert.Contains(t, err.Error(), "may only delete CustomResourceDefinitions a drill's Restore created", "refused by the admission policy, not RBAC")
			_, err = admin.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			assert.NoError(t, err, "CRD %s is still there", name)
		})
	}
}

// storefrontsAtChecks is a progress writer that, when the drill starts
// its checks (every restore phase has ended, nothing is cleaned up yet),
// reads the Storefronts in namespace ns. The drill writes its progress
// from its own goroutine and waits for each write, so what it reads is
// what the restore left.
type storefrontsAtChecks struct {
	t   *testing.T
	ctx context.Context
	dyn dynamic.Interface
	ns  string

	mu    sync.Mutex
	read  bool
	items map[string]map[string]any // name -> spec
	err   error
}

func (w *storefrontsAtChecks) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.read || !strings.HasPrefix(string(p), "check ") {
		return len(p), nil
	}
	w.read = true
	list, err := w.dyn.Resource(storefrontGVR).Namespace(w.ns).List(w.ctx, metav1.ListOptions{})
	if err != nil {
		w.err = err
		return len(p), nil
	}
	w.items = map[string]map[string]any{}
	for _, it := range list.Items {
		spec, _, _ := unstructured.NestedMap(it.Object, "spec")
		w.items[it.GetName()] = spec
	}
	return len(p), nil
}

// TestRestore_CustomResourcesComeBackAndTheirCRDGoes: the lab's backups
// hold the application's CRD (storefronts.shop.example.com) and two
// Storefronts. A drill restores the CRD in its crds phase, the
// Storefronts with the workloads into the mapped shop namespace, and
// cleanup deletes the CRD it created, which no longer exists afterwards.
func TestRestore_CustomResourcesComeBackAndTheirCRDGoes(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	sc, targets := labScenario(t, l, "crd")
	t.Cleanup(func() { deleteNamespaces(t, cs, targets...) })
	_, err := dyn.Resource(crdGVR).Get(ctx, storefrontsCRD, metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err),
		"precondition: the scratch cluster has no CRD %s before the drill (a drill that left it behind, or one running now?): %v", storefrontsCRD, err)
	shop := sc.Spec.Target.NamespaceMapping["shop"]
	require.NotEmpty(t, shop, "the lab's scenario restores namespace shop")

	w := &storefrontsAtChecks{t: t, ctx: ctx, dyn: dyn, ns: shop}
	id := drill.NewDrillID(time.Now())
	res, err := drill.RunRestore(ctx, sc, drill.RestoreOptions{DrillID: id, Progress: w})
	require.NoError(t, err)
	require.NotNil(t, res)
	var phases []string
	for _, ph := range res.Restores {
		phases = append(phases, ph.Phase)
		if ph.Phase == "crds" {
			assert.True(t, ph.IncludeClusterResources, "the crds phase restores cluster-scoped CRDs")
			assert.Positive(t, ph.ItemsRestored, "the crds phase restored the backup's CRD")
		}
	}
	assert.Equal(t, []string{"network-policies", "crds", "workloads"}, phases)
	assert.True(t, res.Passed, "the drill passed: %+v", res.Findings)

	require.True(t, w.read, "the drill ran its checks")
	require.NoError(t, w.err, "list Storefronts in %s while the drill checked", shop)
	require.Len(t, w.items, 2, "the Storefronts came back in %s", shop)
	assert.Equal(t, "EUR", w.items["eu"]["currency"], "Storefront eu, as the source has it")
	assert.Equal(t, "GBP", w.items["uk"]["currency"], "Storefront uk, as the source has it")

	assert.True(t, res.Cleanup.Done, "cleanup on success")
	assert.True(t, slices.Contains(res.Cleanup.Deleted, "customresourcedefinition/"+storefrontsCRD), "cleanup deleted %s: %v", storefrontsCRD, res.Cleanup.Deleted)
	assert.Empty(t, res.Cleanup.Error)
	assertCRDGone(t, ctx, dyn, storefrontsCRD)
	assertNoCRDsOfDrill(t, ctx, dyn, id)
	assertNoLeftovers(t, cs, dyn, l.VeleroNamespace, id, targets)
}
