package objectstore

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Sentinel errors, wrapped in *Error by every implementation; test with errors.Is.
var (
	// ErrNotFound: the object or version does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNoSuchBucket: the bucket does not exist.
	ErrNoSuchBucket = errors.New("no such bucket")
	// ErrAccessDenied: the server refused the request for these
	// credentials (403 AccessDenied), e.g. a delete of a locked version
	// on Versity.
	ErrAccessDenied = errors.New("access denied")
	// ErrInvalidCredentials: the server does not accept the credentials at
	// all (unknown access key, wrong secret).
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrNoObjectLockConfig: the bucket has no object lock configuration,
	// or the object carries no retention (NoSuchObjectLockConfiguration).
	ErrNoObjectLockConfig = errors.New("no object lock configuration")
	// ErrNotImplemented: the server does not implement the operation (501).
	ErrNotImplemented = errors.New("not implemented by the server")
	// ErrNoCredentials: no credentials could be had for the request (the
	// AWS SDK's default chain found none, or a profile's source failed);
	// nothing was sent.
	ErrNoCredentials = errors.New("no credentials")
)

// Error is an error of one S3 request. Its message names the operation,
// the endpoint, the bucket and the key, never the credentials.
type Error struct {
	Op       string // e.g. "GetObjectRetention"
	Endpoint string
	Bucket   string
	Key      string // empty for bucket operations
	// VersionID is the version the request named, if any.
	VersionID string
	// StatusCode and Code are the server's answer; zero and empty when no
	// answer came (network error, timeout).
	StatusCode int
	Code       string
	Message    string
	// Attempts is how often the request was tried, when it was retried.
	Attempts int
	// Kind is one of the sentinels, or nil.
	Kind error
	// Err is the underlying error.
	Err error
}

// Error is "Op s3://bucket/key at endpoint: status code: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", e.Op, e.Location())
	switch {
	case e.StatusCode != 0 || e.Code != "":
		fmt.Fprintf(&b, ": %d %s", e.StatusCode, e.Code)
		if e.Message != "" {
			fmt.Fprintf(&b, ": %s", e.Message)
		}
	case e.Err != nil:
		fmt.Fprintf(&b, ": %v", e.Err)
	case e.Kind != nil:
		fmt.Fprintf(&b, ": %v", e.Kind)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%d attempts)", e.Attempts)
	}
	return b.String()
}

// Location is "s3://bucket/key?versionId=v at endpoint".
func (e *Error) Location() string {
	s := URI(e.Bucket, e.Key, e.VersionID)
	if e.Endpoint != "" {
		s += " at " + e.Endpoint
	}
	return s
}

// Unwrap returns the sentinel and the underlying error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Refused reports whether err is the server's answer refusing a request
// (a 4xx answer other than a credentials or missing-bucket error). Servers
// refuse writes to locked versions with different codes (MinIO: 400
// InvalidRequest "Object is WORM protected"; Versity and AWS: 403
// AccessDenied), so callers prove a refusal by its effect, not by a code.
func Refused(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if errors.Is(err, ErrInvalidCredentials) || errors.Is(err, ErrNoSuchBucket) {
		return false
	}
	return e.StatusCode >= 400 && e.StatusCode < 500
}

// URI is "s3://bucket/key", with "?versionId=v" when versionID is set.
func URI(bucket, key, versionID string) string {
	s := "s3://" + bucket
	if key != "" {
		s += "/" + key
	}
	if versionID != "" {
		s += "?versionId=" + url.QueryEscape(versionID)
	}
	return s
}
