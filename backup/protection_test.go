package backup

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

func TestCheckProtection_HealthyBackupPasses(t *testing.T) {
	for _, versity := range []bool{false, true} {
		name := map[bool]string{false: "MinIO", true: "Versity"}[versity]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			f.versity = versity
			f.build()
			res := check(t, f.spec())
			assert.Empty(t, failing(res), "%+v", res.Findings)
			assert.Empty(t, idsWith(res, finding.StatusWarn), "%+v", res.Findings)
			assert.False(t, res.Failed())

			ret := findingByID(t, res, idBackupRetention)
			assert.Contains(t, ret.Message, "7 of 7 object versions")
			if versity {
				assert.Contains(t, ret.Message, "retention from bucket default; objects carry none; deletion refusal proven by canary")
			} else {
				assert.Contains(t, ret.Message, "retention stamped on each object; deletion refusal proven by canary")
			}
			del := findingByID(t, res, idCanaryDelete)
			if versity {
				assert.Contains(t, del.Message, "403 AccessDenied")
			} else {
				assert.Contains(t, del.Message, "400 InvalidRequest")
			}
			require.Len(t, res.Copies, 1)
			assert.Equal(t, Comparison{Same: 6, ComparedBy: map[string]int{"etag": 6}}, res.Copies[0].Comparison)
			assert.Equal(t, "s3://velero/cluster-a/backups/"+backupName+"/ at http://primary.test:9000", res.Copies[0].Source)
		})
	}
}

// TestCheckProtection_EachFaultNamed injects one fault at a time; the
// failing findings are exactly the ones that fault must cause.
func TestCheckProtection_EachFaultNamed(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(f *fixture)               // before build
		damage  func(t *testing.T, f *fixture) // after build
		spec    func(s *ProtectionSpec)
		failing []string
		warning []string
		check   func(t *testing.T, res Result)
	}{
		{
			name:    "governance default retention",
			setup:   func(f *fixture) { f.lock.DefaultMode = objectstore.Governance },
			failing: []string{idBackupRetention, "protection.bucket.retention-mode", idObjectRetention},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, "protection.bucket.retention-mode")
				assert.Equal(t, "COMPLIANCE", f.Expected)
				assert.Equal(t, "GOVERNANCE", f.Actual)
				assert.Equal(t, finding.SeverityFail, f.Severity)
			},
		},
		{
			name:    "governance allowed by the scenario",
			setup:   func(f *fixture) { f.lock.DefaultMode = objectstore.Governance },
			spec:    func(s *ProtectionSpec) { s.Lock.AllowGovernance = true },
			failing: []string{},
			warning: []string{"protection.bucket.retention-mode"},
		},
		{
			name:    "default retention shorter than required and than the TTL",
			setup:   func(f *fixture) { f.lock.DefaultDays = 5 },
			failing: []string{idBackupRetention, idObjectRetention, "protection.bucket.retention-covers-expiration", "protection.bucket.retention-period"},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, "protection.bucket.retention-period")
				assert.Equal(t, "5d", f.Actual)
				assert.Equal(t, "at least 14d", f.Expected)
				f = findingByID(t, res, "protection.bucket.retention-covers-expiration")
				assert.Contains(t, f.Message, "kept for 7d but locked for only 5d")
			},
		},
		{
			name:    "backup TTL longer than the retention",
			setup:   func(f *fixture) { f.ttl = 60 * 24 * time.Hour },
			failing: []string{idBackupRetention, idObjectRetention, "protection.bucket.retention-covers-expiration"},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, idObjectRetention)
				assert.Contains(t, f.Message, "before the required 2026-04-30T03:00:00Z")
			},
		},
		{
			name: "one object with a short explicit retention",
			damage: func(t *testing.T, f *fixture) {
				key := backupPrefix(veleroPrefix, backupName) + "extra-short.json"
				short := objectstore.PutOptions{Retention: objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: f.now.Add(24 * time.Hour)}}
				_, err := f.primary.PutObject(context.Background(), bucketPrimary, key, []byte("{}"), short)
				require.NoError(t, err)
				_, err = f.offsite.PutObject(context.Background(), bucketOffsite, key, []byte("{}"), short)
				require.NoError(t, err)
			},
			failing: []string{idBackupRetention, idObjectRetention},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, idObjectRetention)
				assert.Contains(t, f.Subject, "extra-short.json")
				assert.Contains(t, f.Message, "before the required 2026-03-15T04:00:00Z")
				assert.Contains(t, findingByID(t, res, idBackupRetention).Message, "7 of 8 object versions")
			},
		},
		{
			name: "delete marker hides a backup object",
			damage: func(t *testing.T, f *fixture) {
				require.NoError(t, f.primary.AddDeleteMarker(bucketPrimary, backupPrefix(veleroPrefix, backupName)+backupName+"-logs.gz"))
			},
			failing: []string{idDeleteMarker},
			warning: []string{"protection.copy.offsite"},
			check: func(t *testing.T, res Result) {
				assert.Contains(t, findingByID(t, res, idDeleteMarker).Subject, backupName+"-logs.gz")
				assert.Equal(t, 1, res.Copies[0].Comparison.Extra)
			},
		},
		{
			name:    "server deletes locked versions",
			damage:  func(t *testing.T, f *fixture) { f.primary.IgnoreLockOnDelete = true },
			failing: []string{idCanaryDelete},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, idCanaryDelete)
				assert.Equal(t, finding.SeverityCritical, f.Severity)
				assert.Contains(t, f.Message, "succeeded")
				assert.Contains(t, findingByID(t, res, idBackupRetention).Message, "deletion refusal NOT proven")
			},
		},
		{
			name:    "server deletes locked versions in batches",
			damage:  func(t *testing.T, f *fixture) { f.primary.IgnoreLockOnBatchDelete = true },
			failing: []string{idCanaryBatchDelete},
			check: func(t *testing.T, res Result) {
				assert.Equal(t, finding.SeverityCritical, findingByID(t, res, idCanaryBatchDelete).Severity)
			},
		},
		{
			name:    "server shortens locked retention",
			damage:  func(t *testing.T, f *fixture) { f.primary.IgnoreLockOnRetention = true },
			failing: []string{idCanaryShorten},
			check: func(t *testing.T, res Result) {
				assert.Equal(t, finding.SeverityCritical, findingByID(t, res, idCanaryShorten).Severity)
			},
		},
		{
			name:    "wrong backup name",
			spec:    func(s *ProtectionSpec) { s.Backup.Name = "no-such-backup" },
			failing: []string{idBackupObjects},
			warning: []string{"protection.bucket.retention-covers-expiration"},
		},
		{
			name: "copy: one missing, one extra, one changed with the same size",
			damage: func(t *testing.T, f *fixture) {
				ctx := context.Background()
				p := backupPrefix(veleroPrefix, backupName)
				info, err := f.offsite.Head(ctx, bucketOffsite, p+backupName+"-results.gz", "")
				require.NoError(t, err)
				f.offsite.IgnoreLockOnDelete = true
				require.NoError(t, f.offsite.DeleteVersion(ctx, bucketOffsite, p+backupName+"-results.gz", info.VersionID))
				f.offsite.IgnoreLockOnDelete = false
				_, err = f.offsite.PutObject(ctx, bucketOffsite, p+"planted.txt", []byte("x"), objectstore.PutOptions{})
				require.NoError(t, err)
				_, err = f.offsite.PutObject(ctx, bucketOffsite, p+backupName+".tar.gz", []byte("TARBALL OF RESOURCES"), objectstore.PutOptions{})
				require.NoError(t, err)
			},
			failing: []string{"protection.copy.offsite"},
			check: func(t *testing.T, res Result) {
				c := res.Copies[0].Comparison
				assert.Equal(t, 4, c.Same)
				assert.Equal(t, 1, c.Missing)
				assert.Equal(t, 1, c.Extra)
				assert.Equal(t, 1, c.Differs)
				assert.Equal(t, []ObjectResult{
					{Key: backupName + "-results.gz", Status: StatusMissing, Detail: "not on the copy"},
					{Key: backupName + ".tar.gz", Status: StatusDiffers, Detail: c.Objects[1].Detail},
					{Key: "planted.txt", Status: StatusExtra, Detail: "only on the copy"},
				}, c.Objects)
				assert.Contains(t, c.Objects[1].Detail, "MD5")
				msg := findingByID(t, res, "protection.copy.offsite").Message
				assert.Contains(t, msg, "1 missing, 1 extra, 1 differ")
				assert.Contains(t, msg, "planted.txt")
			},
		},
		{
			name:    "copy bucket without object lock",
			damage:  func(t *testing.T, f *fixture) { rebuildCopyWithoutLock(t, f) },
			failing: []string{"protection.copy.offsite.bucket.object-lock"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			f.build()
			if tc.damage != nil {
				tc.damage(t, f)
			}
			spec := f.spec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			res := check(t, spec)
			want := append([]string{}, tc.failing...)
			sortStrings(want)
			assert.Equal(t, want, failing(res), "failing findings: %s", dump(res))
			if tc.warning != nil {
				w := append([]string{}, tc.warning...)
				sortStrings(w)
				assert.Equal(t, w, idsWith(res, finding.StatusWarn), "warnings: %s", dump(res))
			}
			assert.Equal(t, len(tc.failing) > 0, res.Failed())
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// rebuildCopyWithoutLock points the copy at a versioned bucket without
// object lock holding the same objects.
func rebuildCopyWithoutLock(t *testing.T, f *fixture) {
	ctx := context.Background()
	const b = "velero-offsite-unlocked"
	require.NoError(t, f.offsite.CreateBucket(ctx, b, false))
	require.NoError(t, f.offsite.SetVersioning(ctx, b, true))
	p := backupPrefix(veleroPrefix, backupName)
	for name, data := range backupFiles() {
		_, err := f.offsite.PutObject(ctx, b, p+name, []byte(data), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	_, err := f.offsite.PutObject(ctx, b, p+"velero-backup.json", []byte(f.backupJSON("Completed")), objectstore.PutOptions{})
	require.NoError(t, err)
	f.copyBucket = b
}

func sortStrings(s []string) { sort.Strings(s) }

func dump(res Result) string {
	b, _ := json.MarshalIndent(res.Findings, "", "  ")
	return string(b)
}

// TestCheckProtection_PerObjectRetentionWithoutBucketDefault: a bucket
// with object lock but no default retention, where every object of the
// backup carries its own COMPLIANCE retention (issue 14, item 1). Each
// version's own retention decides; the missing default is a finding of
// its own; the canary locks itself and says so.
func TestCheckProtection_PerObjectRetentionWithoutBucketDefault(t *testing.T) {
	for _, versity := range []bool{false, true} {
		t.Run(map[bool]string{false: "MinIO", true: "Versity"}[versity], func(t *testing.T) {
			f := newFixture(t)
			f.versity = versity
			f.lock = objectstore.LockConfig{}
			f.stamp = objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: t0.Add(30 * 24 * time.Hour)}
			f.build()
			res := check(t, f.spec())

			assert.Equal(t, []string{"protection.bucket.retention-mode"}, failing(res), "%s", dump(res))
			def := findingByID(t, res, "protection.bucket.retention-mode")
			assert.Contains(t, def.Message, "no default retention: every new object")
			assert.Equal(t, "none", def.Actual)

			ret := findingByID(t, res, idBackupRetention)
			assert.Equal(t, finding.StatusPass, ret.Status)
			assert.Contains(t, ret.Message, "7 of 7 object versions of backup "+backupName+" retained as required (earliest retain-until 2026-03-31T03:00:00Z")
			assert.Contains(t, ret.Message, "each version's own retention, the bucket has no default")
			assert.Contains(t, ret.Message, "the canary locked itself with a retention of its own")

			del := findingByID(t, res, idCanaryDelete)
			assert.Equal(t, finding.StatusPass, del.Status)
			assert.Contains(t, del.Message, "proven for a retention set on the object itself (COMPLIANCE until 2026-03-02T04:00:00Z; the bucket has no default retention")
			assert.Equal(t, finding.StatusPass, findingByID(t, res, idCanaryShorten).Status)

			// The canary's version is locked by its own retention.
			p, err := f.primary.ListObjects(context.Background(), bucketPrimary, objectstore.ListRequest{Prefix: "firedrill-canary/"})
			require.NoError(t, err)
			require.Len(t, p.Objects, 1)
			h, err := f.primary.Head(context.Background(), bucketPrimary, p.Objects[0].Key, "")
			require.NoError(t, err)
			assert.Equal(t, objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: t0.Add(25 * time.Hour)}, h.Retention)
		})
	}
}

// TestCheckProtection_WithoutBucketDefaultOneObjectUnstamped: without a
// default, a version written without a retention of its own is
// unprotected, and named.
func TestCheckProtection_WithoutBucketDefaultOneObjectUnstamped(t *testing.T) {
	f := newFixture(t)
	f.lock = objectstore.LockConfig{}
	f.stamp = objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: t0.Add(30 * 24 * time.Hour)}
	f.build()
	key := backupPrefix(veleroPrefix, backupName) + "unstamped.json"
	_, err := f.primary.PutObject(context.Background(), bucketPrimary, key, []byte("{}"), objectstore.PutOptions{})
	require.NoError(t, err)
	spec := f.spec()
	spec.Copies = nil
	res := check(t, spec)
	assert.Equal(t, []string{idObjectRetention, idBackupRetention, "protection.bucket.retention-mode"}, failing(res), "%s", dump(res))
	obj := findingByID(t, res, idObjectRetention)
	assert.Contains(t, obj.Subject, "unstamped.json")
	assert.Equal(t, "the version carries no retention and the bucket has no default", obj.Message)
	msg := findingByID(t, res, idBackupRetention).Message
	assert.Contains(t, msg, "7 of 8 object versions")
	assert.Contains(t, msg, "7 versions carry their own retention, 1 none, and the bucket has no default")
	assert.Equal(t, "no retention: the object carries none and the bucket has no default", obj.Actual)
}
