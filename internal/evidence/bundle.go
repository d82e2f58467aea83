package evidence

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"path"
	"slices"
	"strings"
	"time"
)

// ManifestSchema identifies manifest.json.
const ManifestSchema = "firedrill.dev/evidence/v1"

// Names of the bundle's own files.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
	IndexName     = "index.json"
)

// File is one file of a bundle.
type File struct {
	// Path is slash-separated and relative, e.g. "runbook/01-step.log".
	Path string
	Data []byte
}

// Bundle says what a bundle is of. Everything in it is recorded in the
// manifest; nothing depends on when or where the bundle is made, so the
// same drill gives the same bytes.
type Bundle struct {
	DrillID  string
	Scenario string
	Result   string
	// DrillVersion is the firedrill that ran the drill; ExportedBy the one
	// that made the bundle.
	DrillVersion, ExportedBy string
	Started, Finished        time.Time
	// RTO and RPO are the drill's measurements for the in-toto
	// statement's predicate; nil leaves them out.
	RTO, RPO *Measurement
	Files    []File
	Index    *Index
}

// Manifest is manifest.json: what the signature covers.
type Manifest struct {
	Schema       string         `json:"schema"`
	DrillID      string         `json:"drill_id"`
	Scenario     string         `json:"scenario"`
	Result       string         `json:"result"`
	DrillVersion string         `json:"firedrill_version"`
	ExportedBy   string         `json:"exported_by"`
	Started      time.Time      `json:"drill_started"`
	Finished     time.Time      `json:"drill_finished"`
	HashAlg      string         `json:"hash"`
	SigAlg       string         `json:"signature"`
	SignedBy     string         `json:"signed_by"`
	Files        []ManifestFile `json:"files"`
}

// ManifestFile is one file's entry in the manifest.
type ManifestFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Write writes the bundle, signed with key, as a gzipped tar to w, and
// returns its manifest. Besides b's files and the index it holds the
// in-toto statement of its files in a DSSE envelope (StatementName, signed
// with key too) and the manifest of them all. Files are sorted by path;
// every entry has the drill's finish time, mode 0644 and no owner, so
// equal input gives equal bytes.
func Write(w io.Writer, b Bundle, key ed25519.PrivateKey) (*Manifest, error) {
	return write(w, b, key, key)
}

// write is Write with the statement signed by statementKey: only tests
// sign it with another key than the manifest's.
func write(w io.Writer, b Bundle, key, statementKey ed25519.PrivateKey) (*Manifest, error) {
	if unsafePath(b.DrillID) != "" || strings.Contains(b.DrillID, "/") || b.DrillID == "." || len(b.DrillID) > maxName/2 {
		return nil, fmt.Errorf("bundle of drill %q: want a drill id", b.DrillID)
	}
	files := slices.Clone(b.Files)
	// Within Verify's limits: two entries for the manifest and signature,
	// one for the index, one for the statement.
	if len(files)+4 > maxEntries {
		return nil, fmt.Errorf("bundle of drill %s: %d files, more than a bundle may hold (%d)", b.DrillID, len(files), maxEntries-4)
	}
	if b.Index != nil {
		idx, err := json.MarshalIndent(b.Index, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode index: %w", err)
		}
		files = append(files, File{Path: IndexName, Data: append(idx, '\n')})
	}
	slices.SortFunc(files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	for i, f := range files {
		if err := checkPath(f.Path); err != nil {
			return nil, err
		}
		if i > 0 && files[i-1].Path == f.Path {
			return nil, fmt.Errorf("bundle file %q twice", f.Path)
		}
		if len(f.Data) > maxFileSize {
			return nil, fmt.Errorf("bundle file %q: %d bytes, more than a bundle's file may have (%d)", f.Path, len(f.Data), maxFileSize)
		}
	}
	signedBy := Fingerprint(key.Public().(ed25519.PublicKey))
	st, err := statement(files, b.predicate(signedBy), statementKey)
	if err != nil {
		return nil, fmt.Errorf("bundle of drill %s: %w", b.DrillID, err)
	}
	files = append(files, File{Path: StatementName, Data: st})
	slices.SortFunc(files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	m := &Manifest{
		Schema: ManifestSchema, DrillID: b.DrillID, Scenario: b.Scenario, Result: b.Result,
		DrillVersion: b.DrillVersion, ExportedBy: b.ExportedBy,
		Started: b.Started.UTC(), Finished: b.Finished.UTC(),
		HashAlg: "sha256", SigAlg: "ed25519", SignedBy: signedBy,
		Files: make([]ManifestFile, 0, len(files)),
	}
	for _, f := range files {
		m.Files = append(m.Files, ManifestFile{Path: f.Path, SHA256: SHA256Hex(f.Data), Size: int64(len(f.Data))})
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	manifest = append(manifest, '\n')
	if len(manifest) > maxManifest {
		return nil, fmt.Errorf("bundle of drill %s: the manifest has %d bytes, more than %d", b.DrillID, len(manifest), maxManifest)
	}
	sig := ed25519.Sign(key, manifest)

	mtime := b.Finished.UTC().Truncate(time.Second)
	if mtime.IsZero() || mtime.Before(time.Unix(0, 0)) {
		mtime = time.Unix(0, 0).UTC()
	}
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	entries := append([]File{{ManifestName, manifest}, {SignatureName, sig}}, files...)
	for _, f := range entries {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg, Name: b.DrillID + "/" + f.Path, Size: int64(len(f.Data)),
			Mode: fileMode, ModTime: mtime, Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("write bundle entry %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, fmt.Errorf("write bundle entry %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	if err := gz.Close(); err != nil {
		return nil, fmt.Errorf("write bundle: %w", err)
	}
	return m, nil
}

// SHA256Hex is the SHA-256 of b in lower-case hex (64 characters): how a
// manifest, an in-toto subject, a pushed bundle and a drill's fingerprint
// (drill.Fingerprint) write a digest.
func SHA256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkPath refuses paths that would escape the bundle's directory or
// clash with its own files: what Write refuses, Verify calls unsafe.
func checkPath(p string) error {
	switch {
	case unsafePath(p) != "" || p == "." || len(p) > maxName-maxName/2-1:
		return fmt.Errorf("bundle file %q: want a clean relative slash-separated path", p)
	case p == ManifestName || p == SignatureName || p == StatementName:
		return fmt.Errorf("bundle file %q: the name is the bundle's own", p)
	}
	return nil
}

// Problem kinds Verify reports.
const (
	Changed   = "changed"   // the file's bytes differ from the manifest
	Added     = "added"     // in the bundle, not in the manifest; or data after the archive's end
	Removed   = "removed"   // in the manifest, not in the bundle
	Signature = "signature" // the manifest's signature does not verify
	Damaged   = "damaged"   // the archive itself cannot be read, or exceeds a limit
	// Unsafe: an entry that is not a regular file under the drill's own
	// directory with a canonical mode (an absolute or ../ path, a link, a
	// device, setuid or world-writable bits, a directory with a size), or a
	// manifest path that names such a place. Unpacking it could write
	// outside the directory an auditor unpacks into.
	Unsafe = "unsafe"
)

// Problem is one difference Verify found. Path and Detail may hold bytes
// of the bundle as they are (control characters, terminal escapes): print
// them quoted.
type Problem struct {
	Kind   string `json:"kind"`
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail"`
}

// Verification is what Verify found.
type Verification struct {
	// Manifest is nil when the bundle has none that can be read. Its fields
	// are the signer's words only when the signature verifies.
	Manifest *Manifest `json:"manifest,omitempty"`
	// KeyFingerprint is the fingerprint of the key verified against.
	KeyFingerprint string `json:"key"`
	// Files counts the files checked against the manifest.
	Files int `json:"files_checked"`
	// InToto says whether the bundle's in-toto statement verified:
	// InTotoVerified, InTotoNone (a bundle made before firedrill wrote
	// one: not a problem) or InTotoInvalid (Problems say why); empty when
	// the archive could not be read to its end.
	InToto   string    `json:"in_toto,omitempty"`
	Problems []Problem `json:"problems"`
}

// Intact is true when the signature verifies and every file matches.
func (v *Verification) Intact() bool { return len(v.Problems) == 0 }

// Limits of a bundle. A drill's record is a few dozen files of at most some
// megabytes; the limits are far above that and bound what a hostile bundle
// costs (a gzip of millions of empty entries, one entry of terabytes).
// Write refuses a bundle beyond them, so Verify never refuses one it made.
const (
	// maxEntries bounds the archive's entries, directories included.
	maxEntries = 10_000
	// maxFileSize bounds one file; maxArchiveSize the uncompressed archive.
	maxFileSize    = 1 << 30
	maxArchiveSize = 4 << 30
	// maxName bounds an entry's name, in bytes (PATH_MAX is 4096).
	maxName = 1024
	// maxManifest bounds what Verify keeps in memory of the manifest and
	// of the signature; every other file is hashed as it streams by.
	maxManifest = 16 << 20
)

// fileMode is the mode Write gives every file. A bundle unpacked and packed
// again keeps its files at most this permissive (0644, 0640, 0600, 0444),
// its directories at most dirMode; anything else is Unsafe.
const (
	fileMode = 0o644
	dirMode  = 0o755
)

type seen struct {
	sum  string
	size int64
}

// Verify reads a bundle from r and checks the manifest's signature with
// pub, then every entry and every file against the manifest. A bundle is
// intact only when it is one gzip member holding one tar archive, nothing
// but zero padding follows the archive's end, every entry is a regular file
// (or an empty directory) under the drill's own directory with a canonical
// mode, every file is listed in the signed manifest with its SHA-256 and
// size, and every listed path is a clean path under that directory.
// Anything else is a Problem: a changed, added, removed or unsafe entry, a
// bad signature, or an archive that cannot be read or exceeds the limits
// above (reported as damaged, never as an error: a bundle that does not
// open is not intact). Verify returns an error only when reading r itself
// fails. Its memory is bounded by the limits, whatever the bundle.
func Verify(r io.Reader, pub ed25519.PublicKey) (*Verification, error) {
	src := &errReader{r: r}
	v, err := verifyStream(src, pub)
	if src.err != nil {
		// Reading failed (a directory, an I/O error): that says nothing
		// about the bundle's integrity.
		return nil, src.err
	}
	return v, err
}

// errReader remembers the first error of the underlying reader, so that
// a failure to read is not mistaken for a damaged archive.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}

// errTooLarge ends reading an archive beyond maxArchiveSize.
var errTooLarge = fmt.Errorf("the archive is larger than %d bytes uncompressed", int64(maxArchiveSize))

// capped reads at most n bytes, then fails with errTooLarge.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// verifier is one Verify in progress.
type verifier struct {
	v *Verification
	// top is the drill's directory: the first component of the first
	// entry whose path is clean and relative.
	top           string
	manifest, sig []byte
	// statement is the in-toto envelope's bytes, also hashed as a file.
	statement []byte
	files     map[string]seen
	order     []string
	// dirs are the directory entries below top, without their slash.
	dirs []string
	buf  []byte
	hash hash.Hash
}

func (x *verifier) problem(kind, path, format string, args ...any) {
	x.v.Problems = append(x.v.Problems, Problem{Kind: kind, Path: path, Detail: fmt.Sprintf(format, args...)})
}

func verifyStream(r io.Reader, pub ed25519.PublicKey) (*Verification, error) {
	x := &verifier{v: &Verification{KeyFingerprint: Fingerprint(pub), Problems: []Problem{}},
		files: map[string]seen{}, buf: make([]byte, 32<<10), hash: sha256.New()}
	v := x.v
	damaged := func(format string, args ...any) (*Verification, error) {
		x.problem(Damaged, "", format, args...)
		return v, nil
	}
	// gzip reads through br directly (it is an io.ByteReader), so what is
	// left in br after the gzip member is what follows it in the file.
	br := bufio.NewReader(r)
	gz, err := gzip.NewReader(br)
	if err != nil {
		return damaged("not a gzip archive: %v", err)
	}
	// One member: gzip -d and tar would read a second one as more of the
	// archive, so Verify must not stop where they go on.
	gz.Multistream(false)
	body := &capped{r: gz, n: maxArchiveSize}
	tr := tar.NewReader(body)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errTooLarge) {
			return damaged("%v", err)
		}
		if err != nil {
			return damaged("the archive cannot be read: %v", err)
		}
		if n == maxEntries {
			return damaged("more than %d entries: a firedrill bundle holds a few dozen files", maxEntries)
		}
		if err := x.entry(tr, hdr); err != nil {
			return damaged("%v", err)
		}
	}
	// The tar reader stops at the end-of-archive marker. What follows it
	// may only be the zeros that pad a tar file to its record size; tar -i
	// would read anything else as more entries.
	if extra, err := nonZero(body, x.buf); err != nil {
		return damaged("the archive cannot be read after its end: %v", err)
	} else if extra > 0 {
		x.problem(Added, "", "%d bytes of data after the archive's end-of-archive marker, which tar --ignore-zeros would read as more entries", extra)
	}
	// io.EOF from gz means the member's CRC-32 and size checked out.
	if _, err := br.Peek(1); err == nil {
		x.problem(Added, "", "data after the gzip stream (a second gzip member, which gzip -d and tar would unpack as more of the archive)")
	}
	x.checkManifest(pub)
	x.checkStatement(pub, v.Manifest)
	return v, nil
}

// nonZero reads r to its end and counts the bytes that are not zero.
func nonZero(r io.Reader, buf []byte) (int64, error) {
	var extra int64
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				extra++
			}
		}
		if errors.Is(err, io.EOF) {
			return extra, nil
		}
		if err != nil {
			return extra, err
		}
	}
}

// entry checks one tar entry and reads its data. It returns an error only
// when the archive cannot be read on.
func (x *verifier) entry(tr *tar.Reader, hdr *tar.Header) error {
	name := hdr.Name
	if len(name) > maxName {
		x.problem(Unsafe, name[:maxName]+"…", "a name of %d bytes; a bundle's names have at most %d", len(name), maxName)
		return nil
	}
	isDir := hdr.Typeflag == tar.TypeDir
	p := name
	if isDir {
		p = strings.TrimSuffix(p, "/")
	}
	if why := unsafePath(p); why != "" {
		x.problem(Unsafe, name, "%s: unpacking it would write outside the drill's directory", why)
		return nil
	}
	dir, rel, _ := strings.Cut(p, "/")
	if x.top == "" {
		x.top = dir
	}
	if dir != x.top {
		x.problem(Unsafe, name, "outside the drill's directory %q", x.top+"/")
		return nil
	}
	perm := hdr.Mode & 0o7777 // the rest are file-type bits some tars set
	if isDir {
		shown := name
		if rel != "" {
			shown = rel + "/"
		}
		switch {
		case hdr.Size != 0:
			x.problem(Unsafe, shown, "a directory entry that claims %d bytes of data", hdr.Size)
		case perm&^dirMode != 0:
			x.problem(Unsafe, shown, "a directory with mode %04o; a bundle's directories have at most %04o", perm, dirMode)
		case rel != "":
			// Directories hold no bytes; tar adds them when a bundle is
			// unpacked and packed again.
			x.dirs = append(x.dirs, rel)
		}
		return nil
	}
	switch {
	case rel == "":
		x.problem(Unsafe, name, "an entry in place of the drill's directory")
		return nil
	case hdr.Typeflag != tar.TypeReg:
		x.problem(Unsafe, rel, "not a regular file (tar type %q: a link, a device or an extension a bundle never has)", hdr.Typeflag)
		return nil
	case perm&^fileMode != 0:
		x.problem(Unsafe, rel, "mode %04o (setuid, setgid, sticky, executable or writable by others); a bundle's files have mode %04o", perm, fileMode)
		return nil
	case hdr.Size > maxFileSize:
		return fmt.Errorf("entry %q claims %d bytes, more than a bundle's file may have (%d)", name, hdr.Size, int64(maxFileSize))
	}
	if _, dup := x.files[rel]; dup || (rel == ManifestName && x.manifest != nil) || (rel == SignatureName && x.sig != nil) {
		x.problem(Added, rel, "a second entry with the same name")
		return nil
	}
	switch rel {
	case ManifestName, SignatureName:
		if hdr.Size > maxManifest {
			return fmt.Errorf("%s is larger than %d bytes", rel, maxManifest)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		if rel == ManifestName {
			x.manifest = b
		} else {
			x.sig = b
		}
		return nil
	}
	if rel == StatementName {
		// Kept to check its signature and subjects, and hashed as the
		// manifest's file it also is.
		if hdr.Size > maxManifest {
			return fmt.Errorf("%s is larger than %d bytes", rel, maxManifest)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		x.statement = b
		x.files[rel] = seen{SHA256Hex(b), int64(len(b))}
		x.order = append(x.order, rel)
		return nil
	}
	x.hash.Reset()
	n, err := io.CopyBuffer(x.hash, tr, x.buf)
	if err != nil {
		return fmt.Errorf("read %q: %w", rel, err)
	}
	x.files[rel] = seen{hex.EncodeToString(x.hash.Sum(nil)), n}
	x.order = append(x.order, rel)
	return nil
}

// unsafePath says why p cannot be the path of an entry under a drill's
// directory; empty when it can.
func unsafePath(p string) string {
	switch {
	case p == "":
		return "an empty name"
	case strings.HasPrefix(p, "/"):
		return "an absolute path"
	case p == ".." || strings.HasPrefix(p, "../") || strings.HasSuffix(p, "/..") || strings.Contains(p, "/../"):
		return "a path through .."
	case strings.Contains(p, "\\"):
		return "a backslash, a path separator on Windows"
	case path.Clean(p) != p:
		return "not a clean path"
	}
	return ""
}

// checkManifest checks the signature, then every file against the manifest.
func (x *verifier) checkManifest(pub ed25519.PublicKey) {
	v := x.v
	switch {
	case x.manifest == nil:
		x.problem(Removed, ManifestName, "the bundle has no manifest")
	case x.sig == nil:
		x.problem(Removed, SignatureName, "the bundle has no signature")
	case !ed25519.Verify(pub, x.manifest, x.sig):
		x.problem(Signature, ManifestName, "the signature does not verify with key %s: the manifest was altered, or signed with another key", v.KeyFingerprint)
	}
	if x.manifest == nil {
		for _, name := range x.order {
			x.problem(Added, name, "no manifest lists it")
		}
		return
	}
	m := &Manifest{}
	dec := json.NewDecoder(bytes.NewReader(x.manifest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		x.problem(Changed, ManifestName, "the manifest cannot be read: %v", err)
		return
	}
	v.Manifest = m
	if m.Schema != ManifestSchema {
		x.problem(Changed, ManifestName, "schema %q, want %q", m.Schema, ManifestSchema)
	}
	if m.DrillID != x.top {
		x.problem(Changed, ManifestName, "the manifest is of drill %q, the bundle's directory is %q", m.DrillID, x.top)
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		if err := checkPath(f.Path); err != nil && f.Path != StatementName {
			// Signed or not, a path an unpacking tool would resolve
			// outside the drill's directory proves nothing there.
			x.problem(Unsafe, f.Path, "the manifest lists a path that is not a file under the drill's directory")
			continue
		}
		if listed[f.Path] {
			x.problem(Changed, ManifestName, "lists %q twice", f.Path)
			continue
		}
		listed[f.Path] = true
		got, ok := x.files[f.Path]
		switch {
		case !ok:
			x.problem(Removed, f.Path, "listed in the manifest, missing from the bundle")
		case got.sum != f.SHA256 || got.size != f.Size:
			x.problem(Changed, f.Path, "sha256 %s (%d bytes), the manifest says %s (%d bytes)", short(got.sum), got.size, short(f.SHA256), f.Size)
		default:
			v.Files++
		}
	}
	for _, name := range x.order {
		if !listed[name] {
			x.problem(Added, name, "in the bundle, not in the manifest")
		}
	}
	// A directory is there to hold files: one that holds none of the
	// manifest's, or has a file's name, is something else.
	parents := map[string]bool{}
	for p := range listed {
		for i := strings.LastIndexByte(p, '/'); i > 0 && !parents[p[:i]]; i = strings.LastIndexByte(p[:i], '/') {
			parents[p[:i]] = true
		}
	}
	for _, d := range x.dirs {
		if !parents[d] {
			x.problem(Added, d+"/", "a directory that holds no file of the manifest")
		}
	}
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}
