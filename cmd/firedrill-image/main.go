// Command firedrill-image builds the firedrill container images without
// Docker, written as OCI image layouts in tar files: a static binary
// (CGO_ENABLED=0, -trimpath) in one layer on an empty base, run as a
// non-root user; and with -busybox and -add, the runner image, which has
// under that layer the static tools runbook steps and command checks call.
// 'make image' and 'make image-runner' run it; see README.md for loading
// and pushing the result.
//
//	go run ./cmd/firedrill-image -o bin/firedrill-image.tar -version v1.2.3
//	go run ./cmd/firedrill-image -o bin/firedrill-runner-image.tar -version v1.2.3 \
//	    -busybox /bin/busybox -add kubectl=PATH -add velero=PATH
//
// The same sources, tools, version and SOURCE_DATE_EPOCH give the same
// image digest.
package main

import (
	"cmp"
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
	"strings"
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

// tools is the repeatable -add NAME=FILE.
type tools map[string]string

func (t tools) String() string { return "" }

func (t tools) Set(s string) error {
	name, file, ok := strings.Cut(s, "=")
	if !ok || name == "" || file == "" {
		return fmt.Errorf("%q: want NAME=FILE, e.g. kubectl=/usr/local/bin/kubectl", s)
	}
	if _, dup := t[name]; dup {
		return fmt.Errorf("%s is added twice", name)
	}
	t[name] = file
	return nil
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("firedrill-image", flag.ContinueOnError)
	out := fs.String("o", "bin/firedrill-image.tar", "write the OCI image layout archive to `FILE`")
	ver := fs.String("version", "dev", "the firedrill `VERSION` (linked into the binary, labelled, and the tag of the default -name)")
	rev := fs.String("revision", "", "the source `COMMIT`, as the org.opencontainers.image.revision label")
	commit := fs.String("commit", "", "the `COMMIT` linked into the binary, as 'firedrill version' shows it (short hash, -dirty for a changed tree; default -revision)")
	arch := fs.String("arch", runtime.GOARCH, "build for `GOARCH`")
	binary := fs.String("binary", "", "put this prebuilt static linux `FILE` in the image instead of building ./cmd/firedrill")
	imgName := fs.String("name", "", "name the image `REF` (REGISTRY/REPOSITORY:TAG), as 'ctr images import' will (default "+
		ociimage.Repository+":VERSION, or "+ociimage.RunnerRepository+":VERSION with -busybox or -add)")
	add := tools{}
	fs.Var(add, "add", "runner image: put the static linux program `NAME=FILE` in "+ociimage.ToolDir+"/NAME (repeatable)")
	busybox := fs.String("busybox", "", "runner image: put this static busybox `FILE` at "+ociimage.BusyboxPath+", with /bin/sh and the usual applets linked to it")
	zoneinfo := fs.String("zoneinfo", "", "runner image: unpack this time zone database `ZIP` in "+ociimage.ZoneinfoDir+" (default the Go toolchain's lib/time/zoneinfo.zip)")
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
	o := ociimage.Options{Architecture: *arch, Version: *ver, Revision: *rev, Name: *imgName, Created: created}

	// The tools first: a missing or dynamically linked one is found
	// before a minute of building firedrill.
	var err error
	if *busybox != "" {
		if o.Busybox, err = readStatic("-busybox", *busybox, *arch); err != nil {
			return fmt.Errorf("%w (Debian: apt-get install busybox-static, then -busybox /bin/busybox)", err)
		}
	}
	for name, file := range add {
		if o.Tools == nil {
			o.Tools = map[string][]byte{}
		}
		if o.Tools[name], err = readStatic("-add "+name, file, *arch); err != nil {
			return err
		}
	}
	if o.Runner() {
		zip := *zoneinfo
		if zip == "" {
			if zip, err = goZoneinfo(ctx); err != nil {
				return err
			}
		}
		if o.Zoneinfo, err = os.ReadFile(zip); err != nil {
			return fmt.Errorf("-zoneinfo: %w", err)
		}
	} else if *zoneinfo != "" {
		return errors.New("-zoneinfo is for a runner image: give -busybox or -add too")
	}

	bin := *binary
	if bin == "" {
		dir, err := os.MkdirTemp("", "firedrill-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "firedrill")
		if err := buildBinary(ctx, bin, *arch, *ver, cmp.Or(*commit, *rev)); err != nil {
			return err
		}
	}
	if o.Binary, err = readStatic("the firedrill binary", bin, *arch); err != nil {
		return err
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
	img, err := ociimage.Write(tmp, o)
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
	fmt.Fprintf(stdout, "%s: OCI image layout, linux/%s, %s, digest %s\n", *out, *arch, img.Name, img.Manifest)
	return nil
}

// readStatic reads a program for the image and refuses one that could not
// run there.
func readStatic(what, file, arch string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := ociimage.CheckStatic(data, arch); err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, file, err)
	}
	return data, nil
}

// goZoneinfo is the time zone database of the Go toolchain that builds
// firedrill: the same file for the same toolchain, wherever it is built.
func goZoneinfo(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("find the Go toolchain's time zone database (go env GOROOT): %w; give -zoneinfo ZIP", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "lib", "time", "zoneinfo.zip"), nil
}

// buildBinary builds a static firedrill: no cgo, so it runs on an empty
// base; -trimpath, so no path of the build machine ends up in it. ver
// and commit are stamped as make build stamps them (see
// internal/version).
func buildBinary(ctx context.Context, out, arch, ver, commit string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags", ldflags(ver, commit), "-o", out, "./cmd/firedrill")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build a static firedrill for linux/%s (run from the repository root): %w", arch, err)
	}
	return nil
}

// ldflags are the linker flags of the image's binary: stripped, with
// internal/version's Version and Commit set (neither holds a space: a
// version and a hash).
func ldflags(ver, commit string) string {
	const pkg = "github.com/firedrill-dev/firedrill/internal/version"
	return fmt.Sprintf("-s -w -X %s.Version=%s -X %s.Commit=%s", pkg, ver, pkg, commit)
}
