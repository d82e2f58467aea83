package evidence

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	Files                    []File
	Index                    *Index
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
// returns its manifest. Files are sorted by path; every entry has the
// drill's finish time, mode 0644 and no owner, so equal input gives equal
// bytes.
func Write(w io.Writer, b Bundle, key ed25519.PrivateKey) (*Manifest, error) {
	if b.DrillID == "" || strings.ContainsAny(b.DrillID, "/\\") {
		return nil, fmt.Errorf("bundle of drill %q: want a drill id", b.DrillID)
	}
	files := slices.Clone(b.Files)
	if b.Index != nil {
		idx, err := json.MarshalIndent(b.Index, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode index: %w", err)
		}
		files = append(files, File{Path: IndexName, Data: append(idx, '\n')})
	}
	slices.SortFunc(files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	m := &Manifest{
		Schema: ManifestSchema, DrillID: b.DrillID, Scenario: b.Scenario, Result: b.Result,
		DrillVersion: b.DrillVersion, ExportedBy: b.ExportedBy,
		Started: b.Started.UTC(), Finished: b.Finished.UTC(),
		HashAlg: "sha256", SigAlg: "ed25519", SignedBy: Fingerprint(key.Public().(ed25519.PublicKey)),
		Files: make([]ManifestFile, 0, len(files)),
	}
	for i, f := range files {
		if err := checkPath(f.Path); err != nil {
			return nil, err
		}
		if i > 0 && files[i-1].Path == f.Path {
			return nil, fmt.Errorf("bundle file %q twice", f.Path)
		}
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, ManifestFile{Path: f.Path, SHA256: hex.EncodeToString(sum[:]), Size: int64(len(f.Data))})
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	manifest = append(manifest, '\n')
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
			Mode: 0o644, ModTime: mtime, Format: tar.FormatPAX,
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

// checkPath refuses paths that would escape the bundle's directory or
// clash with its own files.
func checkPath(p string) error {
	switch {
	case p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == "..":
		return fmt.Errorf("bundle file %q: want a clean relative slash-separated path", p)
	case p == ManifestName || p == SignatureName:
		return fmt.Errorf("bundle file %q: the name is the bundle's own", p)
	}
	return nil
}

// Problem kinds Verify reports.
const (
	Changed   = "changed"   // the file's bytes differ from the manifest
	Added     = "added"     // in the bundle, not in the manifest
	Removed   = "removed"   // in the manifest, not in the bundle
	Signature = "signature" // the manifest's signature does not verify
	Damaged   = "damaged"   // the archive itself cannot be read
)

// Problem is one difference Verify found.
type Problem struct {
	Kind   string `json:"kind"`
	Path   string `json:"path,omitempty"`
	Detail string `json:"detail"`
}

// Verification is what Verify found.
type Verification struct {
	// Manifest is nil when the bundle has none that can be read.
	Manifest *Manifest `json:"manifest,omitempty"`
	// KeyFingerprint is the fingerprint of the key verified against.
	KeyFingerprint string `json:"key"`
	// Files counts the files checked against the manifest.
	Files    int       `json:"files_checked"`
	Problems []Problem `json:"problems"`
}

// Intact is true when the signature verifies and every file matches.
func (v *Verification) Intact() bool { return len(v.Problems) == 0 }

// maxManifest bounds what Verify keeps in memory of the manifest and
// signature; every other file is hashed as it streams by.
const maxManifest = 64 << 20

type seen struct {
	sum  string
	size int64
}

// Verify reads a bundle from r and checks the manifest's signature with
// pub, then every file against the manifest. Anything that differs is a
// Problem: a changed, added or removed file, a bad signature, or an
// archive that cannot be read (reported as damaged, never as an error:
// a bundle that does not open is not intact). Verify returns an error only
// when reading r itself fails.
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

func verifyStream(r io.Reader, pub ed25519.PublicKey) (*Verification, error) {
	v := &Verification{KeyFingerprint: Fingerprint(pub), Problems: []Problem{}}
	var manifest, sig []byte
	files := map[string]seen{}
	var order []string
	top := ""
	damaged := func(format string, args ...any) (*Verification, error) {
		v.Problems = append(v.Problems, Problem{Kind: Damaged, Detail: fmt.Sprintf(format, args...)})
		return v, nil
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return damaged("not a gzip archive: %v", err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return damaged("the archive cannot be read: %v", err)
		}
		if hdr.Typeflag == tar.TypeDir {
			// Directories hold no bytes; tar adds them when a bundle is
			// unpacked and packed again.
			continue
		}
		dir, name, ok := strings.Cut(hdr.Name, "/")
		if top == "" {
			top = dir
		}
		if !ok || dir != top || name == "" {
			v.Problems = append(v.Problems, Problem{Kind: Added, Path: hdr.Name, Detail: "entry outside the bundle's directory " + top + "/"})
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			v.Problems = append(v.Problems, Problem{Kind: Added, Path: name, Detail: fmt.Sprintf("not a regular file (tar type %q)", hdr.Typeflag)})
			continue
		}
		if _, dup := files[name]; dup || (name == ManifestName && manifest != nil) || (name == SignatureName && sig != nil) {
			v.Problems = append(v.Problems, Problem{Kind: Added, Path: name, Detail: "a second entry with the same name"})
			continue
		}
		switch name {
		case ManifestName, SignatureName:
			b, err := io.ReadAll(io.LimitReader(tr, maxManifest+1))
			if err != nil {
				return damaged("read %s: %v", name, err)
			}
			if len(b) > maxManifest {
				return damaged("%s is larger than %d bytes", name, maxManifest)
			}
			if name == ManifestName {
				manifest = b
			} else {
				sig = b
			}
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, tr)
		if err != nil {
			return damaged("read %s: %v", name, err)
		}
		files[name] = seen{hex.EncodeToString(h.Sum(nil)), n}
		order = append(order, name)
	}
	// Read to the end, so a damaged gzip trailer (checksum) is noticed.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return damaged("the archive cannot be read: %v", err)
	}

	switch {
	case manifest == nil:
		v.Problems = append(v.Problems, Problem{Kind: Removed, Path: ManifestName, Detail: "the bundle has no manifest"})
	case sig == nil:
		v.Problems = append(v.Problems, Problem{Kind: Removed, Path: SignatureName, Detail: "the bundle has no signature"})
	case !ed25519.Verify(pub, manifest, sig):
		v.Problems = append(v.Problems, Problem{Kind: Signature, Path: ManifestName,
			Detail: "the signature does not verify with key " + v.KeyFingerprint + ": the manifest was altered, or signed with another key"})
	}
	if manifest == nil {
		for _, name := range order {
			v.Problems = append(v.Problems, Problem{Kind: Added, Path: name, Detail: "no manifest lists it"})
		}
		return v, nil
	}
	m := &Manifest{}
	dec := json.NewDecoder(bytes.NewReader(manifest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		v.Problems = append(v.Problems, Problem{Kind: Changed, Path: ManifestName, Detail: "the manifest cannot be read: " + err.Error()})
		return v, nil
	}
	v.Manifest = m
	if m.Schema != ManifestSchema {
		v.Problems = append(v.Problems, Problem{Kind: Changed, Path: ManifestName, Detail: fmt.Sprintf("schema %q, want %q", m.Schema, ManifestSchema)})
	}
	if m.DrillID != top {
		v.Problems = append(v.Problems, Problem{Kind: Changed, Path: ManifestName, Detail: fmt.Sprintf("the manifest is of drill %q, the bundle's directory is %q", m.DrillID, top)})
	}
	listed := map[string]bool{}
	for _, f := range m.Files {
		if listed[f.Path] {
			v.Problems = append(v.Problems, Problem{Kind: Changed, Path: ManifestName, Detail: "lists " + f.Path + " twice"})
			continue
		}
		listed[f.Path] = true
		got, ok := files[f.Path]
		switch {
		case !ok:
			v.Problems = append(v.Problems, Problem{Kind: Removed, Path: f.Path, Detail: "listed in the manifest, missing from the bundle"})
		case got.sum != f.SHA256 || got.size != f.Size:
			v.Problems = append(v.Problems, Problem{Kind: Changed, Path: f.Path,
				Detail: fmt.Sprintf("sha256 %s (%d bytes), the manifest says %s (%d bytes)", short(got.sum), got.size, short(f.SHA256), f.Size)})
		default:
			v.Files++
		}
	}
	for _, name := range order {
		if !listed[name] {
			v.Problems = append(v.Problems, Problem{Kind: Added, Path: name, Detail: "in the bundle, not in the manifest"})
		}
	}
	return v, nil
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}
