package drill

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
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

// SharedHistory is a drill history a team shares in an S3 bucket: each
// drill's files under PREFIX/drills/ID/, the same layout as the local
// state directory.
type SharedHistory struct {
	Store  HistoryStore
	Bucket string
	// Prefix is the folder in the bucket, without leading or trailing
	// slashes; empty for the bucket's root.
	Prefix string
	// UploadTimeout bounds each upload during a drill, so an unreachable
	// bucket delays a drill by at most this much per record written;
	// 30s when zero.
	UploadTimeout time.Duration
}

// ParseHistoryURL splits s3://BUCKET/PREFIX into the bucket and the prefix
// (trailing slashes trimmed; the prefix may be empty).
func ParseHistoryURL(s string) (bucket, prefix string, err error) {
	if strings.Contains(s, "@") {
		// Not echoed: the part before @ would be a secret.
		return "", "", errors.New("shared history: credentials in the URL are not accepted; set FIREDRILL_HISTORY_ACCESS_KEY_ID and FIREDRILL_HISTORY_SECRET_ACCESS_KEY")
	}
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("shared history %q: want s3://BUCKET/PREFIX", s)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("shared history %q: no bucket; want s3://BUCKET/PREFIX", s)
	}
	if strings.ContainsAny(bucket, ":?#") || strings.ContainsAny(prefix, "?#") {
		return "", "", fmt.Errorf("shared history %q: want s3://BUCKET/PREFIX, without port or query", s)
	}
	return bucket, prefix, nil
}

// URL is s3://BUCKET/PREFIX.
func (h *SharedHistory) URL() string { return objectstore.URI(h.Bucket, h.Prefix, "") }

// drillsPrefix is "PREFIX/drills/".
func (h *SharedHistory) drillsPrefix() string {
	if h.Prefix == "" {
		return "drills/"
	}
	return h.Prefix + "/drills/"
}

// Key is the object key of a drill's file: PREFIX/drills/ID/NAME.
func (h *SharedHistory) Key(id, name string) string { return h.drillsPrefix() + id + "/" + name }

// ReportURL is the s3:// address of a drill's file, for listings.
func (h *SharedHistory) ReportURL(id, name string) string {
	return objectstore.URI(h.Bucket, h.Key(id, name), "")
}

// Upload writes one file of a drill to the shared history, within
// UploadTimeout. The error names the endpoint, bucket and key.
func (h *SharedHistory) Upload(ctx context.Context, id, name string, data []byte) error {
	timeout := h.UploadTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := h.Store.PutObject(ctx, h.Bucket, h.Key(id, name), data, objectstore.PutOptions{}); err != nil {
		return fmt.Errorf("upload %s of drill %s to the shared history: %w", name, id, err)
	}
	return nil
}

// Reports reads every drill recorded in the shared history, newest first,
// optionally only those of one scenario: the same contract as History.
// Listing errors (no such bucket, access denied) return no reports;
// unreadable records are returned as errors beside the rest.
func (h *SharedHistory) Reports(ctx context.Context, scenario string) ([]*Report, error) {
	prefix := h.drillsPrefix()
	var keys []string
	req := objectstore.ListRequest{Prefix: prefix}
	for {
		page, err := h.Store.ListObjects(ctx, h.Bucket, req)
		if err != nil {
			return nil, fmt.Errorf("list drills in the shared history %s: %w", h.URL(), err)
		}
		for _, o := range page.Objects {
			id, name, ok := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
			if ok && name == "report.json" && drillIDPattern.MatchString(id) {
				keys = append(keys, o.Key)
			}
		}
		if !page.IsTruncated {
			break
		}
		req.ContinuationToken = page.NextContinuationToken
	}
	var out []*Report
	var errs []error
	for _, key := range keys {
		r, err := h.readReport(ctx, key)
		if errors.Is(err, objectstore.ErrNotFound) {
			continue // deleted since the listing
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if scenario == "" || r.Scenario == scenario {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, errors.Join(errs...)
}

func (h *SharedHistory) readReport(ctx context.Context, key string) (*Report, error) {
	var b bytes.Buffer
	if _, err := h.Store.ReadObject(ctx, h.Bucket, key, "", &b); err != nil {
		return nil, fmt.Errorf("read drill record: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b.Bytes(), &r); err != nil {
		return nil, fmt.Errorf("read drill record %s at %s: %w", objectstore.URI(h.Bucket, key, ""), h.Store.Endpoint(), err)
	}
	return &r, nil
}

// EvidenceRecords reads a drill's evidence.json from the shared history;
// none when the drill's evidence was never recorded there.
func (h *SharedHistory) EvidenceRecords(ctx context.Context, id string) ([]EvidenceRecord, error) {
	var b bytes.Buffer
	if _, err := h.Store.ReadObject(ctx, h.Bucket, h.Key(id, EvidenceRecordFile), "", &b); err != nil {
		if errors.Is(err, objectstore.ErrNotFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("read the evidence record of drill %s: %w", id, err)
	}
	var recs []EvidenceRecord
	if err := json.Unmarshal(b.Bytes(), &recs); err != nil {
		return nil, fmt.Errorf("read %s: %w", h.ReportURL(id, EvidenceRecordFile), err)
	}
	return recs, nil
}
