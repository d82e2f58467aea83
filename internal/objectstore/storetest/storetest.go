// Package storetest is the conformance suite of object stores: the
// behaviour package backup relies on, run against memstore in unit tests
// and against real MinIO and Versity in the e2e tests, as restic runs one
// backend suite against every backend.
//
// Where real servers differ (MinIO stamps a bucket's default retention on
// each object, Versity does not; MinIO refuses a locked delete with 400,
// Versity with 403) the suite accepts each documented behaviour and logs
// which one it saw.
package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// Store is what the suite exercises: the operations of objectstore.S3,
// fixtures included.
type Store interface {
	CreateBucket(ctx context.Context, bucket string, objectLock bool) error
	SetObjectLockConfig(ctx context.Context, bucket string, c objectstore.LockConfig) error
	BucketVersioning(ctx context.Context, bucket string) (string, error)
	ObjectLockConfig(ctx context.Context, bucket string) (objectstore.LockConfig, error)
	ListObjects(ctx context.Context, bucket string, req objectstore.ListRequest) (objectstore.ListPage, error)
	ListVersions(ctx context.Context, bucket string, req objectstore.VersionsRequest) (objectstore.VersionsPage, error)
	Head(ctx context.Context, bucket, key, versionID string) (objectstore.ObjectInfo, error)
	ReadObject(ctx context.Context, bucket, key, versionID string, w io.Writer) (int64, error)
	ObjectRetention(ctx context.Context, bucket, key, versionID string) (objectstore.Retention, error)
	PutObject(ctx context.Context, bucket, key string, data []byte, opts objectstore.PutOptions) (objectstore.ObjectInfo, error)
	DeleteVersion(ctx context.Context, bucket, key, versionID string) error
	DeleteVersions(ctx context.Context, bucket string, objs []objectstore.ObjectInfo) ([]objectstore.DeleteResult, error)
	PutRetention(ctx context.Context, bucket, key, versionID string, r objectstore.Retention) error
}

var (
	_ Store = (*objectstore.S3)(nil)
)

// Suite runs the conformance tests. NewStore returns the store under test;
// Prefix starts every bucket the suite creates (buckets holding locked
// objects cannot be removed: they stay until the lab is torn down).
type Suite struct {
	NewStore func(t *testing.T) Store
	Prefix   string
}

// Run runs every test of the suite as a subtest of t.
func (s Suite) Run(t *testing.T) {
	t.Run("ListingOrderAndPages", s.listingOrderAndPages)
	t.Run("ListingDelimiter", s.listingDelimiter)
	t.Run("HeadAndRead", s.headAndRead)
	t.Run("Versions", s.versions)
	t.Run("BucketConfig", s.bucketConfig)
	t.Run("NoObjectLock", s.noObjectLock)
	t.Run("Retention", s.retention)
	t.Run("LockedVersionRefusals", s.lockedVersionRefusals)
	t.Run("UnlockedDelete", s.unlockedDelete)
	t.Run("RetentionWithoutBucketDefault", s.retentionWithoutBucketDefault)
	t.Run("MissingBucket", s.missingBucket)
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func (s Suite) bucketName(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := strings.ToLower(s.Prefix + "conf-" + hex.EncodeToString(b[:]))
	return name
}

// newBucket creates a bucket; lockDays > 0 gives it object lock with that
// default COMPLIANCE retention, 0 none, and -1 object lock without default.
func (s Suite) newBucket(t *testing.T, st Store, lockDays int) string {
	t.Helper()
	ctx := ctxFor(t)
	name := s.bucketName(t)
	require.NoError(t, st.CreateBucket(ctx, name, lockDays != 0), "create bucket %s", name)
	if lockDays > 0 {
		require.NoError(t, st.SetObjectLockConfig(ctx, name, objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: lockDays}))
	}
	return name
}

func put(t *testing.T, st Store, bucket, key, data string) objectstore.ObjectInfo {
	t.Helper()
	info, err := st.PutObject(ctxFor(t), bucket, key, []byte(data), objectstore.PutOptions{})
	require.NoError(t, err, "put %s", key)
	return info
}

func listAll(t *testing.T, st Store, bucket string, req objectstore.ListRequest) (keys, prefixes []string, pages int) {
	t.Helper()
	for {
		p, err := st.ListObjects(ctxFor(t), bucket, req)
		require.NoError(t, err)
		pages++
		for _, o := range p.Objects {
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, p.CommonPrefixes...)
		if !p.IsTruncated {
			return keys, prefixes, pages
		}
		require.NotEmpty(t, p.NextContinuationToken)
		req.ContinuationToken = p.NextContinuationToken
		require.Less(t, pages, 100, "listing does not end")
	}
}

// listingOrderAndPages: keys come back in byte order across pages, even
// where a directory-walking server could put "a/" before "a.b". (No key is
// also a "directory" of others: Versity, on a file system, refuses that.)
func (s Suite) listingOrderAndPages(t *testing.T) {
	st := s.NewStore(t)
	b := s.newBucket(t, st, 0)
	want := []string{"p/a-b", "p/a.b", "p/a/b", "p/a/c/d", "p/a0", "p/b/x", "p/c"}
	for _, k := range []string{"p/b/x", "p/a0", "p/a/b", "p/a.b", "p/c", "p/a-b", "p/a/c/d", "other"} {
		put(t, st, b, k, "x-"+k)
	}
	keys, _, pages := listAll(t, st, b, objectstore.ListRequest{Prefix: "p/", MaxKeys: 2})
	assert.Equal(t, want, keys)
	assert.Equal(t, 4, pages)
}

func (s Suite) listingDelimiter(t *testing.T) {
	st := s.NewStore(t)
	b := s.newBucket(t, st, 0)
	for _, k := range []string{"r/x.txt", "r/d1/a", "r/d1/b", "r/d2/c", "r/z"} {
		put(t, st, b, k, k)
	}
	keys, prefixes, _ := listAll(t, st, b, objectstore.ListRequest{Prefix: "r/", Delimiter: "/", MaxKeys: 2})
	assert.Equal(t, []string{"r/x.txt", "r/z"}, keys)
	assert.Equal(t, []string{"r/d1/", "r/d2/"}, prefixes)
}

func (s Suite) headAndRead(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, 0)
	data := "hello, firedrill"
	put(t, st, b, "k", data)
	sum := md5.Sum([]byte(data))

	h, err := st.Head(ctx, b, "k", "")
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), h.Size)
	assert.Equal(t, hex.EncodeToString(sum[:]), strings.ToLower(h.ETag), "single-part ETag is the MD5")
	assert.True(t, h.PlainMD5ETag())
	assert.NotEmpty(t, h.Checksums.SHA256, "PutObject stores a SHA-256 checksum")
	assert.Empty(t, h.ReplicationStatus, "an object of a bucket without replication has no replication status")

	p, err := st.ListObjects(ctx, b, objectstore.ListRequest{})
	require.NoError(t, err)
	require.Len(t, p.Objects, 1)
	assert.Equal(t, h.ETag, p.Objects[0].ETag, "listing and HEAD agree on the ETag")
	assert.Equal(t, h.Size, p.Objects[0].Size)

	var buf bytes.Buffer
	n, err := st.ReadObject(ctx, b, "k", "", &buf)
	require.NoError(t, err)
	assert.Equal(t, int64(len(data)), n)
	assert.Equal(t, data, buf.String())

	_, err = st.Head(ctx, b, "missing", "")
	assert.ErrorIs(t, err, objectstore.ErrNotFound)
	_, err = st.ReadObject(ctx, b, "missing", "", io.Discard)
	assert.ErrorIs(t, err, objectstore.ErrNotFound)
	assertNamesBucket(t, err, b)
}

func (s Suite) versions(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, 1)
	v1 := put(t, st, b, "v/k", "one")
	v2 := put(t, st, b, "v/k", "two!")
	put(t, st, b, "v/l", "three")
	require.NotEmpty(t, v1.VersionID)
	require.NotEqual(t, v1.VersionID, v2.VersionID)

	p, err := st.ListVersions(ctx, b, objectstore.VersionsRequest{Prefix: "v/"})
	require.NoError(t, err)
	require.False(t, p.IsTruncated)
	got := p.Versions
	require.Len(t, got, 3)
	assert.Equal(t, []string{"v/k", "v/k", "v/l"}, []string{got[0].Key, got[1].Key, got[2].Key})
	assert.Equal(t, v2.VersionID, got[0].VersionID, "newest first")
	assert.True(t, got[0].IsLatest)
	assert.Equal(t, v1.VersionID, got[1].VersionID)
	assert.False(t, got[1].IsLatest)
	assert.Equal(t, int64(3), got[1].Size)

	var buf bytes.Buffer
	_, err = st.ReadObject(ctx, b, "v/k", v1.VersionID, &buf)
	require.NoError(t, err)
	assert.Equal(t, "one", buf.String(), "an older version reads by its ID")

	// Paged, the same versions come back, or the server repeats a page:
	// Versity 1.8.0 ignores the version-id marker and answers the same
	// page forever. Callers must detect a page that does not advance.
	var paged []objectstore.ObjectInfo
	req := objectstore.VersionsRequest{Prefix: "v/", MaxKeys: 1}
	for i := 0; ; i++ {
		require.Less(t, i, 10, "version listing does not end")
		p, err := st.ListVersions(ctx, b, req)
		require.NoError(t, err)
		paged = append(paged, p.Versions...)
		if !p.IsTruncated {
			break
		}
		if p.NextKeyMarker == req.KeyMarker && p.NextVersionIDMarker == req.VersionIDMarker {
			t.Logf("server repeats a page of versions (markers %q %q not honoured): known Versity limitation", req.KeyMarker, req.VersionIDMarker)
			return
		}
		req.KeyMarker, req.VersionIDMarker = p.NextKeyMarker, p.NextVersionIDMarker
	}
	assert.Equal(t, got, paged, "paged version listing")
}

func (s Suite) bucketConfig(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, 1)
	v, err := st.BucketVersioning(ctx, b)
	require.NoError(t, err)
	assert.Equal(t, "Enabled", v, "object lock implies versioning")
	c, err := st.ObjectLockConfig(ctx, b)
	require.NoError(t, err)
	assert.True(t, c.Enabled)
	assert.Equal(t, objectstore.Compliance, c.DefaultMode)
	assert.Equal(t, 1, c.DefaultDays)
	assert.Equal(t, 24*time.Hour, c.DefaultPeriod())

	g := s.newBucket(t, st, -1)
	require.NoError(t, st.SetObjectLockConfig(ctx, g, objectstore.LockConfig{DefaultMode: objectstore.Governance, DefaultYears: 1}))
	c, err = st.ObjectLockConfig(ctx, g)
	require.NoError(t, err)
	assert.Equal(t, objectstore.Governance, c.DefaultMode)
	assert.Equal(t, 365*24*time.Hour, c.DefaultPeriod())
}

func (s Suite) noObjectLock(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, 0)
	_, err := st.ObjectLockConfig(ctx, b)
	assert.ErrorIs(t, err, objectstore.ErrNoObjectLockConfig)
	assertNamesBucket(t, err, b)
	v, err := st.BucketVersioning(ctx, b)
	require.NoError(t, err)
	assert.NotEqual(t, "Enabled", v)
}

// retention: a new version carries the bucket default (MinIO) or nothing
// (Versity); an explicit retention is readable on both.
func (s Suite) retention(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, 1)
	before := time.Now()
	info := put(t, st, b, "r/default", "x")
	r, err := st.ObjectRetention(ctx, b, "r/default", info.VersionID)
	switch {
	case errors.Is(err, objectstore.ErrNoObjectLockConfig):
		t.Logf("server does not stamp the bucket default on objects (Versity behaviour): %v", err)
	case assert.NoError(t, err):
		t.Logf("server stamps the bucket default on objects (MinIO behaviour): %s until %s", r.Mode, r.RetainUntil)
		assert.Equal(t, objectstore.Compliance, r.Mode)
		assert.WithinDuration(t, before.Add(24*time.Hour), r.RetainUntil, time.Minute)
	}

	until := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	ex, err := st.PutObject(ctx, b, "r/explicit", []byte("y"), objectstore.PutOptions{
		Retention: objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: until},
	})
	require.NoError(t, err)
	r, err = st.ObjectRetention(ctx, b, "r/explicit", ex.VersionID)
	require.NoError(t, err)
	assert.Equal(t, objectstore.Compliance, r.Mode)
	assert.WithinDuration(t, until, r.RetainUntil, time.Second)

	_, err = st.ObjectRetention(ctx, b, "r/missing", "")
	assert.Error(t, err)
}

// lockedVersionRefusals: deleting a locked version, alone or in a batch,
// and shortening its retention are refused, whatever the code, and the
// version is still there.
func (s Suite) lockedVersionRefusals(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, 1)
	info := put(t, st, b, "c/canary", "canary")

	err := st.DeleteVersion(ctx, b, info.Key, info.VersionID)
	require.Error(t, err, "delete of a locked version must be refused")
	assert.True(t, objectstore.Refused(err), "refusal: %v", err)
	t.Logf("delete refused with: %v", err)
	assertNamesBucket(t, err, b)

	res, err := st.DeleteVersions(ctx, b, []objectstore.ObjectInfo{info})
	if err == nil {
		require.Len(t, res, 1)
		assert.Error(t, res[0].Err, "batch delete of a locked version must be refused")
		assert.True(t, objectstore.Refused(res[0].Err), "per-key refusal: %v", res[0].Err)
		t.Logf("batch delete refused with: %v", res[0].Err)
	} else {
		assert.True(t, objectstore.Refused(err), "batch refusal: %v", err)
	}

	shorter := time.Now().Add(time.Hour).Truncate(time.Second)
	err = st.PutRetention(ctx, b, info.Key, info.VersionID, objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: shorter})
	if err == nil {
		// Versity accepts a first retention on an object that carries
		// none; the delete is still refused until the default runs out.
		r, rerr := st.ObjectRetention(ctx, b, info.Key, info.VersionID)
		t.Logf("server accepted a retention of %s on an object without one: now %v %v", shorter, r, rerr)
	} else {
		assert.True(t, objectstore.Refused(err), "retention refusal: %v", err)
		t.Logf("shortening refused with: %v", err)
	}

	_, err = st.Head(ctx, b, info.Key, info.VersionID)
	assert.NoError(t, err, "the locked version is still there")
}

func (s Suite) unlockedDelete(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, -1)
	info := put(t, st, b, "u/k", "free")
	require.NoError(t, st.DeleteVersion(ctx, b, info.Key, info.VersionID))
	_, err := st.Head(ctx, b, info.Key, info.VersionID)
	assert.ErrorIs(t, err, objectstore.ErrNotFound)

	info = put(t, st, b, "u/k2", "free")
	res, err := st.DeleteVersions(ctx, b, []objectstore.ObjectInfo{info})
	require.NoError(t, err)
	require.Len(t, res, 1)
	assert.NoError(t, res[0].Err)
}

// retentionWithoutBucketDefault: on a bucket with object lock but no
// default retention, a version written without a retention carries none
// and can be deleted; one written with its own retention carries it and
// its delete is refused. A retention asked for on a bucket without object
// lock is refused.
func (s Suite) retentionWithoutBucketDefault(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.newBucket(t, st, -1)
	c, err := st.ObjectLockConfig(ctx, b)
	require.NoError(t, err)
	assert.True(t, c.Enabled)
	assert.Empty(t, c.DefaultMode, "no default retention")

	plain := put(t, st, b, "n/plain", "no lock")
	_, err = st.ObjectRetention(ctx, b, plain.Key, plain.VersionID)
	assert.ErrorIs(t, err, objectstore.ErrNoObjectLockConfig)

	until := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	own, err := st.PutObject(ctx, b, "n/own", []byte("own lock"), objectstore.PutOptions{
		Retention: objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: until},
	})
	require.NoError(t, err)
	r, err := st.ObjectRetention(ctx, b, own.Key, own.VersionID)
	require.NoError(t, err)
	assert.Equal(t, objectstore.Compliance, r.Mode)
	assert.WithinDuration(t, until, r.RetainUntil, time.Second)
	err = st.DeleteVersion(ctx, b, own.Key, own.VersionID)
	assert.True(t, objectstore.Refused(err), "delete of a version under its own retention: %v", err)
	_, err = st.Head(ctx, b, own.Key, own.VersionID)
	assert.NoError(t, err, "the version under its own retention is still there")

	require.NoError(t, st.DeleteVersion(ctx, b, plain.Key, plain.VersionID), "a version without retention can be deleted")

	u := s.newBucket(t, st, 0)
	_, err = st.PutObject(ctx, u, "n/own", []byte("own lock"), objectstore.PutOptions{
		Retention: objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: until},
	})
	assert.True(t, objectstore.Refused(err), "a retention on a bucket without object lock: %v", err)
}

func (s Suite) missingBucket(t *testing.T) {
	st := s.NewStore(t)
	ctx := ctxFor(t)
	b := s.bucketName(t) + "-missing"
	_, err := st.BucketVersioning(ctx, b)
	assert.ErrorIs(t, err, objectstore.ErrNoSuchBucket)
	assertNamesBucket(t, err, b)
	_, err = st.ListObjects(ctx, b, objectstore.ListRequest{})
	assert.ErrorIs(t, err, objectstore.ErrNoSuchBucket)
}

func assertNamesBucket(t *testing.T, err error, bucket string) {
	t.Helper()
	if err != nil {
		assert.Contains(t, err.Error(), bucket, "the error names the bucket")
	}
}
