package scenarios

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// fillPlaceholders sets every value New marked with FillIn, by its key,
// as an author would.
func fillPlaceholders(t *testing.T, data []byte) ([]byte, int) {
	t.Helper()
	values := map[string]string{
		"kubeconfig": "~/.kube/mine.yaml", "context": "mine", "endpoint": "https://s3.example.com",
		"region": "us-east-1", "bucket": "my-velero-backups", "prefix": "prod",
	}
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc))
	filled := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if strings.HasPrefix(v.LineComment, "# "+FillIn) {
					require.Contains(t, values, k.Value)
					require.Empty(t, v.Value, "a placeholder is empty")
					v.Value = values[k.Value]
					if k.Value == "bucket" {
						// Each copy is a bucket of its own.
						v.Value += strconv.Itoa(filled)
					}
					filled++
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	return out, filled
}

// TestNew_EveryCatalogScenarioValidatesOnceFilled: a new scenario from each
// built-in one is refused by validation as made (its clusters and buckets
// are empty), and accepted once the values marked FILL IN are filled in;
// it names no path of the machine it was made on.
func TestNew_EveryCatalogScenarioValidatesOnceFilled(t *testing.T) {
	// The catalog's runbooks are built in (package runbooks); the CLI test
	// TestScenariosNew_ValidateOnceFilled runs the real validate.
	env := Env{RunbookExists: func(string) bool { return true }}
	entries, err := os.ReadDir("catalog")
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		from := strings.TrimSuffix(e.Name(), ".yaml")
		t.Run(from, func(t *testing.T) {
			data, err := New("my-"+from, from)
			require.NoError(t, err)
			text := string(data)
			assert.Contains(t, text, "started from the built-in scenario \""+from+"\"")
			assert.Contains(t, text, "name: my-"+from)
			assert.Contains(t, text, "kubeconfig: \"\" # FILL IN: kubeconfig of the scratch cluster")
			assert.Contains(t, text, "bucket: \"\" # FILL IN: the bucket Velero writes the backups to")
			assert.Contains(t, text, "never the keys")
			assert.NotContains(t, text, "prod-eu-1-velero", "no bucket of the example is left")
			assert.NotContains(t, text, "/home/")

			dir := t.TempDir()
			file := filepath.Join(dir, "new.yaml")
			require.NoError(t, os.WriteFile(file, data, 0o600))
			_, err = LoadFile(context.Background(), env, file)
			require.Error(t, err, "unfilled, it is not a scenario to run")
			assert.Contains(t, err.Error(), "spec.storage.primary.bucket")

			filledText, n := fillPlaceholders(t, data)
			assert.GreaterOrEqual(t, n, 7, "clusters and at least one bucket are marked")
			require.NoError(t, os.WriteFile(file, filledText, 0o600))
			sc, err := LoadFile(context.Background(), env, file)
			require.NoError(t, err, "%s", filledText)
			assert.Equal(t, "my-"+from, sc.Metadata.Name)
			assert.Equal(t, "my-velero-backups4", sc.Spec.Storage.Primary.Bucket, "the fifth value filled, after the source cluster's and the endpoint and region")
		})
	}
}

func TestNew_Errors(t *testing.T) {
	_, err := New("mine", "region-los")
	var nf *NewFromCatalogError
	require.ErrorAs(t, err, &nf)
	assert.Equal(t, []string{"region-loss"}, nf.Suggestions)
	assert.Contains(t, nf.Names, "namespace-deletion")
	for _, from := range []string{"", "../load", "catalog/region-loss"} {
		_, err = New("mine", from)
		assert.ErrorAs(t, err, &nf, from)
	}
	_, err = New("My_Scenario", "region-loss")
	assert.ErrorContains(t, err, "not a valid scenario name")
}
