//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// historyBucket makes a plain bucket (no object lock) of the lab's primary
// MinIO for one test and removes it, objects and all, afterwards. It never
// touches the lab's backup buckets.
// historyEnv is the environment naming the lab's primary MinIO as the
// shared history's endpoint, with its credentials.
func historyEnv(l labEnv) []string {
	primary := l.Stores["primary"]
	env := []string{
		"FIREDRILL_HISTORY_ENDPOINT=" + primary.Endpoint,
		"FIREDRILL_HISTORY_ACCESS_KEY_ID=" + primary.AccessKey,
		"FIREDRILL_HISTORY_SECRET_ACCESS_KEY=" + primary.SecretKey,
	}
	if primary.Region != "" {
		env = append(env, "FIREDRILL_HISTORY_REGION="+primary.Region)
	}
	return env
}

func historyBucket(t *testing.T, l labEnv) (*minio.Client, string) {
	t.Helper()
	mc := l.Stores["primary"].minioClient(t)
	bucket := "e2e-history-" + randomSuffix()
	ctx := testContext(t, time.Minute)
	require.NoError(t, mc.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: l.Stores["primary"].Region}))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err == nil {
				_ = mc.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{})
			}
		}
		if err := mc.RemoveBucket(ctx, bucket); err != nil {
			t.Logf("remove bucket %s: %v", bucket, err)
		}
	})
	return mc, bucket
}

// TestHistoryS3_DrillSharedAndListedFromTheBucket runs one real drill with
// --history, checks its record reached the bucket (read with minio-go),
// and lists it with 'firedrill history --history' from an empty state
// directory, so the listing can only come from the bucket.
func TestHistoryS3_DrillSharedAndListedFromTheBucket(t *testing.T) {
	l := lab(t)
	primary := l.Stores["primary"]
	mc, bucket := historyBucket(t, l)
	ctx := testContext(t, 5*time.Minute)
	file, targets := drillScenario(t, l, "e2e-history")
	history := "s3://" + bucket + "/team"
	env := append(drillEnv(), historyEnv(l)...)

	res := firedrill(t, ctx, env, "run", file, "--state-dir", t.TempDir(), "--history", history, "--history-path-style",
		"-o", "json", "--log-level", "warn")
	require.Equal(t, 0, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
	var rep drillReport
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	assert.Equal(t, "pass", rep.Result)
	assert.Equal(t, "missing", rep.finding("history.upload"), "no upload failed")
	assert.NotContains(t, res.stdout+res.stderr, primary.SecretKey)
	assertNamespacesGone(t, l, targets)

	for _, name := range []string{"report.json", "report.md", "report.html", "retrospective.md"} {
		key := "team/drills/" + rep.DrillID + "/" + name
		_, err := mc.StatObject(ctx, bucket, key, minio.StatObjectOptions{})
		assert.NoError(t, err, "s3://%s/%s", bucket, key)
	}
	obj, err := mc.GetObject(ctx, bucket, "team/drills/"+rep.DrillID+"/report.json", minio.GetObjectOptions{})
	require.NoError(t, err)
	var shared drillReport
	require.NoError(t, json.NewDecoder(obj).Decode(&shared))
	assert.Equal(t, "pass", shared.Result, "the bucket holds the final record, not a running one")
	assert.Equal(t, "passed", shared.phase("cleanup"))

	hist := firedrill(t, ctx, env, "history", "e2e-history", "--state-dir", t.TempDir(), "--history", history,
		"--history-path-style", "-o", "json")
	require.Equal(t, 0, hist.code, "stdout:\n%s\nstderr:\n%s", hist.stdout, hist.stderr)
	var hdoc struct {
		Drills []map[string]any `json:"drills"`
	}
	require.NoError(t, json.Unmarshal([]byte(hist.stdout), &hdoc))
	rows := hdoc.Drills
	require.Len(t, rows, 1)
	assert.Equal(t, rep.DrillID, rows[0]["drill_id"])
	assert.Equal(t, "pass", rows[0]["result"])
	assert.Equal(t, "s3://"+bucket+"/team/drills/"+rep.DrillID+"/report.html", rows[0]["report"])

	other := firedrill(t, ctx, env, "history", "namespace-deletion", "--history", history, "--history-path-style", "-o", "json")
	require.Equal(t, 0, other.code, other.stderr)
	var odoc struct {
		Schema  string           `json:"schema"`
		Drills  []map[string]any `json:"drills"`
		Outlook []map[string]any `json:"outlook"`
	}
	require.NoError(t, json.Unmarshal([]byte(other.stdout), &odoc), other.stdout)
	assert.Equal(t, "firedrill.dev/history/v2", odoc.Schema)
	assert.Empty(t, odoc.Drills, "filtered by scenario")
	assert.Empty(t, odoc.Outlook, "no outlook of a scenario never drilled here")

	// A bucket that does not exist is an error naming the endpoint and bucket.
	missing := firedrill(t, ctx, env, "history", "--history", "s3://"+bucket+"-missing/team", "--history-path-style")
	assert.Equal(t, 1, missing.code, missing.stderr)
	assert.Contains(t, missing.stderr, bucket+"-missing")
	assert.Contains(t, missing.stderr, primary.Endpoint)
	assert.NotContains(t, missing.stderr, primary.SecretKey)
}
