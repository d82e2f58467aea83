package backup

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

const day = 24 * time.Hour

// wnow is the fake clock of the window tests.
var wnow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// completed is a Completed backup created at at, started a second later.
func completed(name string, at time.Time) WindowBackup {
	return WindowBackup{Name: name, Phase: "Completed", Created: at, Started: at.Add(time.Second),
		Completed: at.Add(time.Minute), Expiration: at.Add(30 * day), TTLSeconds: (30 * day).Seconds(), Usable: true}
}

// daily are Completed backups at 03:00 UTC on each of the n days up to
// wnow's, oldest first.
func daily(n int) []WindowBackup {
	var bs []WindowBackup
	for i := n - 1; i >= 0; i-- {
		at := time.Date(2026, 3, 10-i, 3, 0, 0, 0, time.UTC)
		bs = append(bs, completed(fmt.Sprintf("daily-%s", at.Format("20060102150405")), at))
	}
	return bs
}

func mustCron(t *testing.T, expr string) *cronSchedule {
	t.Helper()
	cs, err := parseCron(expr)
	require.NoError(t, err)
	return cs
}

func TestJudgeWindow_Bounds(t *testing.T) {
	seven := windowObjectives{retention: 7 * day, rpo: 25 * time.Hour}
	tests := []struct {
		name       string
		bs         []WindowBackup
		now        time.Time
		reaches    bool
		missing    time.Duration
		oldest     string
		usable     int
		gapSeconds float64
		inWindow   int
	}{
		{
			// The oldest backup's recovery point is exactly now-7d.
			name: "exactly at the bound", bs: daily(8), now: time.Date(2026, 3, 10, 3, 0, 1, 0, time.UTC),
			reaches: true, oldest: "daily-20260303030000", usable: 8, gapSeconds: (day).Seconds(), inWindow: 7,
		},
		{
			// A second later the same backup no longer reaches back.
			// The oldest backup's recovery point is a second after now-7d.
			name: "a second short of the bound", bs: daily(7), now: time.Date(2026, 3, 11, 3, 0, 0, 0, time.UTC),
			missing: time.Second, oldest: "daily-20260304030000", usable: 7, gapSeconds: (day).Seconds(), inWindow: 7,
		},
		{name: "empty", now: wnow, missing: 7 * day},
		{
			name: "single backup", bs: daily(1), now: wnow,
			missing: 7*day - 9*time.Hour + time.Second, oldest: "daily-20260310030000", usable: 1,
			gapSeconds: (9*time.Hour - time.Second).Seconds(), inWindow: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := judgeWindow("daily", tt.bs, nil, tt.now, seven)
			assert.Equal(t, tt.reaches, w.ReachesBack)
			assert.Equal(t, tt.missing.Seconds(), w.MissingSeconds)
			assert.Equal(t, tt.usable, w.Usable)
			assert.Len(t, w.Backups, tt.inWindow)
			assert.Equal(t, tt.now.Add(-7*day), w.From)
			if tt.oldest == "" {
				assert.Nil(t, w.Oldest)
				assert.Nil(t, w.WorstGap)
				return
			}
			require.NotNil(t, w.Oldest)
			assert.Equal(t, tt.oldest, w.Oldest.Name)
			require.NotNil(t, w.WorstGap)
			assert.Equal(t, tt.gapSeconds, w.WorstGap.Seconds)
			assert.False(t, w.WorstGap.OverRPO)
		})
	}
}

func TestJudgeWindow_FailedBackupMissedRunAndGap(t *testing.T) {
	bs := daily(10)
	// 2026-03-05 failed, 2026-03-06 left nothing: the gap runs from the
	// 4th to the 7th.
	bs[4].Phase, bs[4].Usable, bs[4].Errors, bs[4].FailureReason = "Failed", false, 3, "node-agent timed out"
	bs = append(bs[:5], bs[6:]...)
	w := judgeWindow("daily", bs, mustCron(t, "0 3 * * *"), wnow, windowObjectives{retention: 7 * day, rpo: 25 * time.Hour})

	require.Len(t, w.NotCompleted, 1)
	assert.Equal(t, "daily-20260305030000", w.NotCompleted[0].Name)
	assert.Equal(t, "Failed", w.NotCompleted[0].Phase)
	assert.Equal(t, 3, w.NotCompleted[0].Errors)

	assert.Equal(t, 1, w.MissedRunCount)
	assert.Equal(t, []MissedRun{{Expected: time.Date(2026, 3, 6, 3, 0, 0, 0, time.UTC)}}, w.MissedRuns)

	require.NotNil(t, w.WorstGap)
	assert.Equal(t, "daily-20260304030000", w.WorstGap.FromBackup)
	assert.Equal(t, "daily-20260307030000", w.WorstGap.ToBackup)
	assert.Equal(t, (3 * day).Seconds(), w.WorstGap.Seconds)
	assert.True(t, w.WorstGap.OverRPO)
	assert.True(t, w.ReachesBack)

	fs := windowFindings(&w, "s3://b at x", objectstore.LockConfig{}, "")
	assert.Contains(t, messages(fs, IDWindowGap, finding.StatusFail), "worst gap 3d between usable backups, from 2026-03-04T03:00:01Z (daily-20260304030000) to 2026-03-07T03:00:01Z (daily-20260307030000): a disaster then would have lost more than the RPO 1d01h")
	assert.Contains(t, messages(fs, IDWindowMissedRun, finding.StatusWarn), `the run of "0 3 * * *" due 2026-03-06T03:00:00Z left no backup`)
	assert.Contains(t, messages(fs, IDWindowFailedBackup, finding.StatusWarn), "backup daily-20260305030000 of 2026-03-05T03:00:00Z is Failed (3 errors, 0 warnings): node-agent timed out")
}

// Without a cron expression no run is looked for, and the fix says what
// to name: the Schedule when the scenario names none, else its cron.
func TestWindowFindings_NoCronSaysWhatToName(t *testing.T) {
	hint := func(w Window) string {
		for _, f := range windowFindings(&w, "s3://b at x", objectstore.LockConfig{}, "no cron") {
			if f.ID == IDWindowMissedRun {
				require.Equal(t, finding.StatusWarn, f.Status)
				return f.Hint
			}
		}
		t.Fatal("no missed-run finding")
		return ""
	}
	assert.Contains(t, hint(Window{}), "name the Velero Schedule in spec.backups.schedule")
	assert.Contains(t, hint(Window{Schedule: "daily"}), "set spec.backups.scheduleCron")
}

// A run is not missed while its period is still open, nor before the
// schedule's first backup (that is a short window, not a missed run).
func TestJudgeWindow_MissedRunsOnlyInClosedPeriodsAfterTheFirstBackup(t *testing.T) {
	bs := daily(3) // the 8th, 9th and 10th
	w := judgeWindow("daily", bs, mustCron(t, "0 3 * * *"), time.Date(2026, 3, 11, 2, 59, 0, 0, time.UTC), windowObjectives{retention: 7 * day})
	assert.Zero(t, w.MissedRunCount)
	assert.False(t, w.ReachesBack)

	// The 10th's period closes at 03:00 on the 11th.
	w = judgeWindow("daily", bs[:2], mustCron(t, "0 3 * * *"), time.Date(2026, 3, 11, 3, 0, 0, 0, time.UTC), windowObjectives{})
	assert.Equal(t, []MissedRun{{Expected: time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC)}}, w.MissedRuns)
}

// Velero computes due times with robfig/cron in the schedule's CRON_TZ:
// 02:30 does not exist in Berlin on 2026-03-29, so no run is due that
// day; it exists twice on 2026-10-25, so two runs are due.
func TestJudgeWindow_CronTimeZoneAndDST(t *testing.T) {
	cs := mustCron(t, "CRON_TZ=Europe/Berlin 30 2 * * *")
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 30, 5, 0, berlin) }

	t.Run("spring forward", func(t *testing.T) {
		var bs []WindowBackup
		for _, d := range []int{27, 28, 30, 31} { // none on the 29th: Velero runs none
			bs = append(bs, completed(fmt.Sprintf("b%d", d), at(2026, 3, d, 2)))
		}
		w := judgeWindow("daily", bs, cs, time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC), windowObjectives{})
		assert.Zero(t, w.MissedRunCount, "%v", w.MissedRuns)
		assert.Equal(t, "b28", w.WorstGap.FromBackup)
		assert.Equal(t, (47 * time.Hour).Seconds(), w.WorstGap.Seconds)
	})
	t.Run("fall back", func(t *testing.T) {
		bs := []WindowBackup{
			completed("b24", at(2026, 10, 24, 2)),
			completed("b25-cest", time.Date(2026, 10, 25, 0, 30, 5, 0, time.UTC)), // 02:30 CEST
			completed("b26", at(2026, 10, 26, 2)),
		}
		w := judgeWindow("daily", bs, cs, time.Date(2026, 10, 27, 12, 0, 0, 0, time.UTC), windowObjectives{})
		require.Equal(t, 1, w.MissedRunCount)
		assert.Equal(t, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), w.MissedRuns[0].Expected)
		assert.Equal(t, "2026-10-25T02:30:00+01:00", w.MissedRuns[0].ExpectedLocal)
	})
}

func TestJudgeWindow_PastMaxRetention(t *testing.T) {
	bs := daily(10)
	for i := range bs {
		bs[i].TTLSeconds = (7 * day).Seconds()
	}
	bs[9].TTLSeconds = (90 * day).Seconds()
	bs[8].TTLSeconds = (90 * day).Seconds()
	w := judgeWindow("daily", bs, nil, wnow, windowObjectives{retention: 2 * day, maxRetention: 8 * day})
	require.Len(t, w.PastMaxRetention, 3)
	// Created the 1st and the 2nd at 03:00; the limit is the 2nd at 12:00.
	assert.Equal(t, Retained{Kind: RetainedBackup, Subject: "daily-20260301030000", Since: bs[0].Created, Until: bs[0].Expiration,
		ExcessSeconds: (33 * time.Hour).Seconds()}, w.PastMaxRetention[0])
	assert.Equal(t, "daily-20260302030000", w.PastMaxRetention[1].Subject)
	assert.Equal(t, (9 * time.Hour).Seconds(), w.PastMaxRetention[1].ExcessSeconds)
	assert.Equal(t, Retained{Kind: RetainedTTL, Subject: "daily-20260310030000", Since: bs[9].Created, Until: bs[9].Expiration,
		ExcessSeconds: (82 * day).Seconds(), Objects: 2}, w.PastMaxRetention[2])
}

func messages(fs []finding.Finding, id string, st finding.Status) []string {
	var out []string
	for _, f := range fs {
		if f.ID == id && f.Status == st {
			out = append(out, f.Message)
		}
	}
	return out
}

// windowBucket is a memstore bucket holding the backups bs as Velero
// writes them (velero-backup.json and a tarball), each written at its
// creation time, and a kopia repository with one old and one new pack.
func windowBucket(t *testing.T, bs []*velerov1.Backup, lock objectstore.LockConfig, clock *time.Time) *memstore.Store {
	ctx := context.Background()
	st := memstore.New()
	st.EndpointURL, st.Now = "http://primary.test:9000", func() time.Time { return *clock }
	require.NoError(t, st.CreateBucket(ctx, bucketPrimary, true))
	if lock.DefaultMode != "" {
		require.NoError(t, st.SetObjectLockConfig(ctx, bucketPrimary, lock))
	}
	keep := *clock
	for _, vb := range bs {
		*clock = vb.CreationTimestamp.Time
		data, err := json.Marshal(vb)
		require.NoError(t, err)
		p := backupPrefix(veleroPrefix, vb.Name)
		_, err = st.PutObject(ctx, bucketPrimary, p+"velero-backup.json", data, objectstore.PutOptions{})
		require.NoError(t, err)
		_, err = st.PutObject(ctx, bucketPrimary, p+vb.Name+".tar.gz", make([]byte, 1000), objectstore.PutOptions{})
		require.NoError(t, err)
	}
	*clock = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := st.PutObject(ctx, bucketPrimary, veleroPrefix+"/kopia/shop-data/p0old", make([]byte, 4096), objectstore.PutOptions{})
	require.NoError(t, err)
	_, err = st.PutObject(ctx, bucketPrimary, veleroPrefix+"/kopia/shop-data/kopia.repository", []byte("{}"), objectstore.PutOptions{})
	require.NoError(t, err)
	*clock = keep
	_, err = st.PutObject(ctx, bucketPrimary, veleroPrefix+"/kopia/shop-data/p1new", make([]byte, 4096), objectstore.PutOptions{})
	require.NoError(t, err)
	st.ResetRecord()
	return st
}

func veleroBackup(name, schedule string, phase velerov1.BackupPhase, at time.Time, ttl time.Duration) *velerov1.Backup {
	return &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "velero", CreationTimestamp: metav1.NewTime(at),
			Labels: map[string]string{velerov1.ScheduleNameLabel: schedule}},
		Spec: velerov1.BackupSpec{TTL: metav1.Duration{Duration: ttl}},
		Status: velerov1.BackupStatus{Phase: phase, StartTimestamp: &metav1.Time{Time: at.Add(time.Second)},
			CompletionTimestamp: &metav1.Time{Time: at.Add(time.Minute)}, Expiration: &metav1.Time{Time: at.Add(ttl)}},
	}
}

func TestCheckWindow_FromTheBucket(t *testing.T) {
	clock := wnow
	var bs []*velerov1.Backup
	for d := 1; d <= 10; d++ {
		if d == 6 {
			continue // the run of the 6th left nothing
		}
		at := time.Date(2026, 3, d, 3, 0, 0, 0, time.UTC)
		phase := velerov1.BackupPhaseCompleted
		if d == 5 {
			phase = velerov1.BackupPhaseFailed
		}
		bs = append(bs, veleroBackup("daily-"+at.Format("20060102150405"), "daily", phase, at, 7*day))
	}
	// Another schedule's backup in the same bucket is not the window's.
	bs = append(bs, veleroBackup("hourly-20260310110000", "hourly", velerov1.BackupPhaseFailed, wnow.Add(-time.Hour), 7*day))
	st := windowBucket(t, bs, objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 7}, &clock)

	w, fs, err := CheckWindow(context.Background(), WindowSpec{
		Store: st, Bucket: bucketPrimary, Prefix: veleroPrefix, Schedule: "daily", Cron: "0 3 * * *", CronSource: "scenario",
		Retention: 7 * day, MaxRetention: 8 * day, RPO: 25 * time.Hour, Concurrency: 4, Now: func() time.Time { return wnow },
	})
	require.NoError(t, err)
	assert.Equal(t, 9, w.BackupCount)
	assert.Equal(t, 8, w.Usable)
	assert.Equal(t, "scenario", w.CronSource)
	assert.True(t, w.ReachesBack)
	assert.Equal(t, []MissedRun{{Expected: time.Date(2026, 3, 6, 3, 0, 0, 0, time.UTC)}}, w.MissedRuns)
	require.Len(t, w.NotCompleted, 1)
	assert.Equal(t, "daily-20260305030000", w.NotCompleted[0].Name)
	assert.Equal(t, (3 * day).Seconds(), w.WorstGap.Seconds)
	assert.Equal(t, "all", w.Lock.Checked)
	// The usable backup just before the window's start is its oldest
	// recovery point: its lock is checked with the window's.
	require.Equal(t, "daily-20260303030000", w.Oldest.Name)
	assert.NotContains(t, backupNames(w.Backups), w.Oldest.Name)
	assert.Equal(t, append([]string{w.Oldest.Name}, backupNames(w.Backups)...), w.Lock.Backups)
	assert.Empty(t, w.Lock.Short, "a 7-day default covers a 7-day TTL")

	var kinds []string
	for _, r := range w.PastMaxRetention {
		kinds = append(kinds, r.Kind+" "+r.Subject)
	}
	assert.Equal(t, []string{
		"backup daily-20260301030000",
		"backup daily-20260302030000",
		"repository s3://velero/cluster-a/kopia/shop-data/",
	}, kinds)
	assert.Equal(t, 2, w.PastMaxRetention[0].Objects)
	assert.Equal(t, int64(1000+len(mustJSON(t, bs[0]))), w.PastMaxRetention[0].Bytes)
	assert.Equal(t, 1, w.PastMaxRetention[2].Objects, "the format blob is not volume data")
	assert.Equal(t, int64(4096), w.PastMaxRetention[2].Bytes)

	assert.Contains(t, messages(fs, IDWindowPastMax, finding.StatusFail)[0], "backup daily-20260301030000 of 2026-03-01T03:00:00Z is still in the bucket (2 objects, 1.")
	assert.Contains(t, messages(fs, IDWindowRepositoryOld, finding.StatusWarn), "repository s3://velero/cluster-a/kopia/shop-data/ holds 1 volume-data object (4.0 KiB) last written before the maxRetention 8d, the oldest 2026-01-01T00:00:00Z")
	assert.Empty(t, st.Writes(), "the window check never writes")
}

func mustJSON(t *testing.T, v any) []byte {
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return data
}

func TestCheckWindow_LockShortAndTooLong(t *testing.T) {
	clock := wnow
	bs := []*velerov1.Backup{
		veleroBackup("daily-20260309030000", "daily", velerov1.BackupPhaseCompleted, time.Date(2026, 3, 9, 3, 0, 0, 0, time.UTC), 30*day),
		veleroBackup("daily-20260310030000", "daily", velerov1.BackupPhaseCompleted, time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC), 30*day),
	}
	// A 10-day COMPLIANCE default: short of a 30-day TTL, and past a
	// 5-day maxRetention.
	st := windowBucket(t, bs, objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 10}, &clock)
	spec := WindowSpec{Store: st, Bucket: bucketPrimary, Prefix: veleroPrefix, Schedule: "daily",
		Retention: 2 * day, MaxRetention: 5 * day, Now: func() time.Time { return wnow }}
	w, fs, err := CheckWindow(context.Background(), spec)
	require.NoError(t, err)
	require.Len(t, w.Lock.Short, 2)
	assert.Equal(t, 2, w.Lock.Short[0].Versions)
	assert.Contains(t, w.Lock.Short[0].Problem, "locked until 2026-03-19T03:00:00Z, before the backup expires 2026-04-08T03:00:00Z")
	assert.Contains(t, messages(fs, IDWindowLockTooLong, finding.StatusFail), "the bucket's default retention (COMPLIANCE 10d) keeps every object 5d past the maxRetention 5d: it cannot be erased in time")
	assert.Contains(t, messages(fs, IDWindowTTL, finding.StatusFail), "2 backups have a Velero TTL 25d longer than the maxRetention 5d, the newest daily-20260310030000 expiring 2026-04-09T03:00:00Z")

	// A seeded sample checks that many, the same ones for the same seed.
	spec.Sample, spec.Seed = 1, 42
	w1, _, err := CheckWindow(context.Background(), spec)
	require.NoError(t, err)
	w2, _, err := CheckWindow(context.Background(), spec)
	require.NoError(t, err)
	assert.Equal(t, "sample", w1.Lock.Checked)
	assert.Len(t, w1.Lock.Backups, 1)
	assert.Equal(t, w1.Lock.Backups, w2.Lock.Backups)

	// Seed 0 is a seed like any other: JSON keeps it.
	spec.Seed = 0
	w0, _, err := CheckWindow(context.Background(), spec)
	require.NoError(t, err)
	b, err := json.Marshal(w0.Lock)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"seed":0`)
}

func backupNames(bs []WindowBackup) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

// TestWindowFindings_SingularCounts: a count of one takes the singular
// noun (and verb) in every window finding: "1 error", "1 object", "has".
func TestWindowFindings_SingularCounts(t *testing.T) {
	bs := daily(3)
	failed := bs[1]
	failed.Phase, failed.Usable, failed.Errors, failed.Warnings = "Failed", false, 1, 1
	bs[1] = failed
	w := &Window{Schedule: "daily", CheckedAt: wnow, MaxRetentionSeconds: (5 * day).Seconds(), Backups: bs, Oldest: &bs[0], Newest: &bs[2],
		NotCompleted: []WindowBackup{failed}, Lock: LockCoverage{Checked: "none"},
		PastMaxRetention: []Retained{
			{Kind: RetainedBackup, Subject: "old", Since: wnow.Add(-9 * day), Objects: 1, Bytes: 10, ExcessSeconds: (4 * day).Seconds()},
			{Kind: RetainedTTL, Subject: "daily-x", Until: wnow.Add(30 * day), Objects: 1, ExcessSeconds: (25 * day).Seconds()},
		}}
	var all []string
	for _, f := range windowFindings(w, "s3://b", objectstore.LockConfig{}, "") {
		all = append(all, f.Message)
	}
	joined := strings.Join(all, "\n")
	assert.Contains(t, joined, "(1 error, 1 warning)")
	assert.Contains(t, joined, "(1 object, 10 B)")
	assert.Contains(t, joined, "1 backup has a Velero TTL")
	assert.NotRegexp(t, `\b1 [a-z-]+s\b`, joined)
}
