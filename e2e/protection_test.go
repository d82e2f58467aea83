//go:build e2e

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/storetest"
)

// The protection tests run firedrill's own S3 code against the lab's real
// MinIO and Versity servers. Damaged fixtures live in buckets the tests
// create (e2e-prot-*); the velero-backups buckets are only read, except
// for the canary under its own prefix (firedrill-canary/, outside the
// Velero prefix "lab").

// storeEnv is the FIREDRILL_LAB_<NAME>_ prefix of a lab store's variables.
func storeEnv(name string) string { return "FIREDRILL_LAB_" + strings.ToUpper(name) + "_" }

// s3Store is firedrill's client for a lab store, with credentials
// referenced by variable name as a scenario does.
func s3Store(t *testing.T, l labEnv, name string) *objectstore.S3 {
	t.Helper()
	s := l.Stores[name]
	st, err := objectstore.New(context.Background(), objectstore.Config{
		Endpoint: s.Endpoint, Region: s.Region, PathStyle: true,
		Credentials: &objectstore.Credentials{AccessKeyIDEnv: storeEnv(name) + "ACCESS_KEY", SecretAccessKeyEnv: storeEnv(name) + "SECRET_KEY"},
		MaxConns:    32,
	})
	require.NoError(t, err)
	return st
}

func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// TestProtection_Conformance runs the object store conformance suite
// against real MinIO and real Versity.
func TestProtection_Conformance(t *testing.T) {
	l := lab(t)
	for _, name := range []string{"primary", "offcloud"} {
		t.Run(map[string]string{"primary": "MinIO", "offcloud": "Versity"}[name], func(t *testing.T) {
			st := s3Store(t, l, name)
			storetest.Suite{NewStore: func(t *testing.T) storetest.Store { return st }, Prefix: "e2e-prot-"}.Run(t)
		})
	}
}

// labSpec is the protection spec of the lab's scenario for one backup:
// COMPLIANCE for at least 12 hours, both copies compared.
func labSpec(t *testing.T, l labEnv, name string) backup.ProtectionSpec {
	p, off, cloud := l.Stores["primary"], l.Stores["offsite"], l.Stores["offcloud"]
	req := backup.LockRequirement{Mode: objectstore.Compliance, MinRetention: 12 * time.Hour}
	return backup.ProtectionSpec{
		Primary: backup.PrimaryBucket{Store: s3Store(t, l, "primary"), Bucket: p.Bucket, Prefix: p.Prefix},
		Lock:    req,
		Backup:  backup.BackupRef{Name: name},
		Copies: []backup.CopySpec{
			{Name: "offsite", Store: s3Store(t, l, "offsite"), Bucket: off.Bucket, Prefix: off.Prefix, Mode: backup.ModeChecksum, Lock: &req},
			{Name: "offcloud", Store: s3Store(t, l, "offcloud"), Bucket: cloud.Bucket, Prefix: cloud.Prefix, Mode: backup.ModeContent, Lock: &req},
		},
	}
}

func logFindings(t *testing.T, res backup.Result) {
	t.Helper()
	for _, f := range res.Findings {
		t.Logf("%-5s %-9s %-48s %s", f.Status, f.Severity, f.ID, f.Message)
	}
}

func failingIDs(res backup.Result) []string {
	var ids []string
	for _, f := range res.Findings {
		if f.Status == finding.StatusFail {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

// TestProtection_SeededBackupsPass: every check passes on the lab's own
// backups, with the canary proving refusal on MinIO.
func TestProtection_SeededBackupsPass(t *testing.T) {
	l := lab(t)
	for _, name := range l.Backups {
		t.Run(name, func(t *testing.T) {
			ctx := testContext(t, 3*time.Minute)
			res, err := backup.CheckProtection(ctx, labSpec(t, l, name))
			logFindings(t, res)
			require.NoError(t, err)
			assert.False(t, res.Failed(), "failing: %v", failingIDs(res))
			var ids []string
			for _, f := range res.Findings {
				ids = append(ids, f.ID)
				assert.NotEqual(t, finding.StatusFail, f.Status, "%s: %s", f.ID, f.Message)
			}
			for _, id := range []string{"protection.bucket.retention-covers-expiration", "protection.canary.delete",
				"protection.canary.batch-delete", "protection.canary.shorten-retention", "protection.backup.retention",
				"protection.copy.offsite", "protection.copy.offcloud"} {
				assert.Contains(t, ids, id)
			}
			require.Len(t, res.Copies, 2)
			for _, c := range res.Copies {
				cm := c.Comparison
				assert.GreaterOrEqual(t, cm.Same, 5, "copy %s", c.Name)
				assert.Zero(t, cm.Missing+cm.Differs+cm.Errors+cm.NotReplicated, "copy %s: %+v", c.Name, cm)
				// Only repository blobs kopia deleted on the primary (its
				// session blobs) may remain on a copy: bucket replication
				// does not carry delete markers unless told to.
				for _, o := range cm.Objects {
					assert.True(t, o.Status == backup.StatusExtra && strings.HasPrefix(o.Key, "kopia/"), "copy %s: %+v", c.Name, o)
				}
			}
			assert.Contains(t, res.Copies[1].Comparison.ComparedBy, "content")
		})
	}
}

var bslGVR = schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backupstoragelocations"}

// TestProtection_CanaryKeepsVeleroHappy: Velero marks a storage location
// Unavailable when its prefix holds a directory it does not know, so the
// canary writes outside the prefix; after a canary run the location is
// validated again and still Available.
func TestProtection_CanaryKeepsVeleroHappy(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 2*time.Minute)
	spec := labSpec(t, l, l.LatestBackup)
	spec.Copies = nil
	start := time.Now().Add(-time.Second)
	_, err := backup.CheckProtection(ctx, spec)
	require.NoError(t, err)

	_, dyn := kubeClients(t, l.SourceKubeconfig)
	for {
		bsl, err := dyn.Resource(bslGVR).Namespace(l.VeleroNamespace).Get(ctx, "default", metav1.GetOptions{})
		require.NoError(t, err)
		phase, _, _ := unstructured.NestedString(bsl.Object, "status", "phase")
		validated, _, _ := unstructured.NestedString(bsl.Object, "status", "lastValidationTime")
		at, _ := time.Parse(time.RFC3339, validated)
		if at.After(start) {
			assert.Equal(t, "Available", phase, "storage location after the canary: %v", bsl.Object["status"])
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("storage location not validated again since %s (last %s, phase %s)", start, validated, phase)
		case <-time.After(2 * time.Second):
		}
	}
}

// fixture is a bucket the test creates, holding a Velero-like backup.
type fixture struct {
	st      *objectstore.S3
	bucket  string
	prefix  string
	backup  string
	objects map[string]string // relative to the backup's directory
	stamp   objectstore.Retention
}

// newFixture creates bucket e2e-prot-<what>-<random> on store name with the
// given lock (nil: no object lock, versioning on) and writes a backup with
// a 12-hour TTL into it.
func newFixture(t *testing.T, l labEnv, name, what string, lock *objectstore.LockConfig) *fixture {
	t.Helper()
	return newStampedFixture(t, l, name, what, lock, objectstore.Retention{})
}

// newStampedFixture is newFixture with every object written with the
// retention stamp (none when its Mode is empty), as backup products that
// lock each object do.
func newStampedFixture(t *testing.T, l labEnv, name, what string, lock *objectstore.LockConfig, stamp objectstore.Retention) *fixture {
	t.Helper()
	ctx := testContext(t, time.Minute)
	f := &fixture{st: s3Store(t, l, name), bucket: "e2e-prot-" + what + "-" + randomSuffix(), prefix: "lab", backup: "e2e-" + what, stamp: stamp}
	require.NoError(t, f.st.CreateBucket(ctx, f.bucket, lock != nil))
	if lock != nil {
		require.NoError(t, f.st.SetObjectLockConfig(ctx, f.bucket, *lock))
	} else {
		require.NoError(t, f.st.SetVersioning(ctx, f.bucket, true))
	}
	now := time.Now().UTC().Truncate(time.Second)
	f.objects = map[string]string{
		f.backup + ".tar.gz":                "resources of " + f.backup,
		f.backup + "-logs.gz":               "logs of " + f.backup,
		f.backup + "-resource-list.json.gz": "resource list of " + f.backup,
		"velero-backup.json": fmt.Sprintf(`{"kind":"Backup","metadata":{"name":%q},"spec":{"ttl":"12h0m0s"},"status":{"phase":"Completed","startTimestamp":%q,"expiration":%q}}`,
			f.backup, now.Format(time.RFC3339), now.Add(12*time.Hour).Format(time.RFC3339)),
	}
	f.write(t, f.st, f.bucket)
	return f
}

func (f *fixture) dir() string { return f.prefix + "/backups/" + f.backup + "/" }

// write puts the fixture's objects into bucket on st.
func (f *fixture) write(t *testing.T, st *objectstore.S3, bucket string) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	for k, v := range f.objects {
		_, err := st.PutObject(ctx, bucket, f.dir()+k, []byte(v), objectstore.PutOptions{Retention: f.stamp})
		require.NoError(t, err)
	}
}

func (f *fixture) spec(req backup.LockRequirement) backup.ProtectionSpec {
	return backup.ProtectionSpec{
		Primary: backup.PrimaryBucket{Store: f.st, Bucket: f.bucket, Prefix: f.prefix},
		Lock:    req,
		Backup:  backup.BackupRef{Name: f.backup},
	}
}

var compliance = backup.LockRequirement{Mode: objectstore.Compliance, MinRetention: 12 * time.Hour}

// TestProtection_DamagedBuckets: each damaged bucket is reported by
// exactly the findings its damage must cause, on MinIO and on Versity.
func TestProtection_DamagedBuckets(t *testing.T) {
	l := lab(t)
	cases := []struct {
		what    string
		lock    *objectstore.LockConfig
		req     backup.LockRequirement
		failing []string
		check   func(t *testing.T, res backup.Result)
	}{
		{
			what: "healthy", lock: &objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 1}, req: compliance,
			failing: nil,
		},
		{
			what: "governance", lock: &objectstore.LockConfig{DefaultMode: objectstore.Governance, DefaultDays: 1}, req: compliance,
			failing: []string{"protection.bucket.retention-mode", "protection.backup.object-retention", "protection.backup.retention"},
			check: func(t *testing.T, res backup.Result) {
				assert.Equal(t, "GOVERNANCE", findingOf(t, res, "protection.bucket.retention-mode").Actual)
			},
		},
		{
			what: "short", lock: &objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 1},
			req:     backup.LockRequirement{Mode: objectstore.Compliance, MinRetention: 7 * 24 * time.Hour},
			failing: []string{"protection.bucket.retention-period", "protection.backup.object-retention", "protection.backup.retention"},
			check: func(t *testing.T, res backup.Result) {
				f := findingOf(t, res, "protection.bucket.retention-period")
				assert.Equal(t, "1d", f.Actual)
				assert.Equal(t, "at least 7d", f.Expected)
			},
		},
		{
			what: "nolock", lock: nil, req: compliance,
			failing: []string{"protection.bucket.object-lock", "protection.canary.delete", "protection.backup.retention"},
			check: func(t *testing.T, res backup.Result) {
				assert.Equal(t, finding.SeverityCritical, findingOf(t, res, "protection.canary.delete").Severity)
			},
		},
	}
	for _, impl := range []string{"primary", "offcloud"} {
		t.Run(map[string]string{"primary": "MinIO", "offcloud": "Versity"}[impl], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.what, func(t *testing.T) {
					f := newFixture(t, l, impl, tc.what, tc.lock)
					ctx := testContext(t, 2*time.Minute)
					res, err := backup.CheckProtection(ctx, f.spec(tc.req))
					logFindings(t, res)
					require.NoError(t, err)
					want := tc.failing
					if impl == "offcloud" && tc.lock != nil {
						// Versity 1.8.0 accepts a retention shorter than the
						// bucket default on objects that carry none, and then
						// lets them be deleted: the canary must say so.
						want = append(slices.Clone(want), "protection.canary.shorten-retention")
					}
					assert.ElementsMatch(t, uniq(want), uniq(failingIDs(res)))
					if tc.check != nil {
						tc.check(t, res)
					}
					how := findingOf(t, res, "protection.backup.retention").Message
					if tc.lock != nil && impl == "primary" {
						assert.Contains(t, how, "retention stamped on each object")
					}
					if tc.lock != nil && impl == "offcloud" {
						assert.Contains(t, how, "retention from bucket default; objects carry none")
					}
					if tc.what == "healthy" {
						assert.Contains(t, how, "deletion refusal proven by canary")
					}
				})
			}
		})
	}
}

// TestProtection_PerObjectRetentionWithoutDefault: a bucket with object
// lock but no default retention, every object of the backup written with
// its own COMPLIANCE retention (issue 14, item 1). The backup is
// protected; the missing default is the only failure; the canary locks
// itself and says so.
func TestProtection_PerObjectRetentionWithoutDefault(t *testing.T) {
	l := lab(t)
	for _, impl := range []string{"primary", "offcloud"} {
		t.Run(map[string]string{"primary": "MinIO", "offcloud": "Versity"}[impl], func(t *testing.T) {
			stamp := objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: time.Now().Add(24 * time.Hour).Truncate(time.Second)}
			f := newStampedFixture(t, l, impl, "nodefault", &objectstore.LockConfig{}, stamp)
			ctx := testContext(t, 2*time.Minute)
			res, err := backup.CheckProtection(ctx, f.spec(compliance))
			logFindings(t, res)
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{"protection.bucket.retention-mode"}, uniq(failingIDs(res)))
			ret := findingOf(t, res, "protection.backup.retention")
			assert.Equal(t, finding.StatusPass, ret.Status)
			assert.Contains(t, ret.Message, "4 of 4 object versions")
			assert.Contains(t, ret.Message, "each version's own retention, the bucket has no default")
			assert.Contains(t, ret.Message, "the canary locked itself with a retention of its own")
			assert.Contains(t, findingOf(t, res, "protection.canary.delete").Message, "proven for a retention set on the object itself")
		})
	}
}

func uniq(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func findingOf(t *testing.T, res backup.Result, id string) finding.Finding {
	t.Helper()
	for _, f := range res.Findings {
		if f.ID == id {
			return f
		}
	}
	require.Failf(t, "no finding", "%s", id)
	return finding.Finding{}
}

// TestProtection_DamagedCopies: an off-site copy with one object missing,
// one extra and one changed with the same size is reported exactly, on
// another MinIO and on Versity, in each mode that reads content hashes.
func TestProtection_DamagedCopies(t *testing.T) {
	l := lab(t)
	lock := &objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 1}
	src := newFixture(t, l, "primary", "copysrc", lock)
	for i := range 20 {
		src.objects[fmt.Sprintf("%s-part-%02d.gz", src.backup, i)] = fmt.Sprintf("part %02d of the backup", i)
	}
	src.write(t, src.st, src.bucket)
	changed, missing := src.backup+".tar.gz", src.backup+"-part-07.gz"

	for _, impl := range []string{"offsite", "offcloud"} {
		t.Run(map[string]string{"offsite": "MinIO", "offcloud": "Versity"}[impl], func(t *testing.T) {
			ctx := testContext(t, 2*time.Minute)
			dst := s3Store(t, l, impl)
			bucket := "e2e-prot-copy-" + randomSuffix()
			require.NoError(t, dst.CreateBucket(ctx, bucket, false))
			for k, v := range src.objects {
				switch k {
				case missing:
					continue
				case changed:
					v = strings.ToUpper(v) // same size, other bytes
				}
				_, err := dst.PutObject(ctx, bucket, src.dir()+k, []byte(v), objectstore.PutOptions{})
				require.NoError(t, err)
			}
			_, err := dst.PutObject(ctx, bucket, src.dir()+"planted.gz", []byte("not from the primary"), objectstore.PutOptions{})
			require.NoError(t, err)

			for _, mode := range []backup.CompareMode{backup.ModeChecksum, backup.ModeContent} {
				t.Run(string(mode), func(t *testing.T) {
					spec := src.spec(compliance)
					spec.Canary.Disabled = true
					spec.Copies = []backup.CopySpec{{Name: "copy", Store: dst, Bucket: bucket, Prefix: src.prefix, Mode: mode}}
					res, err := backup.CheckProtection(ctx, spec)
					logFindings(t, res)
					require.NoError(t, err)
					c := res.Copies[0].Comparison
					assert.Equal(t, len(src.objects)-2, c.Same)
					assert.Equal(t, 1, c.Missing)
					assert.Equal(t, 1, c.Extra)
					assert.Equal(t, 1, c.Differs)
					assert.Zero(t, c.Errors)
					var got []string
					for _, o := range c.Objects {
						got = append(got, o.Combined())
					}
					assert.Equal(t, []string{"- " + missing, "* " + changed, "+ planted.gz"}, got)
					assert.Equal(t, []string{"protection.copy.copy"}, failingIDs(res))
				})
			}
		})
	}
}

// TestProtection_BadInput: wrong credentials, a missing bucket and an
// unreachable endpoint end as errors and findings naming endpoint and
// bucket, never the secret, quickly.
func TestProtection_BadInput(t *testing.T) {
	l := lab(t)
	p := l.Stores["primary"]
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadURL := "http://" + dead.Addr().String()
	require.NoError(t, dead.Close())

	cases := []struct {
		name, endpoint, bucket, secret string
		is                             error
	}{
		{"wrong credentials", p.Endpoint, p.Bucket, "not-the-secret-123", objectstore.ErrInvalidCredentials},
		{"missing bucket", p.Endpoint, "e2e-prot-missing-" + randomSuffix(), p.SecretKey, objectstore.ErrNoSuchBucket},
		{"unreachable endpoint", deadURL, p.Bucket, p.SecretKey, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t, time.Minute)
			st, err := objectstore.New(ctx, objectstore.Config{
				Endpoint: tc.endpoint, Region: p.Region, PathStyle: true, MaxAttempts: 3, MaxBackoff: 200 * time.Millisecond,
				Credentials: &objectstore.Credentials{AccessKeyIDEnv: "AK", SecretAccessKeyEnv: "SK"},
				Getenv:      func(k string) string { return map[string]string{"AK": p.AccessKey, "SK": tc.secret}[k] },
			})
			require.NoError(t, err)
			start := time.Now()
			spec := backup.ProtectionSpec{
				Primary: backup.PrimaryBucket{Store: st, Bucket: tc.bucket, Prefix: p.Prefix},
				Lock:    compliance, Backup: backup.BackupRef{Name: l.LatestBackup},
			}
			res, err := backup.CheckProtection(ctx, spec)
			require.Error(t, err)
			assert.Less(t, time.Since(start), 30*time.Second)
			if tc.is != nil {
				assert.True(t, errors.Is(err, tc.is), "%v", err)
			}
			for _, s := range []string{err.Error(), res.Findings[0].Subject + res.Findings[0].Message} {
				assert.Contains(t, s, tc.endpoint)
				assert.Contains(t, s, tc.bucket)
				assert.NotContains(t, s, tc.secret)
			}
			assert.True(t, res.Failed())
			t.Logf("error: %v\nhint: %s", err, res.Findings[0].Hint)
		})
	}
}
