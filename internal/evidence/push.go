package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Store is the part of S3 a push needs. objectstore.S3 is the real one,
// memstore.Store the fake.
type Store interface {
	// ObjectLockConfig returns the bucket's object lock configuration;
	// ErrNoObjectLockConfig, wrapped, when it has none.
	ObjectLockConfig(ctx context.Context, bucket string) (objectstore.LockConfig, error)
	// PutObject writes a new version, locked per opts.Retention.
	PutObject(ctx context.Context, bucket, key string, data []byte, opts objectstore.PutOptions) (objectstore.ObjectInfo, error)
	// ObjectRetention reads one version's retention; ErrNoObjectLockConfig,
	// wrapped, when it has none.
	ObjectRetention(ctx context.Context, bucket, key, versionID string) (objectstore.Retention, error)
	Endpoint() string
}

var _ Store = (*objectstore.S3)(nil)

// ErrBucketNotLocked is returned, wrapped, when a push would go to a
// bucket without object lock and AllowUnlocked is not set.
var ErrBucketNotLocked = errors.New("the bucket has no object lock: evidence there could be altered or deleted")

// DefaultRetention is how long a pushed bundle is locked by default: seven
// years, counted as S3 counts years (365 days).
const DefaultRetention = 7 * 365 * 24 * time.Hour

// PushOptions say where a bundle goes and how it is locked.
type PushOptions struct {
	Bucket, Key string
	// Mode is COMPLIANCE (default) or GOVERNANCE.
	Mode objectstore.LockMode
	// Retention is how long the version is locked; DefaultRetention when zero.
	Retention time.Duration
	// AllowUnlocked pushes to a bucket without object lock (unlocked).
	AllowUnlocked bool
	Now           func() time.Time
}

// Pushed is where a bundle landed and the lock read back from the store.
type Pushed struct {
	URL       string `json:"url"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id,omitempty"`
	SHA256    string `json:"sha256"`
	// Mode and RetainUntil are read back from the stored version; Mode is
	// empty when the bundle was pushed unlocked.
	Mode        objectstore.LockMode `json:"lock_mode,omitempty"`
	RetainUntil *time.Time           `json:"retain_until,omitempty"`
	PushedAt    time.Time            `json:"pushed_at"`
}

// Push uploads a bundle as a new object version locked until now plus the
// retention, then reads the version's retention back and returns an error
// unless it holds the mode asked for, at least that long: a bundle that
// did not land locked is not kept evidence. Without object lock on the
// bucket it refuses (ErrBucketNotLocked) unless AllowUnlocked.
func Push(ctx context.Context, s Store, bundle []byte, o PushOptions) (*Pushed, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Mode == "" {
		o.Mode = objectstore.Compliance
	}
	if o.Mode != objectstore.Compliance && o.Mode != objectstore.Governance {
		return nil, fmt.Errorf("lock mode %q: want COMPLIANCE or GOVERNANCE", o.Mode)
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.Retention < 0 {
		return nil, fmt.Errorf("retention %s: want a positive duration", o.Retention)
	}
	where := objectstore.URI(o.Bucket, o.Key, "")
	lc, err := s.ObjectLockConfig(ctx, o.Bucket)
	locked := err == nil && lc.Enabled
	if err != nil && !errors.Is(err, objectstore.ErrNoObjectLockConfig) {
		return nil, fmt.Errorf("read object lock configuration of %s: %w", objectstore.URI(o.Bucket, "", ""), err)
	}
	if !locked && !o.AllowUnlocked {
		return nil, fmt.Errorf("push evidence to %s at %s: %w", objectstore.URI(o.Bucket, "", ""), s.Endpoint(), ErrBucketNotLocked)
	}
	sum := sha256.Sum256(bundle)
	p := &Pushed{URL: where, Endpoint: s.Endpoint(), Bucket: o.Bucket, Key: o.Key, SHA256: hex.EncodeToString(sum[:]), PushedAt: o.Now().UTC()}
	var opts objectstore.PutOptions
	var until time.Time
	if locked {
		until = o.Now().Add(o.Retention).UTC().Truncate(time.Second)
		opts.Retention = objectstore.Retention{Mode: o.Mode, RetainUntil: until}
	}
	info, err := s.PutObject(ctx, o.Bucket, o.Key, bundle, opts)
	if err != nil {
		return nil, fmt.Errorf("push evidence to %s: %w", where, err)
	}
	p.VersionID = info.VersionID
	p.URL = objectstore.URI(o.Bucket, o.Key, info.VersionID)
	if got := info.Checksums.SHA256; got != "" && got != base64.StdEncoding.EncodeToString(sum[:]) {
		return p, fmt.Errorf("push evidence to %s: the store computed SHA-256 %s, the bundle's is %s", p.URL, got, base64.StdEncoding.EncodeToString(sum[:]))
	}
	if !locked {
		return p, nil
	}
	r, err := s.ObjectRetention(ctx, o.Bucket, o.Key, info.VersionID)
	if err != nil {
		return p, fmt.Errorf("read back the retention of %s: %w", p.URL, err)
	}
	if r.Mode != o.Mode || r.RetainUntil.Before(until) {
		return p, fmt.Errorf("%s landed with retention %s until %s, want %s until %s", p.URL,
			orNone(string(r.Mode)), r.RetainUntil.UTC().Format(time.RFC3339), o.Mode, until.Format(time.RFC3339))
	}
	p.Mode = r.Mode
	ru := r.RetainUntil.UTC()
	p.RetainUntil = &ru
	return p, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
