package backup

import (
	"context"
	"io"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// BucketConfigReader reads a bucket's protection settings.
type BucketConfigReader interface {
	// Endpoint names the server in findings, e.g. "http://127.0.0.1:27000".
	Endpoint() string
	// BucketVersioning returns "Enabled", "Suspended" or "" (never
	// configured). It returns objectstore.ErrNoSuchBucket,
	// ErrAccessDenied or ErrInvalidCredentials, possibly wrapped.
	BucketVersioning(ctx context.Context, bucket string) (string, error)
	// ObjectLockConfig returns objectstore.ErrNoObjectLockConfig,
	// possibly wrapped, when the bucket has no object lock, and the
	// errors of BucketVersioning.
	ObjectLockConfig(ctx context.Context, bucket string) (objectstore.LockConfig, error)
}

// ObjectLister lists and reads objects: what a copy comparison needs.
type ObjectLister interface {
	Endpoint() string
	// ListObjects returns one page of latest versions under req.Prefix in
	// ascending key order. Repeating a request returns the same page.
	ListObjects(ctx context.Context, bucket string, req objectstore.ListRequest) (objectstore.ListPage, error)
	// Head returns size, ETag, stored checksums and replication status
	// of an object version (the latest when versionID is empty);
	// objectstore.ErrNotFound, possibly wrapped, when there is none.
	Head(ctx context.Context, bucket, key, versionID string) (objectstore.ObjectInfo, error)
	// ReadObject copies an object's content to w; objectstore.ErrNotFound,
	// possibly wrapped, when there is none.
	ReadObject(ctx context.Context, bucket, key, versionID string, w io.Writer) (int64, error)
}

// RetentionReader reads the versions of a backup's objects and their
// retention.
type RetentionReader interface {
	// ListVersions returns one page of versions and delete markers under
	// req.Prefix, by key, newest first within a key.
	ListVersions(ctx context.Context, bucket string, req objectstore.VersionsRequest) (objectstore.VersionsPage, error)
	// ObjectRetention returns objectstore.ErrNoObjectLockConfig, possibly
	// wrapped, when the version carries no retention of its own (Versity
	// for objects under a bucket default), and ErrNotFound when there is
	// no such version.
	ObjectRetention(ctx context.Context, bucket, key, versionID string) (objectstore.Retention, error)
}

// CanaryWriter is what the tamper canary does to its own object. The
// canary never calls these methods with a key outside its prefix.
type CanaryWriter interface {
	// PutObject writes a new version and returns it. Not idempotent.
	PutObject(ctx context.Context, bucket, key string, data []byte, opts objectstore.PutOptions) (objectstore.ObjectInfo, error)
	// DeleteVersion deletes one version without bypassing governance
	// retention; a refusal is an error for which objectstore.Refused is
	// true, whatever code the server uses.
	DeleteVersion(ctx context.Context, bucket, key, versionID string) error
	// DeleteVersions deletes versions in one batch request; refusals come
	// back per key in the results, not as the error.
	DeleteVersions(ctx context.Context, bucket string, objs []objectstore.ObjectInfo) ([]objectstore.DeleteResult, error)
	// PutRetention changes a version's retention without bypassing
	// governance retention; a refusal is an error for which
	// objectstore.Refused is true.
	PutRetention(ctx context.Context, bucket, key, versionID string, r objectstore.Retention) error
}

// PrimaryStore is the store of the primary bucket: every check runs on it.
type PrimaryStore interface {
	BucketConfigReader
	ObjectLister
	RetentionReader
	CanaryWriter
}

// CopyStore is the store of an off-site copy: compared, and its bucket
// settings checked when the copy has a lock requirement.
type CopyStore interface {
	BucketConfigReader
	ObjectLister
}

var (
	_ PrimaryStore = (*objectstore.S3)(nil)
	_ CopyStore    = (*objectstore.S3)(nil)
)
