package lab

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// No image registry is reachable from the lab's machines, so every image a
// lab pod runs is built here, from this module's own programs, and imported
// into each node's containerd. Pods name them with imagePullPolicy Never.
const (
	// PauseImage is containerd's sandbox image on the lab's nodes.
	PauseImage = "localhost/firedrill-lab/pause:lab"
	// ShopImage runs every container of the lab's shop application.
	ShopImage = "localhost/firedrill-lab/shop:lab"
	// VeleroImage holds /velero and /velero-restore-helper, the lab's
	// static builds of Velero v1.18.3 (build-bins.sh). It runs node-agent
	// and the data-mover pods node-agent starts (which inherit its image),
	// and is the image of the velero Deployment, which Velero uses for the
	// velero-restore-helper init container it adds to restored pods.
	VeleroImage = "localhost/firedrill-lab/velero:v1.18.3"
)

// labImage is one image, in a single layer: a static binary of a program of
// this module at /<bin>, or binaries the lab built already (prebuilt) at
// /<base name>.
type labImage struct {
	ref      string
	pkg      string // relative to the lab module
	bin      string
	prebuilt func(Bins) []string
	command  []string
}

var labImages = []labImage{
	{ref: PauseImage, pkg: "./cmd/pause", bin: "pause", command: []string{"/pause"}},
	{ref: ShopImage, pkg: "./cmd/shop", bin: "shop", command: []string{"/shop"}},
	{ref: VeleroImage, bin: "velero", command: []string{"/velero"}, prebuilt: func(b Bins) []string {
		return []string{filepath.Join(b.Velero, "velero"), filepath.Join(b.VeleroHelper, "velero-restore-helper")}
	}},
}

// buildImages compiles each image's program (seconds once Go's build cache
// is warm) and writes each image as a docker-archive tar, the format
// `ctr images import` names by its tag. It returns the archives' paths.
func (c Config) buildImages(ctx context.Context) ([]string, error) {
	dir := c.path("images")
	if err := mkdirs(dir); err != nil {
		return nil, err
	}
	var out []string
	for _, im := range labImages {
		archive := filepath.Join(dir, im.bin+".tar")
		var files []string
		if im.prebuilt != nil {
			files = im.prebuilt(c.Bins)
			if upToDate(archive, files) {
				// Velero's image is 100 MB: compressing it takes seconds.
				out = append(out, archive)
				continue
			}
		} else {
			bin := filepath.Join(dir, im.bin)
			build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, im.pkg)
			build.Dir = c.Scripts
			build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
			if b, err := build.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("build %s for image %s: %w\n%s", im.pkg, im.ref, err, b)
			}
			files = []string{bin}
		}
		if err := writeImage(archive, im, files); err != nil {
			return nil, fmt.Errorf("write image %s: %w", im.ref, err)
		}
		out = append(out, archive)
	}
	return out, nil
}

// upToDate reports whether archive exists and is newer than every input.
func upToDate(archive string, inputs []string) bool {
	a, err := os.Stat(archive)
	if err != nil {
		return false
	}
	for _, in := range inputs {
		if st, err := os.Stat(in); err != nil || !st.ModTime().Before(a.ModTime()) {
			return false
		}
	}
	return true
}

// writeImage writes files, each at /<base name>, into a one-layer image.
func writeImage(archive string, im labImage, files []string) error {
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	epoch := time.Unix(0, 0)
	// /tmp for programs that want one; the root filesystem is read-only.
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Typeflag: tar.TypeDir, Mode: 0o1777, ModTime: epoch}); err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(f), Mode: 0o755, Size: int64(len(data)), ModTime: epoch}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	l, err := tarball.LayerFromReader(bytes.NewReader(layer.Bytes()))
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	// containerd imports only images for its own platform.
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config = v1.Config{Entrypoint: im.command, WorkingDir: "/"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	tag, err := name.NewTag(im.ref)
	if err != nil {
		return err
	}
	// Renamed into place, so an interrupted write is never "up to date".
	if err := tarball.WriteToFile(archive+".tmp", tag, img); err != nil {
		return err
	}
	return os.Rename(archive+".tmp", archive)
}

// importImages loads the archives into a node's containerd, in the k8s.io
// namespace the CRI plugin uses. Importing an image again is a no-op.
func importImages(ctx context.Context, socket string, archives []string) error {
	for _, a := range archives {
		if err := run(ctx, "ctr", "-a", socket, "-n", "k8s.io", "images", "import", a); err != nil {
			return fmt.Errorf("import image %s: %w", filepath.Base(a), err)
		}
	}
	return nil
}
