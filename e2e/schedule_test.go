//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/firedrill-dev/firedrill/drill/schedule"
)

// scheduleInstall is what `firedrill schedule render` gave for one
// scenario, installed in a throwaway namespace of the scratch cluster.
type scheduleInstall struct {
	ns, sa  string
	objects []*unstructured.Unstructured
	targets []string
	file    string
}

func renderSchedule(t *testing.T, ctx context.Context, l labEnv, name string) scheduleInstall {
	t.Helper()
	file, targets := drillScenario(t, l, name)
	ns := "firedrill-" + name + "-" + time.Now().UTC().Format("150405")
	res := firedrill(t, ctx, nil, "schedule", "render", "--scenario", file, "--cadence", "weekly",
		"--namespace", ns, "--image", "registry.example.com/firedrill:e2e",
		"--history", "s3://"+l.Stores["primary"].Bucket+"/firedrill-e2e-history",
		"--history-endpoint", l.Stores["primary"].Endpoint, "--history-path-style")
	require.Equal(t, 0, res.code, "schedule render:\n%s", res.stderr)
	in := scheduleInstall{ns: ns, sa: "firedrill-" + name, targets: targets, file: file}
	in.objects = parseManifests(t, res.stdout)
	return in
}

// parseManifests splits what schedule render prints (a comment, then
// documents) into objects.
func parseManifests(t *testing.T, text string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, doc := range strings.Split(text, "\n---\n")[1:] {
		u := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &u.Object), "document:\n%s", doc)
		out = append(out, u)
	}
	return out
}

// apply applies u to the cluster with server-side apply; dryRun only
// asks the API server (admission webhooks included) whether it would.
func apply(t *testing.T, ctx context.Context, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, u *unstructured.Unstructured, dryRun bool) error {
	t.Helper()
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	require.NoError(t, err, "%s is not served by the scratch cluster", gvk)
	opts := metav1.ApplyOptions{FieldManager: "firedrill-e2e", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	var res dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if ns := u.GetNamespace(); ns != "" {
		res = dyn.Resource(m.Resource).Namespace(ns)
	}
	_, err = res.Apply(ctx, u.GetName(), u, opts)
	return err
}

func remove(ctx context.Context, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, u *unstructured.Unstructured) error {
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return err
	}
	var res dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if ns := u.GetNamespace(); ns != "" {
		res = dyn.Resource(m.Resource).Namespace(ns)
	}
	return res.Delete(ctx, u.GetName(), metav1.DeleteOptions{})
}

// install puts the manifests in the scratch cluster: the namespace and its
// NetworkPolicy for real (the lab's hardened admission refuses a CronJob
// in a namespace without one, even in a dry run), everything through a
// server-side dry run, then the ServiceAccount and RBAC for real. The
// CronJob itself is never created: it would start drills on the lab.
func (in scheduleInstall) install(t *testing.T, ctx context.Context, l labEnv) {
	t.Helper()
	cs, dyn := kubeClients(t, l.ScratchKubeconfig)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(cs.Discovery()))
	var created []*unstructured.Unstructured
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// Cluster-scoped and Velero-namespace objects first; deleting the
		// namespace removes the rest.
		for i := len(created) - 1; i >= 0; i-- {
			if err := remove(ctx, dyn, mapper, created[i]); err != nil {
				t.Errorf("clean up %s %s: %v", created[i].GetKind(), created[i].GetName(), err)
			}
		}
	})
	createReal := func(kinds ...string) {
		for _, u := range in.objects {
			for _, k := range kinds {
				if u.GetKind() == k {
					require.NoError(t, apply(t, ctx, dyn, mapper, u, false), "create %s %s", k, u.GetName())
					created = append(created, u)
				}
			}
		}
	}
	createReal("Namespace", "NetworkPolicy")
	for _, u := range in.objects {
		assert.NoError(t, apply(t, ctx, dyn, mapper, u, true), "server-side dry run of %s %s/%s", u.GetKind(), u.GetNamespace(), u.GetName())
	}
	createReal("ServiceAccount", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
}

// TestSchedule_READMEApplyOnAFreshCluster runs the README's commands with
// kubectl on a scratch cluster that has never seen the namespace (unique
// per run, deleted after): a server-side dry run of the whole file fails,
// as a dry run creates nothing; applying the objects labelled
// schedule.NamespaceSelector first makes the dry run of everything pass.
// Only the namespace and its NetworkPolicy are ever created.
func TestSchedule_READMEApplyOnAFreshCluster(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 3*time.Minute)
	file, _ := drillScenario(t, l, "schedule-readme")
	ns := fmt.Sprintf("firedrill-readme-%d", time.Now().UnixNano()%1_000_000_000)
	res := firedrill(t, ctx, nil, "schedule", "render", "--scenario", file, "--cadence", "weekly",
		"--namespace", ns, "--image", "registry.example.com/firedrill:e2e",
		"--history", "s3://"+l.Stores["primary"].Bucket+"/firedrill-e2e-history",
		"--history-endpoint", l.Stores["primary"].Endpoint, "--history-path-style")
	require.Equal(t, 0, res.code, "schedule render:\n%s", res.stderr)
	drills := filepath.Join(t.TempDir(), "drills.yaml")
	require.NoError(t, os.WriteFile(drills, []byte(res.stdout), 0o600))

	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	_, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	require.True(t, apierrors.IsNotFound(err), "the run starts without namespace %s: %v", ns, err)
	t.Cleanup(func() { deleteNamespaces(t, cs, ns) })

	kubectl := func(args ...string) (string, error) {
		out, err := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", l.ScratchKubeconfig}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := kubectl("apply", "--dry-run=server", "-f", drills)
	require.Error(t, err, "a dry run of the whole file on a fresh cluster:\n%s", out)
	assert.Contains(t, out, `namespaces "`+ns+`" not found`)

	out, err = kubectl("apply", "-f", drills, "-l", schedule.NamespaceSelector)
	require.NoError(t, err, out)
	assert.Equal(t, "namespace/"+ns+" created\nnetworkpolicy.networking.k8s.io/firedrill created\n", out, "only the namespace and its NetworkPolicy")

	out, err = kubectl("apply", "--dry-run=server", "-f", drills)
	require.NoError(t, err, "the README's dry run:\n%s", out)
	assert.Contains(t, out, "cronjob.batch/firedrill-schedule-readme created (server dry run)")
	_, err = cs.BatchV1().CronJobs(ns).Get(ctx, "firedrill-schedule-readme", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the dry run created no CronJob: %v", err)
}

// can asks the scratch API server whether the drill's ServiceAccount may
// do verb on resource.
func (in scheduleInstall) can(t *testing.T, ctx context.Context, cs kubernetes.Interface, verb, group, resource, ns, name string) bool {
	t.Helper()
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   fmt.Sprintf("system:serviceaccount:%s:%s", in.ns, in.sa),
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + in.ns, "system:authenticated"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Verb: verb, Group: group, Resource: resource, Namespace: ns, Name: name,
		},
	}}
	res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	require.NoError(t, err)
	return res.Status.Allowed
}

// TestSchedule_ManifestsAcceptedAndLeastPrivilege: the rendered manifests
// pass a server-side dry run on the hardened scratch cluster, and the
// ServiceAccount can do what a drill needs and nothing the tests list
// beyond it, as the API server's own authorizer answers.
func TestSchedule_ManifestsAcceptedAndLeastPrivilege(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 3*time.Minute)
	in := renderSchedule(t, ctx, l, "schedule-rbac")
	var kinds []string
	for _, u := range in.objects {
		kinds = append(kinds, u.GetKind())
	}
	// The second policy guards the deletes of the CRDs the crds phase restores.
	require.Equal(t, []string{"Namespace", "NetworkPolicy", "ServiceAccount", "ConfigMap", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
		"ClusterRole", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "CronJob"}, kinds)
	in.install(t, ctx, l)

	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	velero := l.VeleroNamespace
	allowed := []struct{ verb, group, resource, ns, name string }{
		{"create", "velero.io", "restores", velero, ""},
		{"watch", "velero.io", "restores", velero, "any-restore"},
		{"delete", "velero.io", "restores", velero, "any-restore"},
		{"get", "velero.io", "backups", velero, l.LatestBackup},
		{"list", "velero.io", "backups", velero, ""},
		{"watch", "velero.io", "backupstoragelocations", velero, "default"},
		{"create", "velero.io", "downloadrequests", velero, ""},
		{"get", "", "namespaces", "", "kube-system"},
		{"get", "", "namespaces", "", velero},
		{"delete", "", "namespaces", "", in.targets[0]},
		{"delete", "", "namespaces", "", in.targets[1]},
		{"watch", "", "namespaces", "", in.targets[0]},
		{"list", "apps", "deployments", "", ""},
		{"watch", "networking.k8s.io", "networkpolicies", "", ""},
		{"list", "", "configmaps", in.targets[1], "data-canary"},
		// Narrowed to the CRDs a drill restored by the .crds admission
		// policy, which a SubjectAccessReview does not ask.
		{"list", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
		{"watch", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
		{"delete", "apiextensions.k8s.io", "customresourcedefinitions", "", storefrontsCRD},
		// One drill at a time: the scratch cluster's Lease, by name.
		{"get", "coordination.k8s.io", "leases", velero, "firedrill-drill"},
		{"update", "coordination.k8s.io", "leases", velero, "firedrill-drill"},
		{"watch", "coordination.k8s.io", "leases", velero, "firedrill-drill"},
		{"create", "coordination.k8s.io", "leases", velero, ""},
	}
	for _, a := range allowed {
		assert.True(t, in.can(t, ctx, cs, a.verb, a.group, a.resource, a.ns, a.name), "must be allowed: %+v", a)
	}
	denied := []struct{ verb, group, resource, ns, name string }{
		{"delete", "", "namespaces", "", "kube-system"},
		{"delete", "", "namespaces", "", "default"},
		{"delete", "", "namespaces", "", velero},
		{"delete", "", "namespaces", "", in.ns},
		{"delete", "", "namespaces", "", l.AppNamespaces[0]},
		{"create", "", "namespaces", "", ""},
		{"get", "", "secrets", "", ""},
		{"list", "", "secrets", "", ""},
		{"get", "", "secrets", velero, "cloud-credentials"},
		{"create", "", "secrets", velero, ""},
		{"create", "apps", "deployments", "default", ""},
		{"get", "apps", "deployments", "kube-system", "any"},
		{"list", "", "configmaps", "", ""},
		{"get", "", "configmaps", "kube-system", "data-canary"},
		{"patch", "velero.io", "backups", velero, l.LatestBackup},
		{"delete", "velero.io", "backups", velero, l.LatestBackup},
		{"create", "velero.io", "backupstoragelocations", velero, ""},
		{"delete", "velero.io", "backupstoragelocations", velero, "default"},
		{"create", "velero.io", "restores", "default", ""},
		{"create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""},
		{"get", "apiextensions.k8s.io", "customresourcedefinitions", "", storefrontsCRD},
		{"create", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
		{"patch", "apiextensions.k8s.io", "customresourcedefinitions", "", storefrontsCRD},
		{"deletecollection", "apiextensions.k8s.io", "customresourcedefinitions", "", ""},
		{"update", "coordination.k8s.io", "leases", velero, "another-lease"},
		{"get", "coordination.k8s.io", "leases", "kube-system", "firedrill-drill"},
		{"create", "coordination.k8s.io", "leases", "kube-system", ""},
		{"delete", "coordination.k8s.io", "leases", velero, "firedrill-drill"},
		{"list", "coordination.k8s.io", "leases", velero, ""},
	}
	for _, d := range denied {
		assert.False(t, in.can(t, ctx, cs, d.verb, d.group, d.resource, d.ns, d.name), "must be denied: %+v", d)
	}
}

// TestSchedule_DrillRunsWithTheRenderedRBAC runs a real restore of the lab
// scenario as the rendered ServiceAccount (its token, the scratch API
// server): preflight, recovery point, three Velero Restores, the order
// proof, the checks and cleanup all pass with exactly the rules rendered,
// so the RBAC is not only narrow but sufficient.
func TestSchedule_DrillRunsWithTheRenderedRBAC(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 8*time.Minute)
	in := renderSchedule(t, ctx, l, "schedule-sa")
	in.install(t, ctx, l)
	cs, _ := kubeClients(t, l.ScratchKubeconfig)
	t.Cleanup(func() { deleteNamespaces(t, cs, in.targets...) })

	tok, err := cs.CoreV1().ServiceAccounts(in.ns).CreateToken(ctx, in.sa,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrTo(int64(900))}}, metav1.CreateOptions{})
	require.NoError(t, err)
	cfg, err := clientcmd.LoadFromFile(l.ScratchKubeconfig)
	require.NoError(t, err)
	kctx := cfg.Contexts[os.Getenv("FIREDRILL_LAB_SCRATCH_CONTEXT")]
	if kctx == nil {
		kctx = cfg.Contexts[cfg.CurrentContext]
	}
	require.NotNil(t, kctx)
	user := cfg.AuthInfos[kctx.AuthInfo]
	user.ClientCertificate, user.ClientKey, user.ClientCertificateData, user.ClientKeyData = "", "", nil, nil
	user.Token = tok.Status.Token
	saKubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, saKubeconfig))
	asSA, _ := kubeClients(t, saKubeconfig)
	_, err = asSA.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "the kubeconfig must act as the ServiceAccount, not as the lab's admin: %v", err)

	text, err := os.ReadFile(in.file)
	require.NoError(t, err)
	require.Contains(t, string(text), l.ScratchKubeconfig)
	require.NoError(t, os.WriteFile(in.file, []byte(strings.Replace(string(text), l.ScratchKubeconfig, saKubeconfig, 1)), 0o644))

	res := firedrill(t, ctx, drillEnv(), "restore", in.file, "-o", "json")
	require.Equal(t, 0, res.code, "restore as the drill's ServiceAccount:\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	// The Lease too, with the rendered rules alone: taken, renewed, released.
	assert.Contains(t, res.stderr, "holding Lease "+l.VeleroNamespace+"/firedrill-drill")
	assert.Contains(t, res.stderr, "released Lease "+l.VeleroNamespace+"/firedrill-drill")
	assert.NotContains(t, res.stderr, "renew Lease", "every renewal allowed")
	assert.Contains(t, res.stdout, `"passed": true`)
	assert.Contains(t, res.stdout, `"customresourcedefinition/`+storefrontsCRD+`"`, "cleanup deleted the CRD it restored, as the ServiceAccount")
	assertNamespacesGone(t, l, in.targets)
}

func ptrTo[T any](v T) *T { return &v }
