//go:build e2e

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRestore_UnfinishedBackupSaidAtOnce: a scenario names a backup whose
// velero-backup.json in the bucket still says InProgress (issue 14, item
// 3): Velero's sync never brings it to the target, and `firedrill
// restore` says so from the bucket's record, with the phase and why,
// instead of "not found" after waiting for the sync. The bucket is the
// test's own (no object lock), removed at the end.
func TestRestore_UnfinishedBackupSaidAtOnce(t *testing.T) {
	l := lab(t)
	bin := cliBinary(t)
	ctx := testContext(t, 3*time.Minute)
	mc := l.Stores["primary"].minioClient(t)
	bucket := "e2e-unfinished-" + randomSuffix()
	name := "e2e-unfinished-" + randomSuffix()
	key := "lab/backups/" + name + "/velero-backup.json"
	require.NoError(t, mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}))
	t.Cleanup(func() {
		ctx := testContext(t, time.Minute)
		_ = mc.RemoveObject(ctx, bucket, key, minio.RemoveObjectOptions{})
		assert.NoError(t, mc.RemoveBucket(ctx, bucket))
	})
	now := time.Now().UTC().Truncate(time.Second)
	record := fmt.Sprintf(`{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{"name":%q,"namespace":"velero"},"spec":{"ttl":"12h0m0s"},"status":{"phase":"InProgress","startTimestamp":%q,"expiration":%q}}`,
		name, now.Format(time.RFC3339), now.Add(12*time.Hour).Format(time.RFC3339))
	_, err := mc.PutObject(ctx, bucket, key, strings.NewReader(record), int64(len(record)), minio.PutObjectOptions{ContentType: "application/json"})
	require.NoError(t, err)

	sc, _ := labScenario(t, l, "uf")
	sc.Spec.Storage.Primary.Bucket = bucket
	sc.Spec.Storage.Primary.Prefix = "lab"
	sc.Spec.Backups.Schedule, sc.Spec.Backups.Window, sc.Spec.Backups.BackupName = "", nil, name

	cmd := exec.CommandContext(ctx, bin, "restore", writeScenario(t, sc))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "want an error exit, got %v\n%s", err, stderr.String())
	assert.Equal(t, 1, ee.ExitCode(), stderr.String())
	msg := stderr.String()
	assert.Contains(t, msg, fmt.Sprintf("backup %q is InProgress in its bucket (s3://%s/%s at %s)", name, bucket, key, l.Stores["primary"].Endpoint))
	assert.Contains(t, msg, "no cluster will ever have it to restore")
	t.Log(msg)
	assert.NotContains(t, msg, "waited", "said from the bucket's record, not after waiting for the sync")
}
