package backup

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// repoFiles are the objects of a small kopia repository, as node-agent
// writes them: the format blob, pack blobs, an index blob.
var repoFiles = []string{"kopia.repository", "kopia.blobcfg", "p0a1b2c3", "p4d5e6f7", "q9e8d7c6", "xn0_1f2e3d"}

// repoKey is the key of a repository object of namespace ns.
func repoKey(ns, name string) string { return veleroPrefix + "/kopia/" + ns + "/" + name }

// putRepo writes the repository of ns to both stores, at the fixture's
// clock, with the primary's retention stamp.
func (f *fixture) putRepo(ns string) {
	for _, name := range repoFiles {
		f.putBoth(repoKey(ns, name), "blob "+name+" of "+ns)
	}
}

// putPVBs writes the backup's podvolumebackups list, one PodVolumeBackup
// per namespace, uploader kopia, to both stores.
func (f *fixture) putPVBs(nss ...string) {
	var pvbs []velerov1.PodVolumeBackup
	for _, ns := range nss {
		pvbs = append(pvbs, velerov1.PodVolumeBackup{
			ObjectMeta: metav1.ObjectMeta{Name: backupName + "-" + ns, Namespace: "velero"},
			Spec: velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: "db-0"},
				Volume: "data", BackupStorageLocation: "default", UploaderType: "kopia"},
			Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted, SnapshotID: "k1"},
		})
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	require.NoError(f.t, json.NewEncoder(zw).Encode(pvbs))
	require.NoError(f.t, zw.Close())
	f.putBoth(backupPrefix(veleroPrefix, backupName)+backupName+"-podvolumebackups.json.gz", gz.String())
}

// withVolumes builds the fixture of a backup of namespace "shop" with the
// repository of "shop" (the backup's one PodVolumeBackup names it),
// written at t0 like the backup, and a repository of namespace "other",
// which the backup does not include.
func (f *fixture) withVolumes() *fixture {
	f.included = []string{"shop"}
	f.build()
	f.now = t0
	f.putRepo("shop")
	f.putRepo("other")
	f.putPVBs("shop")
	f.now = t0.Add(time.Hour)
	f.primary.ResetRecord()
	return f
}

func repoResult(t *testing.T, res Result, ns string) RepositoryResult {
	t.Helper()
	for _, r := range res.Repositories {
		if r.Namespace == ns {
			return r
		}
	}
	require.Failf(t, "no repository result", "namespace %s in %+v", ns, res.Repositories)
	return RepositoryResult{}
}

func findingsByID(res Result, id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range res.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

func TestCheckProtection_RepositoryHealthyPasses(t *testing.T) {
	for _, versity := range []bool{false, true} {
		t.Run(map[bool]string{false: "MinIO", true: "Versity"}[versity], func(t *testing.T) {
			f := newFixture(t)
			f.versity = versity
			f.withVolumes()
			res := check(t, f.spec())
			assert.Empty(t, failing(res), "%s", dump(res))

			exp := t0.Add(30 * 24 * time.Hour)
			assert.Equal(t, []RepositoryResult{{
				Prefix: "cluster-a/kopia/shop/", Type: "kopia", Namespace: "shop", PodVolumeBackups: 1,
				Objects: 6, Versions: 6, EarliestRetainUntil: &exp,
			}}, res.Repositories, "only the repository the PodVolumeBackups name")
			ret := findingByID(t, res, idRepoRetention)
			assert.Equal(t, finding.StatusPass, ret.Status)
			assert.Equal(t, "s3://velero/cluster-a/kopia/shop/ at http://primary.test:9000", ret.Subject)
			assert.Contains(t, ret.Message, "6 of 6 object versions of the kopia repository of namespace shop retained as required "+
				"(6 objects in 6 versions; 1 PodVolumeBackup of backup "+backupName+" keeps its volume data there); "+
				"every object it holds now is locked until at least 2026-03-31T03:00:00Z")
			assert.Contains(t, ret.Message, "deletion refusal proven by canary")
		})
	}
}

// TestCheckProtection_RepositoryFaultsNamed injects one fault at a time
// into the repository of the backup's volume data; the failing findings
// are exactly those the fault must cause, naming the objects.
func TestCheckProtection_RepositoryFaultsNamed(t *testing.T) {
	shop := func(name string) string { return repoKey("shop", name) }
	cases := []struct {
		name    string
		damage  func(t *testing.T, f *fixture)
		spec    func(s *ProtectionSpec)
		failing []string
		check   func(t *testing.T, res Result)
	}{
		{
			name: "one blob with a retention shorter than the backup's expiration",
			damage: func(t *testing.T, f *fixture) {
				_, err := f.primary.PutObject(context.Background(), bucketPrimary, shop("p7short"), []byte("blob"),
					objectstore.PutOptions{Retention: objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: f.now.Add(24 * time.Hour)}})
				require.NoError(t, err)
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{idRepoRetention, idRepoObjectRetention},
			check: func(t *testing.T, res Result) {
				bad := findingByID(t, res, idRepoObjectRetention)
				assert.Contains(t, bad.Subject, "s3://velero/cluster-a/kopia/shop/p7short?versionId=")
				assert.Contains(t, bad.Message, "retained until 2026-03-02T04:00:00Z, before the required 2026-03-15T04:00:00Z")
				assert.Contains(t, bad.Hint, "kopia reuses the blobs earlier backups wrote")
				assert.Equal(t, 1, repoResult(t, res, "shop").Short)
				assert.Contains(t, findingByID(t, res, idRepoRetention).Message, "6 of 7 object versions")
			},
		},
		{
			// Deduplication: today's backup still reads a blob written two
			// months ago, whose 30-day default retention ran out.
			name: "a blob an older backup wrote, its retention run out",
			damage: func(t *testing.T, f *fixture) {
				f.now = t0.Add(-60 * 24 * time.Hour)
				_, err := f.primary.PutObject(context.Background(), bucketPrimary, shop("p0old"), []byte("old blob"), objectstore.PutOptions{})
				require.NoError(t, err)
				f.now = t0.Add(time.Hour)
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{idRepoRetention, idRepoObjectRetention},
			check: func(t *testing.T, res Result) {
				bad := findingByID(t, res, idRepoObjectRetention)
				assert.Contains(t, bad.Subject, "kopia/shop/p0old")
				assert.Contains(t, bad.Message, "before the required 2026-03-08T03:00:00Z")
				assert.Contains(t, bad.Message, "the retention has run out: the version can be deleted now")
				assert.Equal(t, "COMPLIANCE until 2026-01-30T03:00:00Z (the object's own retention)", bad.Actual)
				earliest := t0.Add(-30 * 24 * time.Hour) // created 60 days before, locked for 30
				assert.Equal(t, &earliest, repoResult(t, res, "shop").EarliestRetainUntil)
			},
		},
		{
			// kopia's maintenance deleted a blob two months ago: its old
			// version, no longer read, may run out.
			name: "an old blob kopia deleted",
			damage: func(t *testing.T, f *fixture) {
				f.now = t0.Add(-60 * 24 * time.Hour)
				_, err := f.primary.PutObject(context.Background(), bucketPrimary, shop("p0gone"), []byte("old blob"), objectstore.PutOptions{})
				require.NoError(t, err)
				f.now = t0.Add(time.Hour)
				require.NoError(t, f.primary.AddDeleteMarker(bucketPrimary, shop("p0gone")))
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{},
			check: func(t *testing.T, res Result) {
				r := repoResult(t, res, "shop")
				assert.Equal(t, 6, r.Objects)
				assert.Equal(t, 1, r.Deleted)
				assert.Equal(t, 7, r.Versions)
				assert.Contains(t, findingByID(t, res, idRepoRetention).Message, "1 more deleted")
			},
		},
		{
			name: "the format blob hidden by a delete marker",
			damage: func(t *testing.T, f *fixture) {
				require.NoError(t, f.primary.AddDeleteMarker(bucketPrimary, shop("kopia.repository")))
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{idRepoObjects},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, idRepoObjects)
				assert.Contains(t, f.Message, "has no kopia.repository")
				assert.Equal(t, "cluster-a/kopia/shop/kopia.repository", f.Expected)
			},
		},
		{
			name: "a PodVolumeBackup names a repository the bucket lacks",
			damage: func(t *testing.T, f *fixture) {
				f.putPVBs("shop", "db")
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{idRepoObjects},
			check: func(t *testing.T, res Result) {
				f := findingByID(t, res, idRepoObjects)
				assert.Equal(t, "s3://velero/cluster-a/kopia/db/ at http://primary.test:9000", f.Subject)
				assert.Contains(t, f.Message, "holds no object, though 1 PodVolumeBackup of backup "+backupName+" keeps its volume data there")
			},
		},
		{
			name: "the repository cannot be listed",
			damage: func(t *testing.T, f *fixture) {
				f.primary.OpErrors = map[string]error{"ListVersions": objectstore.ErrAccessDenied}
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{idBackupObjects, idRepoObjects},
		},
		{
			name: "copy misses a blob and holds another changed",
			damage: func(t *testing.T, f *fixture) {
				ctx := context.Background()
				info, err := f.offsite.Head(ctx, bucketOffsite, shop("p0a1b2c3"), "")
				require.NoError(t, err)
				f.offsite.IgnoreLockOnDelete = true
				require.NoError(t, f.offsite.DeleteVersion(ctx, bucketOffsite, shop("p0a1b2c3"), info.VersionID))
				f.offsite.IgnoreLockOnDelete = false
				_, err = f.offsite.PutObject(ctx, bucketOffsite, shop("p4d5e6f7"), []byte("BLOB P4D5E6F7 OF SHOP"), objectstore.PutOptions{})
				require.NoError(t, err)
			},
			failing: []string{"protection.copy.offsite"},
			check: func(t *testing.T, res Result) {
				c := res.Copies[0]
				assert.Equal(t, []string{"cluster-a/kopia/shop/"}, c.Repositories)
				assert.Equal(t, 1, c.Comparison.Missing)
				assert.Equal(t, 1, c.Comparison.Differs)
				assert.Equal(t, 7+4, c.Comparison.Same, "the backup's 7 objects and 4 blobs")
				var got []string
				for _, o := range c.Comparison.Objects {
					got = append(got, o.Combined())
				}
				assert.Equal(t, []string{"- kopia/shop/p0a1b2c3", "* kopia/shop/p4d5e6f7"}, got)
				msg := findingByID(t, res, "protection.copy.offsite").Message
				assert.Contains(t, msg, "missing kopia/shop/p0a1b2c3")
			},
		},
		{
			name: "more short versions than findings",
			damage: func(t *testing.T, f *fixture) {
				for i := range 25 {
					_, err := f.primary.PutObject(context.Background(), bucketPrimary, shop(fmt.Sprintf("p9short%02d", i)), []byte("blob"),
						objectstore.PutOptions{Retention: objectstore.Retention{Mode: objectstore.Compliance, RetainUntil: f.now.Add(24 * time.Hour)}})
					require.NoError(t, err)
				}
			},
			spec:    func(s *ProtectionSpec) { s.Copies = nil },
			failing: []string{idRepoRetention, idRepoObjectRetention},
			check: func(t *testing.T, res Result) {
				bad := findingsByID(res, idRepoObjectRetention)
				require.Len(t, bad, maxObjectFindings+1)
				assert.Contains(t, bad[0].Subject, "kopia/shop/p9short00")
				assert.Equal(t, "and 5 more object versions", bad[maxObjectFindings].Message)
				assert.Equal(t, 25, repoResult(t, res, "shop").Short)
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t).withVolumes()
			if tc.damage != nil {
				tc.damage(t, f)
			}
			spec := f.spec()
			if tc.spec != nil {
				tc.spec(&spec)
			}
			res, _ := CheckProtection(context.Background(), spec)
			want := append([]string{}, tc.failing...)
			sortStrings(want)
			assert.Equal(t, want, failing(res), "failing findings: %s", dump(res))
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// TestCheckProtection_RepositoryCopyEveryMode: a copy that lacks a blob of
// the backup's repository fails in every comparison mode, naming it.
func TestCheckProtection_RepositoryCopyEveryMode(t *testing.T) {
	for _, mode := range []CompareMode{ModeExistence, ModeSize, ModeChecksum, ModeContent, ModeSampled} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t).withVolumes()
			ctx := context.Background()
			info, err := f.offsite.Head(ctx, bucketOffsite, repoKey("shop", "xn0_1f2e3d"), "")
			require.NoError(t, err)
			f.offsite.IgnoreLockOnDelete = true
			require.NoError(t, f.offsite.DeleteVersion(ctx, bucketOffsite, repoKey("shop", "xn0_1f2e3d"), info.VersionID))
			spec := f.spec()
			spec.Copies[0].Mode, spec.Copies[0].SamplePercent = mode, 50
			res := check(t, spec)
			assert.Equal(t, []string{"protection.copy.offsite"}, failing(res), "%s", dump(res))
			c := res.Copies[0].Comparison
			assert.Equal(t, 1, c.Missing)
			assert.Equal(t, 7+5, c.Same, "the backup's 7 objects and 5 blobs")
			require.Len(t, c.Objects, 1)
			assert.Equal(t, "- kopia/shop/xn0_1f2e3d", c.Objects[0].Combined())
		})
	}
}

// TestCheckProtection_RepositoriesOfIncludedNamespaces: without
// PodVolumeBackups, the kopia repositories in the bucket of the
// namespaces the backup includes (globs, excludes) are checked, and no
// other.
func TestCheckProtection_RepositoriesOfIncludedNamespaces(t *testing.T) {
	cases := []struct {
		included, excluded []string
		want               []string
	}{
		{nil, nil, []string{"db", "other", "shop"}},
		{[]string{"*"}, []string{"other"}, []string{"db", "shop"}},
		{[]string{"sh*"}, nil, []string{"shop"}},
		{[]string{"db", "absent"}, nil, []string{"db"}},
		{[]string{"absent"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v-%v", tc.included, tc.excluded), func(t *testing.T) {
			f := newFixture(t)
			f.build()
			f.putRepo("shop")
			f.putRepo("other")
			f.putRepo("db")
			b := &velerov1.Backup{
				ObjectMeta: metav1.ObjectMeta{Name: backupName, Namespace: "velero"},
				Spec:       velerov1.BackupSpec{TTL: metav1.Duration{Duration: f.ttl}, IncludedNamespaces: tc.included, ExcludedNamespaces: tc.excluded},
				Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, StartTimestamp: &metav1.Time{Time: t0},
					Expiration: &metav1.Time{Time: t0.Add(f.ttl)}},
			}
			f.putBoth(backupPrefix(veleroPrefix, backupName)+"velero-backup.json", string(veleroBackupJSON(t, b)))
			spec := f.spec()
			spec.Copies = nil
			res := check(t, spec)
			var got []string
			for _, r := range res.Repositories {
				got = append(got, r.Namespace)
				assert.Zero(t, r.PodVolumeBackups)
			}
			assert.Equal(t, tc.want, got)
			assert.Empty(t, failing(res), "%s", dump(res))
			if len(tc.want) == 0 {
				assert.Contains(t, findingByID(t, res, idRepoRetention).Message, "keeps no volume data in a file-system backup repository")
			} else {
				assert.Contains(t, findingByID(t, res, idRepoRetention).Message, "backup "+backupName+" includes namespace "+tc.want[0])
			}
		})
	}
}

// TestCheckProtection_RepositoryWithoutObjectLock: on a bucket without
// object lock the repository's versions are counted and reported
// unprotected.
func TestCheckProtection_RepositoryWithoutObjectLock(t *testing.T) {
	f := newFixture(t)
	f.lock = objectstore.LockConfig{}
	f.build()
	// A bucket without object lock: recreate the primary without it.
	ctx := context.Background()
	require.NoError(t, f.primary.CreateBucket(ctx, "plain", false))
	require.NoError(t, f.primary.SetVersioning(ctx, "plain", true))
	for _, name := range repoFiles {
		_, err := f.primary.PutObject(ctx, "plain", repoKey("shop", name), []byte(name), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`[{"metadata":{"name":"x"},"spec":{"pod":{"namespace":"shop","name":"db-0"},"uploaderType":"kopia"}}]`))
	require.NoError(t, zw.Close())
	_, err := f.primary.PutObject(ctx, "plain", backupPrefix(veleroPrefix, backupName)+backupName+"-podvolumebackups.json.gz", gz.Bytes(), objectstore.PutOptions{})
	require.NoError(t, err)
	_, err = f.primary.PutObject(ctx, "plain", backupPrefix(veleroPrefix, backupName)+"velero-backup.json", []byte(f.backupJSON("Completed")), objectstore.PutOptions{})
	require.NoError(t, err)
	spec := f.spec()
	spec.Primary.Bucket, spec.Copies, spec.Canary.Disabled = "plain", nil, true
	res := check(t, spec)
	ret := findingByID(t, res, idRepoRetention)
	assert.Equal(t, finding.StatusFail, ret.Status)
	assert.Contains(t, ret.Message, "none of the 6 object versions of the kopia repository of namespace shop is protected: the bucket has no object lock")
	assert.Equal(t, 6, repoResult(t, res, "shop").Versions)
}

// TestReadPodVolumeBackups_UploaderTypes: the repository type follows
// Velero's rule; an unknown uploader is an error naming the
// PodVolumeBackup.
func TestReadPodVolumeBackups_UploaderTypes(t *testing.T) {
	assert.Equal(t, "kopia", pvbRepositoryType("kopia"))
	assert.Equal(t, "restic", pvbRepositoryType("restic"))
	assert.Equal(t, "restic", pvbRepositoryType(""), "PodVolumeBackups older than the uploader type are restic's")
	assert.Equal(t, "", pvbRepositoryType("rsync"))

	f := newFixture(t)
	f.build()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`[{"metadata":{"name":"pvb-1"},"spec":{"pod":{"namespace":"shop","name":"db-0"},"uploaderType":"rsync"}}]`))
	require.NoError(t, zw.Close())
	f.putBoth(backupPrefix(veleroPrefix, backupName)+backupName+"-podvolumebackups.json.gz", gz.String())
	spec := f.spec()
	spec.Copies = nil
	res, err := CheckProtection(context.Background(), spec)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `PodVolumeBackup pvb-1 of backup `+backupName+`: uploader type "rsync"`)
	f2 := findingByID(t, res, idRepoObjects)
	assert.True(t, strings.HasPrefix(f2.Message, "cannot tell which repositories hold the volume data of backup "+backupName))
}

// TestCheckProtection_RepositoryCopyAfterTheBackup: later backups keep
// writing to the repository; blobs the primary wrote more than a minute
// after the backup completed are not the backup's to find on a copy made
// after it, and are counted apart; a blob written before is.
func TestCheckProtection_RepositoryCopyAfterTheBackup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		written time.Duration // after the backup completed
		failing []string
		later   int
	}{
		{"written two hours after", 2 * time.Hour, []string{}, 1},
		{"written within the clock allowance", 30 * time.Second, []string{"protection.copy.offsite"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.completed = t0.Add(10 * time.Minute)
			f.withVolumes()
			ctx := context.Background()
			f.now = f.completed.Add(tc.written)
			_, err := f.primary.PutObject(ctx, bucketPrimary, repoKey("shop", "p9later"), []byte("a later backup's blob"), objectstore.PutOptions{})
			require.NoError(t, err)
			// The copy holds a blob both wrote later under the same key, at
			// its own (later) time: left out with it.
			_, err = f.primary.PutObject(ctx, bucketPrimary, repoKey("shop", "p9both"), []byte("blob"), objectstore.PutOptions{})
			require.NoError(t, err)
			f.now = f.now.Add(time.Hour)
			_, err = f.offsite.PutObject(ctx, bucketOffsite, repoKey("shop", "p9both"), []byte("blob"), objectstore.PutOptions{})
			require.NoError(t, err)

			res := check(t, f.spec())
			want := append([]string{}, tc.failing...)
			assert.Equal(t, want, failing(res), "%s", dump(res))
			c := res.Copies[0].Comparison
			if tc.later > 0 {
				assert.Equal(t, 2, c.Later, "the blob missing and the blob on both sides")
				assert.Zero(t, c.Missing)
				msg := findingByID(t, res, "protection.copy.offsite").Message
				assert.Contains(t, msg, "2 written after the backup, not compared")
				assert.Contains(t, findingByID(t, res, "protection.copy.offsite").Expected, "written until 2026-03-01T03:11:00Z (a minute after backup "+backupName+" completed)")
			} else {
				assert.Zero(t, c.Later)
				assert.Equal(t, 1, c.Missing)
				assert.Equal(t, "- kopia/shop/p9later", c.Objects[0].Combined())
			}
		})
	}
}
