package scenarios

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scenarioYAML is a valid scenario called name.
func scenarioYAML(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/valid-minimal.yaml")
	require.NoError(t, err)
	return strings.Replace(string(data), "name: shop-test", "name: "+name, 1)
}

// writeFiles creates files (relative path -> content) under a new temporary
// directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o600))
	}
	return root
}

func fakeCatalog(t *testing.T, names ...string) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	for _, n := range names {
		m[n+".yaml"] = &fstest.MapFile{Data: []byte(scenarioYAML(t, n))}
	}
	return m
}

func TestFind_SearchOrder(t *testing.T) {
	// Every source has a scenario called "drill", each a different file.
	root := writeFiles(t, map[string]string{
		"flag/drill.yaml":           scenarioYAML(t, "drill"),
		"env/drill.yaml":            scenarioYAML(t, "drill"),
		"work/scenarios/drill.yaml": scenarioYAML(t, "drill"),
	})
	full := Env{
		ScenarioDirs: []string{filepath.Join(root, "flag")},
		SearchPath:   []string{filepath.Join(root, "env")},
		WorkDir:      filepath.Join(root, "work"),
		Catalog:      fakeCatalog(t, "drill"),
	}
	tests := []struct {
		name     string
		env      func(Env) Env
		wantKind SourceKind
	}{
		{"--scenario-dir first", func(e Env) Env { return e }, SourceFlag},
		{"then $FIREDRILL_SCENARIOS", func(e Env) Env { e.ScenarioDirs = nil; return e }, SourceEnv},
		{"then ./scenarios", func(e Env) Env { e.ScenarioDirs, e.SearchPath = nil, nil; return e }, SourceProject},
		{"then the catalog", func(e Env) Env {
			e.ScenarioDirs, e.SearchPath, e.WorkDir = nil, nil, t.TempDir()
			return e
		}, SourceBuiltin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Find(context.Background(), tt.env(full), "drill")
			require.NoError(t, err)
			assert.Equal(t, tt.wantKind, sc.Origin.Source.Kind)
			assert.Equal(t, "drill", sc.Metadata.Name)
		})
	}
}

func TestFind_ByFileName(t *testing.T) {
	root := writeFiles(t, map[string]string{"any-name.yaml": scenarioYAML(t, "inside"), "no-extension": scenarioYAML(t, "plain")})
	env := Env{WorkDir: root, Catalog: fakeCatalog(t)}

	sc, err := Find(context.Background(), env, "any-name.yaml")
	require.NoError(t, err)
	assert.Equal(t, "inside", sc.Metadata.Name)
	assert.Equal(t, SourceFile, sc.Origin.Source.Kind)
	assert.Equal(t, "any-name.yaml", sc.Origin.File, "files keep the name the user gave")

	sc, err = Find(context.Background(), env, "no-extension")
	require.NoError(t, err, "an existing file is read as a file")
	assert.Equal(t, "plain", sc.Metadata.Name)

	_, err = Find(context.Background(), env, "missing.yaml")
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestFind_Ambiguous(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"dir/one.yaml": scenarioYAML(t, "twin"),
		"dir/two.yml":  scenarioYAML(t, "twin"),
	})
	env := Env{ScenarioDirs: []string{filepath.Join(root, "dir")}, WorkDir: root, Catalog: fakeCatalog(t, "twin")}
	_, err := Find(context.Background(), env, "twin")
	var amb *AmbiguousError
	require.ErrorAs(t, err, &amb)
	assert.Equal(t, []string{filepath.Join(root, "dir", "one.yaml"), filepath.Join(root, "dir", "two.yml")}, amb.Files)
	assert.Contains(t, err.Error(), "one.yaml")
	assert.Contains(t, err.Error(), "two.yml")
}

func TestFind_NotFoundSuggestsCloseNames(t *testing.T) {
	env := Env{WorkDir: t.TempDir(), Catalog: fakeCatalog(t, "region-loss", "region-loss-us", "region-loss-eu", "region-loss-ap", "namespace-deletion", "ransomware")}
	tests := []struct {
		name string
		want []string
	}{
		{"region-los", []string{"region-loss", "region-loss-ap", "region-loss-eu"}},
		{"namespace-delete", []string{"namespace-deletion"}},
		{"ransom", []string{"ransomware"}},
		{"zzz", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Find(context.Background(), env, tt.name)
			var nf *NotFoundError
			require.ErrorAs(t, err, &nf)
			assert.Equal(t, tt.name, nf.Name)
			assert.Equal(t, tt.want, nf.Suggestions)
			assert.Contains(t, err.Error(), `no scenario named "`+tt.name+`"`)
		})
	}
}

func TestFind_InvalidFiles(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"dir/good.yaml":    scenarioYAML(t, "good"),
		"dir/broken.yaml":  strings.Replace(scenarioYAML(t, "broken"), "rto: 1h", "rto: soon", 1),
		"dir/garbage.yaml": "{{{ not yaml",
		"dir/notes.txt":    "not a scenario and not read",
	})
	env := Env{ScenarioDirs: []string{filepath.Join(root, "dir")}, WorkDir: root, Catalog: fakeCatalog(t)}

	sc, err := Find(context.Background(), env, "good")
	require.NoError(t, err, "invalid neighbours do not get in the way")
	assert.Equal(t, "good", sc.Metadata.Name)

	_, err = Find(context.Background(), env, "broken")
	var verrs ValidationErrors
	require.ErrorAs(t, err, &verrs, "asking for an invalid scenario by name shows its errors")
	assert.Equal(t, "spec.objectives.rto", verrs[0].Path)
}

func TestFind_Directories(t *testing.T) {
	root := t.TempDir()
	env := Env{WorkDir: root, Catalog: fakeCatalog(t, "drill")}

	missing := env
	missing.ScenarioDirs = []string{"no-such-dir"}
	_, err := Find(context.Background(), missing, "drill")
	var dirErr *DirError
	require.ErrorAs(t, err, &dirErr, "a missing --scenario-dir is most likely a typo")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	skipped := env
	skipped.SearchPath = []string{"no-such-dir", ""}
	sc, err := Find(context.Background(), skipped, "drill")
	require.NoError(t, err, "missing $FIREDRILL_SCENARIOS entries are skipped")
	assert.Equal(t, SourceBuiltin, sc.Origin.Source.Kind)
}

func TestFind_Cancelled(t *testing.T) {
	root := writeFiles(t, map[string]string{"dir/a.yaml": scenarioYAML(t, "a")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Find(ctx, Env{ScenarioDirs: []string{filepath.Join(root, "dir")}, Catalog: fakeCatalog(t)}, "a")
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

func TestList_ShadowedAndInvalid(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"work/scenarios/region-loss.yaml": scenarioYAML(t, "region-loss"),
		"work/scenarios/broken.yaml":      strings.Replace(scenarioYAML(t, "broken"), "bucket: velero-backups", "bucket: NO", 1),
		"work/scenarios/garbage.yml":      "- just\n- a list\n",
		"work/scenarios/ignored.json":     "{}",
	})
	env := Env{WorkDir: filepath.Join(root, "work"), Catalog: fakeCatalog(t, "region-loss", "ransomware")}
	entries, err := List(context.Background(), env)
	require.NoError(t, err)

	type row struct {
		name     string
		source   string
		valid    bool
		shadowed bool
	}
	var got []row
	for _, e := range entries {
		got = append(got, row{e.Name, e.Source.String(), e.Scenario != nil, e.Shadowed})
	}
	assert.Equal(t, []row{
		{"broken", "./scenarios", false, false},
		{"garbage", "./scenarios", false, false},
		{"ransomware", "built-in", true, false},
		{"region-loss", "./scenarios", true, false},
		{"region-loss", "built-in", true, true},
	}, got)
}

func TestList_AmbiguousEntries(t *testing.T) {
	root := writeFiles(t, map[string]string{
		"d/a.yaml": scenarioYAML(t, "twin"),
		"d/b.yaml": scenarioYAML(t, "twin"),
	})
	entries, err := List(context.Background(), Env{ScenarioDirs: []string{filepath.Join(root, "d")}, WorkDir: root, Catalog: fakeCatalog(t)})
	require.NoError(t, err)
	require.Len(t, entries, 2)
	for _, e := range entries {
		var amb *AmbiguousError
		assert.ErrorAs(t, e.Err, &amb)
		assert.Nil(t, e.Scenario)
	}
}

func TestCatalog_HasRealisticScenarios(t *testing.T) {
	entries, err := List(context.Background(), Env{WorkDir: t.TempDir()})
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(entries), 5)
	var lost []Loss
	for _, e := range entries {
		require.NoError(t, e.Err, e.File)
		assert.Equal(t, SourceBuiltin, e.Source.Kind)
		sc := e.Scenario
		assert.NotEmpty(t, sc.Spec.Disaster.Narrative, "%s tells its story", e.Name)
		assert.NotEmpty(t, sc.Spec.Checks, "%s has checks", e.Name)
		require.NotNil(t, sc.Spec.Runbook, "%s has a runbook", e.Name)
		lost = append(lost, sc.Spec.Disaster.Lost...)
	}
	for _, l := range []Loss{LossSourceCluster, LossPrimaryStorage, LossNamespace, LossRegion} {
		assert.Contains(t, lost, l, "some catalog scenario loses %s", l)
	}
}
