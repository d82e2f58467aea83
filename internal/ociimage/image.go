package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed shape.
const (
	// BinaryPath is where the binary sits in the image, and its entrypoint.
	BinaryPath = "/firedrill"
	// User is the non-root uid:gid the image runs as: distroless's
	// "nonroot", which no system account uses. Numeric, so the image needs
	// no /etc/passwd.
	User = "65532:65532"
	// BinaryMode is the binary's file mode in the layer.
	BinaryMode = 0o755
)

// Options describe the image.
type Options struct {
	// Binary is the static firedrill binary. Required.
	Binary []byte
	// Architecture is the GOARCH the binary was built for. Required.
	Architecture string
	// Version and Revision become the org.opencontainers.image.version
	// and .revision labels; Version also names the image in the layout.
	Version, Revision string
	// Created is the image's creation time and every file's time in the
	// layer: fixed (SOURCE_DATE_EPOCH, the commit's time) so that the same
	// binary always gives the same digest. Zero means the Unix epoch.
	Created time.Time
}

// Image is what Write wrote.
type Image struct {
	// Manifest is the digest of the image manifest: the image's digest in
	// a registry after a push.
	Manifest v1.Hash
	// Config and Layer are the digests of the config and of the one layer
	// (compressed); DiffID that of the uncompressed layer.
	Config, Layer, DiffID v1.Hash
}

// Write writes the image as an OCI image layout in a tar archive to w.
func Write(w io.Writer, o Options) (Image, error) {
	if len(o.Binary) == 0 {
		return Image{}, errors.New("build image: no binary")
	}
	if o.Architecture == "" {
		return Image{}, errors.New("build image: no architecture")
	}
	created := o.Created.UTC()
	if o.Created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}
	layer, diffID, err := binaryLayer(o.Binary, created)
	if err != nil {
		return Image{}, fmt.Errorf("build image layer: %w", err)
	}
	layerDigest, _, err := v1.SHA256(bytes.NewReader(layer))
	if err != nil {
		return Image{}, err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "firedrill",
		"org.opencontainers.image.description": "Disaster-recovery drills for Kubernetes platforms backed up with Velero",
		"org.opencontainers.image.source":      "https://github.com/firedrill-dev/firedrill",
		"org.opencontainers.image.url":         "https://github.com/firedrill-dev/firedrill",
		"org.opencontainers.image.created":     created.Format(time.RFC3339),
	}
	if o.Version != "" {
		labels["org.opencontainers.image.version"] = o.Version
	}
	if o.Revision != "" {
		labels["org.opencontainers.image.revision"] = o.Revision
	}
	cfg := v1.ConfigFile{
		Architecture: o.Architecture,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{BinaryPath},
			User:       User,
			WorkingDir: "/",
			Labels:     labels,
		},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{diffID}},
		History: []v1.History{{Created: v1.Time{Time: created}, CreatedBy: "firedrill-image", Comment: "the static firedrill binary"}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return Image{}, fmt.Errorf("encode image config: %w", err)
	}
	cfgDesc, err := descriptor(types.OCIConfigJSON, cfgJSON)
	if err != nil {
		return Image{}, err
	}
	manifest := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        cfgDesc,
		Layers:        []v1.Descriptor{{MediaType: types.OCILayer, Size: int64(len(layer)), Digest: layerDigest}},
		Annotations:   maps.Clone(labels),
	}
	manifestJSON, err := json.Marshal(manifest)
	if err != nil {
		return Image{}, fmt.Errorf("encode image manifest: %w", err)
	}
	manifestDesc, err := descriptor(types.OCIManifestSchema1, manifestJSON)
	if err != nil {
		return Image{}, err
	}
	manifestDesc.Platform = &v1.Platform{OS: "linux", Architecture: o.Architecture}
	if o.Version != "" {
		// skopeo and crane address an image in a layout by this name.
		manifestDesc.Annotations = map[string]string{"org.opencontainers.image.ref.name": o.Version}
	}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{manifestDesc}})
	if err != nil {
		return Image{}, fmt.Errorf("encode image index: %w", err)
	}

	files := map[string][]byte{
		"oci-layout":              []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json":              index,
		blob(layerDigest):         layer,
		blob(cfgDesc.Digest):      cfgJSON,
		blob(manifestDesc.Digest): manifestJSON,
	}
	tw := tar.NewWriter(w)
	if err := writeDir(tw, "blobs/", created); err != nil {
		return Image{}, err
	}
	if err := writeDir(tw, "blobs/sha256/", created); err != nil {
		return Image{}, err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if err := writeFile(tw, name, 0o644, files[name], created); err != nil {
			return Image{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return Image{}, fmt.Errorf("write image archive: %w", err)
	}
	return Image{Manifest: manifestDesc.Digest, Config: cfgDesc.Digest, Layer: layerDigest, DiffID: diffID}, nil
}

// binaryLayer is a gzipped tar holding only the binary, and the digest of
// the uncompressed tar (the layer's diff ID).
func binaryLayer(bin []byte, created time.Time) ([]byte, v1.Hash, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	if err := writeFile(tw, BinaryPath[1:], BinaryMode, bin, created); err != nil {
		return nil, v1.Hash{}, err
	}
	if err := tw.Close(); err != nil {
		return nil, v1.Hash{}, err
	}
	diffID, _, err := v1.SHA256(bytes.NewReader(raw.Bytes()))
	if err != nil {
		return nil, v1.Hash{}, err
	}
	var gz bytes.Buffer
	// No name and no time in the gzip header: the same tar gives the same bytes.
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, v1.Hash{}, err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, v1.Hash{}, err
	}
	if err := zw.Close(); err != nil {
		return nil, v1.Hash{}, err
	}
	return gz.Bytes(), diffID, nil
}

func descriptor(mt types.MediaType, data []byte) (v1.Descriptor, error) {
	h, n, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: n, Digest: h}, nil
}

func blob(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// writeFile writes a regular file owned by root with a fixed time: nothing
// of the machine that builds the image ends up in it.
func writeFile(tw *tar.Writer, name string, mode int64, data []byte, t time.Time) error {
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: t, Format: tar.FormatPAX}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if _, err := tw.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func writeDir(tw *tar.Writer, name string, t time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: t, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
