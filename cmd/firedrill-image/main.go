// Command firedrill-image builds the firedrill container image without
// Docker: a static binary (CGO_ENABLED=0, -trimpath) in one layer on an
// empty base, run as a non-root user, written as an OCI image layout in a
// tar file. 'make image' runs it; see README.md for pushing the result.
//
//	go run ./cmd/firedrill-image -o bin/firedrill-image.tar -version v1.2.3
//
// The same sources, version and SOURCE_DATE_EPOCH give the same image
// digest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/firedrill-dev/firedrill/internal/ociimage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("firedrill-image", flag.ContinueOnError)
	out := fs.String("o", "bin/firedrill-image.tar", "write the OCI image layout archive to `FILE`")
	ver := fs.String("version", "dev", "the firedrill `VERSION` (linked into the binary, labelled, and the image's name in the layout)")
	rev := fs.String("revision", "", "the source `COMMIT`, as the org.opencontainers.image.revision label")
	arch := fs.String("arch", runtime.GOARCH, "build for `GOARCH`")
	binary := fs.String("binary", "", "put this prebuilt static linux `FILE` in the image instead of building ./cmd/firedrill")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	// SOURCE_DATE_EPOCH is the reproducible-builds convention for "the
	// time of the sources"; without it the image says 1970.
	var created time.Time
	if s := getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
		}
		created = time.Unix(sec, 0)
	}
	bin := *binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "firedrill-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "firedrill")
		if err := buildBinary(ctx, bin, *arch, *ver); err != nil {
			return err
		}
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return fmt.Errorf("read the binary: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	// Written next to the target and renamed: a failed build never leaves
	// half an image where a good one was.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".firedrill-image-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	img, err := ociimage.Write(tmp, ociimage.Options{Binary: data, Architecture: *arch, Version: *ver, Revision: *rev, Created: created})
	if err != nil {
		tmp.Close()
		return err
	}
	if err := errors.Join(tmp.Chmod(0o644), tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: OCI image layout, linux/%s, %s, digest %s\n", *out, *arch, *ver, img.Manifest)
	return nil
}

// buildBinary builds a static firedrill: no cgo, so it runs on an empty
// base; -trimpath, so no path of the build machine ends up in it.
func buildBinary(ctx context.Context, out, arch, ver string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", "-s -w -X github.com/firedrill-dev/firedrill/internal/version.Version="+ver,
		"-o", out, "./cmd/firedrill")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build a static firedrill for linux/%s (run from the repository root): %w", arch, err)
	}
	return nil
}
