package backup

import (
	"bytes"
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/firedrill-dev/firedrill/internal/finding"
	"github.com/firedrill-dev/firedrill/internal/objectstore"
	"github.com/firedrill-dev/firedrill/internal/objectstore/memstore"
)

var (
	_ PrimaryStore = (*memstore.Store)(nil)
	_ CopyStore    = (*memstore.Store)(nil)
)

// t0 is the fixture clock: the backup is taken at t0, the checks run an hour later.
var t0 = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

const (
	bucketPrimary = "velero"
	bucketOffsite = "velero-offsite"
	veleroPrefix  = "cluster-a"
	backupName    = "daily-20260301030000"
)

// fixture is a primary bucket holding one Velero backup, locked in
// COMPLIANCE for 30 days with a 7-day TTL, and a faithful off-site copy.
type fixture struct {
	t       *testing.T
	now     time.Time
	primary *memstore.Store
	offsite *memstore.Store
	lock    objectstore.LockConfig
	ttl     time.Duration
	// versity gives the primary Versity's behaviour.
	versity bool
	// copyBucket is the copy's bucket; default bucketOffsite.
	copyBucket string
	// stamp, when its Mode is set, is the retention every object of the
	// primary is written with, as backup products that lock each object
	// do; with lock.DefaultMode empty the bucket has no default.
	stamp objectstore.Retention
	// included is the backup's spec.includedNamespaces; nil includes all.
	included []string
	// completed is the backup's status.completionTimestamp; zero: none.
	completed time.Time
}

func newFixture(t *testing.T) *fixture {
	return &fixture{
		t: t, now: t0,
		lock: objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 30},
		ttl:  7 * 24 * time.Hour,
	}
}

func (f *fixture) clock() time.Time { return f.now }

// backupFiles are the objects of the backup, as Velero writes them.
func backupFiles() map[string]string {
	return map[string]string{
		backupName + ".tar.gz":                  "tarball of resources",
		backupName + "-logs.gz":                 "backup log",
		backupName + "-resource-list.json.gz":   "resource list",
		backupName + "-results.gz":              "results",
		backupName + "-volumesnapshots.json.gz": "[]",
	}
}

// build creates both stores: the backup is written at t0 (velero-backup.json
// twice, as Velero does) and replicated to the copy.
func (f *fixture) build() *fixture {
	t := f.t
	ctx := context.Background()
	f.now = t0
	f.primary = memstore.New()
	f.primary.EndpointURL, f.primary.Now = "http://primary.test:9000", f.clock
	if f.versity {
		f.primary.NoDefaultRetentionStamp, f.primary.RefuseStatus, f.primary.RefuseCode = true, 403, "AccessDenied"
	}
	f.offsite = memstore.New()
	f.offsite.EndpointURL, f.offsite.Now = "http://offsite.test:9000", f.clock
	require.NoError(t, f.primary.CreateBucket(ctx, bucketPrimary, true))
	if f.lock.DefaultMode != "" {
		require.NoError(t, f.primary.SetObjectLockConfig(ctx, bucketPrimary, f.lock))
	}
	require.NoError(t, f.offsite.CreateBucket(ctx, bucketOffsite, true))
	// The copy keeps a sound lock whatever the primary's, so a primary
	// fault shows on the primary only.
	require.NoError(t, f.offsite.SetObjectLockConfig(ctx, bucketOffsite, objectstore.LockConfig{DefaultMode: objectstore.Compliance, DefaultDays: 30}))

	prefix := backupPrefix(veleroPrefix, backupName)
	files := backupFiles()
	files["velero-backup.json"] = f.backupJSON("InProgress")
	for name, data := range files {
		f.putBoth(prefix+name, data)
	}
	f.putBoth(prefix+"velero-backup.json", f.backupJSON("Completed"))
	// Another backup and a restore, outside the chosen backup.
	f.putBoth(backupPrefix(veleroPrefix, "older")+"older.tar.gz", "older tarball")
	f.putBoth(veleroPrefix+"/restores/r1/restore-r1-logs.gz", "restore log")
	f.now = t0.Add(time.Hour)
	f.primary.ResetRecord()
	f.offsite.ResetRecord()
	return f
}

func (f *fixture) backupJSON(phase velerov1.BackupPhase) string {
	b := &velerov1.Backup{
		ObjectMeta: metav1.ObjectMeta{Name: backupName, Namespace: "velero"},
		Spec:       velerov1.BackupSpec{TTL: metav1.Duration{Duration: f.ttl}, StorageLocation: "default", IncludedNamespaces: f.included},
		Status: velerov1.BackupStatus{Phase: phase, StartTimestamp: ptr.To(metav1.NewTime(t0)),
			Expiration: ptr.To(metav1.NewTime(t0.Add(f.ttl)))},
	}
	if !f.completed.IsZero() {
		b.Status.CompletionTimestamp = ptr.To(metav1.NewTime(f.completed))
	}
	return string(veleroBackupJSON(f.t, b))
}

func (f *fixture) putBoth(key, data string) {
	f.t.Helper()
	ctx := context.Background()
	_, err := f.primary.PutObject(ctx, bucketPrimary, key, []byte(data), objectstore.PutOptions{Retention: f.stamp})
	require.NoError(f.t, err)
	_, err = f.offsite.PutObject(ctx, bucketOffsite, key, []byte(data), objectstore.PutOptions{})
	require.NoError(f.t, err)
}

func (f *fixture) spec() ProtectionSpec {
	return ProtectionSpec{
		Primary: PrimaryBucket{Store: f.primary, Bucket: bucketPrimary, Prefix: veleroPrefix},
		Lock:    LockRequirement{Mode: objectstore.Compliance, MinRetention: 14 * 24 * time.Hour},
		Backup:  BackupRef{Name: backupName},
		Copies: []CopySpec{{
			Name: "offsite", Store: f.offsite, Bucket: orNone(f.copyBucket, bucketOffsite), Prefix: veleroPrefix, Mode: ModeChecksum,
			Lock: &LockRequirement{Mode: objectstore.Compliance},
		}},
		Concurrency: 4,
		Now:         f.clock,
	}
}

func check(t *testing.T, spec ProtectionSpec) Result {
	t.Helper()
	res, err := CheckProtection(context.Background(), spec)
	require.NoError(t, err)
	return res
}

// failing returns the IDs of the findings with status fail, sorted, each once.
func failing(res Result) []string {
	return idsWith(res, finding.StatusFail)
}

func idsWith(res Result, st finding.Status) []string {
	ids := []string{}
	for _, f := range res.Findings {
		if f.Status == st && !slices.Contains(ids, f.ID) {
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	return ids
}

func findingByID(t *testing.T, res Result, id string) finding.Finding {
	t.Helper()
	for _, f := range res.Findings {
		if f.ID == id {
			return f
		}
	}
	require.Failf(t, "finding not found", "no finding %s in %v", id, res.Findings)
	return finding.Finding{}
}

func readAll(t *testing.T, st *memstore.Store, bucket, key string) string {
	var b bytes.Buffer
	_, err := st.ReadObject(context.Background(), bucket, key, "", &b)
	require.NoError(t, err)
	return b.String()
}
