package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	velerov1 "github.com/vmware-tanzu/velero/pkg/apis/velero/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

var (
	backupGVR   = velerov1.SchemeGroupVersion.WithResource("backups")
	bslGVR      = velerov1.SchemeGroupVersion.WithResource("backupstoragelocations")
	scheduleGVR = velerov1.SchemeGroupVersion.WithResource("schedules")
	crdGVR      = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
)

// VeleroBinary is the velero CLI and server the lab runs.
func (c Config) VeleroBinary() string { return filepath.Join(c.Bins.Velero, "velero") }

// velero installs Velero's CRDs and its namespace objects in the cluster and
// runs the Velero server out of cluster. readOnly makes the backup storage
// location ReadOnly, as a scratch cluster's must be.
func (k *cluster) velero(ctx context.Context, readOnly bool) error {
	kc, err := k.kube()
	if err != nil {
		return err
	}
	install := exec.CommandContext(ctx, k.cfg.VeleroBinary(), "install", "--crds-only")
	install.Env = append(os.Environ(), "KUBECONFIG="+k.Kubeconfig())
	if out, err := install.CombinedOutput(); err != nil {
		return fmt.Errorf("velero install --crds-only in %s cluster: %w\n%s", k.name, err, out)
	}
	if err := k.cfg.waitReady(ctx, &proc{d: daemon{name: k.name + "-velero-crds"}}, time.Minute, func(ctx context.Context) error {
		return crdEstablished(ctx, kc, "backupstoragelocations.velero.io", "restores.velero.io", "backups.velero.io", "schedules.velero.io")
	}); err != nil {
		return err
	}

	mode := velerov1.BackupStorageLocationAccessModeReadWrite
	if readOnly {
		mode = velerov1.BackupStorageLocationAccessModeReadOnly
	}
	objs := []runtime.Object{
		&corev1.Namespace{TypeMeta: typeMeta("v1", "Namespace"), ObjectMeta: metav1.ObjectMeta{Name: veleroNS}},
		&corev1.Secret{
			TypeMeta:   typeMeta("v1", "Secret"),
			ObjectMeta: metav1.ObjectMeta{Name: "cloud-credentials", Namespace: veleroNS},
			StringData: map[string]string{"cloud": fmt.Sprintf("[default]\naws_access_key_id=%s\naws_secret_access_key=%s\n", s3AccessKey, s3SecretKey)},
		},
		&velerov1.BackupStorageLocation{
			TypeMeta:   typeMeta("velero.io/v1", "BackupStorageLocation"),
			ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: veleroNS},
			Spec: velerov1.BackupStorageLocationSpec{
				Provider: "aws",
				Default:  true,
				StorageType: velerov1.StorageType{ObjectStorage: &velerov1.ObjectStorageLocation{
					Bucket: primaryStore.bucket, Prefix: backupPrefix,
				}},
				// publicUrl: the links of DownloadRequests (a Restore's
				// results and logs) name the node's relay, which both the
				// machine and the cluster's pods reach; s3Url, 127.0.0.1,
				// only the machine does.
				Config: map[string]string{
					"region": s3Region, "s3ForcePathStyle": "true", "s3Url": primaryStore.Endpoint(),
					"publicUrl": fmt.Sprintf("http://%s:%d", labNets[k.name].hostIP, portPrimaryS3),
				},
				Credential: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cloud-credentials"}, Key: "cloud",
				},
				AccessMode: mode,
			},
		},
		// Out of cluster, restores fail until a Deployment named velero
		// exists in Velero's namespace; a replicas: 0 placeholder is enough.
		&appsv1.Deployment{
			TypeMeta:   typeMeta("apps/v1", "Deployment"),
			ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: veleroNS},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](0),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"component": "velero"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"component": "velero"}},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "velero", Image: "velero/velero:v1.18.3",
					}}},
				},
			},
		},
	}
	for _, o := range objs {
		u, err := toUnstructured(o)
		if err != nil {
			return err
		}
		if err := kc.apply(ctx, u); err != nil {
			return fmt.Errorf("%s cluster: %w", k.name, err)
		}
	}

	tmp := k.dir("velero-tmp") // own TMPDIR: velero keeps credential files there
	if err := mkdirs(tmp); err != nil {
		return err
	}
	p, err := k.cfg.start(daemon{
		name: k.name + "-velero",
		path: k.cfg.VeleroBinary(),
		args: []string{"server", "--namespace", veleroNS,
			"--plugin-dir", k.cfg.Bins.VeleroAWS,
			"--metrics-address", "127.0.0.1:" + strconv.Itoa(k.port(offsetVeleroMetrics)),
			"--profiler-address", "",
			"--backup-sync-period", "10s",
			"--store-validation-frequency", "10s",
			"--log-level", "info",
			// Velero reads the API's resources at start and every 5
			// minutes; a restore whose backup holds a resource that
			// discovery still lists but the cluster no longer serves (a
			// CRD a drill restored, then deleted at cleanup) waits for an
			// informer that never syncs: InProgress for ever, and every
			// later restore queued behind it (velero pkg/restore/restore.go
			// WaitForCacheSync; velero-io/velero#7319). Without the
			// informer cache such an item is an error in the results.
			"--disable-informer-cache",
		},
		env: []string{"KUBECONFIG=" + k.Kubeconfig(), "TMPDIR=" + tmp},
		dir: k.dir(),
	})
	if err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, p, 2*time.Minute, func(ctx context.Context) error {
		return bslAvailable(ctx, kc, "default")
	})
}

func bslAvailable(ctx context.Context, kc *kube, name string) error {
	u, err := kc.dyn.Resource(bslGVR).Namespace(veleroNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	phase, _, _ := unstructured.NestedString(u.Object, "status", "phase")
	if phase != string(velerov1.BackupStorageLocationPhaseAvailable) {
		msg, _, _ := unstructured.NestedString(u.Object, "status", "message")
		return fmt.Errorf("backup storage location %s is %q %s", name, phase, msg)
	}
	return nil
}

func crdEstablished(ctx context.Context, kc *kube, names ...string) error {
	for _, n := range names {
		u, err := kc.dyn.Resource(crdGVR).Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			return err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		ok := false
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				ok = true
			}
		}
		if !ok {
			return fmt.Errorf("CRD %s not established", n)
		}
	}
	return nil
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

// backupTemplate is what the lab backs up: the application's namespaces,
// resources only (the shop's volumes are emptyDirs; volume data is a
// later step). The TTL
// stays below the bucket's one-day lock so no backup outlives its
// protection.
func backupTemplate() velerov1.BackupSpec {
	return velerov1.BackupSpec{
		IncludedNamespaces: appNamespaces,
		SnapshotVolumes:    ptr.To(false),
		StorageLocation:    "default",
		TTL:                metav1.Duration{Duration: 12 * time.Hour},
	}
}

// schedule creates the daily Schedule. It skips the immediate run so the
// lab's backups are exactly the ones it makes with backupFromSchedule.
func (k *cluster) schedule(ctx context.Context) error {
	kc, err := k.kube()
	if err != nil {
		return err
	}
	u, err := toUnstructured(&velerov1.Schedule{
		TypeMeta:   typeMeta("velero.io/v1", "Schedule"),
		ObjectMeta: metav1.ObjectMeta{Name: scheduleName, Namespace: veleroNS},
		Spec: velerov1.ScheduleSpec{
			Schedule:        "0 3 * * *",
			Template:        backupTemplate(),
			SkipImmediately: ptr.To(true),
		},
	})
	if err != nil {
		return err
	}
	return kc.apply(ctx, u)
}

// backupFromSchedule does what `velero backup create --from-schedule` does:
// a Backup named <schedule>-<timestamp> with the schedule's template and
// label; then it waits for the backup to complete.
func (k *cluster) backupFromSchedule(ctx context.Context, at time.Time) (string, error) {
	kc, err := k.kube()
	if err != nil {
		return "", err
	}
	name := scheduleName + "-" + at.UTC().Format("20060102150405")
	u, err := toUnstructured(&velerov1.Backup{
		TypeMeta: typeMeta("velero.io/v1", "Backup"),
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: veleroNS,
			Labels: map[string]string{velerov1.ScheduleNameLabel: scheduleName}},
		Spec: backupTemplate(),
	})
	if err != nil {
		return "", err
	}
	if err := kc.apply(ctx, u); err != nil {
		return "", err
	}
	err = k.cfg.waitReady(ctx, &proc{d: daemon{name: k.name + "-velero"}}, 2*time.Minute, func(ctx context.Context) error {
		return backupPhase(ctx, kc, name, velerov1.BackupPhaseCompleted)
	})
	return name, err
}

func backupPhase(ctx context.Context, kc *kube, name string, want velerov1.BackupPhase) error {
	b, err := kc.dyn.Resource(backupGVR).Namespace(veleroNS).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	phase, _, _ := unstructured.NestedString(b.Object, "status", "phase")
	switch velerov1.BackupPhase(phase) {
	case want:
		return nil
	case velerov1.BackupPhaseFailed, velerov1.BackupPhasePartiallyFailed, velerov1.BackupPhaseFailedValidation:
		return permanentError{fmt.Errorf("backup %s ended %s (see velero backup logs %s)", name, phase, name)}
	}
	return fmt.Errorf("backup %s is %q", name, phase)
}
