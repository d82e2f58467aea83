package objectstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/firedrill-dev/firedrill/internal/endpoint"
)

// ErrWriteRefused is the kind of the *Error a WriteGuard returns: the
// write would land in a bucket the drill must never write to. No request
// was sent.
var ErrWriteRefused = errors.New("refused by firedrill's write guard: a drill never writes to a backup bucket")

// ProtectedBucket is a bucket no drill write may reach: the primary
// bucket or an off-site copy of a scenario.
type ProtectedBucket struct {
	// Role names the bucket in the refusal, e.g. "spec.storage.primary of
	// scenario shop".
	Role string
	// Endpoint is the endpoint URL as configured; empty for AWS.
	Endpoint string
	Bucket   string
}

// WriteGuard is the one policy for every write firedrill makes to S3
// (the shared history, the evidence push, the tamper canary): it refuses
// any write to a protected bucket, except under a prefix allowed to one
// writer (the canary's prefix, for the canary's own store only).
//
// A write is to a protected bucket when the bucket names are equal and
// the endpoints are the same server (endpoint.SameServer). A nil *WriteGuard
// refuses nothing. A WriteGuard is read-only once built and safe for
// concurrent use.
type WriteGuard struct {
	protected []ProtectedBucket
	// allowed are the key prefixes of protected buckets this guard lets
	// through.
	allowed []allowedPrefix
}

type allowedPrefix struct {
	endpoint, bucket, prefix string
}

// NewWriteGuard returns a guard refusing writes to every bucket given.
func NewWriteGuard(protected ...ProtectedBucket) *WriteGuard {
	return &WriteGuard{protected: append([]ProtectedBucket(nil), protected...)}
}

// AllowPrefix returns a copy of g that also lets writes through to keys
// under prefix in bucket at endpoint: the tamper canary's store, for its
// own prefix. An empty prefix allows nothing; g itself is unchanged.
func (g *WriteGuard) AllowPrefix(endpoint, bucket, prefix string) *WriteGuard {
	if g == nil {
		return nil
	}
	c := &WriteGuard{protected: g.protected, allowed: append([]allowedPrefix(nil), g.allowed...)}
	if prefix != "" {
		c.allowed = append(c.allowed, allowedPrefix{endpoint: endpoint, bucket: bucket, prefix: prefix})
	}
	return c
}

// Protects returns the protected bucket that bucket at endpoint is, if
// any, whatever the key: for refusing a write target before a drill
// starts.
func (g *WriteGuard) Protects(ep, bucket string) (ProtectedBucket, bool) {
	if g == nil {
		return ProtectedBucket{}, false
	}
	for _, p := range g.protected {
		if p.Bucket == bucket && endpoint.SameServer(p.Endpoint, ep) {
			return p, true
		}
	}
	return ProtectedBucket{}, false
}

// Check returns nil when op may write key (empty for a bucket-level
// write) in bucket at endpoint, else an *Error of kind ErrWriteRefused
// naming the bucket, its role and the key.
func (g *WriteGuard) Check(op, ep, bucket, key string) error {
	p, ok := g.Protects(ep, bucket)
	if !ok {
		return nil
	}
	for _, a := range g.allowed {
		if a.bucket == bucket && endpoint.SameServer(a.endpoint, ep) && key != "" &&
			strings.HasPrefix(key, a.prefix) && len(key) > len(a.prefix) && !hasDotSegment(key) {
			return nil
		}
	}
	return &Error{Op: op, Endpoint: ep, Bucket: bucket, Key: key, Kind: ErrWriteRefused,
		Err: fmt.Errorf("%w: s3://%s is %s", ErrWriteRefused, bucket, p.Role)}
}

// hasDotSegment reports whether key has a "." or ".." segment, which some
// servers resolve out of an allowed prefix.
func hasDotSegment(key string) bool {
	for _, s := range strings.Split(key, "/") {
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}
