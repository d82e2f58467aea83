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
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
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
				// s3Url and publicUrl name the node's relay, which both
				// the machine (the Velero server) and the cluster's pods
				// reach: node-agent and its data-mover pods read and write
				// the kopia repository through s3Url, and 127.0.0.1 is
				// the pod's own loopback there. publicUrl is for the links
				// of DownloadRequests (a Restore's results and logs).
				Config: map[string]string{
					"region": s3Region, "s3ForcePathStyle": "true", "s3Url": k.relayS3(portPrimaryS3),
					"publicUrl": k.relayS3(portPrimaryS3),
				},
				Credential: &corev1.SecretKeySelector{
					LocalObjectReference: corev1.LocalObjectReference{Name: "cloud-credentials"}, Key: "cloud",
				},
				AccessMode: mode,
			},
		},
		// node-agent and the pods it starts use this ServiceAccount, as
		// velero install makes it (cluster-admin).
		&corev1.ServiceAccount{TypeMeta: typeMeta("v1", "ServiceAccount"), ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: veleroNS}},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   typeMeta("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"),
			ObjectMeta: metav1.ObjectMeta{Name: "velero"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "velero", Namespace: veleroNS}},
		},
		// Out of cluster, restores fail until a Deployment named velero
		// exists in Velero's namespace; a replicas: 0 placeholder is
		// enough. Its first container's image is what Velero runs as the
		// velero-restore-helper init container of restored pods with
		// file-system backups (velero pkg/restore/actions/
		// pod_volume_restore_action.go), so it is the lab's Velero image,
		// which holds /velero-restore-helper and is on every node.
		&appsv1.Deployment{
			TypeMeta:   typeMeta("apps/v1", "Deployment"),
			ObjectMeta: metav1.ObjectMeta{Name: "velero", Namespace: veleroNS},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](0),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"component": "velero"}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"component": "velero"}},
					Spec: corev1.PodSpec{
						ServiceAccountName: "velero",
						Containers: []corev1.Container{{
							Name: "velero", Image: VeleroImage, ImagePullPolicy: corev1.PullNever,
							Command: []string{"/velero"}, Args: []string{"server"},
						}},
					},
				},
			},
		},
		k.nodeAgent(),
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
			// File-system backups (kopia, the default uploader): a pod
			// volume backup or restore that cannot finish fails after
			// 10 minutes, not Velero's default 4 hours. Repository
			// maintenance (a Job per repository, by default every hour)
			// would delete blobs the buckets' object lock keeps, and
			// start pods a drill does not expect: once a week.
			"--uploader-type", "kopia",
			"--fs-backup-timeout", "10m",
			"--default-repo-maintain-frequency", "168h",
		},
		env: []string{"KUBECONFIG=" + k.Kubeconfig(), "TMPDIR=" + tmp},
		dir: k.dir(),
	})
	if err != nil {
		return err
	}
	if err := k.cfg.waitReady(ctx, p, 2*time.Minute, func(ctx context.Context) error {
		return bslAvailable(ctx, kc, "default")
	}); err != nil {
		return err
	}
	return k.cfg.waitReady(ctx, &proc{d: daemon{name: k.name + "-node-agent"}}, 2*time.Minute, func(ctx context.Context) error {
		return nodeAgentReady(ctx, kc)
	})
}

// relayS3 is the address at which the cluster's pods (and the machine)
// reach the S3 server on port: the node's relay (see nodeNet).
func (k *cluster) relayS3(port int) string {
	return fmt.Sprintf("http://%s:%d", k.net().hostIP, port)
}

// nodeAgent is Velero's node-agent DaemonSet as `velero install
// --use-node-agent` makes it (velero pkg/install/daemonset.go), on the
// lab's Velero image. host-pods must be the kubelet's --root-dir/pods:
// node-agent finds a pod's volume under /host_pods/<pod-uid>/volumes/, and
// the data-mover pod it starts per PodVolumeBackup or PodVolumeRestore
// (velero pkg/exposer/pod_volume.go) mounts that host path, with this
// DaemonSet's image, ServiceAccount, env and volumes. The credentials are
// the BSL's, the same Secret the Velero server reads.
func (k *cluster) nodeAgent() *appsv1.DaemonSet {
	hostToContainer := corev1.MountPropagationHostToContainer
	labels := map[string]string{"name": "node-agent", "role": "node-agent"}
	return &appsv1.DaemonSet{
		TypeMeta:   typeMeta("apps/v1", "DaemonSet"),
		ObjectMeta: metav1.ObjectMeta{Name: "node-agent", Namespace: veleroNS},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": "node-agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: "velero",
					SecurityContext:    &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0)},
					Volumes: []corev1.Volume{
						{Name: "host-pods", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: k.dir("kubelet", "pods")}}},
						{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
						{Name: "cloud-credentials", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "cloud-credentials", DefaultMode: ptr.To[int32](0o444)}}},
					},
					Containers: []corev1.Container{{
						Name: "node-agent", Image: VeleroImage, ImagePullPolicy: corev1.PullNever,
						Command: []string{"/velero"},
						Args:    []string{"node-agent", "server", "--log-level", "info"},
						// Privileged, as velero install --privileged-node-agent:
						// the pods' volumes belong to other users.
						SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "host-pods", MountPath: "/host_pods", MountPropagation: &hostToContainer},
							{Name: "scratch", MountPath: "/scratch"},
							{Name: "cloud-credentials", MountPath: "/credentials"},
						},
						Env: []corev1.EnvVar{
							{Name: "NODE_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
							{Name: "VELERO_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
							{Name: "VELERO_SCRATCH_DIR", Value: "/scratch"},
							{Name: "AWS_SHARED_CREDENTIALS_FILE", Value: "/credentials/cloud"},
						},
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("64Mi")}},
					}},
				},
			},
		},
	}
}

// nodeAgentReady returns nil when node-agent runs on the cluster's node.
func nodeAgentReady(ctx context.Context, kc *kube) error {
	ds, err := kc.cs.AppsV1().DaemonSets(veleroNS).Get(ctx, "node-agent", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if ds.Status.DesiredNumberScheduled == 0 || ds.Status.NumberReady < ds.Status.DesiredNumberScheduled || ds.Status.ObservedGeneration < ds.Generation {
		return fmt.Errorf("node-agent: %d of %d pods ready", ds.Status.NumberReady, ds.Status.DesiredNumberScheduled)
	}
	return nil
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
// with every pod volume's data through file-system backup (kopia, by
// node-agent; a pod opts a volume out with the annotation
// backup.velero.io/backup-volumes-excludes), no volume snapshots. The TTL
// stays below the bucket's one-day lock so no backup outlives its
// protection.
func backupTemplate() velerov1.BackupSpec {
	return velerov1.BackupSpec{
		IncludedNamespaces:       appNamespaces,
		SnapshotVolumes:          ptr.To(false),
		DefaultVolumesToFsBackup: ptr.To(true),
		StorageLocation:          "default",
		TTL:                      metav1.Duration{Duration: 12 * time.Hour},
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
