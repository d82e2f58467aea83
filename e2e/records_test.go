//go:build e2e

package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/firedrill-dev/firedrill/drill"
	"github.com/firedrill-dev/firedrill/drill/recordtest"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
)

// TestRecords_S3ConformanceOnMinIO runs the drill records conformance
// suite against the lab's MinIO: each subtest keeps its drills under a
// prefix of its own in the lab's history bucket, removed afterwards,
// through a store configured as 'firedrill run --history' configures one
// (the lab's backup bucket protected by the write guard).
func TestRecords_S3ConformanceOnMinIO(t *testing.T) {
	l := lab(t)
	bucket := os.Getenv("FIREDRILL_LAB_HISTORY_BUCKET")
	require.NotEmpty(t, bucket, "FIREDRILL_LAB_HISTORY_BUCKET")
	st := historyStore(t, l)
	mc := l.Stores["primary"].minioClient(t)
	root := "e2e-records-" + randomSuffix()
	recordtest.Suite{New: func(t *testing.T) drill.Records {
		prefix := root + "/" + randomSuffix()
		t.Cleanup(func() { removePrefix(t, mc, bucket, prefix+"/") })
		return &drill.S3Records{Store: st, Bucket: bucket, Prefix: prefix}
	}}.Run(t)
}

// TestRecords_S3WriteGuardKeepsRecordsOutOfTheBackupBucket: records
// pointed at the lab's backup bucket are refused by the write guard
// before any request, and the bucket gets nothing under the prefix.
func TestRecords_S3WriteGuardKeepsRecordsOutOfTheBackupBucket(t *testing.T) {
	l := lab(t)
	primary := l.Stores["primary"]
	rs := &drill.S3Records{Store: historyStore(t, l), Bucket: primary.Bucket, Prefix: "e2e-records-" + randomSuffix()}
	err := rs.WriteFile(testContext(t, time.Minute), "fd-guard", drill.ReportFile, []byte("{}"))
	require.ErrorIs(t, err, objectstore.ErrWriteRefused)
	assert.Contains(t, err.Error(), primary.Bucket)
	_, err = primary.minioClient(t).StatObject(testContext(t, time.Minute), primary.Bucket, rs.Prefix+"/drills/fd-guard/report.json", minio.StatObjectOptions{})
	assert.Error(t, err, "nothing was written into the backup bucket")
}

// historyStore is firedrill's client for the lab's primary MinIO with
// the write guard of a drill of the lab: the backup bucket protected.
func historyStore(t *testing.T, l labEnv) *objectstore.S3 {
	t.Helper()
	primary := l.Stores["primary"]
	st, err := objectstore.New(context.Background(), objectstore.Config{
		Endpoint: primary.Endpoint, Region: primary.Region, PathStyle: true,
		Credentials: &objectstore.Credentials{AccessKeyIDEnv: storeEnv("primary") + "ACCESS_KEY", SecretAccessKeyEnv: storeEnv("primary") + "SECRET_KEY"},
		WriteGuard: objectstore.NewWriteGuard(objectstore.ProtectedBucket{Role: "the lab's backup bucket",
			Endpoint: primary.Endpoint, Bucket: primary.Bucket}),
	})
	require.NoError(t, err)
	return st
}

// removePrefix removes every version of every object under prefix.
func removePrefix(t *testing.T, mc *minio.Client, bucket, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			t.Logf("list %s/%s: %v", bucket, prefix, o.Err)
			return
		}
		if err := mc.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{VersionID: o.VersionID}); err != nil {
			t.Logf("remove %s/%s: %v", bucket, o.Key, err)
		}
	}
}
