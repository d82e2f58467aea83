package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
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

func build(t *testing.T, o Options) ([]byte, Image) {
	t.Helper()
	var buf bytes.Buffer
	img, err := Write(&buf, o)
	require.NoError(t, err)
	return buf.Bytes(), img
}

// The image of a real binary (this test's own) is an OCI layout whose one
// image runs that binary, and only it, as a non-root user.
func TestWrite_ImageOfTheBinary(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	bin, err := os.ReadFile(exe)
	require.NoError(t, err)
	archive, img := build(t, Options{Binary: bin, Architecture: "amd64", Version: "v1.2.3", Revision: "abc123",
		Created: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	l := readLayout(t, archive)

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
	assert.Equal(t, img.Manifest.String(), md.Digest)
	assert.Equal(t, "v1.2.3", md.Annotations["org.opencontainers.image.ref.name"])
	require.NotNil(t, md.Platform)
	assert.Equal(t, "linux", md.Platform.OS)
	assert.Equal(t, "amd64", md.Platform.Architecture)

	var manifest struct {
		SchemaVersion int    `json:"schemaVersion"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}
	mdata := l.blob(t, md.Digest)
	assert.Equal(t, md.Size, len(mdata))
	require.NoError(t, json.Unmarshal(mdata, &manifest))
	assert.Equal(t, "application/vnd.oci.image.config.v1+json", manifest.Config.MediaType)
	require.Len(t, manifest.Layers, 1, "one layer: the binary")
	assert.Equal(t, "application/vnd.oci.image.layer.v1.tar+gzip", manifest.Layers[0].MediaType)

	var cfg struct {
		Architecture, OS string
		Created          time.Time
		Config           struct {
			Entrypoint []string
			Cmd        []string
			User       string
			Labels     map[string]string
		} `json:"config"`
		RootFS struct {
			Type    string   `json:"type"`
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	cdata := l.blob(t, manifest.Config.Digest)
	assert.Equal(t, manifest.Config.Size, len(cdata))
	require.NoError(t, json.Unmarshal(cdata, &cfg))
	assert.Equal(t, "linux", cfg.OS)
	assert.Equal(t, "amd64", cfg.Architecture)
	assert.Equal(t, []string{"/firedrill"}, cfg.Config.Entrypoint)
	assert.Empty(t, cfg.Config.Cmd)
	assert.Equal(t, "65532:65532", cfg.Config.User, "non-root, numeric: no /etc/passwd needed")
	assert.Equal(t, "v1.2.3", cfg.Config.Labels["org.opencontainers.image.version"])
	assert.Equal(t, "abc123", cfg.Config.Labels["org.opencontainers.image.revision"])
	assert.Equal(t, "https://github.com/firedrill-dev/firedrill", cfg.Config.Labels["org.opencontainers.image.source"])
	assert.Equal(t, "2026-03-01T12:00:00Z", cfg.Config.Labels["org.opencontainers.image.created"])
	assert.True(t, cfg.Created.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))

	gz := l.blob(t, manifest.Layers[0].Digest)
	assert.Equal(t, manifest.Layers[0].Size, len(gz))
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	require.NoError(t, err)
	raw, err := io.ReadAll(zr)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)
	assert.Equal(t, []string{"sha256:" + hex.EncodeToString(sum[:])}, cfg.RootFS.DiffIDs, "diff ID is the uncompressed layer's digest")
	assert.Equal(t, "layers", cfg.RootFS.Type)

	tr := tar.NewReader(bytes.NewReader(raw))
	hdr, err := tr.Next()
	require.NoError(t, err)
	assert.Equal(t, "firedrill", hdr.Name)
	assert.Equal(t, byte(tar.TypeReg), hdr.Typeflag)
	assert.Equal(t, int64(0o755), hdr.Mode)
	assert.Equal(t, 0, hdr.Uid)
	content, err := io.ReadAll(tr)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(bin, content), "the layer holds the binary as it was given")
	_, err = tr.Next()
	assert.Equal(t, io.EOF, err, "the layer holds the binary and nothing else")

	// Nothing in the archive but the layout and the three blobs.
	assert.Len(t, l.files, 5)
}

// The same binary and options give the same bytes, so the same digest;
// another binary gives another.
func TestWrite_Deterministic(t *testing.T) {
	o := Options{Binary: []byte("\x7fELF not really"), Architecture: "arm64", Version: "v0.1.0"}
	a, imgA := build(t, o)
	b, imgB := build(t, o)
	assert.Equal(t, imgA, imgB)
	assert.True(t, bytes.Equal(a, b), "two builds of the same input differ")

	o.Binary = []byte("\x7fELF another")
	_, imgC := build(t, o)
	assert.NotEqual(t, imgA.Manifest, imgC.Manifest)
	assert.NotEqual(t, imgA.DiffID, imgC.DiffID)
}

func TestWrite_BadOptions(t *testing.T) {
	_, err := Write(io.Discard, Options{Architecture: "amd64"})
	assert.ErrorContains(t, err, "no binary")
	_, err = Write(io.Discard, Options{Binary: []byte("x")})
	assert.ErrorContains(t, err, "no architecture")
}
