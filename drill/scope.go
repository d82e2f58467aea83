package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"

	"github.com/firedrill-dev/firedrill/backup/scope"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/kube"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/plural"
	"github.com/firedrill-dev/firedrill/internal/secret"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// Scope answers which PersistentVolumeClaims of the source the chosen
// backup holds, and sets the backup's items against what the Restores
// created (package scope is behind the real one, NewScope).
type Scope interface {
	// Claims reads the backup's scope in the source (read-only) or, when
	// the scenario gives no source to read (none named, or the disaster
	// loses it), from the backup's files alone (Result.SourceSkipped says
	// why). A nil Result with a nil error reads nothing. An error means
	// the claims could not be listed at all (the source's, or the
	// backup's resource list).
	Claims(ctx context.Context, backup string) (*scope.Result, error)
	// Counts reads the resource lists of the backup and of the Restores
	// from the bucket the Restores read (and wrote their records to).
	Counts(ctx context.Context, backup string, restores []string) (*scope.Counts, error)
}

// ScopeOptions are how NewScope reads.
type ScopeOptions struct {
	// Getenv reads the bucket's credentials; nil means os.Getenv.
	Getenv func(string) string
	// Secrets gets the source kubeconfig's credentials; nil takes none.
	Secrets *secret.Set
	Log     *slog.Logger
}

// NewScope returns the Scope of a drill of sc: it reads the source
// cluster the scenario names (spec.source), unless the disaster loses it,
// with get and list requests only, and the bucket the restore reads (the
// primary, or the copy when the scenario loses primaryStorage); without a
// source, the bucket alone.
func NewScope(sc *scenarios.Scenario, opts ScopeOptions) Scope {
	return &sourceScope{sc: sc, opts: opts}
}

type sourceScope struct {
	sc   *scenarios.Scenario
	opts ScopeOptions
}

var _ Scope = (*sourceScope)(nil)

// ScopeSkipped says why a drill of sc does not read the source for the
// backup's scope; "" when it does.
func ScopeSkipped(sc *scenarios.Scenario) string {
	s := sc.Spec
	switch {
	case s.Disaster.Loses(scenarios.LossSourceCluster):
		return "the scenario loses the source cluster"
	case s.Source.Kubeconfig == "" && s.Source.Context == "":
		return "the scenario names no source cluster (spec.source)"
	}
	return ""
}

func (s *sourceScope) Claims(ctx context.Context, backup string) (*scope.Result, error) {
	if why := ScopeSkipped(s.sc); why != "" {
		// Without the source, the backup still says which claims it
		// restores without their data.
		files, err := s.files(ctx)
		if err != nil {
			return nil, err
		}
		return scope.ReadBackup(ctx, files, backup, s.sc.Spec.Backups.IncludedNamespaces, why)
	}
	src := s.sc.Spec.Source
	c, err := kube.New(src.Kubeconfig, src.Context)
	if err != nil {
		return nil, fmt.Errorf("source cluster (%s): %w", clusterText(src), err)
	}
	s.opts.Secrets.Add(credentials(s.opts.Secrets, c)...)
	files, err := s.files(ctx)
	if err != nil {
		// The claims and pods still say much; the bucket's files add
		// snapshots.
		if s.opts.Log != nil {
			s.opts.Log.Warn("backup scope: bucket not readable", "err", err)
		}
		files = nil
	}
	src2 := scope.Source{Kube: c.Kube, Dynamic: c.Dynamic, VeleroNamespace: s.sc.Spec.Backups.VeleroNamespace}
	if files != nil {
		src2.Files = files
	}
	res, err := scope.Read(ctx, src2, backup, s.sc.Spec.Backups.IncludedNamespaces)
	if err == nil && files == nil {
		res.Problems = append(res.Problems, "the bucket's files of the backup were not read (snapshots unknown)")
	}
	return res, err
}

func (s *sourceScope) Counts(ctx context.Context, backup string, restores []string) (*scope.Counts, error) {
	files, err := s.files(ctx)
	if err != nil {
		return nil, err
	}
	return scope.ReadCounts(ctx, files, files, backup, restores)
}

// files reads the bucket the restore reads: the primary, or the copy.
func (s *sourceScope) files(ctx context.Context) (*bucketFiles, error) {
	b := s.sc.Spec.Storage.Primary
	if _, from := s.sc.RestoreFrom(); from != nil {
		b = from.Bucket
	}
	cfg := StoreConfig(b, s.opts.Getenv)
	cfg.WriteGuard = WriteGuard(s.sc)
	st, err := objectstore.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("bucket %s at %s: %w", b.Bucket, secret.URL(b.Endpoint), err)
	}
	return &bucketFiles{st: st, bucket: b.Bucket, prefix: b.Prefix}, nil
}

// bucketFiles reads a storage location's files for package scope.
type bucketFiles struct {
	st             *objectstore.S3
	bucket, prefix string
}

var _ scope.Files = (*bucketFiles)(nil)

func (f *bucketFiles) ReadFile(ctx context.Context, key string) ([]byte, error) {
	full := path.Join(f.prefix, key)
	var buf bytes.Buffer
	w := &cappedBuffer{b: &buf, left: scope.MaxFile}
	if _, err := f.st.ReadObject(ctx, f.bucket, full, "", w); err != nil {
		if errors.Is(err, objectstore.ErrNotFound) {
			return nil, fmt.Errorf("s3://%s/%s: %w", f.bucket, full, scope.ErrNotFound)
		}
		return nil, fmt.Errorf("read s3://%s/%s: %w", f.bucket, full, err)
	}
	return buf.Bytes(), nil
}

// cappedBuffer refuses to grow past left bytes.
type cappedBuffer struct {
	b    *bytes.Buffer
	left int64
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if int64(len(p)) > c.left {
		return 0, fmt.Errorf("file larger than %d bytes", scope.MaxFile)
	}
	c.left -= int64(len(p))
	return c.b.Write(p)
}

// readScope reads the chosen backup's scope (recovery-point step), in the
// source or, without one, in the backup's files, into the report, with
// its findings: PersistentVolumeClaims whose data is not in the backup
// fail the step unless the scenario accepts them
// (spec.backups.acceptedOutOfScope). A scope that cannot be read is a
// warning: the recovery point stands without it.
func (r *run) readScope(ctx context.Context, backup string) bool {
	if r.opts.Scope == nil {
		return true
	}
	res, err := r.opts.Scope.Claims(ctx, backup)
	if err != nil {
		if why := ScopeSkipped(r.sc); why != "" {
			r.report.Findings = append(r.report.Findings, finding.Warn(scope.IDSource, "files of backup "+backup,
				"the backup's scope could not be read from its files ("+why+"): "+err.Error()).
				With("", "", "check that the drill's bucket credentials may read backups/"+backup+"/"))
			return true
		}
		r.report.Findings = append(r.report.Findings, finding.Warn(scope.IDSource, "source cluster",
			"the backup's scope could not be read from the source: "+err.Error()).
			With("", "", "check spec.source and that its credentials may list PersistentVolumeClaims and pods"))
		return true
	}
	if res == nil {
		return true
	}
	r.report.Scope = res
	fs := scope.Findings(res, r.sc.Spec.Backups.AcceptedOutOfScope)
	r.report.Findings = append(r.report.Findings, fs...)
	return !finding.Failed(fs)
}

// countItems sets the backup's items against what the Restores created
// (restore step), into the report: a pass that shows the differences,
// or a warning when the resource lists could not be read.
func (r *run) countItems(ctx context.Context, backup string, restores []RestoreRef) {
	if r.opts.Scope == nil || len(restores) == 0 {
		return
	}
	var names []string
	for _, rr := range restores {
		names = append(names, rr.Name)
	}
	subject := "resource lists of backup " + backup + " and its Restores"
	c, err := r.opts.Scope.Counts(ctx, backup, names)
	if err != nil {
		r.report.Findings = append(r.report.Findings, finding.Warn(scopeCountsID, subject, "the item counts could not be compared: "+err.Error()))
		return
	}
	if c == nil {
		return
	}
	r.report.ItemCounts = c
	var diffs []string
	for _, k := range c.Kinds {
		switch {
		case k.Failed > 0:
			diffs = append(diffs, fmt.Sprintf("%s %d of %d not restored (%d failed)", k.Kind, k.NotRestored, k.BackedUp, k.Failed))
		case k.NotRestored > 0:
			diffs = append(diffs, fmt.Sprintf("%s %d of %d not restored", k.Kind, k.NotRestored, k.BackedUp))
		}
	}
	backedUp := plural.Count(c.BackupItemsBackedUp, "item", "items")
	msg := fmt.Sprintf("backup %s: %s backed up (status.progress.itemsBackedUp), every kind restored", backup, backedUp)
	if len(diffs) > 0 {
		msg = fmt.Sprintf("backup %s: %s backed up (status.progress.itemsBackedUp); differences: %s (expected here: the kinds the restore phases exclude, %s, and what Velero never restores, such as events)",
			backup, backedUp, strings.Join(diffs, "; "), excludedText(r.sc.Spec.Target.Restore.ExcludedResources))
	}
	r.report.Findings = append(r.report.Findings, finding.Pass(scopeCountsID, subject, msg))
}

// excludedText lists the restore phases' excluded resources; Velero's own
// exclusions (nonRestorableResources in pkg/controller/restore_controller.go:
// nodes, events, events.events.k8s.io, Velero's Backups and Restores, ...)
// are named by the caller.
func excludedText(rs []string) string {
	if len(rs) == 0 {
		return "none"
	}
	return strings.Join(rs, ", ")
}

// scopeCountsID is the finding of countItems.
const scopeCountsID = "scope.counts"
