package objectstore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// retentionServer answers GetObjectRetention with the answers given, one
// per request (the last repeated), checks each request's signature and
// records its escaped path and query.
type retentionServer struct {
	t       *testing.T
	answers []func(w http.ResponseWriter)
	mu      sync.Mutex
	seen    []string
}

func (rs *retentionServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs.mu.Lock()
	n := len(rs.seen)
	rs.seen = append(rs.seen, r.Method+" "+r.URL.EscapedPath()+"?"+r.URL.RawQuery)
	rs.mu.Unlock()
	// Re-sign the request as received with the time it names: the
	// Authorization header must come out the same.
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if assert.NoError(rs.t, err) {
		got := r.Header.Get("Authorization")
		c := r.Clone(context.Background())
		// Only the headers the client signed: its transport adds
		// Accept-Encoding after signing.
		_, signed, _ := strings.Cut(got, "SignedHeaders=")
		signed, _, _ = strings.Cut(signed, ",")
		c.Header = http.Header{}
		for _, h := range strings.Split(signed, ";") {
			if v := r.Header.Values(h); len(v) > 0 {
				c.Header[http.CanonicalHeaderKey(h)] = v
			}
		}
		c.URL.Host, c.Host = r.Host, r.Host
		require.NoError(rs.t, v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "firedrill", SecretAccessKey: secret},
			c, r.Header.Get("X-Amz-Content-Sha256"), "s3", "us-east-1", when, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }))
		assert.Equal(rs.t, c.Header.Get("Authorization"), got, "signature of %s", r.URL)
	}
	rs.answers[min(n, len(rs.answers)-1)](w)
}

func retentionXML(mode, until string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/xml")
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
			`<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>` + mode + `</Mode><RetainUntilDate>` + until + `</RetainUntilDate></Retention>`))
	}
}

func errorXML(status int, code, msg string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) { s3Error(w, status, code, msg) }
}

// TestObjectRetention_DirectAnswersLikeTheSDK: the direct path and the
// SDK's decode the same answers to the same results: a retention, the
// sentinel of each error, status and code, and retry throttling and 5xx
// alike; the request is signed, and the key and version escaped as S3
// wants them.
func TestObjectRetention_DirectAnswersLikeTheSDK(t *testing.T) {
	cases := []struct {
		name     string
		answers  []func(w http.ResponseWriter)
		want     Retention
		kind     error
		status   int
		code     string
		attempts int
	}{
		{name: "stamped", answers: []func(http.ResponseWriter){retentionXML("COMPLIANCE", "2026-03-31T03:00:00.123Z")},
			want: Retention{Mode: Compliance, RetainUntil: time.Date(2026, 3, 31, 3, 0, 0, 123e6, time.UTC)}},
		{name: "Versity: only the bucket default", answers: []func(http.ResponseWriter){errorXML(404, "NoSuchObjectLockConfiguration", "The specified object does not have a ObjectLock configuration")},
			kind: ErrNoObjectLockConfig, status: 404, code: "NoSuchObjectLockConfiguration"},
		{name: "no such version", answers: []func(http.ResponseWriter){errorXML(404, "NoSuchVersion", "The specified version does not exist.")},
			kind: ErrNotFound, status: 404, code: "NoSuchVersion"},
		{name: "wrong secret", answers: []func(http.ResponseWriter){errorXML(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")},
			kind: ErrInvalidCredentials, status: 403, code: "SignatureDoesNotMatch"},
		{name: "throttled, then answered", answers: []func(http.ResponseWriter){errorXML(503, "SlowDown", "Please reduce your request rate."), retentionXML("GOVERNANCE", "2026-03-02T00:00:00Z")},
			want: Retention{Mode: Governance, RetainUntil: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}},
		{name: "server error every time", answers: []func(http.ResponseWriter){errorXML(500, "InternalError", "We encountered an internal error.")},
			status: 500, code: "InternalError", attempts: 3},
		{name: "empty retention", answers: []func(http.ResponseWriter){func(w http.ResponseWriter) {
			_, _ = w.Write([]byte(`<Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></Retention>`))
		}}, kind: ErrNoObjectLockConfig},
	}
	const key, version = "lab/kopia/shop data/p0+ü&=", "3/L4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			type outcome struct {
				ret      Retention
				kind     error
				status   int
				code     string
				attempts int
				seen     []string
			}
			run := func(direct bool) outcome {
				rs := &retentionServer{t: t, answers: tc.answers}
				srv := httptest.NewServer(rs)
				defer srv.Close()
				s := newTestS3(t, srv.URL, nil)
				if !direct {
					s.direct = nil
				} else {
					require.NotNil(t, s.direct, "a path-style endpoint takes the direct path")
				}
				ret, err := s.ObjectRetention(context.Background(), "velero", key, version)
				o := outcome{ret: ret, seen: rs.seen}
				var e *Error
				if err != nil {
					require.ErrorAs(t, err, &e)
					o.kind, o.status, o.code, o.attempts = e.Kind, e.StatusCode, e.Code, e.Attempts
					assert.Contains(t, err.Error(), "GetObjectRetention s3://velero/"+key)
					assert.NotContains(t, err.Error(), secret)
				}
				return o
			}
			sdk, direct := run(false), run(true)
			assert.Equal(t, tc.want, direct.ret)
			assert.True(t, tc.kind == nil && direct.kind == nil || errors.Is(direct.kind, tc.kind), "kind %v, want %v", direct.kind, tc.kind)
			assert.Equal(t, tc.status, direct.status)
			assert.Equal(t, tc.code, direct.code)
			assert.Equal(t, tc.attempts, direct.attempts)
			assert.Equal(t, sdk.ret, direct.ret, "as the SDK decodes it")
			assert.Equal(t, sdk.kind, direct.kind, "as the SDK classifies it")
			assert.Equal(t, sdk.status, direct.status)
			assert.Equal(t, sdk.code, direct.code)
			assert.Equal(t, len(sdk.seen), len(direct.seen), "as often tried as by the SDK")
			want := "GET /velero/lab/kopia/shop%20data/p0%2B%C3%BC%26%3D?retention=&versionId=3%2FL4kqtJlcpXroDTDmJ%2BrmSpXd3dIbrHY"
			assert.Equal(t, want, direct.seen[0])
			assert.Equal(t, strings.SplitN(sdk.seen[0], "?", 2)[0], strings.SplitN(direct.seen[0], "?", 2)[0], "the same escaped path as the SDK")
		})
	}
}

// TestObjectRetention_DirectOnlyForPathStyleEndpoints: AWS and
// virtual-hosted endpoints keep the SDK's path.
func TestObjectRetention_DirectOnlyForPathStyleEndpoints(t *testing.T) {
	assert.NotNil(t, newTestS3(t, "http://127.0.0.1:1", nil).direct)
	assert.Nil(t, newTestS3(t, "http://127.0.0.1:1", func(c *Config) { c.PathStyle = false }).direct)
	assert.Nil(t, newTestS3(t, "", nil).direct)
	assert.Nil(t, newTestS3(t, "http://127.0.0.1:1/under/a/path", nil).direct)
}

// TestObjectRetention_DirectUnreachable: no answer is an error without a
// status, naming the endpoint, after every attempt.
func TestObjectRetention_DirectUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := newTestS3(t, url, nil)
	_, err := s.ObjectRetention(context.Background(), "velero", "k", "")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Zero(t, e.StatusCode)
	assert.Nil(t, e.Kind)
	assert.Equal(t, 3, e.Attempts)
	assert.Contains(t, err.Error(), url)
	assert.Contains(t, err.Error(), "connection refused")
}
