package cli

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// Every machine document, in JSON and in YAML, is one object with the
// same keys and values, says its schema, and follows the one style:
// snake_case keys, durations as numbers of seconds in keys ending
// _seconds (never a Go duration string such as "10m0s"), times RFC 3339
// in UTC.
func TestOutput_OneDocumentStyle(t *testing.T) {
	history := writeHistory(t)
	for _, tc := range []struct {
		schema string
		args   []string
	}{
		{"firedrill.dev/plan/v1", []string{"plan", "region-loss"}},
		{"firedrill.dev/version/v1", []string{"version"}},
		{"firedrill.dev/scenarios/v1", []string{"scenarios", "list"}},
		{"firedrill.dev/validate/v1", []string{"validate", "scenarios/region-loss.yaml"}},
		{"firedrill.dev/history/v2", []string{"history", "--state-dir", history}},
		{"firedrill.dev/due/v1", []string{"due", "region-loss", "--state-dir", history}},
		{"firedrill.dev/evidence-summary/v1", []string{"evidence", "summary", "--state-dir", history}},
	} {
		t.Run(tc.args[0], func(t *testing.T) {
			js := run(t, context.Background(), nil, append(tc.args, "-o", "json")...)
			require.Contains(t, []int{ExitOK, ExitDrillFailed}, js.code, js.String())
			ya := run(t, context.Background(), nil, append(tc.args, "-o", "yaml")...)
			require.Equal(t, js.code, ya.code, ya.String())

			var fromJSON, fromYAML map[string]any
			require.NoError(t, json.Unmarshal([]byte(js.stdout), &fromJSON), js.stdout)
			require.NoError(t, yaml.Unmarshal([]byte(ya.stdout), &fromYAML), ya.stdout)
			// due's ages are measured at each run.
			dropKey(fromJSON, "age_seconds")
			dropKey(fromYAML, "age_seconds")
			assert.Equal(t, fromJSON, fromYAML, "JSON and YAML carry the same document")
			assert.Equal(t, tc.schema, fromJSON["schema"])
			for _, p := range styleProblems("", fromJSON) {
				t.Error(p)
			}
		})
	}
}

var (
	snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	// goDuration is a value time.Duration.String writes ("10m0s", "1h0m0s").
	goDuration = regexp.MustCompile(`^-?([0-9.]+(h|m|s|ms|µs|ns))+$`)
)

// dataMaps are keys whose object is data (namespace names), not keys of
// a document.
var dataMaps = map[string]bool{"namespace_mapping": true}

// dropKey deletes key k wherever it is in v.
func dropKey(v any, k string) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, k)
		for _, e := range v {
			dropKey(e, k)
		}
	case []any:
		for _, e := range v {
			dropKey(e, k)
		}
	}
}

// styleProblems lists where v breaks the document style.
func styleProblems(path string, v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := path + "." + k
			if !snakeCase.MatchString(k) {
				out = append(out, p+": key is not snake_case")
			}
			if strings.HasSuffix(k, "_seconds") {
				if _, ok := e.(float64); !ok && e != nil {
					out = append(out, p+": a duration is a number of seconds")
				}
			}
			if strings.HasSuffix(k, "_at") {
				if s, ok := e.(string); ok {
					if ts, err := time.Parse(time.RFC3339, s); err != nil || ts.Location() != time.UTC {
						out = append(out, p+": "+s+" is not an RFC 3339 time in UTC")
					}
				}
			}
			if !dataMaps[k] {
				out = append(out, styleProblems(p, e)...)
			}
		}
	case []any:
		for _, e := range v {
			out = append(out, styleProblems(path+"[]", e)...)
		}
	case string:
		if goDuration.MatchString(v) {
			out = append(out, path+": "+v+" is a Go duration string, not a number of seconds in a key ending _seconds")
		}
	}
	return out
}

// The evidence documents follow the same style: export's (its bundle's
// file is -f), verify's, and the summary's once a drill has a bundle.
func TestOutput_EvidenceDocumentsStyle(t *testing.T) {
	ctx := context.Background()
	state := writeHistory(t)
	key, pub := keyPair(t)
	env := map[string]string{"FIREDRILL_STATE_DIR": state}
	const id = "fd-20261103-090000-cccc"
	bundle := t.TempDir() + "/b.tar.gz"
	for _, tc := range []struct {
		schema string
		args   []string
		flag   string
	}{
		{"firedrill.dev/evidence-export/v1", []string{"evidence", "export", id, "--key", key, "-f", bundle}, "-o"},
		{"firedrill.dev/evidence-verify/v1", []string{"evidence", "verify", bundle, "--public-key", pub}, "-o"},
		{"firedrill.dev/evidence-summary/v1", []string{"evidence", "summary"}, "-o"},
	} {
		t.Run(tc.args[1], func(t *testing.T) {
			js := run(t, ctx, env, append(tc.args, tc.flag, "json")...)
			require.Equal(t, ExitOK, js.code, js.String())
			ya := run(t, ctx, env, append(tc.args, tc.flag, "yaml")...)
			require.Equal(t, ExitOK, ya.code, ya.String())
			var fromJSON, fromYAML map[string]any
			require.NoError(t, json.Unmarshal([]byte(js.stdout), &fromJSON), js.stdout)
			require.NoError(t, yaml.Unmarshal([]byte(ya.stdout), &fromYAML), ya.stdout)
			assert.Equal(t, tc.schema, fromJSON["schema"])
			// Two exports differ only in when they were made.
			dropKey(fromJSON, "exported_at")
			dropKey(fromYAML, "exported_at")
			assert.Equal(t, fromJSON, fromYAML, "JSON and YAML carry the same document")
			for _, p := range styleProblems("", fromJSON) {
				t.Error(p)
			}
		})
	}
	bad := run(t, ctx, env, "evidence", "export", id, "--key", key, "-f", bundle, "-o", "csv")
	assert.Equal(t, ExitUsage, bad.code, bad.String())
	assert.Contains(t, bad.stderr, `invalid -o "csv": want one of text, json, yaml`)
}

// TestExactArgs_CountsInWords: the usage error counts the arguments given
// with the noun that goes with the count (internal/plural).
func TestExactArgs_CountsInWords(t *testing.T) {
	for args, want := range map[string]string{
		"x":   "Error: version needs no arguments, got 1 argument\n",
		"x y": "Error: version needs no arguments, got 2 arguments\n",
	} {
		res := run(t, context.Background(), nil, append([]string{"version", "--client"}, strings.Fields(args)...)...)
		assert.Equal(t, ExitUsage, res.code, res.String())
		assert.True(t, strings.HasPrefix(res.stderr, want), res.stderr)
	}
}
