package objectstore

import (
	"strings"
	"time"
)

// ObjectInfo describes one object version, as a listing or a HEAD request
// sees it. Fields a request does not return are zero.
type ObjectInfo struct {
	Key string
	// VersionID is empty in listings of latest versions and on servers
	// without versioning; "null" names the version written while
	// versioning was off.
	VersionID string
	Size      int64
	// ETag without quotes.
	ETag         string
	LastModified time.Time
	// IsLatest and DeleteMarker are set in version listings.
	IsLatest     bool
	DeleteMarker bool
	// ChecksumAlgorithms are the algorithms a listing says the object
	// carries; the values need a HEAD (Checksums).
	ChecksumAlgorithms []string
	// Checksums are set by Head.
	Checksums Checksums
	// Retention is set by Head when the object carries a retention.
	Retention Retention
	// ReplicationStatus is set by Head on servers that report bucket
	// replication (x-amz-replication-status; MinIO and AWS do, Versity
	// does not): on the source PENDING, COMPLETED or FAILED, on a replica
	// REPLICA; empty when the object is not replicated.
	ReplicationStatus ReplicationStatus
}

// ReplicationStatus is the x-amz-replication-status of an object version.
type ReplicationStatus string

// The replication statuses S3 reports.
const (
	ReplicationPending   ReplicationStatus = "PENDING"
	ReplicationCompleted ReplicationStatus = "COMPLETED"
	ReplicationFailed    ReplicationStatus = "FAILED"
	ReplicationReplica   ReplicationStatus = "REPLICA"
)

// Waiting reports whether the source still owes the object to its
// replication target: PENDING, or FAILED (MinIO retries failed
// replication; AWS does not, see its replication metrics).
func (r ReplicationStatus) Waiting() bool {
	return r == ReplicationPending || r == ReplicationFailed
}

// PlainMD5ETag reports whether the ETag looks like the MD5 of the content:
// 32 hex digits, not the "-N" form of multipart uploads.
func (o ObjectInfo) PlainMD5ETag() bool {
	if len(o.ETag) != 32 {
		return false
	}
	for _, c := range o.ETag {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Checksums are the base64 checksums S3 stores with an object. Type is
// FULL_OBJECT or COMPOSITE (per part, for multipart uploads); only
// FULL_OBJECT checksums of two objects can be compared.
type Checksums struct {
	Type      string
	CRC32     string
	CRC32C    string
	CRC64NVME string
	SHA1      string
	SHA256    string
}

// Common returns the strongest full-object checksum both c and o carry:
// the algorithm and the two values. ok is false when there is none.
func (c Checksums) Common(o Checksums) (alg, mine, theirs string, ok bool) {
	if strings.EqualFold(c.Type, "COMPOSITE") || strings.EqualFold(o.Type, "COMPOSITE") {
		return "", "", "", false
	}
	pairs := []struct{ alg, a, b string }{
		{"SHA256", c.SHA256, o.SHA256},
		{"SHA1", c.SHA1, o.SHA1},
		{"CRC64NVME", c.CRC64NVME, o.CRC64NVME},
		{"CRC32C", c.CRC32C, o.CRC32C},
		{"CRC32", c.CRC32, o.CRC32},
	}
	for _, p := range pairs {
		// A multipart checksum ends in "-N" even when Type is not reported.
		if p.a != "" && p.b != "" && !strings.Contains(p.a, "-") && !strings.Contains(p.b, "-") {
			return p.alg, p.a, p.b, true
		}
	}
	return "", "", "", false
}

// LockMode is an object lock retention mode.
type LockMode string

// The retention modes.
const (
	Governance LockMode = "GOVERNANCE"
	Compliance LockMode = "COMPLIANCE"
)

// LockConfig is a bucket's object lock configuration.
type LockConfig struct {
	// Enabled is true when object lock is enabled on the bucket.
	Enabled bool
	// DefaultMode is empty when the bucket has no default retention.
	DefaultMode LockMode
	// DefaultDays and DefaultYears: at most one is non-zero.
	DefaultDays, DefaultYears int
}

// DefaultPeriod is the bucket's default retention period, counting a year
// as 365 days as S3 does; zero when there is none.
func (c LockConfig) DefaultPeriod() time.Duration {
	days := c.DefaultDays + 365*c.DefaultYears
	return time.Duration(days) * 24 * time.Hour
}

// Retention is the retention of one object version.
type Retention struct {
	// Mode is empty when the object carries no retention.
	Mode        LockMode
	RetainUntil time.Time
}

// ListRequest asks for one page of a listing of latest versions
// (ListObjectsV2).
type ListRequest struct {
	Prefix string
	// Delimiter groups keys into CommonPrefixes, e.g. "/".
	Delimiter string
	// ContinuationToken is the previous page's NextContinuationToken.
	ContinuationToken string
	// MaxKeys bounds the page; zero means the server's default (1000).
	MaxKeys int
}

// ListPage is one page of a listing, in ascending key order.
type ListPage struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	// NextContinuationToken is set when IsTruncated.
	NextContinuationToken string
	IsTruncated           bool
}

// VersionsRequest asks for one page of a listing of every version
// (ListObjectVersions).
type VersionsRequest struct {
	Prefix string
	// KeyMarker and VersionIDMarker are the previous page's Next markers.
	KeyMarker, VersionIDMarker string
	MaxKeys                    int
}

// VersionsPage is one page of a version listing: versions and delete
// markers together, by key, newest first within a key.
type VersionsPage struct {
	Versions                           []ObjectInfo
	NextKeyMarker, NextVersionIDMarker string
	IsTruncated                        bool
}

// PutOptions are the options of a write.
type PutOptions struct {
	// Retention, when Mode is set, locks the new version explicitly;
	// otherwise the bucket's default retention applies.
	Retention Retention
}

// DeleteResult is the outcome of one key of a batch delete.
type DeleteResult struct {
	Key, VersionID string
	// Err is nil when the server reports the version deleted; otherwise an
	// *Error built from the per-key error of the batch answer.
	Err error
}
