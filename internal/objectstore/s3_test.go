package objectstore

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "s3cr3t-never-printed"

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func newTestS3(t *testing.T, endpoint string, mod func(*Config)) *S3 {
	t.Helper()
	cfg := Config{
		Endpoint: endpoint, PathStyle: true,
		Credentials: &Credentials{AccessKeyIDEnv: "AK", SecretAccessKeyEnv: "SK"},
		Getenv:      envOf(map[string]string{"AK": "firedrill", "SK": secret}),
		MaxAttempts: 3, MaxBackoff: 10 * time.Millisecond, Timeout: time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(context.Background(), cfg)
	require.NoError(t, err)
	return s
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>` + code + `</Code><Message>` + msg +
		`</Message><Resource>/b</Resource><RequestId>1</RequestId></Error>`))
}

// TestNew_ProfileWithoutKeysNeverAsksInstanceMetadata: a profile that
// names no credentials is an error naming the profile, and the EC2
// instance metadata service (the SDK's fallback, here a server of the
// test) is never asked: the credentials the scenario names are the ones
// used.
func TestNew_ProfileWithoutKeysNeverAsksInstanceMetadata(t *testing.T) {
	var asked atomic.Int32
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.WriteHeader(http.StatusForbidden)
	}))
	defer imds.Close()
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	require.NoError(t, os.WriteFile(file, []byte("[lab]\nregion = eu-west-1\n"), 0o600))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))

	_, err := New(context.Background(), Config{Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{Profile: "lab", File: file}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"lab"`)
	assert.Zero(t, asked.Load(), "requests to the instance metadata service")
}

func TestNew_CredentialReferences(t *testing.T) {
	ctx := context.Background()
	_, err := New(ctx, Config{Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{AccessKeyIDEnv: "AK", SecretAccessKeyEnv: "SK"},
		Getenv: envOf(map[string]string{"AK": "id"})})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SK")
	assert.Contains(t, err.Error(), "http://127.0.0.1:1")

	_, err = New(ctx, Config{Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{AccessKeyIDEnv: "AK"}})
	assert.ErrorContains(t, err, "both")

	dir := t.TempDir()
	file := filepath.Join(dir, "credentials")
	require.NoError(t, os.WriteFile(file, []byte("[lab]\naws_access_key_id = id\naws_secret_access_key = "+secret+"\n"), 0o600))
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	_, err = New(ctx, Config{Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{Profile: "lab", File: file}})
	assert.NoError(t, err)

	_, err = New(ctx, Config{Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{Profile: "nope", File: file}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"nope"`)
	assert.NotContains(t, err.Error(), secret)

	_, err = New(ctx, Config{Endpoint: "http://127.0.0.1:1", Credentials: &Credentials{File: filepath.Join(dir, "missing")}})
	assert.ErrorContains(t, err, "credentials file")

	_, err = New(ctx, Config{Endpoint: "http://user:pw@127.0.0.1:1"})
	assert.ErrorContains(t, err, "credentials in the URL")
	_, err = New(ctx, Config{Endpoint: "https://user:hunter2p@ss@127.0.0.1:1/%zz"})
	require.ErrorContains(t, err, "want an http or https URL")
	assert.NotContains(t, err.Error(), "hunter2p", "a URL that does not parse is not quoted")
	_, err = New(ctx, Config{Endpoint: "127.0.0.1:9000"})
	assert.ErrorContains(t, err, "http or https")
}

func TestS3_ErrorsNameEndpointAndBucketNotSecret(t *testing.T) {
	cases := []struct {
		status  int
		code    string
		is      error
		refused bool
	}{
		{403, "InvalidAccessKeyId", ErrInvalidCredentials, false},
		{403, "SignatureDoesNotMatch", ErrInvalidCredentials, false},
		{404, "NoSuchBucket", ErrNoSuchBucket, false},
		{403, "AccessDenied", ErrAccessDenied, true},
		{400, "InvalidRequest", nil, true},
		{404, "ObjectLockConfigurationNotFoundError", ErrNoObjectLockConfig, true},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s3Error(w, tc.status, tc.code, "refused by test")
			}))
			defer srv.Close()
			s := newTestS3(t, srv.URL, nil)
			_, err := s.ObjectLockConfig(context.Background(), "the-bucket")
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Equal(t, tc.refused, Refused(err))
			assert.Contains(t, err.Error(), "s3://the-bucket")
			assert.Contains(t, err.Error(), srv.URL)
			assert.Contains(t, err.Error(), tc.code)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestS3_RetriesThrottlingAnd5xx(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			s3Error(w, 503, "SlowDown", "slow down")
		case 2:
			s3Error(w, 500, "InternalError", "oops")
		default:
			_, _ = w.Write([]byte(`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`))
		}
	}))
	defer srv.Close()
	s := newTestS3(t, srv.URL, nil)
	v, err := s.BucketVersioning(context.Background(), "b")
	require.NoError(t, err)
	assert.Equal(t, "Enabled", v)
	assert.Equal(t, int32(3), calls.Load())
}

func TestS3_UnreachableEndpointFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	s := newTestS3(t, "http://"+addr, nil)
	start := time.Now()
	_, err = s.BucketVersioning(context.Background(), "b")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 10*time.Second)
	assert.Contains(t, err.Error(), "http://"+addr)
	assert.Contains(t, err.Error(), "s3://b")
	assert.False(t, Refused(err), "a network error is not a refusal")
}

func TestS3_HangingServerTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	s := newTestS3(t, srv.URL, func(c *Config) { c.Timeout = 100 * time.Millisecond; c.MaxAttempts = 2 })
	start := time.Now()
	_, err := s.BucketVersioning(context.Background(), "b")
	require.Error(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	var e *Error
	assert.True(t, errors.As(err, &e))
}

func TestS3_PutSendsChecksumAlgorithm(t *testing.T) {
	var header http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Clone()
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("x-amz-version-id", "v1")
	}))
	defer srv.Close()
	s := newTestS3(t, srv.URL, nil)
	info, err := s.PutObject(context.Background(), "b", "k", []byte("hello"), PutOptions{})
	require.NoError(t, err)
	assert.Equal(t, "v1", info.VersionID)
	assert.Equal(t, "abc", info.ETag)
	var found bool
	for k := range header {
		if strings.EqualFold(k, "x-amz-checksum-sha256") || strings.EqualFold(k, "x-amz-sdk-checksum-algorithm") ||
			strings.EqualFold(k, "x-amz-trailer") {
			found = true
		}
	}
	assert.True(t, found, "a SHA-256 checksum is sent: %v", header)
}

func TestPlainMD5ETag(t *testing.T) {
	assert.True(t, ObjectInfo{ETag: "d41d8cd98f00b204e9800998ecf8427e"}.PlainMD5ETag())
	assert.False(t, ObjectInfo{ETag: "d41d8cd98f00b204e9800998ecf8427e-2"}.PlainMD5ETag())
	assert.False(t, ObjectInfo{ETag: ""}.PlainMD5ETag())
	assert.False(t, ObjectInfo{ETag: "zz1d8cd98f00b204e9800998ecf8427e"}.PlainMD5ETag())
}

func TestChecksums_Common(t *testing.T) {
	a := Checksums{SHA256: "x", CRC32: "c"}
	alg, x, y, ok := a.Common(Checksums{SHA256: "y", CRC32: "c"})
	assert.True(t, ok)
	assert.Equal(t, []string{"SHA256", "x", "y"}, []string{alg, x, y})
	alg, _, _, ok = a.Common(Checksums{CRC32: "c"})
	assert.True(t, ok)
	assert.Equal(t, "CRC32", alg)
	_, _, _, ok = a.Common(Checksums{CRC32C: "c"})
	assert.False(t, ok)
	_, _, _, ok = Checksums{Type: "COMPOSITE", SHA256: "x"}.Common(Checksums{SHA256: "x"})
	assert.False(t, ok, "per-part checksums are not comparable")
}
