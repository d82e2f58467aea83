package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// TestCheckProtection_BadInput: every kind of bad input ends as an error
// and a finding naming the endpoint and the bucket, without writing
// anything.
func TestCheckProtection_BadInput(t *testing.T) {
	refused := &objectstore.Error{Op: "GetBucketVersioning", Endpoint: "http://primary.test:9000", Bucket: bucketPrimary,
		Err: fmt.Errorf("dial tcp 127.0.0.1:1: %w", syscall.ECONNREFUSED)}
	cases := []struct {
		name   string
		damage func(f *fixture)
		spec   func(s *ProtectionSpec)
		is     error
		hint   string
	}{
		{
			name:   "unreachable endpoint",
			damage: func(f *fixture) { f.primary.OpErrors = map[string]error{"BucketVersioning": refused} },
			hint:   "reachable",
		},
		{
			name: "wrong credentials",
			damage: func(f *fixture) {
				f.primary.OpErrors = map[string]error{"BucketVersioning": &objectstore.Error{Op: "GetBucketVersioning",
					Endpoint: "http://primary.test:9000", Bucket: bucketPrimary, StatusCode: 403, Code: "InvalidAccessKeyId",
					Message: "The Access Key Id you provided does not exist in our records.", Kind: objectstore.ErrInvalidCredentials}}
			},
			is:   objectstore.ErrInvalidCredentials,
			hint: "credentials",
		},
		{
			name: "missing bucket",
			spec: func(s *ProtectionSpec) { s.Primary.Bucket = "no-such-bucket" },
			is:   objectstore.ErrNoSuchBucket,
			hint: "bucket name",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).build()
			if tc.damage != nil {
				tc.damage(f)
			}
			spec := f.spec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			res, err := CheckProtection(context.Background(), spec)
			require.Error(t, err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.Contains(t, err.Error(), spec.Primary.Bucket)
			assert.Contains(t, err.Error(), "http://primary.test:9000")
			require.Len(t, res.Findings, 1, "an unreadable bucket stops the checks that need it")
			fd := res.Findings[0]
			assert.Equal(t, finding.StatusFail, fd.Status)
			assert.Contains(t, fd.Subject, spec.Primary.Bucket)
			assert.Contains(t, fd.Subject, "http://primary.test:9000")
			assert.Contains(t, fd.Hint, tc.hint)
			assert.Empty(t, f.primary.Writes(), "nothing written")
		})
	}
}

func TestCheckProtection_CopyUnreachable(t *testing.T) {
	f := newFixture(t).build()
	f.offsite.OpErrors = map[string]error{"ListObjects": errors.New("connection reset by peer")}
	spec := f.spec()
	spec.Copies[0].Lock = nil
	res, err := CheckProtection(context.Background(), spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "s3://velero-offsite/")
	assert.Contains(t, err.Error(), "http://offsite.test:9000")
	assert.Equal(t, []string{"protection.copy.offsite"}, failing(res))
	assert.Contains(t, res.Copies[0].Comparison.Error, "connection reset")
	assert.Contains(t, findingByID(t, res, "protection.copy.offsite").Message, "could not be compared")
}

func TestCheckProtection_CanaryWritesOnlyUnderItsPrefix(t *testing.T) {
	for _, fault := range []string{"", "delete", "batch", "retention"} {
		t.Run("fault="+fault, func(t *testing.T) {
			f := newFixture(t).build()
			f.primary.IgnoreLockOnDelete = fault == "delete"
			f.primary.IgnoreLockOnBatchDelete = fault == "batch"
			f.primary.IgnoreLockOnRetention = fault == "retention"
			check(t, f.spec())
			writes := f.primary.Writes()
			require.NotEmpty(t, writes)
			for _, w := range writes {
				_, uri, _ := strings.Cut(w, " ")
				assert.True(t, strings.HasPrefix(uri, "s3://velero/firedrill-canary/"), "write outside the canary prefix: %s", w)
			}
			assert.Empty(t, f.offsite.Writes(), "nothing written to the copy")
		})
	}
}

func TestCheckProtection_CanaryDisabled(t *testing.T) {
	f := newFixture(t).build()
	spec := f.spec()
	spec.Canary.Disabled = true
	res := check(t, spec)
	assert.Empty(t, failing(res))
	assert.Empty(t, f.primary.Writes())
	assert.Contains(t, findingByID(t, res, idBackupRetention).Message, "deletion refusal not proven (no canary)")
}

func TestCheckProtection_CanaryWithoutWritePermission(t *testing.T) {
	f := newFixture(t).build()
	f.primary.OpErrors = map[string]error{"PutObject": &objectstore.Error{Op: "PutObject", Bucket: bucketPrimary,
		StatusCode: 403, Code: "AccessDenied", Kind: objectstore.ErrAccessDenied}}
	res := check(t, f.spec())
	assert.Empty(t, failing(res))
	w := findingByID(t, res, idCanaryWrite)
	assert.Equal(t, finding.StatusWarn, w.Status)
	assert.Contains(t, w.Hint, "s3:PutObject")
}

func TestCheckProtection_BucketWithoutObjectLock(t *testing.T) {
	f := newFixture(t).build()
	ctx := context.Background()
	require.NoError(t, f.primary.CreateBucket(ctx, "plain", false))
	require.NoError(t, f.primary.SetVersioning(ctx, "plain", true))
	for name, data := range backupFiles() {
		_, err := f.primary.PutObject(ctx, "plain", backupPrefix(veleroPrefix, backupName)+name, []byte(data), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	spec := f.spec()
	spec.Primary.Bucket = "plain"
	spec.Copies = nil
	res := check(t, spec)
	assert.Equal(t, []string{idBackupRetention, "protection.bucket.object-lock", idCanaryDelete}, failing(res))
	assert.Equal(t, finding.SeverityCritical, findingByID(t, res, idCanaryDelete).Severity)
	assert.Contains(t, findingByID(t, res, "protection.bucket.object-lock").Hint, "when a bucket is created")
	// The canary deleted its own object: nothing is left behind.
	p, err := f.primary.ListObjects(ctx, "plain", objectstore.ListRequest{Prefix: "firedrill-canary/"})
	require.NoError(t, err)
	assert.Empty(t, p.Objects)
}

func TestProtectionSpec_Invalid(t *testing.T) {
	f := newFixture(t).build()
	cases := map[string]func(s *ProtectionSpec){
		"no store":                    func(s *ProtectionSpec) { s.Primary.Store = nil },
		"canary inside velero prefix": func(s *ProtectionSpec) { s.Canary.Prefix = veleroPrefix + "/firedrill-canary/" },
		"canary prefix of velero":     func(s *ProtectionSpec) { s.Canary.Prefix = "cluster" },
		"canary dir at root of whole bucket": func(s *ProtectionSpec) {
			s.Primary.Prefix = ""
			s.Canary.Prefix = "firedrill-canary/"
		},
		"sampled without percent": func(s *ProtectionSpec) { s.Copies[0].Mode = ModeSampled },
		"unknown mode":            func(s *ProtectionSpec) { s.Copies[0].Mode = "bytes" },
		"unknown lock mode":       func(s *ProtectionSpec) { s.Lock.Mode = "STRICT" },
		"duplicate copy":          func(s *ProtectionSpec) { s.Copies = append(s.Copies, s.Copies[0]) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			spec := f.spec()
			mutate(&spec)
			_, err := CheckProtection(context.Background(), spec)
			assert.ErrorIs(t, err, ErrInvalidSpec)
		})
	}
	t.Run("velero prefix error explains why", func(t *testing.T) {
		spec := f.spec()
		spec.Canary.Prefix = veleroPrefix + "/firedrill-canary/"
		_, err := CheckProtection(context.Background(), spec)
		assert.ErrorContains(t, err, "Velero marks a backup storage location Unavailable")
	})
}

func TestDefaultCanaryPrefix(t *testing.T) {
	assert.Equal(t, "firedrill-canary/", DefaultCanaryPrefix("velero"))
	assert.Equal(t, "firedrill-canary-", DefaultCanaryPrefix(""))
	assert.NoError(t, checkCanaryPrefix(DefaultCanaryPrefix(""), ""))
	assert.NoError(t, checkCanaryPrefix(DefaultCanaryPrefix("lab"), "lab"))
}

// TestResult_JSON: the shape `firedrill verify -o json` prints.
func TestResult_JSON(t *testing.T) {
	f := newFixture(t).build()
	res := check(t, f.spec())
	b, err := json.Marshal(res)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	fs := m["findings"].([]any)
	require.NotEmpty(t, fs)
	for _, k := range []string{"id", "severity", "status", "subject", "message"} {
		assert.Contains(t, fs[0].(map[string]any), k)
	}
	cmp := m["copies"].([]any)[0].(map[string]any)["comparison"].(map[string]any)
	for _, k := range []string{"same", "missing", "extra", "differs", "errors"} {
		assert.Contains(t, cmp, k)
	}
	assert.Equal(t, 6.0, cmp["same"])
}

func TestCheckProtection_ClockDrivesExpiry(t *testing.T) {
	f := newFixture(t).build()
	f.now = t0.Add(31 * 24 * time.Hour) // past the 30-day lock
	spec := f.spec()
	spec.Canary.Disabled = true
	res := check(t, spec)
	assert.Contains(t, failing(res), idObjectRetention)
	assert.Contains(t, findingByID(t, res, idObjectRetention).Message, "the retention has run out")
}

// TestCheckProtection_VersionPagesThatRepeat: a server that ignores the
// version markers (Versity 1.8.0) ends the check with an error, not a loop.
func TestCheckProtection_VersionPagesThatRepeat(t *testing.T) {
	f := newFixture(t).build()
	f.primary.PageSize = 3
	f.primary.IgnoreVersionMarkers = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := CheckProtection(ctx, f.spec())
	require.Error(t, err)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "repeats a page")
	assert.Contains(t, failing(res), idBackupObjects)
}

// TestCheckProtection_VersityShortenedRetention: Versity 1.8.0 accepts a
// retention shorter than the bucket default on a version that carries
// none; the canary reports it as critical and says why.
func TestCheckProtection_VersityShortenedRetention(t *testing.T) {
	f := newFixture(t)
	f.versity = true
	f.build()
	f.primary.IgnoreLockOnRetention = true
	res := check(t, f.spec())
	assert.Equal(t, []string{idCanaryShorten}, failing(res))
	sh := findingByID(t, res, idCanaryShorten)
	assert.Equal(t, finding.SeverityCritical, sh.Severity)
	assert.Contains(t, sh.Message, "carried no retention of its own")
	assert.Contains(t, findingByID(t, res, idBackupRetention).Message, "deletion refusal proven by canary, but the canary's retention could be shortened")
}

// TestCheckProtection_CanaryGoesThroughTheWriteGuard: the canary's writes
// go through the store's write guard like every other write: let through
// under the prefix the guard allows the canary, refused (and reported as
// an error, not as a bucket that refuses) anywhere else.
func TestCheckProtection_CanaryGoesThroughTheWriteGuard(t *testing.T) {
	guard := objectstore.NewWriteGuard(objectstore.ProtectedBucket{Role: "the backup bucket", Endpoint: "http://primary.test:9000", Bucket: bucketPrimary})

	f := newFixture(t).build()
	f.primary.WriteGuard = guard.AllowPrefix("http://primary.test:9000", bucketPrimary, "firedrill-canary/")
	res := check(t, f.spec())
	assert.Empty(t, failing(res), "%s", dump(res))
	assert.Equal(t, finding.StatusPass, findingByID(t, res, idCanaryDelete).Status)

	f = newFixture(t).build()
	f.primary.WriteGuard = guard
	res, err := CheckProtection(context.Background(), f.spec())
	require.ErrorIs(t, err, objectstore.ErrWriteRefused)
	w := findingByID(t, res, idCanaryWrite)
	assert.Contains(t, w.Message, "refused by firedrill's write guard")
	assert.NotContains(t, w.Hint, "grant", "no permission lifts firedrill's own guard")
	p, lerr := f.primary.ListObjects(context.Background(), bucketPrimary, objectstore.ListRequest{Prefix: "firedrill-canary/"})
	require.NoError(t, lerr)
	assert.Empty(t, p.Objects)
}
