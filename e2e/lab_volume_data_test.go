//go:build e2e

package e2e

import (
	"os"
	"path"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// TestLab_LatestBackupHoldsBackEndVolume checks, with client-go and
// minio-go rather than firedrill's code, that the lab's latest backup holds
// the stateful back end's volume through file-system backup: its
// PodVolumeBackup for the db's volume is Completed with a kopia snapshot,
// the opted-out volume has none, and the kopia repository of the data
// namespace (<prefix>/kopia/<namespace>/) is in the primary bucket under
// COMPLIANCE retention, in the off-site bucket with the same versions, and
// in the off-cloud bucket with the same content, for every object written
// up to the backup's completion.
func TestLab_LatestBackupHoldsBackEndVolume(t *testing.T) {
	l := lab(t)
	ctx := testContext(t, 2*time.Minute)
	names := map[string]string{}
	for _, k := range []string{"NAMESPACE", "POD", "VOLUME"} {
		names[k] = os.Getenv("FIREDRILL_LAB_DATA_" + k)
		require.NotEmpty(t, names[k], "FIREDRILL_LAB_DATA_%s: the lab has no stateful back end (make lab-up from a lab with volume data)", k)
	}
	ns, pod, volume := names["NAMESPACE"], names["POD"], names["VOLUME"]

	_, dyn := kubeClients(t, l.SourceKubeconfig)
	backup, err := dyn.Resource(schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "backups"}).
		Namespace(l.VeleroNamespace).Get(ctx, l.LatestBackup, metav1.GetOptions{})
	require.NoError(t, err)
	completed, _, _ := unstructured.NestedString(backup.Object, "status", "completionTimestamp")
	done, err := time.Parse(time.RFC3339, completed)
	require.NoError(t, err, "backup %s completionTimestamp", l.LatestBackup)
	// Velero's timestamps are whole seconds.
	writtenBy := done.Add(time.Second)

	pvbs, err := dyn.Resource(schema.GroupVersionResource{Group: "velero.io", Version: "v1", Resource: "podvolumebackups"}).
		Namespace(l.VeleroNamespace).List(ctx, metav1.ListOptions{LabelSelector: "velero.io/backup-name=" + l.LatestBackup})
	require.NoError(t, err)
	var found int
	for _, p := range pvbs.Items {
		pns, _, _ := unstructured.NestedString(p.Object, "spec", "pod", "namespace")
		pname, _, _ := unstructured.NestedString(p.Object, "spec", "pod", "name")
		vol, _, _ := unstructured.NestedString(p.Object, "spec", "volume")
		assert.NotEqual(t, "cache", vol, "PodVolumeBackup %s: the db's cache volume is opted out (backup.velero.io/backup-volumes-excludes)", p.GetName())
		if pns != ns || pname != pod || vol != volume {
			continue
		}
		found++
		phase, _, _ := unstructured.NestedString(p.Object, "status", "phase")
		uploader, _, _ := unstructured.NestedString(p.Object, "spec", "uploaderType")
		snapshot, _, _ := unstructured.NestedString(p.Object, "status", "snapshotID")
		bytes, _, _ := unstructured.NestedInt64(p.Object, "status", "progress", "totalBytes")
		msg, _, _ := unstructured.NestedString(p.Object, "status", "message")
		assert.Equal(t, "Completed", phase, "PodVolumeBackup %s: %s", p.GetName(), msg)
		assert.Equal(t, "kopia", uploader, "PodVolumeBackup %s uploader", p.GetName())
		assert.NotEmpty(t, snapshot, "PodVolumeBackup %s has no snapshot ID", p.GetName())
		assert.Positive(t, bytes, "PodVolumeBackup %s backed up no bytes (the order log and canary are not empty)", p.GetName())
	}
	require.Equal(t, 1, found, "PodVolumeBackups of backup %s for %s/%s volume %s (of %d)", l.LatestBackup, ns, pod, volume, len(pvbs.Items))

	primary, offsite, offcloud := l.Stores["primary"], l.Stores["offsite"], l.Stores["offcloud"]
	pc, oc, cc := primary.minioClient(t), offsite.minioClient(t), offcloud.minioClient(t)
	prefix := path.Join(primary.Prefix, "kopia", ns) + "/"
	kinds := map[string]int{} // by kopia blob kind: the key's first letter
	versions := 0
	for o := range pc.ListObjects(ctx, primary.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		require.NoError(t, o.Err)
		if o.IsDeleteMarker || o.LastModified.After(writtenBy) {
			continue
		}
		versions++
		name := strings.TrimPrefix(o.Key, prefix)
		if name == "kopia.repository" {
			kinds["kopia.repository"]++
		} else {
			kinds[name[:1]]++
		}
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
	// A kopia repository: its format blob, data packs (p) and metadata
	// packs (q, which hold the snapshot manifests).
	assert.Equal(t, 1, kinds["kopia.repository"], "kopia.repository under %s; blobs by kind: %v", prefix, kinds)
	assert.Positive(t, kinds["p"], "no data pack under %s; blobs by kind: %v", prefix, kinds)
	assert.Positive(t, kinds["q"], "no metadata pack under %s; blobs by kind: %v", prefix, kinds)

	latest := 0
	for o := range pc.ListObjects(ctx, primary.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		require.NoError(t, o.Err)
		if o.LastModified.After(writtenBy) {
			continue
		}
		latest++
		cp, err := cc.StatObject(ctx, offcloud.Bucket, o.Key, minio.StatObjectOptions{})
		if assert.NoError(t, err, "off-cloud copy of %s", o.Key) {
			assert.Equal(t, o.Size, cp.Size, "off-cloud size of %s", o.Key)
			assert.Equal(t, strings.Trim(o.ETag, `"`), strings.Trim(cp.ETag, `"`), "off-cloud ETag (MD5) of %s", o.Key)
		}
	}
	assert.Positive(t, latest, "objects under %s", prefix)
	t.Logf("%s: %d object versions (%d latest) up to %s, blobs by kind %v", prefix, versions, latest, writtenBy.Format(time.RFC3339), kinds)
}
