package objectstore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// BucketVersioning returns the bucket's versioning status: "Enabled",
// "Suspended", or "" when versioning was never configured. It returns
// ErrNoSuchBucket, ErrAccessDenied or ErrInvalidCredentials, wrapped.
func (s *S3) BucketVersioning(ctx context.Context, bucket string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	out, err := s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if err != nil {
		return "", s.wrap("GetBucketVersioning", bucket, "", "", err)
	}
	return string(out.Status), nil
}

// ObjectLockConfig returns the bucket's object lock configuration. It
// returns ErrNoObjectLockConfig, wrapped, when the bucket has none (object
// lock was not enabled at creation), and the errors of BucketVersioning.
func (s *S3) ObjectLockConfig(ctx context.Context, bucket string) (LockConfig, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	out, err := s.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &bucket})
	if err != nil {
		return LockConfig{}, s.wrap("GetObjectLockConfiguration", bucket, "", "", err)
	}
	var c LockConfig
	if out.ObjectLockConfiguration == nil {
		return c, s.wrap("GetObjectLockConfiguration", bucket, "", "", ErrNoObjectLockConfig)
	}
	c.Enabled = out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled
	if r := out.ObjectLockConfiguration.Rule; r != nil && r.DefaultRetention != nil {
		d := r.DefaultRetention
		c.DefaultMode = LockMode(d.Mode)
		c.DefaultDays = int(aws.ToInt32(d.Days))
		c.DefaultYears = int(aws.ToInt32(d.Years))
	}
	return c, nil
}

// ListObjects returns one page of the latest versions of the objects
// under req.Prefix, in ascending key order. It returns ErrNoSuchBucket,
// ErrAccessDenied or ErrInvalidCredentials, wrapped.
func (s *S3) ListObjects(ctx context.Context, bucket string, req ListRequest) (ListPage, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &req.Prefix}
	if req.Delimiter != "" {
		in.Delimiter = &req.Delimiter
	}
	if req.ContinuationToken != "" {
		in.ContinuationToken = &req.ContinuationToken
	}
	if req.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(int32(req.MaxKeys))
	}
	out, err := s.client.ListObjectsV2(ctx, in, func(o *s3.Options) {
		if !s.sdkListDecoding {
			o.APIOptions = append(o.APIOptions, fastList)
		}
	})
	if err != nil {
		return ListPage{}, s.wrap("ListObjectsV2", bucket, req.Prefix, "", err)
	}
	if p, ok := out.ResultMetadata.Get(fastListKey{}).(ListPage); ok {
		if p.IsTruncated && p.NextContinuationToken == "" {
			return p, s.wrap("ListObjectsV2", bucket, req.Prefix, "", errors.New("truncated page without a continuation token"))
		}
		return p, nil
	}
	p := ListPage{
		Objects:               make([]ObjectInfo, 0, len(out.Contents)),
		IsTruncated:           aws.ToBool(out.IsTruncated),
		NextContinuationToken: aws.ToString(out.NextContinuationToken),
	}
	for _, o := range out.Contents {
		info := ObjectInfo{
			Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: unquote(aws.ToString(o.ETag)),
			LastModified: aws.ToTime(o.LastModified), IsLatest: true,
		}
		for _, a := range o.ChecksumAlgorithm {
			info.ChecksumAlgorithms = append(info.ChecksumAlgorithms, string(a))
		}
		p.Objects = append(p.Objects, info)
	}
	for _, cp := range out.CommonPrefixes {
		p.CommonPrefixes = append(p.CommonPrefixes, aws.ToString(cp.Prefix))
	}
	if p.IsTruncated && p.NextContinuationToken == "" {
		return p, s.wrap("ListObjectsV2", bucket, req.Prefix, "", errors.New("truncated page without a continuation token"))
	}
	return p, nil
}

// ListVersions returns one page of every version and delete marker under
// req.Prefix, by key and newest first within a key. It returns the errors
// of ListObjects.
func (s *S3) ListVersions(ctx context.Context, bucket string, req VersionsRequest) (VersionsPage, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &req.Prefix}
	if req.KeyMarker != "" {
		in.KeyMarker = &req.KeyMarker
	}
	if req.VersionIDMarker != "" {
		in.VersionIdMarker = &req.VersionIDMarker
	}
	if req.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(int32(req.MaxKeys))
	}
	out, err := s.client.ListObjectVersions(ctx, in, func(o *s3.Options) {
		if !s.sdkListDecoding {
			o.APIOptions = append(o.APIOptions, fastVersions)
		}
	})
	if err != nil {
		return VersionsPage{}, s.wrap("ListObjectVersions", bucket, req.Prefix, "", err)
	}
	if p, ok := out.ResultMetadata.Get(fastListKey{}).(VersionsPage); ok {
		return p, nil
	}
	p := VersionsPage{
		IsTruncated:         aws.ToBool(out.IsTruncated),
		NextKeyMarker:       aws.ToString(out.NextKeyMarker),
		NextVersionIDMarker: aws.ToString(out.NextVersionIdMarker),
	}
	vs := make([]ObjectInfo, 0, len(out.Versions))
	for _, v := range out.Versions {
		vs = append(vs, ObjectInfo{
			Key: aws.ToString(v.Key), VersionID: aws.ToString(v.VersionId), Size: aws.ToInt64(v.Size),
			ETag: unquote(aws.ToString(v.ETag)), LastModified: aws.ToTime(v.LastModified), IsLatest: aws.ToBool(v.IsLatest),
		})
	}
	dms := make([]ObjectInfo, 0, len(out.DeleteMarkers))
	for _, d := range out.DeleteMarkers {
		dms = append(dms, ObjectInfo{
			Key: aws.ToString(d.Key), VersionID: aws.ToString(d.VersionId), LastModified: aws.ToTime(d.LastModified),
			IsLatest: aws.ToBool(d.IsLatest), DeleteMarker: true,
		})
	}
	p.Versions = mergeVersions(vs, dms)
	return p, nil
}

// mergeVersions merges two lists sorted by key (newest first within a key)
// into one: S3 answers versions and delete markers in separate lists.
func mergeVersions(a, b []ObjectInfo) []ObjectInfo {
	if len(b) == 0 {
		return a
	}
	out := make([]ObjectInfo, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if versionBefore(a[0], b[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

func versionBefore(x, y ObjectInfo) bool {
	if x.Key != y.Key {
		return x.Key < y.Key
	}
	if x.IsLatest != y.IsLatest {
		return x.IsLatest
	}
	return x.LastModified.After(y.LastModified)
}

// Head returns an object version's size, ETag, checksums (when the server
// stores them), retention and replication status. An empty versionID means the latest version.
// It returns ErrNotFound, wrapped, when there is no such object or version.
func (s *S3) Head(ctx context.Context, bucket, key, versionID string) (ObjectInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.HeadObjectInput{Bucket: &bucket, Key: &key, ChecksumMode: types.ChecksumModeEnabled}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.client.HeadObject(ctx, in)
	if err != nil {
		return ObjectInfo{}, s.wrap("HeadObject", bucket, key, versionID, err)
	}
	info := ObjectInfo{
		Key: key, VersionID: aws.ToString(out.VersionId), Size: aws.ToInt64(out.ContentLength),
		ETag: unquote(aws.ToString(out.ETag)), LastModified: aws.ToTime(out.LastModified),
		Checksums: Checksums{
			Type:  string(out.ChecksumType),
			CRC32: aws.ToString(out.ChecksumCRC32), CRC32C: aws.ToString(out.ChecksumCRC32C),
			CRC64NVME: aws.ToString(out.ChecksumCRC64NVME), SHA1: aws.ToString(out.ChecksumSHA1),
			SHA256: aws.ToString(out.ChecksumSHA256),
		},
	}
	if out.ObjectLockMode != "" {
		info.Retention = Retention{Mode: LockMode(out.ObjectLockMode), RetainUntil: aws.ToTime(out.ObjectLockRetainUntilDate)}
	}
	info.ReplicationStatus = ReplicationStatus(strings.ToUpper(string(out.ReplicationStatus)))
	return info, nil
}

// ReadObject copies the content of an object version to w and returns the
// number of bytes copied. It returns ErrNotFound, wrapped, when there is
// no such object or version. A failed attempt is not retried once bytes
// have reached w.
func (s *S3) ReadObject(ctx context.Context, bucket, key, versionID string, w io.Writer) (int64, error) {
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		return 0, s.wrap("GetObject", bucket, key, versionID, err)
	}
	defer out.Body.Close()
	n, err := io.Copy(w, out.Body)
	if err != nil {
		return n, s.wrap("GetObject", bucket, key, versionID, err)
	}
	return n, nil
}

// ObjectRetention returns the retention of an object version. It returns
// ErrNoObjectLockConfig, wrapped, when the version carries no retention
// (Versity answers so for objects protected only by the bucket default),
// and ErrNotFound when there is no such version.
func (s *S3) ObjectRetention(ctx context.Context, bucket, key, versionID string) (Retention, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	if s.direct != nil {
		return s.directObjectRetention(ctx, bucket, key, versionID)
	}
	in := &s3.GetObjectRetentionInput{Bucket: &bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	out, err := s.client.GetObjectRetention(ctx, in)
	if err != nil {
		return Retention{}, s.wrap("GetObjectRetention", bucket, key, versionID, err)
	}
	if out.Retention == nil || out.Retention.Mode == "" {
		return Retention{}, s.wrap("GetObjectRetention", bucket, key, versionID, ErrNoObjectLockConfig)
	}
	return Retention{Mode: LockMode(out.Retention.Mode), RetainUntil: aws.ToTime(out.Retention.RetainUntilDate)}, nil
}

// PutObject writes data to key with a SHA-256 checksum and returns the new
// version (VersionID empty on unversioned buckets). It is not idempotent
// on versioned buckets: each call adds a version.
func (s *S3) PutObject(ctx context.Context, bucket, key string, data []byte, opts PutOptions) (ObjectInfo, error) {
	if err := s.guard.Check("PutObject", s.configured, bucket, key); err != nil {
		return ObjectInfo{}, s.refused(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.PutObjectInput{
		Bucket: &bucket, Key: &key, Body: bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
	}
	if opts.Retention.Mode != "" {
		in.ObjectLockMode = types.ObjectLockMode(opts.Retention.Mode)
		in.ObjectLockRetainUntilDate = aws.Time(opts.Retention.RetainUntil)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return ObjectInfo{}, s.wrap("PutObject", bucket, key, "", err)
	}
	return ObjectInfo{
		Key: key, VersionID: aws.ToString(out.VersionId), Size: int64(len(data)), ETag: unquote(aws.ToString(out.ETag)),
		Checksums: Checksums{SHA256: aws.ToString(out.ChecksumSHA256), Type: string(out.ChecksumType)},
	}, nil
}

// DeleteVersion deletes one object version, without bypassing governance
// retention; an empty versionID deletes the object of an unversioned
// bucket (on a versioned one it would add a delete marker). A server refusing it (the version is locked) answers an error
// for which Refused is true; which code depends on the server.
func (s *S3) DeleteVersion(ctx context.Context, bucket, key, versionID string) error {
	if err := s.guard.Check("DeleteObject", s.configured, bucket, key); err != nil {
		return s.refused(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}
	if versionID != "" {
		in.VersionId = &versionID
	}
	_, err := s.client.DeleteObject(ctx, in)
	if err != nil {
		return s.wrap("DeleteObject", bucket, key, versionID, err)
	}
	return nil
}

// DeleteVersions deletes object versions in one batch request, without
// bypassing governance retention. Servers answer 200 with per-key errors:
// the error returned is for the request as a whole; each result's Err says
// whether that version was deleted.
func (s *S3) DeleteVersions(ctx context.Context, bucket string, objs []ObjectInfo) ([]DeleteResult, error) {
	for _, o := range objs {
		if err := s.guard.Check("DeleteObjects", s.configured, bucket, o.Key); err != nil {
			return nil, s.refused(err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	ids := make([]types.ObjectIdentifier, 0, len(objs))
	for _, o := range objs {
		id := types.ObjectIdentifier{Key: aws.String(o.Key)}
		if o.VersionID != "" {
			id.VersionId = aws.String(o.VersionID)
		}
		ids = append(ids, id)
	}
	out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: &bucket, Delete: &types.Delete{Objects: ids}, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return nil, s.wrap("DeleteObjects", bucket, "", "", err)
	}
	var res []DeleteResult
	for _, d := range out.Deleted {
		res = append(res, DeleteResult{Key: aws.ToString(d.Key), VersionID: aws.ToString(d.VersionId)})
	}
	for _, e := range out.Errors {
		key, v := aws.ToString(e.Key), aws.ToString(e.VersionId)
		res = append(res, DeleteResult{Key: key, VersionID: v, Err: s.keyError("DeleteObjects", bucket, key, v,
			aws.ToString(e.Code), aws.ToString(e.Message))})
	}
	return res, nil
}

// PutRetention sets the retention of an object version, without bypassing
// governance retention. A server refusing it (shortening a locked
// retention) answers an error for which Refused is true.
func (s *S3) PutRetention(ctx context.Context, bucket, key, versionID string, r Retention) error {
	if err := s.guard.Check("PutObjectRetention", s.configured, bucket, key); err != nil {
		return s.refused(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.PutObjectRetentionInput{
		Bucket: &bucket, Key: &key,
		Retention:         &types.ObjectLockRetention{Mode: types.ObjectLockRetentionMode(r.Mode), RetainUntilDate: aws.Time(r.RetainUntil)},
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	}
	if versionID != "" {
		in.VersionId = &versionID
	}
	if _, err := s.client.PutObjectRetention(ctx, in); err != nil {
		return s.wrap("PutObjectRetention", bucket, key, versionID, err)
	}
	return nil
}

// CreateBucket creates a bucket, with object lock (and so versioning)
// when objectLock is set. Used for test fixtures and benchmarks; firedrill
// itself never creates buckets.
func (s *S3) CreateBucket(ctx context.Context, bucket string, objectLock bool) error {
	if err := s.guard.Check("CreateBucket", s.configured, bucket, ""); err != nil {
		return s.refused(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	in := &s3.CreateBucketInput{Bucket: &bucket}
	if objectLock {
		in.ObjectLockEnabledForBucket = aws.Bool(true)
	}
	if _, err := s.client.CreateBucket(ctx, in); err != nil {
		return s.wrap("CreateBucket", bucket, "", "", err)
	}
	return nil
}

// SetVersioning enables or suspends versioning. Used for test fixtures.
func (s *S3) SetVersioning(ctx context.Context, bucket string, enabled bool) error {
	if err := s.guard.Check("PutBucketVersioning", s.configured, bucket, ""); err != nil {
		return s.refused(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	st := types.BucketVersioningStatusSuspended
	if enabled {
		st = types.BucketVersioningStatusEnabled
	}
	_, err := s.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket: &bucket, VersioningConfiguration: &types.VersioningConfiguration{Status: st},
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return s.wrap("PutBucketVersioning", bucket, "", "", err)
	}
	return nil
}

// SetObjectLockConfig sets a bucket's default retention (DefaultMode and
// one of DefaultDays, DefaultYears; none for no default). Used for test
// fixtures.
func (s *S3) SetObjectLockConfig(ctx context.Context, bucket string, c LockConfig) error {
	if err := s.guard.Check("PutObjectLockConfiguration", s.configured, bucket, ""); err != nil {
		return s.refused(err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout)
	defer cancel()
	olc := &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled}
	if c.DefaultMode != "" {
		d := &types.DefaultRetention{Mode: types.ObjectLockRetentionMode(c.DefaultMode)}
		if c.DefaultYears > 0 {
			d.Years = aws.Int32(int32(c.DefaultYears))
		} else {
			d.Days = aws.Int32(int32(c.DefaultDays))
		}
		olc.Rule = &types.ObjectLockRule{DefaultRetention: d}
	}
	_, err := s.client.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: &bucket, ObjectLockConfiguration: olc, ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return s.wrap("PutObjectLockConfiguration", bucket, "", "", err)
	}
	return nil
}

// refused names this client's endpoint in a write guard's refusal.
func (s *S3) refused(err error) error {
	var e *Error
	if errors.As(err, &e) {
		e.Endpoint = s.endpoint
	}
	return err
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// wrap turns an SDK error into an *Error carrying the server's answer and
// the sentinel callers branch on.
func (s *S3) wrap(op, bucket, key, versionID string, err error) error {
	e := &Error{Op: op, Endpoint: s.endpoint, Bucket: bucket, Key: key, VersionID: versionID, Err: err}
	var ce *credentialsError
	if errors.As(err, &ce) {
		// The SDK's reason, without its operation layers; its hint.
		e.Kind, e.Err = ErrNoCredentials, ce
		return e
	}
	for _, k := range []error{ErrNotFound, ErrNoSuchBucket, ErrAccessDenied, ErrInvalidCredentials, ErrNoObjectLockConfig, ErrNotImplemented} {
		if errors.Is(err, k) {
			e.Kind, e.Err = k, nil
			return e
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.StatusCode = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		e.Code, e.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	e.Kind = kindOf(e.StatusCode, e.Code)
	var ma *retry.MaxAttemptsError
	if errors.As(err, &ma) {
		e.Attempts = ma.Attempt
	}
	switch oe := (*net.OpError)(nil); {
	case e.Code != "":
		// The code and message say it all; the SDK's text repeats them
		// with request IDs.
		e.Err = nil
	case errors.As(err, &oe):
		// "dial tcp 127.0.0.1:9000: connect: connection refused", without
		// the SDK's layers around it.
		e.Err = oe
	}
	return e
}

func (s *S3) keyError(op, bucket, key, versionID, code, msg string) error {
	status := http.StatusBadRequest
	switch code {
	case "AccessDenied":
		status = http.StatusForbidden
	case "NoSuchKey", "NoSuchVersion":
		status = http.StatusNotFound
	case "InternalError":
		status = http.StatusInternalServerError
	}
	return &Error{Op: op, Endpoint: s.endpoint, Bucket: bucket, Key: key, VersionID: versionID,
		StatusCode: status, Code: code, Message: msg, Kind: kindOf(status, code)}
}

func kindOf(status int, code string) error {
	switch code {
	case "NoSuchKey", "NoSuchVersion", "NotFound":
		return ErrNotFound
	case "NoSuchBucket":
		return ErrNoSuchBucket
	case "AccessDenied", "Forbidden", "AllAccessDisabled":
		return ErrAccessDenied
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidClientTokenId":
		return ErrInvalidCredentials
	case "ObjectLockConfigurationNotFoundError", "NoSuchObjectLockConfiguration", "InvalidBucketObjectLockConfiguration":
		return ErrNoObjectLockConfig
	case "NotImplemented":
		return ErrNotImplemented
	}
	switch status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusForbidden:
		return ErrAccessDenied
	case http.StatusNotImplemented:
		return ErrNotImplemented
	}
	return nil
}
