package drill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// HistoryStore is the part of S3 a shared drill history needs.
// objectstore.S3 is the real one; memstore.Store the fake.
type HistoryStore interface {
	// PutObject writes data to key, replacing what was there (adding a
	// version on a versioned bucket). It returns an *objectstore.Error,
	// naming the endpoint, bucket and key, when the server refuses or
	// cannot be reached; ErrNoSuchBucket, ErrAccessDenied and
	// ErrInvalidCredentials are wrapped in it.
	PutObject(ctx context.Context, bucket, key string, data []byte, opts objectstore.PutOptions) (objectstore.ObjectInfo, error)
	// ReadObject copies the latest version of key (versionID empty) to w.
	// It returns ErrNotFound, wrapped, when there is no such object.
	ReadObject(ctx context.Context, bucket, key, versionID string, w io.Writer) (int64, error)
	// ListObjects returns one page of the objects under req.Prefix, in
	// ascending key order; follow NextContinuationToken while
	// IsTruncated. It returns ErrNoSuchBucket, ErrAccessDenied or
	// ErrInvalidCredentials, wrapped.
	ListObjects(ctx context.Context, bucket string, req objectstore.ListRequest) (objectstore.ListPage, error)
	// Endpoint names the server in messages ("AWS S3" or the URL).
	Endpoint() string
}

var _ HistoryStore = (*objectstore.S3)(nil)

// S3Records are the drill records a team shares in an S3 bucket: each
// drill's files under PREFIX/drills/ID/, the layout of a state directory.
// Every write goes through Store, so through the write guard of the
// objectstore.S3 it is (a history in a backup bucket is refused).
type S3Records struct {
	Store HistoryStore
	// Endpoint is Store's endpoint as configured (empty for AWS), for
	// refusing a history in a backup bucket before a drill (Run).
	Endpoint string
	Bucket   string
	// Prefix is the folder in the bucket, without leading or trailing
	// slashes; empty for the bucket's root.
	Prefix string
	// Cluster, when set, keeps the drills of that cluster (--cluster,
	// CheckClusterName) under PREFIX/clusters/CLUSTER/drills/ID/ instead
	// of PREFIX/drills/ID/, so one history holds a fleet. Empty reads and
	// writes the unprefixed layout of histories written before clusters.
	Cluster string
	// UploadTimeout bounds each write, so an unreachable bucket delays a
	// drill by at most this much per file written; 30s when zero.
	UploadTimeout time.Duration
}

var _ Records = (*S3Records)(nil)

// ParseHistoryURL splits s3://BUCKET/PREFIX, the shared history, into the
// bucket and the prefix (trailing slashes trimmed; the prefix may be
// empty). Credentials in the URL are refused without repeating them.
func ParseHistoryURL(s string) (bucket, prefix string, err error) {
	return parseBucketURL("shared history", "FIREDRILL_HISTORY_ACCESS_KEY_ID and FIREDRILL_HISTORY_SECRET_ACCESS_KEY", s)
}

// ParseEvidenceURL is ParseHistoryURL for an evidence bucket.
func ParseEvidenceURL(s string) (bucket, prefix string, err error) {
	return parseBucketURL("evidence bucket", "FIREDRILL_EVIDENCE_ACCESS_KEY_ID and FIREDRILL_EVIDENCE_SECRET_ACCESS_KEY", s)
}

// parseBucketURL splits s3://BUCKET/PREFIX; errors name what it is and,
// for credentials in the URL, the variables that take them.
func parseBucketURL(what, credentialVars, s string) (bucket, prefix string, err error) {
	if strings.Contains(s, "@") {
		// Not echoed: the part before @ would be a secret.
		return "", "", fmt.Errorf("%s: credentials in the URL are not accepted; set %s", what, credentialVars)
	}
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%s %q: want s3://BUCKET/PREFIX", what, s)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s %q: no bucket; want s3://BUCKET/PREFIX", what, s)
	}
	if strings.ContainsAny(bucket, ":?#") || strings.ContainsAny(prefix, "?#") {
		return "", "", fmt.Errorf("%s %q: want s3://BUCKET/PREFIX, without port or query", what, s)
	}
	return bucket, prefix, nil
}

// drillsPrefix is "PREFIX/drills/", or "PREFIX/clusters/CLUSTER/drills/"
// for a named cluster.
func (h *S3Records) drillsPrefix() string {
	p := h.rootPrefix()
	if h.Cluster != "" {
		p += clustersFolder + h.Cluster + "/"
	}
	return p + "drills/"
}

// rootPrefix is "PREFIX/", or "" for the bucket's root.
func (h *S3Records) rootPrefix() string {
	if h.Prefix == "" {
		return ""
	}
	return h.Prefix + "/"
}

// key is the object key of a drill's file: PREFIX/drills/ID/NAME.
func (h *S3Records) key(id, name string) string { return h.drillsPrefix() + id + "/" + name }

// URL implements Records: s3://BUCKET/PREFIX/drills/ID/NAME, or
// s3://BUCKET/PREFIX with an empty id.
func (h *S3Records) URL(id, name string) string {
	if id == "" {
		return objectstore.URI(h.Bucket, h.Prefix, "")
	}
	return objectstore.URI(h.Bucket, h.key(id, name), "")
}

// WriteFile implements Records with one PutObject, within UploadTimeout.
// The error names the endpoint, bucket and key; a write the guard refuses
// wraps objectstore.ErrWriteRefused. A report.json whose drill ended also
// gets its fleet index entry (WriteIndexEntry), so `firedrill fleet` sees
// the drill without reading its record.
func (h *S3Records) WriteFile(ctx context.Context, id, name string, data []byte) error {
	if err := checkName(id, name); err != nil {
		return err
	}
	timeout := h.UploadTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := h.Store.PutObject(ctx, h.Bucket, h.key(id, name), data, objectstore.PutOptions{}); err != nil {
		return fmt.Errorf("upload %s of drill %s to the shared history: %w", name, id, err)
	}
	if name == ReportFile {
		return h.indexReport(ctx, id, data)
	}
	return nil
}

// ReadFile implements Records; objectstore.ErrNotFound is wrapped beside
// fs.ErrNotExist.
func (h *S3Records) ReadFile(ctx context.Context, id, name string) ([]byte, error) {
	if err := checkName(id, name); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := h.Store.ReadObject(ctx, h.Bucket, h.key(id, name), "", &b); err != nil {
		if errors.Is(err, objectstore.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", fs.ErrNotExist, err)
		}
		return nil, err
	}
	return b.Bytes(), nil
}

// List implements Records, following every page of the listing.
func (h *S3Records) List(ctx context.Context) ([]string, error) {
	var ids []string
	err := h.list(ctx, h.drillsPrefix(), func(rest string) {
		id, name, ok := strings.Cut(rest, "/")
		if ok && name == ReportFile && drillIDPattern.MatchString(id) {
			ids = append(ids, id)
		}
	})
	// Sorted here too: not every server lists in key order.
	slices.Sort(ids)
	return ids, err
}

// Files implements Records.
func (h *S3Records) Files(ctx context.Context, id string) ([]string, error) {
	if err := checkName(id, ReportFile); err != nil {
		return nil, err
	}
	var names []string
	err := h.list(ctx, h.key(id, ""), func(name string) { names = append(names, name) })
	if err != nil {
		return nil, fmt.Errorf("list the files of drill %s: %w", id, err)
	}
	slices.Sort(names)
	return names, nil
}

// list calls fn with the key of every object under prefix, the prefix cut
// off, in ascending key order.
func (h *S3Records) list(ctx context.Context, prefix string, fn func(rest string)) error {
	req := objectstore.ListRequest{Prefix: prefix}
	for {
		page, err := h.Store.ListObjects(ctx, h.Bucket, req)
		if err != nil {
			return err
		}
		for _, o := range page.Objects {
			fn(strings.TrimPrefix(o.Key, prefix))
		}
		if !page.IsTruncated {
			return nil
		}
		req.ContinuationToken = page.NextContinuationToken
	}
}
