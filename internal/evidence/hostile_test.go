package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileKey is the public key the bundles of testdata/hostile are signed
// with.
func hostileKey(t testing.TB) []byte {
	t.Helper()
	pem, err := os.ReadFile(filepath.Join("testdata", "hostile", "firedrill-evidence.pub"))
	require.NoError(t, err)
	return pem
}

func TestVerify_HostileBundles(t *testing.T) {
	pub, err := ParsePublicKey(hostileKey(t))
	require.NoError(t, err)
	const ansi = "\r\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\x1b[1A\x1b[2K\rINTACT: the signature verifies with " +
		"sha256:a17fc517b53952c16ede6e9c62d162d8945936159ed66b5030545c2712f780ec and all 2 files match the manifest\x1b[8m"
	type kp struct{ kind, path string }
	tests := []struct {
		file string
		// want are the problems, kind and path, in order; none: intact.
		want  []kp
		files int
	}{
		{"00-good", nil, 2},
		{"01-absolute-first", []kp{{Unsafe, "/report.md"}, {Removed, "report.md"}}, 1},
		{"02-dir-traversal", []kp{{Unsafe, "../../../../tmp/sec-evil-dir/"}}, 2},
		{"03-dir-absolute", []kp{{Unsafe, "/tmp/sec-evil-abs/"}}, 2},
		{"04-symlink", []kp{{Unsafe, "evil"}}, 2},
		{"05-hardlink", []kp{{Unsafe, "evil"}}, 2},
		{"06-duplicate", []kp{{Added, "report.md"}}, 2},
		{"07-after-eof", []kp{{Added, ""}}, 2},
		{"08-second-gzip-member", []kp{{Added, ""}}, 2},
		{"09-dir-with-size", []kp{{Unsafe, "x/"}}, 2},
		{"10-manifest-lists-twice", []kp{{Changed, ManifestName}}, 2},
		{"11-short-sig", []kp{{Signature, ManifestName}}, 2},
		{"12-manifest-extra-byte", []kp{{Signature, ManifestName}}, 2},
		{"13-setuid-mode", []kp{{Unsafe, "report.md"}, {Removed, "report.md"}}, 1},
		{"14-not-gzip", []kp{{Damaged, ""}}, 0},
		{"15-empty", []kp{{Damaged, ""}}, 0},
		{"16-signed-traversal-name", []kp{{Unsafe, "fd-20260102-030405-abcd/../escape.txt"}, {Unsafe, "../escape.txt"}}, 2},
		{"18-ansi-name", []kp{{Changed, "report.md"}, {Added, "j1"}, {Added, "j2"}, {Added, "j3"}, {Added, "j4"}, {Added, ansi}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "hostile", tt.file+".tar.gz"))
			require.NoError(t, err)
			v, err := Verify(bytes.NewReader(b), pub)
			require.NoError(t, err, "a hostile bundle is a verdict, not an error")
			var got []kp
			for _, p := range v.Problems {
				got = append(got, kp{p.Kind, p.Path})
			}
			assert.Equal(t, tt.want, got, "%+v", v.Problems)
			assert.Equal(t, tt.want == nil, v.Intact())
			assert.Equal(t, tt.files, v.Files, "files that match the manifest")
		})
	}
}

// tarGz packs entries as they are given, headers and all.
func tarGz(t testing.TB, entries ...tar.Header) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, h := range entries {
		require.NoError(t, tw.WriteHeader(&h))
		if h.Size > 0 && h.Size < 1<<20 {
			_, err := tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
			require.NoError(t, err)
		}
	}
	// No Close: an entry may claim more data than follows it.
	_ = tw.Flush()
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

func TestVerify_Limits(t *testing.T) {
	_, pub := testKey(t)
	t.Run("too many entries", func(t *testing.T) {
		v := verify(t, emptyEntriesBundle(t, maxEntries+1), pub)
		require.NotEmpty(t, v.Problems)
		last := v.Problems[len(v.Problems)-1]
		assert.Equal(t, Damaged, last.Kind)
		assert.Contains(t, last.Detail, "more than 10000 entries")
		assert.Len(t, v.Problems, 1, "reading stops at the limit: nothing is listed entry by entry")
	})
	t.Run("as many entries as allowed", func(t *testing.T) {
		v := verify(t, emptyEntriesBundle(t, maxEntries), pub)
		assert.NotContains(t, v.Problems[0].Detail, "more than")
		assert.Equal(t, Removed, v.Problems[0].Kind, "no manifest: the limit was not hit")
	})
	t.Run("a file too large", func(t *testing.T) {
		v := verify(t, tarGz(t, tar.Header{Name: "fd-1/big", Typeflag: tar.TypeReg, Mode: 0o644, Size: maxFileSize + 1}), pub)
		require.Len(t, v.Problems, 1)
		assert.Equal(t, Damaged, v.Problems[0].Kind)
		assert.Contains(t, v.Problems[0].Detail, "claims 1073741825 bytes")
	})
	t.Run("a name too long", func(t *testing.T) {
		name := "fd-1/" + strings.Repeat("a", 5000)
		v := verify(t, tarGz(t, tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX}), pub)
		assert.Equal(t, Unsafe, v.Problems[0].Kind)
		assert.Equal(t, name[:maxName]+"…", v.Problems[0].Path, "the name is kept clipped")
		assert.Contains(t, v.Problems[0].Detail, "5005 bytes")
	})
	t.Run("write refuses what verify would", func(t *testing.T) {
		priv, _ := testKey(t)
		b := testBundle()
		b.Files = append(b.Files, File{Path: strings.Repeat("a", 600)})
		_, err := Write(&bytes.Buffer{}, b, priv)
		assert.ErrorContains(t, err, "want a clean relative")
		b = testBundle()
		for i := range maxEntries {
			b.Files = append(b.Files, File{Path: fmt.Sprintf("f/%08d", i)})
		}
		_, err = Write(&bytes.Buffer{}, b, priv)
		assert.ErrorContains(t, err, "more than a bundle may hold")
	})
}

func TestVerify_EntriesMustBeCanonical(t *testing.T) {
	priv, pub := testKey(t)
	bundle := build(t, testBundle(), priv)
	const top = "fd-20261122-101500-ab12/"
	// rewrite packs the bundle's entries again with one header changed.
	rewrite := func(t *testing.T, change func(h *tar.Header), extra ...tar.Header) []byte {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, e := range entries(t, bundle) {
			h := &tar.Header{Name: e.Path, Mode: 0o644, Size: int64(len(e.Data)), Typeflag: tar.TypeReg}
			change(h)
			require.NoError(t, tw.WriteHeader(h))
			_, err := tw.Write(e.Data)
			require.NoError(t, err)
		}
		for _, h := range extra {
			require.NoError(t, tw.WriteHeader(&h))
		}
		require.NoError(t, tw.Close())
		require.NoError(t, gz.Close())
		return buf.Bytes()
	}
	same := func(*tar.Header) {}
	tests := []struct {
		name   string
		bundle []byte
		want   []Problem
	}{
		{"repacked with umask 077", rewrite(t, func(h *tar.Header) { h.Mode = 0o600 }, tar.Header{Name: top, Typeflag: tar.TypeDir, Mode: 0o700}), nil},
		{"executable report", rewrite(t, func(h *tar.Header) {
			if strings.HasSuffix(h.Name, "report.json") {
				h.Mode = 0o755
			}
		}), []Problem{{Unsafe, "report.json", "mode 0755 (setuid, setgid, sticky, executable or writable by others); a bundle's files have mode 0644"},
			{Removed, "report.json", "listed in the manifest, missing from the bundle"}}},
		{"world-writable directory", rewrite(t, same, tar.Header{Name: top + "runbook/", Typeflag: tar.TypeDir, Mode: 0o777}),
			[]Problem{{Unsafe, "runbook/", "a directory with mode 0777; a bundle's directories have at most 0755"}}},
		{"a file in place of the directory", rewrite(t, same, tar.Header{Name: strings.TrimSuffix(top, "/"), Typeflag: tar.TypeReg, Mode: 0o644}),
			[]Problem{{Unsafe, "fd-20261122-101500-ab12", "an entry in place of the drill's directory"}}},
		{"another drill's directory", rewrite(t, same, tar.Header{Name: "fd-other/report.json", Typeflag: tar.TypeReg, Mode: 0o644}),
			[]Problem{{Unsafe, "fd-other/report.json", `outside the drill's directory "fd-20261122-101500-ab12/"`}}},
		{"a FIFO", rewrite(t, same, tar.Header{Name: top + "pipe", Typeflag: tar.TypeFifo, Mode: 0o644}),
			[]Problem{{Unsafe, "pipe", "not a regular file (tar type '6': a link, a device or an extension a bundle never has)"}}},
		{"a directory with a file's name", rewrite(t, same, tar.Header{Name: top + "report.json/", Typeflag: tar.TypeDir, Mode: 0o755}),
			[]Problem{{Added, "report.json/", "a directory that holds no file of the manifest"}}},
		{"an empty directory", rewrite(t, same, tar.Header{Name: top + "empty/", Typeflag: tar.TypeDir, Mode: 0o755}),
			[]Problem{{Added, "empty/", "a directory that holds no file of the manifest"}}},
		{"zero padding after the end is what tar writes", append(bundle[:0:0], gzipOf(t, append(gunzip(t, bundle), make([]byte, 10240)...))...), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := verify(t, tt.bundle, pub)
			if tt.want == nil {
				assert.Empty(t, v.Problems)
				assert.True(t, v.Intact())
				return
			}
			assert.Equal(t, tt.want, v.Problems)
		})
	}
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	require.NoError(t, err)
	var out bytes.Buffer
	_, err = out.ReadFrom(gz)
	require.NoError(t, err)
	return out.Bytes()
}

func gzipOf(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	_, err := gz.Write(b)
	require.NoError(t, err)
	require.NoError(t, gz.Close())
	return buf.Bytes()
}
