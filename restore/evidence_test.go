package restore

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	fakediscovery "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestCleanRedactsSecretsEverywhere(t *testing.T) {
	secret := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{
			"name": "db", "namespace": "shop",
			"annotations": map[string]any{
				"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"c2VjcmV0LXZhbHVl"}}`,
				"team": "shop",
			},
			"managedFields": []any{map[string]any{"manager": "kubectl"}},
		},
		"data":       map[string]any{"password": "c2VjcmV0LXZhbHVl"},
		"stringData": map[string]any{"token": "plain-secret-token"},
		"type":       "Opaque",
	}}
	c := clean(secret)
	b, err := json.Marshal(c.Object)
	require.NoError(t, err)
	for _, secretValue := range []string{"c2VjcmV0LXZhbHVl", "plain-secret-token", "managedFields", "last-applied"} {
		assert.NotContains(t, string(b), secretValue)
	}
	assert.Equal(t, map[string]any{"password": Redacted}, c.Object["data"], "keys stay, values go")
	assert.Equal(t, map[string]string{"team": "shop"}, c.GetAnnotations())
	assert.Equal(t, "c2VjcmV0LXZhbHVl", secret.Object["data"].(map[string]any)["password"], "the original is untouched")

	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"},
		"data": map[string]any{"k": "visible"},
	}}
	assert.Equal(t, "visible", clean(cm).Object["data"].(map[string]any)["k"], "only Secrets are redacted")
}

// A scheduled drill's identity may not read everything it restored: each
// refused kind is named once, with what was readable kept.
func TestEvidenceUnderNarrowRBAC(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	cs.Resources = []*metav1.APIResourceList{
		{GroupVersion: "v1", APIResources: []metav1.APIResource{
			{Name: "configmaps", Namespaced: true, Kind: "ConfigMap", Verbs: []string{"list"}},
			{Name: "secrets", Namespaced: true, Kind: "Secret", Verbs: []string{"list"}},
			{Name: "events", Namespaced: true, Kind: "Event", Verbs: []string{"list"}},
		}},
	}
	forbid := func(resource string) k8stesting.ReactionFunc {
		return func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: resource}, "", errors.New("RBAC"))
		}
	}
	cs.PrependReactor("list", "secrets", forbid("secrets"))
	cm := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "data-canary", "namespace": "shop"}}}
	ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}}}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		{Version: "v1", Resource: "configmaps"}: "ConfigMapList",
		{Version: "v1", Resource: "secrets"}:    "SecretList",
		{Version: "v1", Resource: "events"}:     "EventList",
		{Version: "v1", Resource: "namespaces"}: "NamespaceList",
	}, cm, ns)
	dyn.PrependReactor("list", "secrets", forbid("secrets"))

	s := &Session{t: Target{Kube: preferredDiscovery{cs}, Dynamic: dyn}, spec: Spec{VeleroNamespace: "velero", IncludedNamespaces: []string{"shop"}},
		tr: &tracker{namespaces: []string{"shop"}}, res: &Result{}}
	s.readSecretValues(ctx)
	ev, err := s.Evidence(ctx)
	require.NoError(t, err)
	var kinds []string
	for _, o := range ev.Objects {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
	}
	assert.Equal(t, []string{"ConfigMap/data-canary", "Namespace/shop"}, kinds, "what could be read is kept; events are left out")
	require.Len(t, ev.Errors, 2, "%q", ev.Errors)
	assert.Contains(t, ev.Errors[0], "may not list secrets in the restored namespaces")
	assert.Contains(t, ev.Errors[1], "the restored Secrets could not be read")
	assert.Empty(t, s.SecretValues())
}

// preferredDiscovery answers ServerPreferredResources from the fake's
// Resources, which client-go's fake discovery leaves empty.
type preferredDiscovery struct{ *fake.Clientset }

func (p preferredDiscovery) Discovery() discovery.DiscoveryInterface {
	return fakePreferred{p.Clientset.Discovery().(*fakediscovery.FakeDiscovery)}
}

type fakePreferred struct{ *fakediscovery.FakeDiscovery }

func (f fakePreferred) ServerPreferredResources() ([]*metav1.APIResourceList, error) {
	return f.Resources, nil
}

func (f fakePreferred) ServerPreferredNamespacedResources() ([]*metav1.APIResourceList, error) {
	return f.Resources, nil
}
