package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := GenerateKey()
	require.NoError(t, err)
	priv, err := ParsePrivateKey(privPEM)
	require.NoError(t, err)
	pub, err := ParsePublicKey(pubPEM)
	require.NoError(t, err)
	return priv, pub
}

func testBundle() Bundle {
	return Bundle{
		DrillID: "fd-20261122-101500-ab12", Scenario: "region-loss", Result: "pass",
		DrillVersion: "v1", ExportedBy: "v1",
		Started:  time.Date(2026, 11, 22, 10, 15, 0, 0, time.UTC),
		Finished: time.Date(2026, 11, 22, 10, 31, 7, 500, time.UTC),
		Files: []File{
			{Path: "report.json", Data: []byte(`{"result":"pass"}`)},
			{Path: "scenario.yaml", Data: []byte("kind: Scenario\n")},
			{Path: "runbook/01-check.log", Data: []byte("ok\n")},
		},
		Index: &Index{DrillID: "fd-20261122-101500-ab12", Scenario: "region-loss", Result: "pass"},
	}
}

func build(t *testing.T, b Bundle, key ed25519.PrivateKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := Write(&buf, b, key)
	require.NoError(t, err)
	return buf.Bytes()
}

// entries unpacks a bundle into its entries, in order.
func entries(t *testing.T, bundle []byte) []File {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(bundle))
	require.NoError(t, err)
	tr := tar.NewReader(gz)
	var out []File
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out = append(out, File{Path: h.Name, Data: b})
	}
}

// repack writes entries back as a bundle, as someone tampering would.
func repack(t *testing.T, es []File) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range es {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.Path, Mode: 0o644, Size: int64(len(e.Data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(e.Data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, gz.Close())
	return buf.Bytes()
}

type kindPath struct{ kind, path string }

func kindPaths(ps []Problem) []kindPath {
	var out []kindPath
	for _, p := range ps {
		out = append(out, kindPath{p.Kind, p.Path})
	}
	return out
}

func verify(t *testing.T, bundle []byte, pub ed25519.PublicKey) *Verification {
	t.Helper()
	v, err := Verify(bytes.NewReader(bundle), pub)
	require.NoError(t, err)
	return v
}

func TestFreshBundleVerifies(t *testing.T) {
	priv, pub := testKey(t)
	bundle := build(t, testBundle(), priv)
	v := verify(t, bundle, pub)
	assert.True(t, v.Intact(), "%+v", v.Problems)
	assert.Equal(t, 5, v.Files, "three files, the index and the in-toto statement")
	assert.Equal(t, InTotoVerified, v.InToto)
	require.NotNil(t, v.Manifest)
	assert.Equal(t, "fd-20261122-101500-ab12", v.Manifest.DrillID)
	assert.Equal(t, Fingerprint(pub), v.Manifest.SignedBy)

	names := []string{}
	for _, e := range entries(t, bundle) {
		names = append(names, e.Path)
	}
	assert.Equal(t, []string{
		"fd-20261122-101500-ab12/manifest.json", "fd-20261122-101500-ab12/manifest.sig",
		"fd-20261122-101500-ab12/attestation.dsse.json", "fd-20261122-101500-ab12/index.json", "fd-20261122-101500-ab12/report.json",
		"fd-20261122-101500-ab12/runbook/01-check.log", "fd-20261122-101500-ab12/scenario.yaml",
	}, names)
}

func TestWriteIsDeterministic(t *testing.T) {
	priv, _ := testKey(t)
	b := testBundle()
	first := build(t, b, priv)
	// The same files in another order give the same bytes.
	b.Files[0], b.Files[2] = b.Files[2], b.Files[0]
	assert.Equal(t, first, build(t, b, priv))
	// Another drill time gives other bytes: the times are recorded.
	b.Finished = b.Finished.Add(time.Second)
	assert.NotEqual(t, first, build(t, b, priv))
}

func TestVerifyNamesEachChange(t *testing.T) {
	priv, pub := testKey(t)
	bundle := build(t, testBundle(), priv)
	const top = "fd-20261122-101500-ab12/"

	// Flipping one byte in each file in turn names exactly that file.
	for i, e := range entries(t, bundle) {
		name := strings.TrimPrefix(e.Path, top)
		t.Run("flip byte of "+name, func(t *testing.T) {
			es := entries(t, bundle)
			es[i].Data[len(es[i].Data)/2] ^= 0x01
			v := verify(t, repack(t, es), pub)
			require.False(t, v.Intact())
			switch name {
			case ManifestName:
				assert.Equal(t, Signature, v.Problems[0].Kind, "%+v", v.Problems)
			case SignatureName:
				assert.Equal(t, []Problem{{Kind: Signature, Path: ManifestName, Detail: v.Problems[0].Detail}}, v.Problems)
			case StatementName:
				// The manifest's hash, and the envelope's own signature
				// or encoding.
				assert.Equal(t, kindPath{Changed, StatementName}, kindPaths(v.Problems)[0], "%+v", v.Problems)
				assert.Len(t, v.Problems, 2, "%+v", v.Problems)
				assert.Equal(t, InTotoInvalid, v.InToto)
			default:
				require.Len(t, v.Problems, 1, "%+v", v.Problems)
				assert.Equal(t, Changed, v.Problems[0].Kind)
				assert.Equal(t, name, v.Problems[0].Path)
			}
		})
	}

	t.Run("file added", func(t *testing.T) {
		es := append(entries(t, bundle), File{Path: top + "extra.txt", Data: []byte("x")})
		v := verify(t, repack(t, es), pub)
		assert.Equal(t, []Problem{{Kind: Added, Path: "extra.txt", Detail: "in the bundle, not in the manifest"}}, v.Problems)
	})
	t.Run("file removed", func(t *testing.T) {
		es := entries(t, bundle)
		es = append(es[:5], es[6:]...) // runbook/01-check.log
		v := verify(t, repack(t, es), pub)
		assert.Equal(t, []Problem{{Kind: Removed, Path: "runbook/01-check.log", Detail: "listed in the manifest, missing from the bundle"}}, v.Problems)
	})
	t.Run("file replaced and manifest rewritten", func(t *testing.T) {
		// Someone changes report.json and writes a consistent manifest,
		// but cannot sign it.
		b := testBundle()
		b.Files[0].Data = []byte(`{"result":"fail"}`)
		_, other := testKey(t)
		forged := build(t, b, priv)
		assert.True(t, verify(t, forged, pub).Intact(), "signed with the right key: intact")
		otherPriv, _ := testKey(t)
		forged = build(t, b, otherPriv)
		v := verify(t, forged, pub)
		assert.Equal(t, []kindPath{{Signature, ManifestName}, {Signature, StatementName}}, kindPaths(v.Problems))
		assert.Equal(t, InTotoInvalid, v.InToto)
		assert.False(t, verify(t, bundle, other).Intact(), "another public key does not verify the original")
	})
	t.Run("manifest removed", func(t *testing.T) {
		es := entries(t, bundle)[1:]
		v := verify(t, repack(t, es), pub)
		assert.Equal(t, Removed, v.Problems[0].Kind)
		assert.Equal(t, ManifestName, v.Problems[0].Path)
	})
	t.Run("signature removed", func(t *testing.T) {
		es := entries(t, bundle)
		es = append(es[:1], es[2:]...)
		v := verify(t, repack(t, es), pub)
		assert.Equal(t, []Problem{{Kind: Removed, Path: SignatureName, Detail: "the bundle has no signature"}}, v.Problems)
	})
	t.Run("unpacked and packed again unchanged", func(t *testing.T) {
		// tar adds directory entries; they hold nothing and change nothing.
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: top, Typeflag: tar.TypeDir, Mode: 0o755}))
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: top + "runbook/", Typeflag: tar.TypeDir, Mode: 0o755}))
		for _, e := range entries(t, bundle) {
			require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.Path, Mode: 0o600, Size: int64(len(e.Data)), Typeflag: tar.TypeReg}))
			_, err := tw.Write(e.Data)
			require.NoError(t, err)
		}
		require.NoError(t, tw.Close())
		require.NoError(t, gz.Close())
		v := verify(t, buf.Bytes(), pub)
		assert.True(t, v.Intact(), "%+v", v.Problems)
	})
	t.Run("symlink added", func(t *testing.T) {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, e := range entries(t, bundle) {
			require.NoError(t, tw.WriteHeader(&tar.Header{Name: e.Path, Mode: 0o644, Size: int64(len(e.Data)), Typeflag: tar.TypeReg}))
			_, err := tw.Write(e.Data)
			require.NoError(t, err)
		}
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: top + "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}))
		require.NoError(t, tw.Close())
		require.NoError(t, gz.Close())
		v := verify(t, buf.Bytes(), pub)
		require.Len(t, v.Problems, 1)
		assert.Equal(t, Unsafe, v.Problems[0].Kind)
		assert.Equal(t, "link", v.Problems[0].Path)
	})
	t.Run("duplicate entry", func(t *testing.T) {
		es := entries(t, bundle)
		es = append(es, File{Path: es[4].Path, Data: []byte("other")})
		v := verify(t, repack(t, es), pub)
		assert.Equal(t, []Problem{{Kind: Added, Path: "report.json", Detail: "a second entry with the same name"}}, v.Problems)
	})
	t.Run("compressed bytes flipped", func(t *testing.T) {
		damaged := bytes.Clone(bundle)
		damaged[len(damaged)/2] ^= 0xff
		v := verify(t, damaged, pub)
		require.False(t, v.Intact())
		assert.Equal(t, Damaged, v.Problems[len(v.Problems)-1].Kind, "%+v", v.Problems)
	})
	t.Run("not a bundle", func(t *testing.T) {
		v := verify(t, []byte("hello"), pub)
		assert.Equal(t, Damaged, v.Problems[0].Kind)
	})
}

func TestWriteRefusesBadPaths(t *testing.T) {
	priv, _ := testKey(t)
	for _, p := range []string{"../x", "/etc/passwd", "a/../b", "manifest.json", StatementName, ""} {
		b := testBundle()
		b.Files = append(b.Files, File{Path: p, Data: []byte("x")})
		_, err := Write(io.Discard, b, priv)
		assert.Error(t, err, p)
	}
	b := testBundle()
	b.Files = append(b.Files, b.Files[0])
	_, err := Write(io.Discard, b, priv)
	assert.ErrorContains(t, err, "twice")
}

func TestKeyPairFiles(t *testing.T) {
	dir := t.TempDir()
	privPath, pubPath, err := WriteKeyPair(dir)
	require.NoError(t, err)
	st, err := os.Stat(privPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	privPEM, err := os.ReadFile(privPath)
	require.NoError(t, err)
	pubPEM, err := os.ReadFile(pubPath)
	require.NoError(t, err)
	priv, err := ParsePrivateKey(privPEM)
	require.NoError(t, err)
	pub, err := ParsePublicKey(pubPEM)
	require.NoError(t, err)
	assert.Equal(t, pub, priv.Public())

	// Never overwrites, not even one of the two.
	_, _, err = WriteKeyPair(dir)
	assert.ErrorIs(t, err, os.ErrExist)
	require.NoError(t, os.Remove(privPath))
	_, _, err = WriteKeyPair(dir)
	assert.ErrorIs(t, err, os.ErrExist)
	_, err = os.Stat(privPath)
	assert.True(t, os.IsNotExist(err), "no private key written beside an existing public key")

	_, err = ParsePrivateKey(pubPEM)
	assert.ErrorContains(t, err, "PRIVATE KEY")
	_, err = ParsePublicKey(privPEM)
	assert.ErrorContains(t, err, "PUBLIC KEY")
	_, err = ParsePrivateKey([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	assert.Error(t, err)
	assert.NotContains(t, err.Error(), "AAAA")
}

type failingReader struct{ after []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.after) > 0 {
		n := copy(p, f.after)
		f.after = f.after[n:]
		return n, nil
	}
	return 0, errors.New("read /evidence: input/output error")
}

func TestVerifyReadErrorIsNotTampering(t *testing.T) {
	priv, pub := testKey(t)
	bundle := build(t, testBundle(), priv)
	_, err := Verify(&failingReader{after: bundle[:len(bundle)/2]}, pub)
	require.Error(t, err, "an I/O error is an error, not a damaged bundle")
	assert.Contains(t, err.Error(), "input/output error")
}

// TestWriteKeyPair_CreatesMissingDirs: the README's first evidence command,
// keygen --out-dir ~/.config/firedrill, works on a machine where that
// directory does not exist yet: it is made 0700 with its parents (mkdir -p),
// and an existing directory keeps its mode.
func TestWriteKeyPair_CreatesMissingDirs(t *testing.T) {
	base := t.TempDir()
	require.NoError(t, os.Chmod(base, 0o755))
	dir := filepath.Join(base, ".config", "firedrill")
	privPath, _, err := WriteKeyPair(dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, PrivateKeyFile), privPath)
	for _, d := range []string{dir, filepath.Dir(dir)} {
		st, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), d)
	}
	st, err := os.Stat(base)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), st.Mode().Perm(), "an existing directory keeps its mode")
}

// SHA256Hex is the one hex digest of the manifest, the in-toto subjects
// and drill fingerprints: FIPS 180-2's "abc" vector.
func TestSHA256Hex(t *testing.T) {
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", SHA256Hex([]byte("abc")))
}
