package memstore

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Store is an in-memory S3. The zero value is not usable: call New.
// Set the fault fields before use; they are read under the store's lock.
type Store struct {
	// EndpointURL names the fake in errors; default "mem://".
	EndpointURL string
	// Now is the server's clock; default time.Now.
	Now func() time.Time
	// PageSize bounds listing pages; default 1000.
	PageSize int

	// NoDefaultRetentionStamp is Versity's behaviour: new versions carry
	// no retention of their own (ObjectRetention answers
	// ErrNoObjectLockConfig) but deletes are refused while the bucket's
	// default period, counted from the version's creation, runs. Real
	// Versity 1.8.0 also accepts, on such a version, a retention shorter
	// than the default and then lets it be deleted: add
	// IgnoreLockOnRetention to reproduce that.
	NoDefaultRetentionStamp bool
	// RefuseStatus and RefuseCode answer a refused delete or retention
	// change; default 400 InvalidRequest (MinIO); Versity answers 403
	// AccessDenied.
	RefuseStatus int
	RefuseCode   string

	// WriteGuard, when set, is asked before every write, as
	// objectstore.S3 asks its Config.WriteGuard: a refused write changes
	// nothing and fails with objectstore.ErrWriteRefused.
	WriteGuard *objectstore.WriteGuard

	// Faults.

	// OpErrors makes an operation fail: the key is the method name
	// ("ListObjects", "ObjectRetention", ...), optionally with ":" and a
	// bucket ("Head:copy"); the error is wrapped like the server's.
	OpErrors map[string]error
	// IgnoreLockOnDelete makes DeleteVersion delete locked versions: the
	// failure the canary exists to find.
	IgnoreLockOnDelete bool
	// IgnoreLockOnBatchDelete does the same for DeleteVersions only.
	IgnoreLockOnBatchDelete bool
	// IgnoreLockOnRetention makes PutRetention shorten locked retention.
	IgnoreLockOnRetention bool
	// Unsorted makes listings return each page's keys in reverse order.
	Unsorted bool
	// IgnoreVersionMarkers makes ListVersions answer the first page
	// whatever the markers, as Versity 1.8.0 does with a version-id
	// marker: a client that trusts the markers loops forever.
	IgnoreVersionMarkers bool

	mu      sync.Mutex
	buckets map[string]*bucket
	calls   map[string]int
	writes  []string
	seq     int
}

type bucket struct {
	versioning string
	lock       *objectstore.LockConfig
	keys       []string // sorted
	objects    map[string][]*version
	gen        *generated
}

type version struct {
	id           string
	data         []byte
	info         objectstore.ObjectInfo
	deleteMarker bool
	retention    objectstore.Retention
	// replication is what Head reports; listings never carry it.
	replication objectstore.ReplicationStatus
}

type generated struct {
	n   int
	gen func(i int) objectstore.ObjectInfo
}

// New returns an empty store.
func New() *Store {
	return &Store{buckets: map[string]*bucket{}, calls: map[string]int{}}
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Endpoint is EndpointURL or "mem://".
func (s *Store) Endpoint() string {
	if s.EndpointURL != "" {
		return s.EndpointURL
	}
	return "mem://"
}

func (s *Store) pageSize(max int) int {
	n := s.PageSize
	if n <= 0 {
		n = 1000
	}
	if max > 0 && max < n {
		n = max
	}
	return n
}

// Calls returns how many times each method was called.
func (s *Store) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// Writes returns every write, delete and retention change the store was
// asked to make, as "Op s3://bucket/key", whether it succeeded or not.
func (s *Store) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.writes)
}

// begin records a call and returns the injected fault, if any. Callers
// hold s.mu.
func (s *Store) begin(op, bkt, key, versionID string) error {
	s.calls[op]++
	for _, k := range []string{op + ":" + bkt, op} {
		if err, ok := s.OpErrors[k]; ok && err != nil {
			if _, isErr := err.(*objectstore.Error); isErr {
				return err
			}
			return &objectstore.Error{Op: op, Endpoint: s.Endpoint(), Bucket: bkt, Key: key, VersionID: versionID, Err: err, Kind: kindOf(err)}
		}
	}
	return nil
}

func kindOf(err error) error {
	for _, k := range []error{objectstore.ErrNotFound, objectstore.ErrNoSuchBucket, objectstore.ErrAccessDenied,
		objectstore.ErrInvalidCredentials, objectstore.ErrNoObjectLockConfig, objectstore.ErrNotImplemented} {
		if err == k {
			return k
		}
	}
	return nil
}

// guard asks the write guard; callers hold s.mu.
func (s *Store) guard(op, bkt, key string) error {
	return s.WriteGuard.Check(op, s.Endpoint(), bkt, key)
}

// apiErr is the server's answer to a request it refuses.
func (s *Store) apiErr(op, bkt, key, versionID string, status int, code, msg string, kind error) error {
	return &objectstore.Error{Op: op, Endpoint: s.Endpoint(), Bucket: bkt, Key: key, VersionID: versionID,
		StatusCode: status, Code: code, Message: msg, Kind: kind}
}

func (s *Store) bucket(op, name string) (*bucket, error) {
	b, ok := s.buckets[name]
	if !ok {
		return nil, s.apiErr(op, name, "", "", http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", objectstore.ErrNoSuchBucket)
	}
	return b, nil
}

// CreateBucket creates a bucket; object lock implies versioning.
func (s *Store) CreateBucket(ctx context.Context, name string, objectLock bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("CreateBucket", name, "", ""); err != nil {
		return err
	}
	if _, ok := s.buckets[name]; ok {
		return s.apiErr("CreateBucket", name, "", "", http.StatusConflict, "BucketAlreadyOwnedByYou", "bucket exists", nil)
	}
	b := &bucket{objects: map[string][]*version{}}
	if objectLock {
		b.versioning = "Enabled"
		b.lock = &objectstore.LockConfig{Enabled: true}
	}
	s.buckets[name] = b
	return nil
}

// SetVersioning enables or suspends versioning.
func (s *Store) SetVersioning(ctx context.Context, name string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("SetVersioning", name, "", ""); err != nil {
		return err
	}
	b, err := s.bucket("SetVersioning", name)
	if err != nil {
		return err
	}
	if !enabled && b.lock != nil {
		return s.apiErr("SetVersioning", name, "", "", http.StatusConflict, "InvalidBucketState", "object lock requires versioning", nil)
	}
	b.versioning = map[bool]string{true: "Enabled", false: "Suspended"}[enabled]
	return nil
}

// SetObjectLockConfig sets the default retention of a bucket created with
// object lock.
func (s *Store) SetObjectLockConfig(ctx context.Context, name string, c objectstore.LockConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("SetObjectLockConfig", name, "", ""); err != nil {
		return err
	}
	b, err := s.bucket("SetObjectLockConfig", name)
	if err != nil {
		return err
	}
	if b.lock == nil {
		return s.apiErr("SetObjectLockConfig", name, "", "", http.StatusConflict, "InvalidBucketState", "object lock was not enabled at creation", nil)
	}
	c.Enabled = true
	b.lock = &c
	return nil
}

// BucketVersioning implements objectstore.S3's method of the same name.
func (s *Store) BucketVersioning(ctx context.Context, name string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("BucketVersioning", name, "", ""); err != nil {
		return "", err
	}
	b, err := s.bucket("BucketVersioning", name)
	if err != nil {
		return "", err
	}
	return b.versioning, nil
}

// ObjectLockConfig implements objectstore.S3's method of the same name.
func (s *Store) ObjectLockConfig(ctx context.Context, name string) (objectstore.LockConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("ObjectLockConfig", name, "", ""); err != nil {
		return objectstore.LockConfig{}, err
	}
	b, err := s.bucket("ObjectLockConfig", name)
	if err != nil {
		return objectstore.LockConfig{}, err
	}
	if b.lock == nil {
		return objectstore.LockConfig{}, s.apiErr("GetObjectLockConfiguration", name, "", "", http.StatusNotFound,
			"ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket", objectstore.ErrNoObjectLockConfig)
	}
	return *b.lock, nil
}

// ResetRecord forgets the calls and writes recorded so far, e.g. those of
// a fixture's setup.
func (s *Store) ResetRecord() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.writes = map[string]int{}, nil
}
