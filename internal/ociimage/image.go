package ociimage

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The images' fixed shape.
const (
	// BinaryPath is where the binary sits in the image, and its entrypoint.
	BinaryPath = "/firedrill"
	// User is the non-root uid:gid the image runs as: distroless's
	// "nonroot", which no system account uses. Numeric, so the image needs
	// no /etc/passwd.
	User = "65532:65532"
	// BinaryMode is the binary's file mode in the layer.
	BinaryMode = 0o755
	// Path is the PATH in the image's config: the tools, then the shell
	// and its applets. /usr/bin is there for images built on this one.
	Path = ToolDir + ":/usr/bin:/bin"
	// ToolDir holds Options.Tools.
	ToolDir = "/usr/local/bin"
	// BusyboxPath is where Options.Busybox goes; the applets are symbolic
	// links to it beside it, /bin/sh first.
	BusyboxPath = "/bin/busybox"
	// ZoneinfoDir holds the time zone database, where the C library of
	// busybox and Go's time package look for it when TZ names a zone.
	ZoneinfoDir = "/usr/share/zoneinfo"
	// TmpDir is in the runner image, world-writable and sticky, for a
	// container run without a volume there; a pod mounts an emptyDir on it.
	TmpDir = "/tmp"

	// Repository is where the firedrill image of each release is pushed,
	// tagged with the version; RunnerRepository that of the runner image.
	// An archive names its image this way unless Options.Name says
	// otherwise.
	Repository       = "ghcr.io/firedrill-dev/firedrill"
	RunnerRepository = "ghcr.io/firedrill-dev/firedrill-runner"
)

// applets are the busybox applets the runner image links in /bin: the
// shell, and what runbook steps and command checks call (the catalog's
// runbooks use echo, test, grep, for loops and kubectl), plus the common
// text and file tools a runbook author reaches for. Network tools are
// left out: busybox's wget does not check TLS certificates.
var applets = []string{
	"[", "awk", "base64", "basename", "cat", "chmod", "cp", "cut", "date", "dirname", "echo", "env",
	"expr", "false", "find", "grep", "head", "id", "ls", "mkdir", "mktemp", "mv", "printf", "pwd",
	"readlink", "rm", "sed", "seq", "sh", "sha256sum", "sleep", "sort", "stat", "tail", "tee", "test",
	"timeout", "touch", "tr", "true", "uname", "uniq", "wc", "which", "xargs",
}

// Applets lists the busybox applets of the runner image, sorted.
func Applets() []string { return slices.Sorted(slices.Values(applets)) }

// Options describe the image.
type Options struct {
	// Binary is the static firedrill binary. Required.
	Binary []byte
	// Architecture is the GOARCH the binaries were built for. Required.
	Architecture string
	// Version and Revision become the org.opencontainers.image.version
	// and .revision labels; Version is the tag of the default Name.
	Version, Revision string
	// Name is the image's reference, REGISTRY/REPOSITORY:TAG, fully
	// qualified as a node's containerd names images: 'ctr images import'
	// gives the image this name, and skopeo and crane find it by its tag.
	// Default Repository:Version, or RunnerRepository:Version for a runner
	// image ("dev" when Version is empty).
	Name string
	// Created is the image's creation time and every file's time in the
	// layers: fixed (SOURCE_DATE_EPOCH, the commit's time) so that the
	// same inputs always give the same digest. Zero means the Unix epoch.
	Created time.Time

	// The runner image: any of the three below adds a layer of tools
	// under the binary's.

	// Tools are static linux programs, by name, put in ToolDir (0755):
	// kubectl and velero, which the catalog's runbooks call.
	Tools map[string][]byte
	// Busybox is a static busybox, put at BusyboxPath (0755) with /bin/sh
	// and the other Applets as symbolic links to it: runbook steps run
	// 'sh -e -c'.
	Busybox []byte
	// Zoneinfo is a zip of the time zone database (Go's
	// lib/time/zoneinfo.zip), unpacked into ZoneinfoDir, so that a TZ
	// naming a zone means that zone to the shell's date too; without it
	// the C library prints UTC labelled with the zone's first word.
	Zoneinfo []byte
}

// Runner reports whether o describes a runner image: one with tools
// beside firedrill.
func (o Options) Runner() bool {
	return len(o.Tools) > 0 || len(o.Busybox) > 0 || len(o.Zoneinfo) > 0
}

// DefaultName is the name of the image o describes when o.Name is empty.
func (o Options) DefaultName() string {
	tag := o.Version
	if tag == "" {
		tag = "dev"
	}
	if o.Runner() {
		return RunnerRepository + ":" + tag
	}
	return Repository + ":" + tag
}

// Image is what Write wrote.
type Image struct {
	// Name is the image's reference (Options.Name or its default).
	Name string
	// Manifest is the digest of the image manifest: the image's digest in
	// a registry after a push.
	Manifest v1.Hash
	// Config is the digest of the config.
	Config v1.Hash
	// Layers are the digests of the layers (compressed), bottom first:
	// the tools of a runner image, then the binary; DiffIDs those of the
	// uncompressed layers.
	Layers, DiffIDs []v1.Hash
}

// Write writes the image as an OCI image layout in a tar archive to w.
func Write(w io.Writer, o Options) (Image, error) {
	if len(o.Binary) == 0 {
		return Image{}, errors.New("build image: no binary")
	}
	if o.Architecture == "" {
		return Image{}, errors.New("build image: no architecture")
	}
	ref := o.Name
	if ref == "" {
		ref = o.DefaultName()
	}
	tag, err := tagOf(ref)
	if err != nil {
		return Image{}, fmt.Errorf("build image: name %q: %w", ref, err)
	}
	created := o.Created.UTC()
	if o.Created.IsZero() {
		created = time.Unix(0, 0).UTC()
	}

	var layers []layer
	history := []v1.History{}
	if o.Runner() {
		entries, err := toolEntries(o)
		if err != nil {
			return Image{}, fmt.Errorf("build image: %w", err)
		}
		l, err := writeLayer(entries, created)
		if err != nil {
			return Image{}, fmt.Errorf("build image tools layer: %w", err)
		}
		layers = append(layers, l)
		history = append(history, v1.History{Created: v1.Time{Time: created}, CreatedBy: "firedrill-image", Comment: "tools for runbook steps and command checks: " + toolList(o)})
	}
	// The binary's layer comes last and alone, the same in both images:
	// a new firedrill on the same tools is one small layer to push and pull.
	bin, err := writeLayer([]entry{{name: BinaryPath[1:], mode: BinaryMode, data: o.Binary}}, created)
	if err != nil {
		return Image{}, fmt.Errorf("build image layer: %w", err)
	}
	layers = append(layers, bin)
	history = append(history, v1.History{Created: v1.Time{Time: created}, CreatedBy: "firedrill-image", Comment: "the static firedrill binary"})

	title, description := "firedrill", "Disaster-recovery drills for Kubernetes platforms backed up with Velero"
	if o.Runner() {
		title = "firedrill-runner"
		description += ", with the tools runbook steps and command checks call: " + toolList(o)
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       title,
		"org.opencontainers.image.description": description,
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
	var diffIDs, digests []v1.Hash
	var layerDescs []v1.Descriptor
	for _, l := range layers {
		diffIDs = append(diffIDs, l.diffID)
		digests = append(digests, l.digest)
		layerDescs = append(layerDescs, v1.Descriptor{MediaType: types.OCILayer, Size: int64(len(l.gz)), Digest: l.digest})
	}
	cfg := v1.ConfigFile{
		Architecture: o.Architecture,
		OS:           "linux",
		Created:      v1.Time{Time: created},
		Config: v1.Config{
			Entrypoint: []string{BinaryPath},
			User:       User,
			WorkingDir: "/",
			Env:        []string{"PATH=" + Path},
			Labels:     labels,
		},
		RootFS:  v1.RootFS{Type: "layers", DiffIDs: diffIDs},
		History: history,
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
		Layers:        layerDescs,
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
	manifestDesc.Annotations = map[string]string{
		// containerd ('ctr images import', a node's image store) names
		// the image by this, as a kubelet will ask for it.
		"io.containerd.image.name": ref,
		// skopeo and crane address an image in a layout by its tag.
		"org.opencontainers.image.ref.name": tag,
	}
	index, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{manifestDesc}})
	if err != nil {
		return Image{}, fmt.Errorf("encode image index: %w", err)
	}

	files := map[string][]byte{
		"oci-layout":              []byte(`{"imageLayoutVersion":"1.0.0"}`),
		"index.json":              index,
		blob(cfgDesc.Digest):      cfgJSON,
		blob(manifestDesc.Digest): manifestJSON,
	}
	for _, l := range layers {
		files[blob(l.digest)] = l.gz
	}
	tw := tar.NewWriter(w)
	if err := writeDir(tw, "blobs/", 0o755, created); err != nil {
		return Image{}, err
	}
	if err := writeDir(tw, "blobs/sha256/", 0o755, created); err != nil {
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
	return Image{Name: ref, Manifest: manifestDesc.Digest, Config: cfgDesc.Digest, Layers: digests, DiffIDs: diffIDs}, nil
}

// toolEntries is the runner image's tools layer.
func toolEntries(o Options) ([]entry, error) {
	entries := []entry{{name: TmpDir[1:] + "/", mode: 0o1777}}
	for _, n := range slices.Sorted(maps.Keys(o.Tools)) {
		if n == "" || strings.ContainsAny(n, "/\x00") || n == "." || n == ".." {
			return nil, fmt.Errorf("tool %q: want a file name", n)
		}
		if len(o.Tools[n]) == 0 {
			return nil, fmt.Errorf("tool %s: empty", n)
		}
		entries = append(entries, entry{name: ToolDir[1:] + "/" + n, mode: 0o755, data: o.Tools[n]})
	}
	if len(o.Busybox) > 0 {
		entries = append(entries, entry{name: BusyboxPath[1:], mode: 0o755, data: o.Busybox})
		for _, a := range applets {
			// Relative, so the link holds inside any root the layer is unpacked in.
			entries = append(entries, entry{name: path.Join(path.Dir(BusyboxPath[1:]), a), link: path.Base(BusyboxPath)})
		}
	}
	if len(o.Zoneinfo) > 0 {
		zones, err := zoneinfoEntries(o.Zoneinfo)
		if err != nil {
			return nil, err
		}
		entries = append(entries, zones...)
	}
	return entries, nil
}

// toolList names the runner image's tools for its labels: "sh (busybox),
// kubectl, velero, time zones".
func toolList(o Options) string {
	var parts []string
	if len(o.Busybox) > 0 {
		parts = append(parts, "sh (busybox)")
	}
	parts = append(parts, slices.Sorted(maps.Keys(o.Tools))...)
	if len(o.Zoneinfo) > 0 {
		parts = append(parts, "time zones")
	}
	return strings.Join(parts, ", ")
}

// Parts of an image reference, as the distribution project's reference
// grammar has them.
var (
	pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)
	hostPart      = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$`)
	tagPart       = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
)

// tagOf checks that ref is a fully qualified REGISTRY/REPOSITORY:TAG and
// returns its tag. Fully qualified because a node's containerd stores the
// name as it is given, and a kubelet asks for the normalized one:
// "firedrill:v1" would be found by neither "docker.io/library/firedrill:v1"
// nor anything else.
func tagOf(ref string) (string, error) {
	const want = "want REGISTRY/REPOSITORY:TAG, as a node's containerd names images (e.g. " + Repository + ":v1.0.0)"
	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if slash < 0 || colon < slash {
		return "", errors.New(want)
	}
	repo, tag := ref[:colon], ref[colon+1:]
	if !tagPart.MatchString(tag) {
		return "", fmt.Errorf("tag %q: letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-'; %s", tag, want)
	}
	parts := strings.Split(repo, "/")
	if host := parts[0]; !hostPart.MatchString(host) || !(strings.ContainsAny(host, ".:") || host == "localhost") {
		return "", fmt.Errorf("registry %q: %s", host, want)
	}
	for _, p := range parts[1:] {
		if !pathComponent.MatchString(p) {
			return "", fmt.Errorf("repository %q: lowercase letters, digits and separators; %s", strings.Join(parts[1:], "/"), want)
		}
	}
	return tag, nil
}

func descriptor(mt types.MediaType, data []byte) (v1.Descriptor, error) {
	h, n, err := v1.SHA256(bytes.NewReader(data))
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: mt, Size: n, Digest: h}, nil
}

func blob(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
