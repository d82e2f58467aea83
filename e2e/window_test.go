//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/backup"
	"github.com/firedrill-dev/firedrill/scenarios"
)

// TestVerify_RecoveryWindow (issue 22): a daily schedule's history built
// in a bucket of the test's own (object lock, GOVERNANCE 1 day) from
// server-side copies of the lab's latest real backup, each
// velero-backup.json carrying chosen times: Completed runs 0, 1, 4, 5 and
// 6 days before the latest due time, a Failed one 3 days before, none 2
// days before. With retention 4d, maxRetention 5d12h and an RPO of 36h,
// `firedrill verify` reports the missed run, the failed backup, the 3-day
// gap over the RPO and the 6-day-old backup past maxRetention with its
// object count and bytes, each at its time, and the lock of every backup
// in the window; --window-sample checks the number asked for.
func TestVerify_RecoveryWindow(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 5*time.Minute)
	p := l.Stores["primary"]
	mc := p.minioClient(t)
	bucket := "e2e-window-" + randomSuffix()
	ensureLockedBucket(t, ctx, s3Store(t, l, "primary"), bucket)
	t.Cleanup(func() {
		removeVersions(t, l, "primary", bucket, "")
		if err := mc.RemoveBucket(testContext(t, time.Minute), bucket); err != nil {
			t.Logf("remove bucket %s: %v", bucket, err)
		}
	})

	// The real backup the history is copied from.
	src := p.Prefix + "/backups/" + l.LatestBackup + "/"
	var real velerov1.Backup
	obj, err := mc.GetObject(ctx, p.Bucket, src+"velero-backup.json", minio.GetObjectOptions{})
	require.NoError(t, err)
	require.NoError(t, json.NewDecoder(obj).Decode(&real))
	var files []minio.ObjectInfo
	for o := range mc.ListObjects(ctx, p.Bucket, minio.ListObjectsOptions{Prefix: src, Recursive: true}) {
		require.NoError(t, o.Err)
		if !strings.HasSuffix(o.Key, "/velero-backup.json") {
			files = append(files, o)
		}
	}
	require.NotEmpty(t, files)

	now := time.Now().UTC()
	base := now.Add(-time.Hour).Truncate(time.Minute) // the latest due time
	schedule := "e2e-window-" + randomSuffix()
	cron := fmt.Sprintf("%d %d * * *", base.Minute(), base.Hour())
	const prefix = "lab"
	// put writes backup name created at, phase, as copies of the real
	// backup's objects, and returns its objects and bytes.
	put := func(at time.Time, phase velerov1.BackupPhase, errs int) (string, int, int64) {
		name := schedule + "-" + at.Format("20060102150405")
		dst := prefix + "/backups/" + name + "/"
		var size int64
		for _, f := range files {
			key := dst + strings.ReplaceAll(strings.TrimPrefix(f.Key, src), l.LatestBackup, name)
			_, err := mc.CopyObject(ctx, minio.CopyDestOptions{Bucket: bucket, Object: key}, minio.CopySrcOptions{Bucket: p.Bucket, Object: f.Key})
			require.NoError(t, err)
			size += f.Size
		}
		vb := real.DeepCopy()
		vb.Name, vb.CreationTimestamp = name, metav1.NewTime(at)
		vb.Labels = map[string]string{velerov1.ScheduleNameLabel: schedule}
		vb.Spec.TTL = metav1.Duration{Duration: 24 * time.Hour}
		vb.Status.Phase, vb.Status.Errors = phase, errs
		vb.Status.StartTimestamp = &metav1.Time{Time: at.Add(time.Second)}
		vb.Status.CompletionTimestamp = &metav1.Time{Time: at.Add(time.Minute)}
		vb.Status.Expiration = &metav1.Time{Time: at.Add(24 * time.Hour)}
		data, err := json.Marshal(vb)
		require.NoError(t, err)
		_, err = mc.PutObject(ctx, bucket, dst+"velero-backup.json", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "application/json"})
		require.NoError(t, err)
		return name, len(files) + 1, size + int64(len(data))
	}
	day := 24 * time.Hour
	newest, _, _ := put(base, velerov1.BackupPhaseCompleted, 0)
	b1, _, _ := put(base.Add(-day), velerov1.BackupPhaseCompleted, 0)
	failed, _, _ := put(base.Add(-3*day), velerov1.BackupPhaseFailed, 2)
	b4, _, _ := put(base.Add(-4*day), velerov1.BackupPhaseCompleted, 0)
	put(base.Add(-5*day), velerov1.BackupPhaseCompleted, 0)
	old, oldObjects, oldBytes := put(base.Add(-6*day), velerov1.BackupPhaseCompleted, 0)

	sc, _ := labScenario(t, l, "win")
	sc.Spec.Storage.Primary.Bucket, sc.Spec.Storage.Primary.Prefix = bucket, prefix
	sc.Spec.Storage.Primary.ObjectLock = &scenarios.ObjectLock{Mode: scenarios.LockGovernance, AllowGovernance: true}
	sc.Spec.Storage.Copies = nil
	sc.Spec.Backups.Schedule, sc.Spec.Backups.Window, sc.Spec.Backups.BackupName = schedule, nil, ""
	sc.Spec.Backups.ScheduleCron = cron
	sc.Spec.Objectives.Retention = scenarios.Duration(4 * day)
	sc.Spec.Objectives.MaxRetention = scenarios.Duration(5*day + 12*time.Hour)
	sc.Spec.Objectives.RPO = scenarios.Duration(36 * time.Hour)
	file := writeScenario(t, sc)

	type out struct {
		Backup   string `json:"backup"`
		Findings []struct {
			ID, Status, Message string
		} `json:"findings"`
		Window *backup.Window `json:"window"`
	}
	verify := func(args ...string) out {
		res := firedrill(t, ctx, nil, append([]string{"verify", file, "-o", "json", "--log-level", "warn"}, args...)...)
		require.Equal(t, 3, res.code, "a window with a gap over the RPO fails\nstdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
		var o out
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &o), res.stdout)
		require.NotNil(t, o.Window, res.stdout)
		return o
	}
	o := verify()
	w := o.Window
	assert.Equal(t, newest, o.Backup)
	assert.Equal(t, schedule, w.Schedule)
	assert.Equal(t, cron, w.Cron)
	assert.Equal(t, 6, w.BackupCount)
	assert.True(t, w.ReachesBack, "the backup of 4 days before anchors the window")
	require.NotNil(t, w.Newest)
	assert.Equal(t, newest, w.Newest.Name)

	assert.Equal(t, []backup.MissedRun{{Expected: base.Add(-2 * day)}}, w.MissedRuns)
	require.Len(t, w.NotCompleted, 1)
	assert.Equal(t, failed, w.NotCompleted[0].Name)
	assert.Equal(t, "Failed", w.NotCompleted[0].Phase)
	assert.Equal(t, 2, w.NotCompleted[0].Errors)

	require.NotNil(t, w.WorstGap)
	assert.Equal(t, b4, w.WorstGap.FromBackup)
	assert.Equal(t, b1, w.WorstGap.ToBackup)
	assert.Equal(t, base.Add(-4*day+time.Second), w.WorstGap.From)
	assert.Equal(t, (3 * day).Seconds(), w.WorstGap.Seconds)
	assert.True(t, w.WorstGap.OverRPO)

	require.Len(t, w.PastMaxRetention, 1, "%+v", w.PastMaxRetention)
	r := w.PastMaxRetention[0]
	assert.Equal(t, backup.Retained{Kind: backup.RetainedBackup, Subject: old, Since: base.Add(-6 * day), Until: base.Add(-5 * day),
		ExcessSeconds: r.ExcessSeconds, Objects: oldObjects, Bytes: oldBytes}, r)
	assert.InDelta(t, (12*time.Hour + time.Hour).Seconds(), r.ExcessSeconds, 120, "6d1h old against 5d12h")

	assert.Equal(t, "all", w.Lock.Checked)
	assert.Equal(t, []string{b4, failed, b1, newest}, w.Lock.Backups,
		"the backups created since now-4d, oldest first, after the one before the window's start that it reaches back to")
	assert.Empty(t, w.Lock.Short)

	byID := map[string][]string{}
	for _, f := range o.Findings {
		byID[f.ID+" "+f.Status] = append(byID[f.ID+" "+f.Status], f.Message)
	}
	assert.Contains(t, byID["window.missed-run warn"], fmt.Sprintf("the run of %q due %s left no backup", cron, base.Add(-2*day).Format(time.RFC3339)))
	assert.Len(t, byID["window.gap fail"], 1)
	assert.Len(t, byID["window.failed-backup warn"], 1)
	assert.Len(t, byID["window.past-max-retention fail"], 1)
	assert.Contains(t, strings.Join(byID["window.past-max-retention fail"], ""), fmt.Sprintf("(%d objects, ", oldObjects))
	assert.Equal(t, []string{"every object version of each of the 4 backups (the 3 in the window and the one before its start that it reaches back to) is locked until at least its backup's expiration"}, byID["window.unlocked pass"])

	// A seeded sample: the number asked for, the same for the same seed.
	s1 := verify("--window-sample", "2", "--window-seed", "7").Window.Lock
	s2 := verify("--window-sample", "2", "--window-seed", "7").Window.Lock
	assert.Equal(t, "sample", s1.Checked)
	if assert.NotNil(t, s1.Seed) {
		assert.Equal(t, int64(7), *s1.Seed)
	}
	assert.Len(t, s1.Backups, 2)
	assert.Equal(t, s1.Backups, s2.Backups)
}
