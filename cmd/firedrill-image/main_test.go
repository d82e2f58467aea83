package main

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/ociimage/elftest"
)

// staticELF writes the smallest file debug/elf reads as an amd64
// executable, with a PT_INTERP program header when dynamic, and returns
// its path.
func staticELF(t *testing.T, name string, dynamic bool) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, elftest.ELF(elf.EM_X86_64, dynamic, name), 0o755))
	return p
}

// indexOf reads index.json of an image archive.
func indexOf(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		require.NoError(t, err, "no index.json")
		if hdr.Name != "index.json" {
			continue
		}
		var index struct {
			Manifests []struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &index))
		require.Len(t, index.Manifests, 1)
		return index.Manifests[0].Annotations
	}
}

func TestRun_RunnerImage(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "runner.tar")
	args := []string{"-o", out, "-arch", "amd64", "-version", "v1.2.3", "-binary", staticELF(t, "firedrill", false),
		"-busybox", staticELF(t, "busybox", false), "-add", "kubectl=" + staticELF(t, "kubectl", false), "-add", "velero=" + staticELF(t, "velero", false)}
	env := func(k string) string { return map[string]string{"SOURCE_DATE_EPOCH": "1767225600"}[k] }
	var stdout bytes.Buffer
	require.NoError(t, run(context.Background(), args, &stdout, env))
	assert.Contains(t, stdout.String(), "linux/amd64, ghcr.io/firedrill-dev/firedrill-runner:v1.2.3, digest sha256:")
	assert.Equal(t, "ghcr.io/firedrill-dev/firedrill-runner:v1.2.3", indexOf(t, out)["io.containerd.image.name"])
	first, err := os.ReadFile(out)
	require.NoError(t, err)

	// Again, from the same inputs: the same bytes (the Go toolchain's
	// time zone database is the default).
	var again bytes.Buffer
	require.NoError(t, run(context.Background(), args, &again, env))
	assert.Equal(t, stdout.String(), again.String())
	second, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(first, second), "two builds differ")

	named := append(args, "-name", "registry.example.com/dr/firedrill-runner:lab")
	stdout.Reset()
	require.NoError(t, run(context.Background(), named, &stdout, env))
	assert.Equal(t, "registry.example.com/dr/firedrill-runner:lab", indexOf(t, out)["io.containerd.image.name"])
	assert.Equal(t, "lab", indexOf(t, out)["org.opencontainers.image.ref.name"])
}

func TestRun_Refuses(t *testing.T) {
	fd := staticELF(t, "firedrill", false)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"dynamic busybox", []string{"-busybox", staticELF(t, "busybox", true)}, "dynamically linked"},
		{"dynamic busybox hint", []string{"-busybox", staticELF(t, "busybox", true)}, "apt-get install busybox-static"},
		{"dynamic tool", []string{"-add", "kubectl=" + staticELF(t, "kubectl", true)}, "-add kubectl"},
		{"missing tool", []string{"-add", "kubectl=/nonexistent/kubectl"}, "-add kubectl: open /nonexistent/kubectl"},
		{"add without a name", []string{"-add", "/usr/local/bin/kubectl"}, "want NAME=FILE"},
		{"added twice", []string{"-add", "kubectl=" + fd, "-add", "kubectl=" + fd}, "kubectl is added twice"},
		{"zoneinfo alone", []string{"-zoneinfo", fd}, "-zoneinfo is for a runner image"},
		{"bad name", []string{"-name", "firedrill:dev"}, "want REGISTRY/REPOSITORY:TAG"},
		{"bad epoch", nil, "SOURCE_DATE_EPOCH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"-o", filepath.Join(t.TempDir(), "x.tar"), "-arch", "amd64", "-binary", fd}, tt.args...)
			env := func(k string) string {
				if tt.name == "bad epoch" && k == "SOURCE_DATE_EPOCH" {
					return "yesterday"
				}
				return ""
			}
			err := run(context.Background(), args, io.Discard, env)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}
