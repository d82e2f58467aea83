package objectstore

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteGuard_Check(t *testing.T) {
	g := NewWriteGuard(
		ProtectedBucket{Role: "the primary", Endpoint: "http://127.0.0.1:27999", Bucket: "velero-backups"},
		ProtectedBucket{Role: "the off-site copy", Endpoint: "http://127.0.0.1:27001", Bucket: "velero-offsite"},
	)
	canary := g.AllowPrefix("http://127.0.0.1:27999", "velero-backups", "firedrill-canary/")
	cases := []struct {
		name             string
		g                *WriteGuard
		endpoint, bucket string
		key              string
		refused          bool
		role             string
	}{
		{"history into the primary", g, "http://127.0.0.1:27999", "velero-backups", "team/drills/x/report.json", true, "the primary"},
		{"history into the copy", g, "http://localhost:27001", "velero-offsite", "team/x", true, "the off-site copy"},
		{"history under the canary prefix", g, "http://127.0.0.1:27999", "velero-backups", "firedrill-canary/x", true, "the primary"},
		{"canary under its prefix", canary, "http://127.0.0.1:27999", "velero-backups", "firedrill-canary/20260301T000000Z-ab.txt", false, ""},
		{"canary outside its prefix", canary, "http://127.0.0.1:27999", "velero-backups", "lab/backups/b/b.tar.gz", true, "the primary"},
		{"canary on the prefix itself", canary, "http://127.0.0.1:27999", "velero-backups", "firedrill-canary/", true, "the primary"},
		{"canary climbing out", canary, "http://127.0.0.1:27999", "velero-backups", "firedrill-canary/../lab/x", true, "the primary"},
		{"canary into the copy", canary, "http://127.0.0.1:27001", "velero-offsite", "firedrill-canary/x", true, "the off-site copy"},
		{"bucket-level write", canary, "http://127.0.0.1:27999", "velero-backups", "", true, "the primary"},
		{"another bucket", g, "http://127.0.0.1:27999", "dr-drills", "team/x", false, ""},
		{"same name, another server", g, "http://127.0.0.1:28000", "velero-backups", "team/x", false, ""},
		{"same name on AWS", g, "", "velero-backups", "team/x", true, "the primary"},
		{"nil guard", nil, "http://127.0.0.1:27999", "velero-backups", "x", false, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.g.Check("PutObject", c.endpoint, c.bucket, c.key)
			if !c.refused {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrWriteRefused)
			assert.Contains(t, err.Error(), "s3://"+c.bucket+" is "+c.role)
			assert.False(t, Refused(err), "not a server's answer")
		})
	}
	// AllowPrefix leaves the guard it came from unchanged.
	assert.ErrorIs(t, g.Check("PutObject", "http://127.0.0.1:27999", "velero-backups", "firedrill-canary/x"), ErrWriteRefused)
}

// TestS3_WriteGuard: a guarded client refuses every kind of write to a
// protected bucket without sending a request, and reads as usual.
func TestS3_WriteGuard(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	guard := NewWriteGuard(ProtectedBucket{Role: "the backup bucket", Endpoint: srv.URL, Bucket: "velero-backups"})
	s := newTestS3(t, srv.URL, func(c *Config) { c.WriteGuard = guard })
	ctx := context.Background()

	_, err := s.PutObject(ctx, "velero-backups", "team/drills/x/report.json", []byte("{}"), PutOptions{})
	assert.ErrorIs(t, err, ErrWriteRefused)
	assert.Contains(t, err.Error(), "PutObject s3://velero-backups/team/drills/x/report.json at "+srv.URL)
	assert.ErrorIs(t, s.DeleteVersion(ctx, "velero-backups", "k", "v1"), ErrWriteRefused)
	_, err = s.DeleteVersions(ctx, "velero-backups", []ObjectInfo{{Key: "k", VersionID: "v1"}})
	assert.ErrorIs(t, err, ErrWriteRefused)
	assert.ErrorIs(t, s.PutRetention(ctx, "velero-backups", "k", "v1", Retention{Mode: Compliance}), ErrWriteRefused)
	assert.ErrorIs(t, s.SetVersioning(ctx, "velero-backups", false), ErrWriteRefused)
	assert.ErrorIs(t, s.SetObjectLockConfig(ctx, "velero-backups", LockConfig{}), ErrWriteRefused)
	assert.ErrorIs(t, s.CreateBucket(ctx, "velero-backups", false), ErrWriteRefused)
	assert.Zero(t, requests.Load(), "no refused write reached the server")

	_, err = s.PutObject(ctx, "dr-drills", "team/x", []byte("{}"), PutOptions{})
	assert.NotErrorIs(t, err, ErrWriteRefused)
	assert.NotZero(t, requests.Load(), "a write elsewhere is sent")
}
