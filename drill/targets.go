package drill

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/evidence"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// The buckets a drill writes to beside its scenario's (the shared history,
// the evidence bucket) are opened here, so that one rule holds for every
// caller: a drill never writes into a backup bucket. A history or an
// evidence bundle there would share the backups' fate (and a backup
// bucket's object lock would keep every record forever); the scenario's
// write guard refuses the bucket before the drill starts and every write
// after (issue 15, section 2).

// BackupBucketError is the error of a shared history or evidence bucket
// that is one of the scenario's backup buckets (its primary or a copy, on
// the same server by endpoint.SameServer's rule).
type BackupBucketError struct {
	// What is the target: "the shared history" or "the evidence bucket".
	What string
	// URL is s3://BUCKET/PREFIX of the target.
	URL string
	// Role names the backup bucket it is, as WriteGuard does.
	Role string
}

func (e *BackupBucketError) Error() string {
	return fmt.Sprintf("%s %s is %s: a drill never writes into a backup bucket", e.What, e.URL, e.Role)
}

// refuseBackupBucket returns a *BackupBucketError when bucket at endpoint
// (as configured; empty for AWS) is one of sc's backup buckets; nil for a
// nil scenario.
func refuseBackupBucket(sc *scenarios.Scenario, what, endpoint, bucket, prefix string) error {
	if p, ok := WriteGuard(sc).Protects(endpoint, bucket); ok {
		return &BackupBucketError{What: what, URL: objectstore.URI(bucket, prefix, ""), Role: p.Role}
	}
	return nil
}

// openGuarded is the store of a bucket a drill of sc writes to, behind the
// scenario's write guard; a backup bucket is refused before any request.
func openGuarded(ctx context.Context, sc *scenarios.Scenario, what string, cfg objectstore.Config, bucket, prefix string) (*objectstore.S3, error) {
	if err := refuseBackupBucket(sc, what, cfg.Endpoint, bucket, prefix); err != nil {
		return nil, err
	}
	cfg.WriteGuard = WriteGuard(sc)
	store, err := objectstore.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", strings.TrimPrefix(what, "the "), objectstore.URI(bucket, prefix, ""), err)
	}
	return store, nil
}

// OpenHistory is the shared history in bucket under prefix (see
// ParseHistoryURL), reached with cfg (endpoint, region, credentials). With
// the scenario of a drill (sc; nil for commands without one) a history in
// one of its backup buckets is refused (*BackupBucketError) and every
// upload goes through its write guard. A drill waits for its uploads, so
// the store fails fast: 30s per operation and 3 attempts unless cfg says
// otherwise. It makes no request.
func OpenHistory(ctx context.Context, sc *scenarios.Scenario, bucket, prefix string, cfg objectstore.Config) (*S3Records, error) {
	if cfg.OpTimeout == 0 {
		cfg.OpTimeout = 30 * time.Second
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = 3
	}
	store, err := openGuarded(ctx, sc, "the shared history", cfg, bucket, prefix)
	if err != nil {
		return nil, err
	}
	return &S3Records{Store: store, Endpoint: cfg.Endpoint, Bucket: bucket, Prefix: prefix}, nil
}

// OpenEvidenceTarget is the evidence bucket in bucket under prefix,
// reached with cfg, where bundles are pushed as push says (Bucket and Key
// are filled in per bundle). An evidence bucket that is one of sc's backup
// buckets is refused (*BackupBucketError). It makes no request.
func OpenEvidenceTarget(ctx context.Context, sc *scenarios.Scenario, bucket, prefix string, cfg objectstore.Config, push evidence.PushOptions) (*EvidenceTarget, error) {
	store, err := openGuarded(ctx, sc, "the evidence bucket", cfg, bucket, prefix)
	if err != nil {
		return nil, err
	}
	return &EvidenceTarget{Store: store, Endpoint: cfg.Endpoint, Bucket: bucket, Prefix: prefix, Push: push}, nil
}

// ScenarioEvidenceTarget is the evidence bucket of sc's spec.evidence.push,
// with the credentials it references (read with getenv); nil when sc has
// none. A bundle already kept there, locked, is not pushed again
// (EvidenceTarget.FromScenario). Errors are those of OpenEvidenceTarget,
// wrapped with "spec.evidence.push".
func ScenarioEvidenceTarget(ctx context.Context, sc *scenarios.Scenario, getenv func(string) string) (*EvidenceTarget, error) {
	if sc == nil || sc.Spec.Evidence == nil || sc.Spec.Evidence.Push == nil {
		return nil, nil
	}
	p := sc.Spec.Evidence.Push
	t, err := OpenEvidenceTarget(ctx, sc, p.Bucket.Bucket, strings.Trim(p.Prefix, "/"), StoreConfig(p.Bucket, getenv),
		evidence.PushOptions{Mode: objectstore.LockMode(p.LockMode), Retention: time.Duration(p.Retention), AllowUnlocked: p.AllowUnlockedBucket})
	if err != nil {
		return nil, fmt.Errorf("spec.evidence.push: %w", err)
	}
	t.FromScenario = true
	return t, nil
}
