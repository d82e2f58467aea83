//go:build e2e

package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// The repository tests write a Velero prefix of their own, run-<random>,
// into dedicated buckets with object lock (default retention GOVERNANCE,
// 1 day), one per lab store: a backup of the lab's namespaces whose
// PodVolumeBackup names the kopia repository of shop-data, and that
// repository's objects, named as kopia names them. The lab's own buckets
// are only read. Each test removes its versions at the end, bypassing
// the governance retention (the lab's root credentials may); what a
// server refuses to remove runs out within the day.

// repoBucket is the dedicated bucket of the repository tests on a store.
func repoBucket(store string) string { return "e2e-prot-repo-" + store }

// repoBlobs are the repository's objects, relative to its prefix.
var repoBlobs = map[string]string{
	"kopia.repository":  `{"tool":"kopia","uniqueID":"e2e"}`,
	"kopia.blobcfg":     `{}`,
	"p0a1b2c3d4e5f6a7b": "pack blob one: the volume's file contents",
	"p1b2c3d4e5f6a7b8c": "pack blob two: more of the volume's data",
	"q2c3d4e5f6a7b8c9d": "metadata pack: directory entries",
	"xn0_3d4e5f6a7b8c9": "index blob: where each content lives",
}

// repoFixture is the Velero prefix of one test run in a dedicated bucket.
type repoFixture struct {
	store  string
	st     *objectstore.S3
	bucket string
	prefix string
	backup string
	// files are the objects, keys relative to the prefix.
	files map[string]string
}

// rawS3 is an SDK client for a lab store, for what firedrill never does:
// removing locked test versions with the governance bypass.
func rawS3(t *testing.T, l labEnv, store string) *s3.Client {
	s := l.Stores[store]
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint), Region: s.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// ensureLockedBucket creates bucket on store with object lock unless it
// exists, and sets its default retention to GOVERNANCE, 1 day.
func ensureLockedBucket(t *testing.T, ctx context.Context, st *objectstore.S3, bucket string) {
	t.Helper()
	if err := st.CreateBucket(ctx, bucket, true); err != nil && !strings.Contains(err.Error(), "BucketAlready") {
		require.NoError(t, err)
	}
	require.NoError(t, st.SetObjectLockConfig(ctx, bucket, objectstore.LockConfig{Enabled: true, DefaultMode: objectstore.Governance, DefaultDays: 1}))
}

// removeVersions deletes every version under prefix, bypassing governance
// retention; failures are logged, not fatal: the versions run out.
func removeVersions(t *testing.T, l labEnv, store, bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := rawS3(t, l, store)
	in := &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &prefix}
	for {
		out, err := c.ListObjectVersions(ctx, in)
		if err != nil {
			t.Logf("clean-up of s3://%s/%s on %s: %v", bucket, prefix, store, err)
			return
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, d := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: d.Key, VersionId: d.VersionId})
		}
		if len(ids) > 0 {
			res, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: ids},
				BypassGovernanceRetention: aws.Bool(true), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
			switch {
			case err != nil:
				t.Logf("clean-up of s3://%s/%s on %s: %v", bucket, prefix, store, err)
				return
			case len(res.Errors) > 0:
				t.Logf("clean-up of s3://%s/%s on %s: %d versions kept, e.g. %s: %s", bucket, prefix, store,
					len(res.Errors), aws.ToString(res.Errors[0].Key), aws.ToString(res.Errors[0].Message))
				return
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
}

// newRepoFixture writes, under a new prefix of store's dedicated bucket,
// a Completed backup of the lab's schedule (namespaces shop and
// shop-data, TTL 12h) with one PodVolumeBackup of shop-data by kopia,
// and the kopia repository of shop-data.
func newRepoFixture(t *testing.T, l labEnv, store string) *repoFixture {
	t.Helper()
	ctx := testContext(t, time.Minute)
	f := &repoFixture{store: store, st: s3Store(t, l, store), bucket: repoBucket(store),
		prefix: "run-" + randomSuffix(), backup: "shop-daily-e2e-" + randomSuffix()}
	ensureLockedBucket(t, ctx, f.st, f.bucket)
	t.Cleanup(func() { removeVersions(t, l, store, f.bucket, f.prefix+"/") })

	now := metav1.NewTime(time.Now().UTC().Truncate(time.Second))
	exp := metav1.NewTime(now.Add(12 * time.Hour))
	vb, err := json.Marshal(velerov1.Backup{
		TypeMeta: metav1.TypeMeta{APIVersion: "velero.io/v1", Kind: "Backup"},
		ObjectMeta: metav1.ObjectMeta{Name: f.backup, Namespace: "velero",
			Labels: map[string]string{velerov1.ScheduleNameLabel: "shop-daily"}},
		Spec:   velerov1.BackupSpec{TTL: metav1.Duration{Duration: 12 * time.Hour}, IncludedNamespaces: []string{"shop", "shop-data"}},
		Status: velerov1.BackupStatus{Phase: velerov1.BackupPhaseCompleted, StartTimestamp: &now, CompletionTimestamp: &now, Expiration: &exp},
	})
	require.NoError(t, err)
	var pvbs bytes.Buffer
	zw := gzip.NewWriter(&pvbs)
	require.NoError(t, json.NewEncoder(zw).Encode([]velerov1.PodVolumeBackup{{
		ObjectMeta: metav1.ObjectMeta{Name: f.backup + "-db", Namespace: "velero"},
		Spec: velerov1.PodVolumeBackupSpec{Pod: corev1.ObjectReference{Kind: "Pod", Namespace: "shop-data", Name: "db-0"},
			Volume: "data", BackupStorageLocation: "default", UploaderType: "kopia"},
		Status: velerov1.PodVolumeBackupStatus{Phase: velerov1.PodVolumeBackupPhaseCompleted, SnapshotID: "k0e2e"},
	}}))
	require.NoError(t, zw.Close())
	dir := "backups/" + f.backup + "/"
	f.files = map[string]string{
		dir + "velero-backup.json":                   string(vb),
		dir + f.backup + ".tar.gz":                   "resources of " + f.backup,
		dir + f.backup + "-logs.gz":                  "logs of " + f.backup,
		dir + f.backup + "-podvolumebackups.json.gz": pvbs.String(),
		dir + f.backup + "-resource-list.json.gz":    "resource list of " + f.backup,
		"kopia/shop-data/" + "kopia.repository":      repoBlobs["kopia.repository"],
		"kopia/shop-data/" + "kopia.blobcfg":         repoBlobs["kopia.blobcfg"],
		"kopia/shop-data/" + "p0a1b2c3d4e5f6a7b":     repoBlobs["p0a1b2c3d4e5f6a7b"],
		"kopia/shop-data/" + "p1b2c3d4e5f6a7b8c":     repoBlobs["p1b2c3d4e5f6a7b8c"],
		"kopia/shop-data/" + "q2c3d4e5f6a7b8c9d":     repoBlobs["q2c3d4e5f6a7b8c9d"],
		"kopia/shop-data/" + "xn0_3d4e5f6a7b8c9":     repoBlobs["xn0_3d4e5f6a7b8c9"],
	}
	f.write(t, ctx, f.st, f.bucket, nil)
	return f
}

// write puts the fixture's files under its prefix in bucket on st;
// change maps a relative key to its content there ("" leaves it out).
func (f *repoFixture) write(t *testing.T, ctx context.Context, st *objectstore.S3, bucket string, change map[string]string) {
	t.Helper()
	for k, v := range f.files {
		if c, ok := change[k]; ok {
			if v = c; v == "" {
				continue
			}
		}
		_, err := st.PutObject(ctx, bucket, f.prefix+"/"+k, []byte(v), objectstore.PutOptions{})
		require.NoError(t, err)
	}
}

// TestProtection_RepositoryRetentionShort: objects of the repository a
// backup's volume data is in, locked for less than the backup's life, are
// reported by name, on MinIO and on Versity; the others pass.
func TestProtection_RepositoryRetentionShort(t *testing.T) {
	l := lab(t)
	for _, store := range []string{"primary", "offcloud"} {
		t.Run(map[string]string{"primary": "MinIO", "offcloud": "Versity"}[store], func(t *testing.T) {
			f := newRepoFixture(t, l, store)
			ctx := testContext(t, 2*time.Minute)
			// Two blobs locked for two hours only: the backup expires in 12.
			short := objectstore.PutOptions{Retention: objectstore.Retention{Mode: objectstore.Governance, RetainUntil: time.Now().Add(2 * time.Hour).Truncate(time.Second)}}
			for _, name := range []string{"p7short0000000001", "p7short0000000002"} {
				_, err := f.st.PutObject(ctx, f.bucket, f.prefix+"/kopia/shop-data/"+name, []byte("blob "+name), short)
				require.NoError(t, err)
			}

			res, err := backup.CheckProtection(ctx, backup.ProtectionSpec{
				Primary: backup.PrimaryBucket{Store: f.st, Bucket: f.bucket, Prefix: f.prefix},
				Lock:    backup.LockRequirement{Mode: objectstore.Governance, MinRetention: 12 * time.Hour},
				Backup:  backup.BackupRef{Name: f.backup},
				Canary:  backup.CanarySpec{Disabled: true},
			})
			logFindings(t, res)
			require.NoError(t, err)
			assert.ElementsMatch(t, []string{"protection.repository.retention", "protection.repository.object-retention"}, uniq(failingIDs(res)))

			require.Len(t, res.Repositories, 1)
			r := res.Repositories[0]
			assert.Equal(t, f.prefix+"/kopia/shop-data/", r.Prefix)
			assert.Equal(t, 1, r.PodVolumeBackups)
			assert.Equal(t, 8, r.Objects)
			assert.Equal(t, 8, r.Versions)
			assert.Equal(t, 2, r.Short)

			var named []string
			for _, fd := range res.Findings {
				if fd.ID == "protection.repository.object-retention" {
					named = append(named, fd.Subject)
					assert.Contains(t, fd.Message, "before the required")
					assert.Contains(t, fd.Actual, "GOVERNANCE until")
				}
			}
			require.Len(t, named, 2)
			for i, name := range []string{"p7short0000000001", "p7short0000000002"} {
				assert.Contains(t, named[i], "s3://"+f.bucket+"/"+f.prefix+"/kopia/shop-data/"+name+"?versionId=")
			}
			sum := findingOf(t, res, "protection.repository.retention")
			assert.Equal(t, finding.StatusFail, sum.Status)
			assert.Contains(t, sum.Message, "6 of 8 object versions of the kopia repository of namespace shop-data")
		})
	}
}

// TestVerify_RepositoryObjectMissingOnCopy: `firedrill verify` of a
// scenario whose off-cloud copy (Versity) lacks one blob of the
// repository the backup's volume data is in and holds another changed
// names both and exits 3; the faithful off-site copy (MinIO) passes.
func TestVerify_RepositoryObjectMissingOnCopy(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 3*time.Minute)
	f := newRepoFixture(t, l, "primary")
	missing, changed := "kopia/shop-data/p1b2c3d4e5f6a7b8c", "kopia/shop-data/xn0_3d4e5f6a7b8c9"
	for _, c := range []struct {
		store  string
		change map[string]string
	}{
		{"offsite", nil},
		{"offcloud", map[string]string{missing: "", changed: strings.ToUpper(f.files[changed])}},
	} {
		st := s3Store(t, l, c.store)
		ensureLockedBucket(t, ctx, st, repoBucket(c.store))
		t.Cleanup(func() { removeVersions(t, l, c.store, repoBucket(c.store), f.prefix+"/") })
		f.write(t, ctx, st, repoBucket(c.store), c.change)
	}

	// A scenario of its own, for verify alone: the lab's scenario carries
	// checks this test has no need of.
	bucket := func(name, indent string) string {
		s := l.Stores[name]
		lock := "{mode: COMPLIANCE, allowGovernance: true, minRetention: 12h}"
		return fmt.Sprintf("%[1]sendpoint: %[2]s\n%[1]sregion: %[3]s\n%[1]sbucket: %[4]s\n%[1]sprefix: %[5]s\n%[1]spathStyle: true\n"+
			"%[1]scredentials: {accessKeyIDEnv: FIREDRILL_LAB_%[6]s_ACCESS_KEY, secretAccessKeyEnv: FIREDRILL_LAB_%[6]s_SECRET_KEY}\n%[1]sobjectLock: %[7]s\n",
			indent, s.Endpoint, s.Region, repoBucket(name), f.prefix, strings.ToUpper(name), lock)
	}
	yaml := "apiVersion: firedrill.dev/v1alpha1\nkind: Scenario\nmetadata: {name: e2e-verify-repo}\nspec:\n" +
		"  disaster: {summary: the repository copies are checked, lost: [sourceCluster], detection: test, lead: tester}\n" +
		"  objectives: {rto: 1h, rpo: 24h}\n" +
		"  backups: {schedule: shop-daily, includedNamespaces: [shop, shop-data]}\n" +
		"  storage:\n    primary:\n" + bucket("primary", "      ") +
		"    copies:\n      - name: offsite\n        kind: offsite\n        compare: {mode: checksum}\n" + bucket("offsite", "        ") +
		"      - name: offcloud\n        kind: offcloud\n        compare: {mode: content}\n" + bucket("offcloud", "        ") +
		"  target: {kubeconfig: " + l.ScratchKubeconfig + "}\n"
	file := filepath.Join(t.TempDir(), "e2e-verify-repo.yaml")
	require.NoError(t, os.WriteFile(file, []byte(yaml), 0o644))
	res := firedrill(t, ctx, nil, "verify", file, "-o", "json", "--log-level", "warn")
	require.Equal(t, 3, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var out backup.Result
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &out), res.stdout)
	assert.Equal(t, f.backup, out.Backup)
	var failed []string
	for _, fd := range out.Findings {
		if fd.Status == finding.StatusFail {
			failed = append(failed, fd.ID)
		}
	}
	assert.Equal(t, []string{"protection.copy.offcloud"}, failed, "%s", res.stdout)

	require.Len(t, out.Copies, 2)
	for _, c := range out.Copies {
		assert.Equal(t, []string{f.prefix + "/kopia/shop-data/"}, c.Repositories, "copy %s", c.Name)
	}
	offsite, offcloud := out.Copies[0].Comparison, out.Copies[1].Comparison
	assert.True(t, offsite.Clean(), "%+v", offsite)
	assert.Equal(t, len(f.files), offsite.Same)
	assert.Equal(t, 1, offcloud.Missing)
	assert.Equal(t, 1, offcloud.Differs)
	var got []string
	for _, o := range offcloud.Objects {
		got = append(got, o.Combined())
	}
	assert.Equal(t, []string{"- " + missing, "* " + changed}, got)
	msg := ""
	for _, fd := range out.Findings {
		if fd.ID == "protection.copy.offcloud" {
			msg = fd.Message
		}
	}
	assert.Contains(t, msg, fmt.Sprintf("missing %s", missing))
	assert.Contains(t, msg, "differs "+changed)
}
