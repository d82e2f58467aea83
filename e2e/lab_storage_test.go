//go:build e2e

package e2e

import (
	"path"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLab_SeededBackupsLockedAndCopied checks, with minio-go rather than
// firedrill's code, that every object version of each seeded backup is
// locked in COMPLIANCE mode, that the off-site MinIO holds the same
// versions, and that the off-cloud Versity bucket holds the same objects.
func TestLab_SeededBackupsLockedAndCopied(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 2*time.Minute)
	primary, offsite, offcloud := l.Stores["primary"], l.Stores["offsite"], l.Stores["offcloud"]
	pc, oc, cc := primary.minioClient(t), offsite.minioClient(t), offcloud.minioClient(t)

	for _, b := range l.Backups {
		t.Run(b, func(t *testing.T) {
			prefix := path.Join(primary.Prefix, "backups", b) + "/"
			files := map[string]bool{}
			versions := 0
			for o := range pc.ListObjects(ctx, primary.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
				require.NoError(t, o.Err)
				if o.IsDeleteMarker {
					continue
				}
				versions++
				files[strings.TrimPrefix(o.Key, prefix)] = true

				mode, until, err := pc.GetObjectRetention(ctx, primary.Bucket, o.Key, o.VersionID)
				if assert.NoError(t, err, "retention of %s@%s", o.Key, o.VersionID) {
					assert.Equal(t, minio.Compliance, *mode, "%s@%s", o.Key, o.VersionID)
					assert.True(t, until.After(time.Now()), "%s@%s retained until %s, already past", o.Key, o.VersionID, until)
				}
				rep, err := oc.StatObject(ctx, offsite.Bucket, o.Key, minio.StatObjectOptions{VersionID: o.VersionID})
				if assert.NoError(t, err, "off-site copy of %s@%s", o.Key, o.VersionID) {
					assert.Equal(t, o.Size, rep.Size, "off-site size of %s", o.Key)
					assert.Equal(t, o.ETag, rep.ETag, "off-site ETag of %s", o.Key)
				}
			}
			assert.True(t, files[b+".tar.gz"], "backup tarball missing; objects: %v", files)
			assert.True(t, files["velero-backup.json"], "velero-backup.json missing; objects: %v", files)
			assert.GreaterOrEqual(t, versions, 5, "object versions of backup %s", b)

			latest := 0
			for o := range pc.ListObjects(ctx, primary.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
				require.NoError(t, o.Err)
				latest++
				cp, err := cc.StatObject(ctx, offcloud.Bucket, o.Key, minio.StatObjectOptions{})
				if assert.NoError(t, err, "off-cloud copy of %s", o.Key) {
					assert.Equal(t, o.Size, cp.Size, "off-cloud size of %s", o.Key)
					assert.Equal(t, strings.Trim(o.ETag, `"`), strings.Trim(cp.ETag, `"`), "off-cloud ETag (MD5) of %s", o.Key)
				}
			}
			assert.Equal(t, len(files), latest, "every object has a latest version")
		})
	}
}

// TestLab_BucketsLockedByDefault checks each bucket's own configuration:
// object lock on, COMPLIANCE by default, on both implementations.
func TestLab_BucketsLockedByDefault(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, time.Minute)
	for name, s := range l.Stores {
		t.Run(name, func(t *testing.T) {
			mc := s.minioClient(t)
			enabled, mode, validity, unit, err := mc.GetObjectLockConfig(ctx, s.Bucket)
			require.NoError(t, err)
			assert.Equal(t, "Enabled", enabled)
			if assert.NotNil(t, mode) {
				assert.Equal(t, minio.Compliance, *mode)
			}
			if assert.NotNil(t, validity) && assert.NotNil(t, unit) {
				assert.Equal(t, uint(1), *validity)
				assert.Equal(t, minio.Days, *unit)
			}
		})
	}
}
