package restore

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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
