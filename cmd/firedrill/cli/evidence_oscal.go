package cli

import (
	"io"
	"path/filepath"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/oscal"
	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/version"
)

// formatOSCAL is the OSCAL assessment-results format of evidence export
// (--format) and evidence summary (-o).
const formatOSCAL = "oscal"

// bundleHref is where an auditor finds a kept bundle: the URL it was
// pushed to, else the name of the file export wrote with -f (file, its
// path; without the directory, which means nothing on the auditor's
// machine); empty, for oscal's default drills/ID/evidence.tar.gz relative
// to the state directory (drill.EvidenceBundlePath), when export wrote
// there (no -f) or to standard output (the same bytes export writes there).
func bundleHref(p *evidence.Pushed, file string) string {
	switch {
	case p != nil:
		return p.URL
	case file == "" || file == "-":
		return ""
	case isDrillBundle(file):
		return ""
	}
	return filepath.Base(file)
}

// isDrillBundle reports whether file is STATE/drills/ID/evidence.tar.gz,
// the file export writes without -f, whatever the state directory was on
// the machine that exported it.
func isDrillBundle(file string) bool {
	dir := filepath.Dir(file)
	return filepath.ToSlash(filepath.Join(filepath.Base(filepath.Dir(dir)), filepath.Base(dir), filepath.Base(file))) ==
		drill.EvidenceBundlePath(filepath.Base(dir))
}

// writeOSCAL writes drills as an OSCAL assessment-results document.
func writeOSCAL(w io.Writer, title string, drills []oscal.Drill) error {
	doc, err := oscal.AssessmentResults(drills, oscal.Options{Title: title, Version: version.Get().Version})
	if err != nil {
		return err
	}
	return oscal.Write(w, doc)
}

// oscalDrillOf is an audited drill as the OSCAL document takes it.
func oscalDrillOf(d drill.AuditedDrill) oscal.Drill {
	o := oscal.Drill{Report: d.Report, Index: d.Index}
	if d.Kept != nil {
		o.BundleSHA256, o.BundleHref = d.Kept.SHA256, bundleHref(d.Kept.Pushed, d.Kept.Path)
	}
	return o
}
