// Package evidencetest opens evidence bundles in tests.
package evidencetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"
)

// Gunzip is the bundle's tar stream, uncompressed.
func Gunzip(t testing.TB, bundle []byte) []byte {
	t.Helper()
	r, err := gzip.NewReader(bytes.NewReader(bundle))
	if err != nil {
		t.Fatalf("open bundle: %v", err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read bundle: %v", err)
	}
	return out
}

// Files are the bundle's entries by their name in the archive
// ("DRILL_ID/report.json").
func Files(t testing.TB, bundle []byte) map[string][]byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(Gunzip(t, bundle)))
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("read bundle: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("read %s: %v", h.Name, err)
		}
		files[h.Name] = data
	}
}
