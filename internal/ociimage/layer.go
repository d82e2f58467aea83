package ociimage

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// entry is one file, directory or symbolic link of a layer.
type entry struct {
	// name is the path in the image without the leading slash;
	// directories end in "/".
	name string
	mode int64
	data []byte
	// link, when set, makes the entry a symbolic link to it.
	link string
}

// layer is a layer as the manifest and the config name it.
type layer struct {
	gz     []byte  // the gzipped tar
	digest v1.Hash // of gz
	diffID v1.Hash // of the uncompressed tar
}

// writeLayer writes the entries as a gzipped tar, in name order, every
// parent directory before what it holds (0755 unless an entry gives it),
// owned by root with the time t: nothing of the machine that builds the
// image ends up in it.
func writeLayer(entries []entry, t time.Time) (layer, error) {
	byName := map[string]entry{}
	for _, e := range entries {
		if _, dup := byName[e.name]; dup {
			return layer{}, fmt.Errorf("/%s is in the layer twice", e.name)
		}
		byName[e.name] = e
		for dir := path.Dir(strings.TrimSuffix(e.name, "/")); dir != "."; dir = path.Dir(dir) {
			if _, ok := byName[dir+"/"]; !ok {
				byName[dir+"/"] = entry{name: dir + "/", mode: 0o755}
			}
		}
	}
	for name := range byName {
		// A file and a directory of one name: a later entry would replace
		// the earlier one when the layer is unpacked.
		if !strings.HasSuffix(name, "/") {
			if _, ok := byName[name+"/"]; ok {
				return layer{}, fmt.Errorf("/%s is a file and a directory", name)
			}
		}
	}
	// The diff ID is computed as the tar is written; only the compressed
	// layer is kept, so a runner image of 170 MB of tools is not held twice.
	var gz bytes.Buffer
	// No name and no time in the gzip header: the same tar gives the same bytes.
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return layer{}, err
	}
	sum := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, sum))
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		e := byName[name]
		var err error
		switch {
		case strings.HasSuffix(name, "/"):
			err = writeDir(tw, name, e.mode, t)
		case e.link != "":
			err = writeSymlink(tw, name, e.link, t)
		default:
			err = writeFile(tw, name, e.mode, e.data, t)
		}
		if err != nil {
			return layer{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return layer{}, err
	}
	if err := zw.Close(); err != nil {
		return layer{}, err
	}
	digest, _, err := v1.SHA256(bytes.NewReader(gz.Bytes()))
	if err != nil {
		return layer{}, err
	}
	diffID := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum.Sum(nil))}
	return layer{gz: gz.Bytes(), digest: digest, diffID: diffID}, nil
}

// zoneinfoEntries unpacks a zip of the time zone database (Go's
// lib/time/zoneinfo.zip: one file per zone, named as TZ names it) into
// ZoneinfoDir.
func zoneinfoEntries(data []byte) ([]entry, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("read the time zone database: %w", err)
	}
	var out []entry
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if !localPath(f.Name) {
			return nil, fmt.Errorf("time zone database: %q is not a zone name", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("time zone database: %s: %w", f.Name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("time zone database: %s: %w", f.Name, err)
		}
		out = append(out, entry{name: ZoneinfoDir[1:] + "/" + f.Name, mode: 0o644, data: b})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("time zone database: no zones in it")
	}
	return out, nil
}

// localPath reports whether p is a relative path that stays below where
// it is unpacked.
func localPath(p string) bool {
	return p != "" && !strings.HasPrefix(p, "/") && path.Clean(p) == p && p != "." && p != ".." && !strings.HasPrefix(p, "../")
}

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

func writeDir(tw *tar.Writer, name string, mode int64, t time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: t, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func writeSymlink(tw *tar.Writer, name, target string, t time.Time) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: target, Mode: 0o777, ModTime: t, Format: tar.FormatPAX}); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}
