package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzVerify feeds arbitrary bytes to Verify with the key the hostile
// bundles are signed with: it must never panic nor fail (a bundle that does
// not open is a problem, not an error), and a bundle it calls intact must
// be one an auditor can unpack safely: read again by plain gzip (every
// member) and tar, every entry is a regular file or a directory under the
// manifest's drill directory, with a clean name and a canonical mode, and
// the files are exactly those the manifest lists, with their sizes.
func FuzzVerify(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "hostile", "*.tar.gz"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	pub, err := ParsePublicKey(hostileKey(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Verify(bytes.NewReader(data), pub)
		if err != nil {
			t.Fatalf("Verify of bytes in memory returned an error: %v", err)
		}
		if v.Problems == nil {
			t.Fatal("Problems is nil; want an empty list")
		}
		if !v.Intact() {
			return
		}
		m := v.Manifest
		if m == nil || v.Files != len(m.Files) {
			t.Fatalf("intact with manifest %v and %d files checked", m, v.Files)
		}
		want := map[string]int64{ManifestName: -1, SignatureName: -1}
		for _, f := range m.Files {
			want[f.Path] = f.Size
		}
		gz, err := gzip.NewReader(bytes.NewReader(data)) // multistream, as gzip -d
		if err != nil {
			t.Fatalf("intact, but not gzip: %v", err)
		}
		tr := tar.NewReader(gz)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("intact, but tar cannot read it: %v", err)
			}
			name := strings.TrimSuffix(h.Name, "/")
			rel, under := strings.CutPrefix(name, m.DrillID+"/")
			if name != m.DrillID && (!under || path.Clean(rel) != rel || strings.HasPrefix(rel, "../") || rel == "..") {
				t.Fatalf("intact, with entry %q outside %s/", h.Name, m.DrillID)
			}
			switch h.Typeflag {
			case tar.TypeDir:
				if h.Size != 0 || h.Mode&0o7777&^dirMode != 0 {
					t.Fatalf("intact, with directory %q of size %d, mode %o", h.Name, h.Size, h.Mode)
				}
				continue
			case tar.TypeReg:
			default:
				t.Fatalf("intact, with entry %q of type %q", h.Name, h.Typeflag)
			}
			if h.Mode&0o7777&^fileMode != 0 {
				t.Fatalf("intact, with file %q of mode %o", h.Name, h.Mode)
			}
			size, ok := want[rel]
			if !ok {
				t.Fatalf("intact, with file %q the manifest does not list (or listed twice)", h.Name)
			}
			if size >= 0 && size != h.Size {
				t.Fatalf("intact, with file %q of %d bytes; the manifest says %d", h.Name, h.Size, size)
			}
			delete(want, rel)
		}
		if len(want) != 0 {
			t.Fatalf("intact, but files of the manifest are not in the archive: %v", want)
		}
	})
}
