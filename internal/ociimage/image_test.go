package ociimage

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// layout is an OCI image layout archive as the test reads it on its own:
// plain tar, JSON and sha256, not the code under test.
type layout struct {
	files map[string][]byte
	modes map[string]int64
}

func readLayout(t *testing.T, archive []byte) layout {
	t.Helper()
	l := layout{files: map[string][]byte{}, modes: map[string]int64{}}
	tr := tar.NewReader(bytes.NewReader(archive))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		if hdr.Typeflag == tar.TypeDir {
			continue
		}
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		l.files[hdr.Name] = data
		l.modes[hdr.Name] = hdr.Mode
	}
	return l
}

// blob reads a blob by digest and checks that its content has that digest.
func (l layout) blob(t *testing.T, digest string) []byte {
	t.Helper()
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, digest)
	data, ok := l.files["blobs/sha256/"+digest[len("sha256:"):]]
	require.True(t, ok, "blob %s missing", digest)
	sum := sha256.Sum256(data)
	require.Equal(t, digest, "sha256:"+hex.EncodeToString(sum[:]), "blob content does not match its name")
	return data
}

type desc struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Annotations map[string]string `json:"annotations"`
	Platform    *struct{ OS, Architecture string }
}

type config struct {
	Architecture, OS string
	Created          time.Time
	Config           struct {
		Entrypoint []string
		Cmd        []string
		User       string
		Env        []string
		Labels     map[string]string
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []struct {
		Comment string `json:"comment"`
	} `json:"history"`
}

// image is the one image of a layout, read through index.json.
type image struct {
	index  desc
	config config
	// layers are the uncompressed layers, bottom first.
	layers [][]byte
	// layerDigests are those of the compressed layers.
	layerDigests []string
}

func readImage(t *testing.T, l layout) image {
	t.Helper()
	assert.JSONEq(t, `{"imageLayoutVersion":"1.0.0"}`, string(l.files["oci-layout"]))
	var index struct {
		SchemaVersion int    `json:"schemaVersion"`
		Manifests     []desc `json:"manifests"`
	}
	require.NoError(t, json.Unmarshal(l.files["index.json"], &index))
	assert.Equal(t, 2, index.SchemaVersion)
	require.Len(t, index.Manifests, 1)
	md := index.Manifests[0]
	assert.Equal(t, "application/vnd.oci.image.manifest.v1+json", md.MediaType)

	var manifest struct {
		SchemaVersion int    `json:"schemaVersion"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}
	mdata := l.blob(t, md.Digest)
	assert.Equal(t, md.Size, len(mdata))
	require.NoError(t, json.Unmarshal(mdata, &manifest))
	assert.Equal(t, "application/vnd.oci.image.config.v1+json", manifest.Config.MediaType)
	img := image{index: md}
	cdata := l.blob(t, manifest.Config.Digest)
	assert.Equal(t, manifest.Config.Size, len(cdata))
	require.NoError(t, json.Unmarshal(cdata, &img.config))
	assert.Equal(t, "layers", img.config.RootFS.Type)
	require.Len(t, img.config.RootFS.DiffIDs, len(manifest.Layers))
	for i, ld := range manifest.Layers {
		assert.Equal(t, "application/vnd.oci.image.layer.v1.tar+gzip", ld.MediaType)
		gz := l.blob(t, ld.Digest)
		assert.Equal(t, ld.Size, len(gz))
		zr, err := gzip.NewReader(bytes.NewReader(gz))
		require.NoError(t, err)
		assert.True(t, zr.ModTime.IsZero(), "no time in the gzip header: %s", zr.ModTime)
		assert.Empty(t, zr.Name, "no name in the gzip header")
		raw, err := io.ReadAll(zr)
		require.NoError(t, err)
		sum := sha256.Sum256(raw)
		assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), img.config.RootFS.DiffIDs[i], "diff ID is the uncompressed layer's digest")
		img.layers = append(img.layers, raw)
		img.layerDigests = append(img.layerDigests, ld.Digest)
	}
	return img
}

// file is a layer's entry as the test expects it.
type file struct {
	typ  byte
	mode int64
	link string
	data string
}

// readLayer reads an uncompressed layer, checking what every entry of
// every layer must be: owned by root, no user or group names, the image's
// time, parent directories before what they hold.
func readLayer(t *testing.T, raw []byte, created time.Time) ([]string, map[string]file) {
	t.Helper()
	var names []string
	files := map[string]file{}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		data, err := io.ReadAll(tr)
		require.NoError(t, err)
		assert.Equal(t, 0, hdr.Uid, hdr.Name)
		assert.Equal(t, 0, hdr.Gid, hdr.Name)
		assert.Empty(t, hdr.Uname+hdr.Gname, hdr.Name)
		assert.True(t, hdr.ModTime.Equal(created), "%s has time %s", hdr.Name, hdr.ModTime)
		if dir := path.Dir(strings.TrimSuffix(hdr.Name, "/")); dir != "." {
			_, ok := files[dir+"/"]
			assert.True(t, ok, "%s comes before its directory", hdr.Name)
		}
		names = append(names, hdr.Name)
		files[hdr.Name] = file{typ: hdr.Typeflag, mode: hdr.Mode, link: hdr.Linkname, data: string(data)}
	}
	return names, files
}

func build(t *testing.T, o Options) ([]byte, Image) {
	t.Helper()
	var buf bytes.Buffer
	img, err := Write(&buf, o)
	require.NoError(t, err)
	return buf.Bytes(), img
}

var created = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// The image of a real binary (this test's own) is an OCI layout whose one
// image runs that binary, and only it, as a non-root user.
func TestWrite_ImageOfTheBinary(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	bin, err := os.ReadFile(exe)
	require.NoError(t, err)
	archive, img := build(t, Options{Binary: bin, Architecture: "amd64", Version: "v1.2.3", Revision: "abc123", Created: created})
	l := readLayout(t, archive)
	got := readImage(t, l)

	assert.Equal(t, img.Manifest.String(), got.index.Digest)
	assert.Equal(t, map[string]string{
		"io.containerd.image.name":          "ghcr.io/firedrill-dev/firedrill:v1.2.3",
		"org.opencontainers.image.ref.name": "v1.2.3",
	}, got.index.Annotations, "containerd imports the image under its full name")
	assert.Equal(t, "ghcr.io/firedrill-dev/firedrill:v1.2.3", img.Name)
	require.NotNil(t, got.index.Platform)
	assert.Equal(t, "linux", got.index.Platform.OS)
	assert.Equal(t, "amd64", got.index.Platform.Architecture)

	cfg := got.config
	assert.Equal(t, "linux", cfg.OS)
	assert.Equal(t, "amd64", cfg.Architecture)
	assert.Equal(t, []string{"/firedrill"}, cfg.Config.Entrypoint)
	assert.Empty(t, cfg.Config.Cmd)
	assert.Equal(t, "65532:65532", cfg.Config.User, "non-root, numeric: no /etc/passwd needed")
	assert.Equal(t, []string{"PATH=/usr/local/bin:/usr/bin:/bin"}, cfg.Config.Env)
	assert.Equal(t, "firedrill", cfg.Config.Labels["org.opencontainers.image.title"])
	assert.Equal(t, "v1.2.3", cfg.Config.Labels["org.opencontainers.image.version"])
	assert.Equal(t, "abc123", cfg.Config.Labels["org.opencontainers.image.revision"])
	assert.Equal(t, "https://github.com/firedrill-dev/firedrill", cfg.Config.Labels["org.opencontainers.image.source"])
	assert.Equal(t, "2026-03-01T12:00:00Z", cfg.Config.Labels["org.opencontainers.image.created"])
	assert.True(t, cfg.Created.Equal(created))

	require.Len(t, got.layers, 1, "one layer: the binary")
	names, files := readLayer(t, got.layers[0], created)
	assert.Equal(t, []string{"firedrill"}, names, "the layer holds the binary and nothing else")
	assert.Equal(t, byte(tar.TypeReg), files["firedrill"].typ)
	assert.Equal(t, int64(0o755), files["firedrill"].mode)
	assert.True(t, files["firedrill"].data == string(bin), "the layer holds the binary as it was given")

	// Nothing in the archive but the layout and the three blobs.
	assert.Len(t, l.files, 5)
}

// zoneinfoZip is a time zone database of two zones, as Go ships it.
func zoneinfoZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"Europe/Berlin", "Etc/UTC"} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		require.NoError(t, err)
		_, err = w.Write([]byte("TZif " + name))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func runnerOptions(t *testing.T) Options {
	return Options{
		Binary: []byte("\x7fELF firedrill"), Architecture: "arm64", Version: "v1.2.3", Created: created,
		Tools:    map[string][]byte{"kubectl": []byte("\x7fELF kubectl"), "velero": []byte("\x7fELF velero")},
		Busybox:  []byte("\x7fELF busybox"),
		Zoneinfo: zoneinfoZip(t),
	}
}

// The runner image is the firedrill image on a layer of the tools runbook
// steps and command checks call: exactly these files, with these modes,
// found on the image's PATH.
func TestWrite_RunnerImage(t *testing.T) {
	o := runnerOptions(t)
	archive, img := build(t, o)
	l := readLayout(t, archive)
	got := readImage(t, l)

	assert.Equal(t, "ghcr.io/firedrill-dev/firedrill-runner:v1.2.3", got.index.Annotations["io.containerd.image.name"])
	assert.Equal(t, "v1.2.3", got.index.Annotations["org.opencontainers.image.ref.name"])
	assert.Equal(t, "ghcr.io/firedrill-dev/firedrill-runner:v1.2.3", img.Name)
	cfg := got.config
	assert.Equal(t, "linux", cfg.OS)
	assert.Equal(t, "arm64", cfg.Architecture)
	assert.Equal(t, "arm64", got.index.Platform.Architecture)
	assert.Equal(t, []string{"/firedrill"}, cfg.Config.Entrypoint)
	assert.Equal(t, "65532:65532", cfg.Config.User)
	assert.Equal(t, "firedrill-runner", cfg.Config.Labels["org.opencontainers.image.title"])
	assert.Contains(t, cfg.Config.Labels["org.opencontainers.image.description"], "sh (busybox), kubectl, velero, time zones")
	require.Len(t, cfg.History, 2)
	require.Len(t, got.layers, 2, "the tools, then the binary")

	applets := []string{"[", "awk", "base64", "basename", "cat", "chmod", "cp", "cut", "date", "dirname", "echo", "env",
		"expr", "false", "find", "grep", "head", "id", "ls", "mkdir", "mktemp", "mv", "printf", "pwd",
		"readlink", "rm", "sed", "seq", "sh", "sha256sum", "sleep", "sort", "stat", "tail", "tee", "test",
		"timeout", "touch", "tr", "true", "uname", "uniq", "wc", "which", "xargs"}
	assert.Equal(t, applets, Applets())
	want := map[string]file{
		"bin/":                             {typ: tar.TypeDir, mode: 0o755},
		"bin/busybox":                      {typ: tar.TypeReg, mode: 0o755, data: "\x7fELF busybox"},
		"tmp/":                             {typ: tar.TypeDir, mode: 0o1777},
		"usr/":                             {typ: tar.TypeDir, mode: 0o755},
		"usr/local/":                       {typ: tar.TypeDir, mode: 0o755},
		"usr/local/bin/":                   {typ: tar.TypeDir, mode: 0o755},
		"usr/local/bin/kubectl":            {typ: tar.TypeReg, mode: 0o755, data: "\x7fELF kubectl"},
		"usr/local/bin/velero":             {typ: tar.TypeReg, mode: 0o755, data: "\x7fELF velero"},
		"usr/share/":                       {typ: tar.TypeDir, mode: 0o755},
		"usr/share/zoneinfo/":              {typ: tar.TypeDir, mode: 0o755},
		"usr/share/zoneinfo/Etc/":          {typ: tar.TypeDir, mode: 0o755},
		"usr/share/zoneinfo/Etc/UTC":       {typ: tar.TypeReg, mode: 0o644, data: "TZif Etc/UTC"},
		"usr/share/zoneinfo/Europe/":       {typ: tar.TypeDir, mode: 0o755},
		"usr/share/zoneinfo/Europe/Berlin": {typ: tar.TypeReg, mode: 0o644, data: "TZif Europe/Berlin"},
	}
	for _, a := range applets {
		want["bin/"+a] = file{typ: tar.TypeSymlink, mode: 0o777, link: "busybox"}
	}
	names, files := readLayer(t, got.layers[0], created)
	assert.Equal(t, want, files)
	assert.IsIncreasing(t, names, "entries in name order")

	// What a runbook step runs is found on the PATH, and is the program
	// it names.
	resolve := func(cmd string) (string, bool) {
		for _, dir := range strings.Split(strings.TrimPrefix(cfg.Config.Env[0], "PATH="), ":") {
			f, ok := files[strings.TrimPrefix(dir, "/")+"/"+cmd]
			if !ok {
				continue
			}
			if f.typ == tar.TypeSymlink {
				f = files[path.Join(strings.TrimPrefix(dir, "/"), f.link)]
			}
			return f.data, true
		}
		return "", false
	}
	for cmd, prog := range map[string]string{"sh": "busybox", "test": "busybox", "grep": "busybox", "kubectl": "kubectl", "velero": "velero"} {
		data, ok := resolve(cmd)
		if assert.True(t, ok, "%s is not on the image's PATH", cmd) {
			assert.Equal(t, "\x7fELF "+prog, data, cmd)
		}
	}

	names, files = readLayer(t, got.layers[1], created)
	assert.Equal(t, []string{"firedrill"}, names)
	assert.Equal(t, "\x7fELF firedrill", files["firedrill"].data)

	// The binary's layer is the firedrill image's own: one blob in a
	// registry for both images.
	plain := o
	plain.Tools, plain.Busybox, plain.Zoneinfo = nil, nil, nil
	_, plainImg := build(t, plain)
	assert.Equal(t, plainImg.Layers[0], img.Layers[1])
	assert.Equal(t, got.layerDigests[1], plainImg.Layers[0].String())
	assert.NotEqual(t, plainImg.Manifest, img.Manifest)
}

// The same inputs give the same bytes, so the same digest; another binary
// gives another, and another tool changes the tools' layer alone.
func TestWrite_Deterministic(t *testing.T) {
	o := Options{Binary: []byte("\x7fELF not really"), Architecture: "arm64", Version: "v0.1.0"}
	a, imgA := build(t, o)
	b, imgB := build(t, o)
	assert.Equal(t, imgA, imgB)
	assert.True(t, bytes.Equal(a, b), "two builds of the same input differ")

	o.Binary = []byte("\x7fELF another")
	_, imgC := build(t, o)
	assert.NotEqual(t, imgA.Manifest, imgC.Manifest)
	assert.NotEqual(t, imgA.DiffIDs, imgC.DiffIDs)

	r := runnerOptions(t)
	ra, rimgA := build(t, r)
	rb, rimgB := build(t, runnerOptions(t))
	assert.Equal(t, rimgA, rimgB)
	assert.True(t, bytes.Equal(ra, rb), "two builds of the same runner image differ")

	r.Tools = map[string][]byte{"kubectl": []byte("\x7fELF kubectl"), "velero": []byte("\x7fELF velero v2")}
	_, rimgC := build(t, r)
	assert.NotEqual(t, rimgA.Layers[0], rimgC.Layers[0], "another velero, another tools layer")
	assert.Equal(t, rimgA.Layers[1], rimgC.Layers[1], "the binary's layer stays")
	assert.NotEqual(t, rimgA.Manifest, rimgC.Manifest)
}

func TestWrite_BadOptions(t *testing.T) {
	ok := Options{Binary: []byte("x"), Architecture: "amd64"}
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no binary", func(o *Options) { o.Binary = nil }, "no binary"},
		{"no architecture", func(o *Options) { o.Architecture = "" }, "no architecture"},
		{"name without registry", func(o *Options) { o.Name = "firedrill:v1" }, "want REGISTRY/REPOSITORY:TAG"},
		{"name without tag", func(o *Options) { o.Name = "ghcr.io/firedrill-dev/firedrill" }, "want REGISTRY/REPOSITORY:TAG"},
		{"registry port, no tag", func(o *Options) { o.Name = "localhost:5000/firedrill" }, "want REGISTRY/REPOSITORY:TAG"},
		{"uppercase repository", func(o *Options) { o.Name = "ghcr.io/Firedrill:v1" }, `repository "Firedrill"`},
		{"bad tag", func(o *Options) { o.Name = "ghcr.io/firedrill:v1+build" }, `tag "v1+build"`},
		{"version as a bad tag", func(o *Options) { o.Version = "v1.0.0+dirty" }, `tag "v1.0.0+dirty"`},
		{"tool with a path", func(o *Options) { o.Tools = map[string][]byte{"bin/kubectl": []byte("x")} }, `tool "bin/kubectl": want a file name`},
		{"empty tool", func(o *Options) { o.Tools = map[string][]byte{"kubectl": nil} }, "tool kubectl: empty"},
		{"not a zip", func(o *Options) { o.Zoneinfo = []byte("not a zip") }, "read the time zone database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.edit(&o)
			_, err := Write(io.Discard, o)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	for _, name := range []string{"localhost/firedrill:dev", "localhost:5000/firedrill:dev", "registry.example.com/team/firedrill-runner:c1424e4-dirty"} {
		o := ok
		o.Name = name
		img, err := Write(io.Discard, o)
		if assert.NoError(t, err, name) {
			assert.Equal(t, name, img.Name)
		}
	}
}

// A zip whose names climb out of the zone directory is refused.
func TestWrite_ZoneinfoStaysInItsDirectory(t *testing.T) {
	for _, name := range []string{"../etc/passwd", "/etc/passwd", "Europe/../../x"} {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, _ = w.Write([]byte("x"))
		require.NoError(t, zw.Close())
		_, err = Write(io.Discard, Options{Binary: []byte("x"), Architecture: "amd64", Zoneinfo: buf.Bytes()})
		assert.ErrorContains(t, err, "is not a zone name", name)
	}
}
