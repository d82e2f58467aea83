package drill

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// EvidenceTarget is an object-locked bucket for evidence bundles.
type EvidenceTarget struct {
	Store evidence.Store
	// Endpoint is the endpoint as configured; empty for AWS.
	Endpoint string
	// Bucket and Prefix say where: PREFIX/SCENARIO/ID.evidence.tar.gz.
	Bucket, Prefix string
	// Push says how the bundle is locked (Bucket and Key are filled in).
	Push evidence.PushOptions
	// FromScenario is the scenario's spec.evidence.push rather than a
	// bucket asked for on the command line: a bundle already kept there,
	// locked, with the same bytes is not pushed again (another locked
	// version would only add one no one can remove).
	FromScenario bool
}

// URL is s3://BUCKET/PREFIX.
func (t *EvidenceTarget) URL() string { return objectstore.URI(t.Bucket, t.Prefix, "") }

// Key is where the bundle of drill id of scenario goes.
func (t *EvidenceTarget) Key(scenario, id string) string {
	k := scenario + "/" + id + ".evidence.tar.gz"
	if t.Prefix != "" {
		k = t.Prefix + "/" + k
	}
	return k
}

// KeepOptions say how a drill's evidence is kept.
type KeepOptions struct {
	ExportOptions
	// Out is the bundle's file: empty for the drill directory's
	// evidence.tar.gz, "-" for W.
	Out string
	W   io.Writer
	// Target, when set, is where the bundle is pushed, locked.
	Target *EvidenceTarget
	Now    func() time.Time
}

// Kept is what KeepEvidence did.
type Kept struct {
	DrillID  string   `json:"drill_id"`
	File     string   `json:"file,omitempty"`
	SHA256   string   `json:"sha256"`
	Size     int      `json:"size"`
	Files    int      `json:"files"`
	SignedBy string   `json:"signed_by"`
	Controls []string `json:"controls"`
	// Pushed is set only for a push whose lock was read back.
	Pushed *evidence.Pushed `json:"pushed,omitempty"`
}

// KeepEvidence makes the signed bundle of a finished drill, writes it,
// pushes it when a target is set, and records the export in the drill's
// evidence.json. A failed push is returned as the error, with Kept
// describing what was written and recorded.
func KeepEvidence(ctx context.Context, d *Dir, o KeepOptions) (*Kept, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	e, err := ExportEvidence(d, o.ExportOptions)
	if err != nil {
		return nil, err
	}
	k := &Kept{DrillID: e.Manifest.DrillID, SHA256: e.SHA256, Size: len(e.Bundle), Files: len(e.Manifest.Files),
		SignedBy: e.Manifest.SignedBy, Controls: evidence.Supported(e.Index.Controls)}
	if o.Out == "-" {
		if _, err := o.W.Write(e.Bundle); err != nil {
			return nil, fmt.Errorf("write the bundle: %w", err)
		}
	} else {
		if o.Out == "" {
			o.Out = d.File(EvidenceBundleFile)
		}
		if err := WriteFileAtomic(o.Out, e.Bundle); err != nil {
			return nil, err
		}
		k.File = o.Out
	}
	var pushErr error
	if t := o.Target; t != nil {
		if earlier := d.lockedPush(e.SHA256); t.FromScenario && earlier != nil {
			k.Pushed = earlier
		} else {
			p := t.Push
			p.Bucket, p.Key, p.Now = t.Bucket, t.Key(e.Manifest.Scenario, e.Manifest.DrillID), o.Now
			pushed, err := evidence.Push(ctx, t.Store, e.Bundle, p)
			if err == nil {
				k.Pushed = pushed
			}
			pushErr = err
		}
	}
	rec := EvidenceRecord{SHA256: e.SHA256, Size: len(e.Bundle), Path: k.File, SignedBy: e.Manifest.SignedBy,
		ExportedAt: o.Now().UTC(), Controls: k.Controls, Pushed: k.Pushed}
	if err := d.RecordEvidence(rec); err != nil {
		return nil, fmt.Errorf("record the export in %s: %w", d.Path, err)
	}
	return k, pushErr
}

// lockedPush is an earlier push of the bundle with this SHA-256 whose
// lock was read back, or nil.
func (d *Dir) lockedPush(sum string) *evidence.Pushed {
	recs, err := d.EvidenceRecords()
	if err != nil {
		return nil
	}
	for i := len(recs) - 1; i >= 0; i-- {
		if p := recs[i].Pushed; p != nil && p.SHA256 == sum && p.RetainUntil != nil {
			return p
		}
	}
	return nil
}
