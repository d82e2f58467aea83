package memstore

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// PutObject implements objectstore.S3's method of the same name.
func (s *Store) PutObject(ctx context.Context, name, key string, data []byte, opts objectstore.PutOptions) (objectstore.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, "PutObject "+objectstore.URI(name, key, ""))
	if err := s.guard("PutObject", name, key); err != nil {
		return objectstore.ObjectInfo{}, err
	}
	if err := s.begin("PutObject", name, key, ""); err != nil {
		return objectstore.ObjectInfo{}, err
	}
	b, err := s.bucket("PutObject", name)
	if err != nil {
		return objectstore.ObjectInfo{}, err
	}
	if opts.Retention.Mode != "" && b.lock == nil {
		// MinIO, Versity and AWS refuse lock headers on a bucket created
		// without object lock.
		return objectstore.ObjectInfo{}, s.apiErr("PutObject", name, key, "", http.StatusBadRequest,
			"InvalidRequest", "Bucket is missing ObjectLockConfiguration", nil)
	}
	info := s.put(b, key, data, opts.Retention)
	if b.versioning != "Enabled" {
		info.VersionID = ""
	}
	return info, nil
}

func (s *Store) put(b *bucket, key string, data []byte, r objectstore.Retention) objectstore.ObjectInfo {
	now := s.now()
	sum := md5.Sum(data)
	sha := sha256.Sum256(data)
	v := &version{data: slices.Clone(data)}
	v.info = objectstore.ObjectInfo{
		Key: key, Size: int64(len(data)), ETag: hex.EncodeToString(sum[:]), LastModified: now,
		ChecksumAlgorithms: []string{"SHA256"},
		Checksums:          objectstore.Checksums{Type: "FULL_OBJECT", SHA256: base64.StdEncoding.EncodeToString(sha[:])},
	}
	switch {
	case r.Mode != "":
		v.retention = r
	case b.lock != nil && b.lock.DefaultMode != "" && !s.NoDefaultRetentionStamp:
		v.retention = objectstore.Retention{Mode: b.lock.DefaultMode, RetainUntil: now.Add(b.lock.DefaultPeriod())}
	}
	s.addVersion(b, key, v)
	return v.info
}

func (s *Store) addVersion(b *bucket, key string, v *version) {
	vs, ok := b.objects[key]
	if !ok {
		i := sort.SearchStrings(b.keys, key)
		b.keys = slices.Insert(b.keys, i, key)
	}
	if b.versioning == "Enabled" {
		s.seq++
		v.id = fmt.Sprintf("v%06d", s.seq)
	} else {
		v.id = "null"
		vs = slices.DeleteFunc(vs, func(o *version) bool { return o.id == "null" })
	}
	v.info.VersionID = v.id
	b.objects[key] = append([]*version{v}, vs...)
}

// find returns the version (the latest when versionID is empty).
func (s *Store) find(op, name, key, versionID string) (*bucket, *version, error) {
	b, err := s.bucket(op, name)
	if err != nil {
		return nil, nil, err
	}
	if b.gen != nil {
		i := sort.Search(b.gen.n, func(i int) bool { return b.gen.gen(i).Key >= key })
		if i < b.gen.n {
			if info := b.gen.gen(i); info.Key == key {
				return b, &version{info: info, data: []byte(info.ETag)}, nil
			}
		}
		return nil, nil, s.apiErr(op, name, key, versionID, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", objectstore.ErrNotFound)
	}
	for _, v := range b.objects[key] {
		if versionID == "" || v.id == versionID {
			if v.deleteMarker {
				break
			}
			return b, v, nil
		}
	}
	code := "NoSuchKey"
	if versionID != "" {
		code = "NoSuchVersion"
	}
	return nil, nil, s.apiErr(op, name, key, versionID, http.StatusNotFound, code, "The specified key does not exist.", objectstore.ErrNotFound)
}

// Head implements objectstore.S3's method of the same name.
func (s *Store) Head(ctx context.Context, name, key, versionID string) (objectstore.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("Head", name, key, versionID); err != nil {
		return objectstore.ObjectInfo{}, err
	}
	_, v, err := s.find("Head", name, key, versionID)
	if err != nil {
		return objectstore.ObjectInfo{}, err
	}
	info := v.info
	info.ChecksumAlgorithms = nil
	info.IsLatest = false
	info.Retention = v.retention
	info.ReplicationStatus = v.replication
	return info, nil
}

// ReadObject implements objectstore.S3's method of the same name.
func (s *Store) ReadObject(ctx context.Context, name, key, versionID string, w io.Writer) (int64, error) {
	s.mu.Lock()
	if err := s.begin("ReadObject", name, key, versionID); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	_, v, err := s.find("ReadObject", name, key, versionID)
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(v.data)
	return int64(n), err
}

// ObjectRetention implements objectstore.S3's method of the same name.
func (s *Store) ObjectRetention(ctx context.Context, name, key, versionID string) (objectstore.Retention, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("ObjectRetention", name, key, versionID); err != nil {
		return objectstore.Retention{}, err
	}
	b, v, err := s.find("ObjectRetention", name, key, versionID)
	if err != nil {
		return objectstore.Retention{}, err
	}
	if b.lock == nil {
		return objectstore.Retention{}, s.apiErr("GetObjectRetention", name, key, versionID, http.StatusBadRequest,
			"InvalidRequest", "Bucket is missing ObjectLockConfiguration", nil)
	}
	if v.retention.Mode == "" {
		return objectstore.Retention{}, s.apiErr("GetObjectRetention", name, key, versionID, http.StatusNotFound,
			"NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration", objectstore.ErrNoObjectLockConfig)
	}
	return v.retention, nil
}

// lockedUntil is when a version may be deleted: its own retention, or on
// Versity-like stores the bucket default counted from its creation.
func (s *Store) lockedUntil(b *bucket, v *version) time.Time {
	if v.retention.Mode != "" {
		return v.retention.RetainUntil
	}
	if b.lock != nil && b.lock.DefaultMode != "" && s.NoDefaultRetentionStamp {
		return v.info.LastModified.Add(b.lock.DefaultPeriod())
	}
	return time.Time{}
}

func (s *Store) refusal(op, name, key, versionID string) error {
	status, code := s.RefuseStatus, s.RefuseCode
	if status == 0 {
		status, code = http.StatusBadRequest, "InvalidRequest"
	}
	kind := error(nil)
	if status == http.StatusForbidden {
		kind = objectstore.ErrAccessDenied
	}
	return s.apiErr(op, name, key, versionID, status, code, "Object is WORM protected and cannot be overwritten", kind)
}

func (s *Store) deleteVersion(op, name, key, versionID string, ignoreLock bool) error {
	b, err := s.bucket(op, name)
	if err != nil {
		return err
	}
	vs := b.objects[key]
	if versionID == "" {
		if b.versioning == "Enabled" {
			s.addVersion(b, key, &version{deleteMarker: true, info: objectstore.ObjectInfo{Key: key, LastModified: s.now()}})
			return nil
		}
		versionID = "null"
	}
	i := slices.IndexFunc(vs, func(v *version) bool { return v.id == versionID })
	if i < 0 {
		// S3 answers success for a version that does not exist.
		return nil
	}
	if !ignoreLock && s.now().Before(s.lockedUntil(b, vs[i])) {
		return s.refusal(op, name, key, versionID)
	}
	b.objects[key] = slices.Delete(vs, i, i+1)
	if len(b.objects[key]) == 0 {
		delete(b.objects, key)
		j := sort.SearchStrings(b.keys, key)
		b.keys = slices.Delete(b.keys, j, j+1)
	}
	return nil
}

// DeleteVersion implements objectstore.S3's method of the same name.
func (s *Store) DeleteVersion(ctx context.Context, name, key, versionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, "DeleteObject "+objectstore.URI(name, key, versionID))
	if err := s.guard("DeleteObject", name, key); err != nil {
		return err
	}
	if err := s.begin("DeleteVersion", name, key, versionID); err != nil {
		return err
	}
	return s.deleteVersion("DeleteObject", name, key, versionID, s.IgnoreLockOnDelete)
}

// DeleteVersions implements objectstore.S3's method of the same name.
func (s *Store) DeleteVersions(ctx context.Context, name string, objs []objectstore.ObjectInfo) ([]objectstore.DeleteResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range objs {
		s.writes = append(s.writes, "DeleteObjects "+objectstore.URI(name, o.Key, o.VersionID))
	}
	for _, o := range objs {
		if err := s.guard("DeleteObjects", name, o.Key); err != nil {
			return nil, err
		}
	}
	if err := s.begin("DeleteVersions", name, "", ""); err != nil {
		return nil, err
	}
	if _, err := s.bucket("DeleteObjects", name); err != nil {
		return nil, err
	}
	var res []objectstore.DeleteResult
	for _, o := range objs {
		res = append(res, objectstore.DeleteResult{Key: o.Key, VersionID: o.VersionID,
			Err: s.deleteVersion("DeleteObjects", name, o.Key, o.VersionID, s.IgnoreLockOnBatchDelete)})
	}
	return res, nil
}

// PutRetention implements objectstore.S3's method of the same name.
func (s *Store) PutRetention(ctx context.Context, name, key, versionID string, r objectstore.Retention) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, "PutObjectRetention "+objectstore.URI(name, key, versionID))
	if err := s.guard("PutObjectRetention", name, key); err != nil {
		return err
	}
	if err := s.begin("PutRetention", name, key, versionID); err != nil {
		return err
	}
	b, v, err := s.find("PutObjectRetention", name, key, versionID)
	if err != nil {
		return err
	}
	if b.lock == nil {
		return s.apiErr("PutObjectRetention", name, key, versionID, http.StatusBadRequest, "InvalidRequest", "Bucket is missing ObjectLockConfiguration", nil)
	}
	if !r.RetainUntil.After(s.now()) {
		return s.apiErr("PutObjectRetention", name, key, versionID, http.StatusBadRequest, "InvalidArgument", "retain until date must be in the future", nil)
	}
	if !s.IgnoreLockOnRetention && r.RetainUntil.Before(s.lockedUntil(b, v)) {
		return s.refusal("PutObjectRetention", name, key, versionID)
	}
	if !s.IgnoreLockOnRetention && v.retention.Mode == objectstore.Compliance && r.Mode == objectstore.Governance && s.now().Before(v.retention.RetainUntil) {
		return s.refusal("PutObjectRetention", name, key, versionID)
	}
	v.retention = r
	return nil
}

// AddDeleteMarker makes a delete marker the latest version of key, as a
// DELETE without a version ID does on a versioned bucket. For fixtures.
func (s *Store) AddDeleteMarker(name, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucket("DeleteObject", name)
	if err != nil {
		return err
	}
	s.addVersion(b, key, &version{deleteMarker: true, info: objectstore.ObjectInfo{Key: key, LastModified: s.now()}})
	return nil
}

// Tamper changes what the store says about the latest version of key,
// e.g. a multipart ETag or no checksums, without changing its content.
// For fixtures.
func (s *Store) Tamper(name, key string, fn func(*objectstore.ObjectInfo)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, v, err := s.find("Tamper", name, key, "")
	if err != nil {
		return err
	}
	fn(&v.info)
	return nil
}

// SetReplicationStatus sets what Head reports as the latest version's
// x-amz-replication-status, as a source bucket with replication does
// (PENDING until the copy lands, then COMPLETED; FAILED when the target
// refused it). For fixtures.
func (s *Store) SetReplicationStatus(name, key string, st objectstore.ReplicationStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, v, err := s.find("SetReplicationStatus", name, key, "")
	if err != nil {
		return err
	}
	v.replication = st
	return nil
}

// SetContent replaces the content of the latest version of key in place,
// keeping its ETag and checksums: silent corruption, or a forged copy.
// For fixtures.
func (s *Store) SetContent(name, key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, v, err := s.find("SetContent", name, key, "")
	if err != nil {
		return err
	}
	v.data = slices.Clone(data)
	v.info.Size = int64(len(data))
	return nil
}
