package objectstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// ReadSmallObject reads the latest version of an object of at most max
// bytes whole, e.g. a backup's velero-backup.json. On a path-style
// endpoint it sends the GET through the direct path (see
// retention_direct.go: the SDK's stack costs as much client CPU as the
// server's answer, and the recovery window reads one per backup, 10,000
// for an hourly schedule kept 400 days), with the SDK's retries on
// throttling, 5xx and network errors; elsewhere it uses ReadObject.
// It returns ErrNotFound, wrapped, when there is no such object, and an
// error naming the object when it is larger than max.
func (s *S3) ReadSmallObject(ctx context.Context, bucket, key string, max int64) ([]byte, error) {
	if s.direct == nil {
		var b bytes.Buffer
		if _, err := s.ReadObject(ctx, bucket, key, "", &limitWriter{w: &b, n: max}); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	fail := func(status int, code, msg string, attempts int, err error) error {
		e := &Error{Op: "GetObject", Endpoint: s.endpoint, Bucket: bucket, Key: key,
			StatusCode: status, Code: code, Message: msg, Kind: kindOf(status, code), Err: err}
		if attempts > 1 {
			e.Attempts = attempts
		}
		return e
	}
	d := s.direct
	u := *d.base
	u.Path = "/" + bucket + "/" + key
	u.RawPath = "/" + s3Escape(bucket) + "/" + s3Escape(key)
	for attempt := 1; ; attempt++ {
		status, body, err := d.getLimited(ctx, &u, max+1)
		retry := status == http.StatusTooManyRequests || status >= 500 || err != nil && ctx.Err() == nil
		if !retry || attempt == d.maxAttempts {
			switch {
			case err != nil:
				var oe *net.OpError
				if errors.As(err, &oe) {
					err = oe
				}
				return nil, fail(0, "", "", attempt, err)
			case status != http.StatusOK:
				return nil, fail(status, xmlText(body, "Code"), xmlText(body, "Message"), attempt, nil)
			case int64(len(body)) > max:
				return nil, fail(status, "", "", attempt, fmt.Errorf("larger than %d bytes", max))
			}
			return body, nil
		}
		// Exponential backoff with full jitter, as the SDK's standard
		// retryer waits.
		wait := time.Duration(rand.Int64N(int64(min(d.maxBackoff, 50*time.Millisecond<<attempt)) + 1))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fail(0, "", "", attempt, ctx.Err())
		case <-t.C:
		}
	}
}

// getLimited sends one signed GET of u (path-style, the path signed as
// sent, escaped once as S3 does) and reads at most limit bytes of the
// answer; GetObjectRetention and ReadSmallObject both send theirs here.
func (d *direct) getLimited(ctx context.Context, u *url.URL, limit int64) (int, []byte, error) {
	creds, err := d.creds.Retrieve(ctx)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.URL = u
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := d.signer.SignHTTP(ctx, creds, req, emptySHA256, "s3", d.region, time.Now().UTC(), func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true
	}); err != nil {
		return 0, nil, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return 0, nil, err
	}
	// Drain what is left (at most a little) so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, body, nil
}

// limitWriter fails a write past n bytes.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, fmt.Errorf("object larger than the %d bytes expected", l.n)
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}
