package drill

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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
	// NotRecorded, when set, says why the export is not in the drill's
	// evidence.json: the drill directory cannot be written (a read-only
	// copy an auditor exports from).
	NotRecorded string `json:"not_recorded,omitempty"`
	// Index is the bundle's index.json: what each file proves and the
	// controls the drill supports.
	Index *evidence.Index `json:"-"`
}

// ErrDrillDirReadOnly is returned, possibly wrapped, by KeepEvidence when
// the bundle would go into a drill directory that cannot be written.
var ErrDrillDirReadOnly = errors.New("the drill directory cannot be written")

// KeepEvidence makes the signed bundle of a finished drill, writes it,
// pushes it when a target is set, and records the export in the drill's
// evidence.json. A failed push is returned as the error, with Kept
// describing what was written and recorded.
//
// Whether the export can be recorded is decided before anything is
// written: in a drill directory that cannot be written (a read-only copy)
// a bundle for the directory itself is refused with ErrDrillDirReadOnly
// and nothing is written; a bundle for elsewhere (o.Out) is written and
// pushed, and Kept.NotRecorded says why evidence.json was left as it was.
func KeepEvidence(ctx context.Context, d *Dir, o KeepOptions) (*Kept, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	recordable := d.writable()
	if recordable != nil && o.Out == "" {
		return nil, fmt.Errorf("write the bundle into %s: %w: %w", d.Path, ErrDrillDirReadOnly, recordable)
	}
	e, err := ExportEvidence(d, o.ExportOptions)
	if err != nil {
		return nil, err
	}
	k := &Kept{DrillID: e.Manifest.DrillID, SHA256: e.SHA256, Size: len(e.Bundle), Files: len(e.Manifest.Files),
		SignedBy: e.Manifest.SignedBy, Controls: evidence.Supported(e.Index.Controls), Index: e.Index}
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
	if recordable != nil {
		k.NotRecorded = fmt.Sprintf("%s: %v", ErrDrillDirReadOnly, recordable)
		return k, pushErr
	}
	rec := EvidenceRecord{SHA256: e.SHA256, Size: len(e.Bundle), Path: k.File, SignedBy: e.Manifest.SignedBy,
		ExportedAt: o.Now().UTC(), Controls: k.Controls, Pushed: k.Pushed}
	if err := d.RecordEvidence(rec); err != nil {
		return nil, fmt.Errorf("record the export in %s: %w", d.Path, err)
	}
	return k, pushErr
}

// writable is nil when a file can be created in the drill directory, as
// RecordEvidence does (a new file renamed over evidence.json): the one
// test that holds for read-only mounts, modes and ACLs alike is to try.
func (d *Dir) writable() error {
	f, err := os.CreateTemp(d.Path, ".firedrill-write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
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
